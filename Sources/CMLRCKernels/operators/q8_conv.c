/* The int8 convolution operator. Three arrangements: a 1x1 stride-1 ungrouped convolution is a GEMM on the input
 * itself; a convolution that a direct variant of the table takes reads its input through tap pointers; the rest
 * gather uint8 im2col rows (padding reads as the zero point, i.e. real 0) a chunk of output pixels at a time,
 * then run the GEMM once per group. */
#include <omp.h>
#include <string.h>
#include "mlrc_ukernels.h"
#include "choose.h"
#include "activation.h"

/* Direct (im2col-free) variants: in_c / groups a multiple of 4 (every quad of K is 4 contiguous input bytes) and
 * at most 64 taps. */
static int indirect_suits(const mlrc_conv_geometry *g, uint32_t features) {
    (void)features;
    return (g->in_c / g->groups) % 4 == 0 && g->kernel_h * g->kernel_w <= 64;
}

const mlrc_q8_conv_variant mlrc_q8_conv_variants[] = {
#if defined(__x86_64__)
    {"q8_conv_indirect_6x16c4_avx512vnni",
     MLRC_CPU_X86_AVX2 | MLRC_CPU_AVX512F | MLRC_CPU_AVX512VL | MLRC_CPU_AVX512VNNI, indirect_suits,
     mlrc_q8_conv_indirect_vnni_scratch_bytes, 6, mlrc_q8_conv_indirect_prepare_6x16c4_avx512vnni,
     mlrc_q8_conv_indirect_6x16c4_avx512vnni},
    {"q8_conv_indirect_6x16c4_avxvnni", MLRC_CPU_X86_AVX2 | MLRC_CPU_AVXVNNI, indirect_suits,
     mlrc_q8_conv_indirect_vnni_scratch_bytes, 6, mlrc_q8_conv_indirect_prepare_6x16c4_avxvnni,
     mlrc_q8_conv_indirect_6x16c4_avxvnni},
    {"q8_conv_indirect_6x16c4_avx2_maddubs", MLRC_CPU_X86_AVX2, indirect_suits,
     mlrc_q8_conv_indirect_vnni_scratch_bytes, 6, mlrc_q8_conv_indirect_prepare_6x16c4_avx2_maddubs,
     mlrc_q8_conv_indirect_6x16c4_avx2_maddubs, MLRC_Q8_MADDUBS_PAIR_LIMIT},
    {"q8_conv_indirect_6x8c4_avx2", MLRC_CPU_X86_AVX2, indirect_suits, mlrc_q8_conv_indirect_avx2_scratch_bytes, 6,
     mlrc_q8_conv_indirect_prepare_6x8c4_avx2, mlrc_q8_conv_indirect_6x8c4_avx2},
#endif
    {NULL, 0, NULL, NULL, 0, NULL, NULL, 0}, /* terminator: ISO C wants a non-empty array on every architecture */
};
const int32_t mlrc_q8_conv_variant_count =
    (int32_t)(sizeof mlrc_q8_conv_variants / sizeof mlrc_q8_conv_variants[0]) - 1;

/* Scratch of the indirect variants: per-panel bias vectors (32 bytes each), then in_c zero-point bytes. */
size_t mlrc_q8_conv_indirect_vnni_scratch_bytes(const mlrc_conv_geometry *g) {
    const size_t panels = (size_t)g->groups * (size_t)((g->out_c / g->groups + 7) / 8);
    return panels * 32 + (size_t)g->in_c + 64;
}

/* Bytes of one im2col row. Ungrouped rows are padded to whole quads of K (the packed weights there are zero,
 * and K = 27 and K = 28 pack alike), so the GEMM never takes its partial-quad path (stems: 3 channels x 9 taps). */
static int32_t row_bytes(const mlrc_conv_geometry *g) {
    const int32_t k = g->kernel_h * g->kernel_w * g->in_c;
    return g->groups == 1 ? (k + 3) / 4 * 4 : k;
}

/* Output pixels per im2col chunk: about 512 KB of rows, a multiple of the GEMM's 6-row tile. */
static int32_t chunk_rows(const mlrc_conv_geometry *g) {
    const int64_t k = row_bytes(g);
    int64_t rows = ((int64_t)1 << 19) / (k > 0 ? k : 1);
    rows = rows < 48 ? 48 : rows;
    rows -= rows % 6;
    const int64_t pixels = (int64_t)g->out_h * g->out_w;
    return (int32_t)(rows < pixels ? rows : pixels);
}

void mlrc_q8_fold_zero_point(int32_t N, int32_t K, const int8_t *packed, const int32_t *bias, int32_t zero,
                             int32_t *folded) {
    const size_t kq = (size_t)(K + 3) / 4;
    for (int32_t n = 0; n < N; n++) {
        const int8_t *col = packed + (size_t)(n / 8) * kq * 32 + (size_t)(n % 8) * 4;
        uint32_t sum = 0;
        for (int32_t k = 0; k < K; k++) sum += (uint32_t)(int32_t)col[(size_t)(k / 4) * 32 + k % 4];
        /* modulo 2^32 like the kernels' adds: the sum with the folded bias wraps exactly as the unfolded one */
        folded[n] = (int32_t)((uint32_t)(bias ? bias[n] : 0) - (uint32_t)zero * sum);
    }
}

int32_t mlrc_q8_conv_gemm_input_zero(const mlrc_kernel_plan *plan) {
    if (plan->arrangement != MLRC_CONV_GEMM || plan->gemm < 0 || plan->gemm >= mlrc_q8_gemm_variant_count) return -1;
    return mlrc_q8_gemm_variants[plan->gemm].input_zero;
}

/* The K the GEMM runs over: the whole padded im2col row when ungrouped, one group's taps x channels otherwise. */
static int32_t gemm_k(const mlrc_conv_geometry *g) {
    return g->groups == 1 ? row_bytes(g) : g->kernel_h * g->kernel_w * (g->in_c / g->groups);
}

static size_t im2col_scratch(const mlrc_conv_geometry *g, int32_t threads) {
    const size_t gemm = mlrc_q8_gemm_scratch_bytes(gemm_k(g), threads);
    const size_t im2col = (size_t)chunk_rows(g) * row_bytes(g);
    return gemm + ((im2col + 63) & ~(size_t)63);
}

/* Enough for every arrangement and variant (the plain entry point's contract). */
size_t mlrc_q8_conv_scratch_bytes(const mlrc_conv_geometry *g, int32_t threads) {
    if (mlrc_conv_is_pointwise(g)) return mlrc_q8_gemm_scratch_bytes(gemm_k(g), threads);
    size_t need = im2col_scratch(g, threads);
    for (int32_t i = 0; i < mlrc_q8_conv_variant_count; i++) {
        const size_t direct = mlrc_q8_conv_variants[i].scratch_bytes(g);
        if (direct > need) need = direct;
    }
    return need;
}

/* The first direct row the CPU can run that takes the shape and the weights; -1: none. */
static int32_t first_direct(const mlrc_conv_geometry *g, uint32_t features, int32_t pair_peak) {
    for (int32_t i = 0; i < mlrc_q8_conv_variant_count; i++) {
        const mlrc_q8_conv_variant *v = &mlrc_q8_conv_variants[i];
        if (!mlrc_variant_missing(v->requires, features) && (!v->suits || v->suits(g, features)) &&
            mlrc_pair_limit_takes(v->pair_limit, pair_peak))
            return i;
    }
    return -1;
}

int32_t mlrc_q8_conv_weight_pair_peak(const mlrc_conv_geometry *g, const int8_t *packed) {
    if (!packed || g->groups < 1) return MLRC_Q8_PAIR_PEAK_UNKNOWN;
    const int32_t ng = g->out_c / g->groups, kg = g->kernel_h * g->kernel_w * (g->in_c / g->groups);
    int32_t peak = 0;
    for (int32_t grp = 0; grp < g->groups; grp++) {
        const int32_t p = mlrc_q8_weight_pair_peak(ng, kg, packed + (size_t)grp * mlrc_q8_packed_bytes(ng, kg));
        peak = p > peak ? p : peak;
    }
    return peak;
}

void mlrc_q8_conv_plan(const mlrc_conv_geometry *g, int32_t threads, mlrc_kernel_plan *plan) {
    mlrc_q8_conv_plan_for(g, MLRC_Q8_PAIR_PEAK_UNKNOWN, threads, plan);
}

void mlrc_q8_conv_plan_for(const mlrc_conv_geometry *g, int32_t pair_peak, int32_t threads, mlrc_kernel_plan *plan) {
    mlrc_kernel_plan p = {MLRC_OP_Q8_CONV, MLRC_CONV_IM2COL, -1, -1, -1, threads < 1 ? 1 : threads, 0};
    mlrc_kernel_plan gemm;
    if (mlrc_conv_is_pointwise(g)) {
        mlrc_q8_gemm_plan_for(g->in_c, pair_peak, threads, &gemm);
        p.arrangement = MLRC_CONV_GEMM, p.gemm = gemm.variant, p.scratch_bytes = gemm.scratch_bytes;
        *plan = p;
        return;
    }
    const int32_t d = first_direct(g, mlrc_cpu_enabled(), pair_peak);
    if (d >= 0) {
        p.arrangement = MLRC_CONV_DIRECT, p.variant = d, p.scratch_bytes = mlrc_q8_conv_variants[d].scratch_bytes(g);
        *plan = p;
        return;
    }
    mlrc_q8_gemm_plan_for(gemm_k(g), pair_peak, threads, &gemm);
    p.gemm = gemm.variant, p.scratch_bytes = im2col_scratch(g, threads);
    *plan = p;
}

/* memcpy for the few bytes of narrow inputs (a stem's 9-byte kernel rows), without a library call. */
static inline void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n) {
    if (n > 16) {
        memcpy(dst, src, n);
    } else if (n >= 8) { /* two overlapping fixed-size copies: plain loads and stores */
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else {
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
    }
}

/* Row p (output pixel) of the im2col matrix, ordered [group][ky][kx][ci of the group]. */
static void gather_row(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t pad, int32_t p, uint8_t *row) {
    const int32_t oy = p / g->out_w, ox = p % g->out_w, cg = g->in_c / g->groups;
    const int32_t taps = g->kernel_h * g->kernel_w;
    const int32_t ix0 = ox * g->stride_w - g->pad_left;
    for (int32_t ky = 0; ky < g->kernel_h; ky++) {
        const int32_t iy = oy * g->stride_h - g->pad_top + ky;
        /* Ungrouped, whole kernel row inside: its kw taps are kw * C contiguous input bytes (one copy). */
        if (g->groups == 1 && iy >= 0 && iy < g->in_h && ix0 >= 0 && ix0 + g->kernel_w <= g->in_w) {
            copy_bytes(row + (size_t)ky * g->kernel_w * cg, input + ((size_t)iy * g->in_w + ix0) * g->in_c,
                       (size_t)g->kernel_w * cg);
            continue;
        }
        for (int32_t kx = 0; kx < g->kernel_w; kx++) {
            const int32_t ix = ox * g->stride_w - g->pad_left + kx, tap = ky * g->kernel_w + kx;
            const int inside = iy >= 0 && iy < g->in_h && ix >= 0 && ix < g->in_w;
            const uint8_t *src = inside ? input + ((size_t)iy * g->in_w + ix) * g->in_c : input;
            if (g->groups == 1) {
                if (inside)
                    copy_bytes(row + (size_t)tap * cg, src, (size_t)cg);
                else
                    memset(row + (size_t)tap * cg, pad, (size_t)cg);
            } else if (cg == 8 && inside) { /* narrow groups (HSNet): fixed-size copies the compiler inlines */
                for (int32_t grp = 0; grp < g->groups; grp++)
                    memcpy(row + ((size_t)grp * taps + tap) * 8, src + (size_t)grp * 8, 8);
            } else {
                for (int32_t grp = 0; grp < g->groups; grp++) {
                    uint8_t *dst = row + ((size_t)grp * taps + tap) * cg;
                    if (inside)
                        memcpy(dst, src + (size_t)grp * cg, (size_t)cg);
                    else
                        memset(dst, pad, (size_t)cg);
                }
            }
        }
    }
}

/* A direct row: its prepare step, then the pixel blocks across the threads (a static schedule of single blocks). */
static void direct(const mlrc_q8_conv_variant *v, const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                   const int8_t *weights, const int32_t *bias, const float *scale, const mlrc_q8_output *out,
                   void *output, void *scratch, int32_t threads) {
    const int32_t blocks = (g->out_h * g->out_w + v->block_pixels - 1) / v->block_pixels;
    v->prepare(g, input, in_zero, weights, bias, scratch);
    int nt = mlrc_threads_for(threads, blocks);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t blk = 0; blk < blocks; blk++)
        v->run(g, input, in_zero, weights, bias, scale, out, output, scratch, blk, blk + 1);
}

int mlrc_q8_conv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                     const int8_t *weights, const int32_t *bias, const float *scale, const mlrc_q8_output *out,
                     void *output, void *scratch, int32_t threads) {
    const int32_t M = g->out_h * g->out_w;
    if (plan->scratch_bytes && !scratch) return MLRC_KERNEL_ERR_SCRATCH;
    /* the GEMM's own plan: its row, and the scratch the GEMM itself may use (the front of ours) */
    const mlrc_kernel_plan gemm = {MLRC_OP_Q8_GEMM, 0, plan->gemm, -1, -1, plan->threads, 0};
    if (plan->arrangement == MLRC_CONV_GEMM)
        return mlrc_q8_gemm_run(&gemm, M, g->out_c, g->in_c, input, g->in_c, in_zero, weights, bias, scale, out, output,
                                g->out_c, scratch, threads);
    if (plan->arrangement == MLRC_CONV_DIRECT) {
        direct(&mlrc_q8_conv_variants[plan->variant], g, input, in_zero, weights, bias, scale, out, output, scratch,
               threads);
        return MLRC_KERNEL_OK;
    }
    const int32_t kg = g->kernel_h * g->kernel_w * (g->in_c / g->groups), ng = g->out_c / g->groups;
    const int32_t ktotal = row_bytes(g), rows = chunk_rows(g);
    /* Ungrouped: the GEMM runs over the whole padded row (K rounded up to a quad). */
    const int32_t kgemm = gemm_k(g);
    const size_t gemm_bytes = mlrc_q8_gemm_scratch_bytes(kgemm, threads);
    uint8_t *cols = (uint8_t *)scratch + gemm_bytes;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const size_t wbytes = mlrc_q8_packed_bytes(ng, kg);
    const uint8_t pad = (uint8_t)in_zero;
    for (int32_t m0 = 0; m0 < M; m0 += rows) {
        const int32_t mc = M - m0 < rows ? M - m0 : rows;
        int nt = mlrc_threads_for(threads, mc / 16 + 1);
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int32_t i = 0; i < mc; i++) {
            uint8_t *row = cols + (size_t)i * ktotal;
            gather_row(g, input, pad, m0 + i, row);
            for (int32_t k = kg * g->groups; k < ktotal; k++) row[k] = pad; /* meets zero weights */
        }
        if (g->groups == 1 || threads <= 1) {
            for (int32_t grp = 0; grp < g->groups; grp++) {
                char *dst = (char *)output + ((size_t)m0 * g->out_c + (size_t)grp * ng) * esize;
                mlrc_q8_gemm_run(&gemm, mc, ng, kgemm, cols + (size_t)grp * kg, ktotal, in_zero, weights + grp * wbytes,
                                 bias ? bias + grp * ng : NULL, scale + grp * ng, out, dst, g->out_c, scratch, threads);
            }
            continue;
        }
        /* Grouped: one parallel region over (group, row slice) tasks, each a one-thread GEMM with that thread's
         * share of the scratch, instead of a fork/join per (usually narrow) group. */
        const int32_t slices = threads, tasks = g->groups * slices;
        const size_t per_thread = mlrc_q8_gemm_scratch_bytes(kg, 1);
        int nt2 = mlrc_threads_for(threads, tasks);
#pragma omp parallel for schedule(static) num_threads(nt2)
        for (int32_t task = 0; task < tasks; task++) {
            const int32_t grp = task / slices, part = task % slices;
            const int32_t r0 = (int32_t)((int64_t)mc * part / slices) / 6 * 6;
            const int32_t r1 = part == slices - 1 ? mc : (int32_t)((int64_t)mc * (part + 1) / slices) / 6 * 6;
            if (r0 >= r1) continue;
            char *dst = (char *)output + ((size_t)(m0 + r0) * g->out_c + (size_t)grp * ng) * esize;
            void *mine = (char *)scratch + per_thread * (size_t)omp_get_thread_num();
            mlrc_q8_gemm_run(&gemm, r1 - r0, ng, kg, cols + (size_t)r0 * ktotal + (size_t)grp * kg, ktotal, in_zero,
                             weights + grp * wbytes, bias ? bias + grp * ng : NULL, scale + grp * ng, out, dst,
                             g->out_c, mine, 1);
        }
    }
    return MLRC_KERNEL_OK;
}

int mlrc_q8_conv(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                 const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, void *scratch,
                 int32_t threads) {
    mlrc_kernel_plan plan; /* one pass over the weights: a pair-bounded row may take them */
    mlrc_q8_conv_plan_for(g, mlrc_q8_conv_weight_pair_peak(g, weights), threads, &plan);
    return mlrc_q8_conv_run(&plan, g, input, in_zero, weights, bias, scale, out, output, scratch, threads);
}
