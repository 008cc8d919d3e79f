/* The int8 element-wise and pooling operators with tables: quantize (and the fused fp32 add + quantize), the
 * requantizing residual add, max pooling. */
#include <omp.h>
#include "mlrc_ukernels.h"
#include "choose.h"
#include "activation.h"

const mlrc_q8_quantize_variant mlrc_q8_quantize_variants[] = {
#if defined(__x86_64__)
    {"q8_quantize_avx2", MLRC_CPU_X86_AVX2, mlrc_q8_quantize_block_avx2},
#endif
#if defined(__aarch64__)
    {"q8_quantize_neon", MLRC_CPU_NEON, mlrc_q8_quantize_block_neon},
#endif
    {"q8_quantize_ref", 0, mlrc_q8_quantize_block_ref},
};
const int32_t mlrc_q8_quantize_variant_count =
    (int32_t)(sizeof mlrc_q8_quantize_variants / sizeof mlrc_q8_quantize_variants[0]);

const mlrc_q8_add_variant mlrc_q8_add_variants[] = {
#if defined(__x86_64__)
    {"q8_add_avx2", MLRC_CPU_X86_AVX2, mlrc_q8_add_avx2},
#endif
#if defined(__aarch64__)
    {"q8_add_neon", MLRC_CPU_NEON, mlrc_q8_add_neon},
#endif
    {"q8_add_ref", 0, mlrc_q8_add_ref},
};
const int32_t mlrc_q8_add_variant_count = (int32_t)(sizeof mlrc_q8_add_variants / sizeof mlrc_q8_add_variants[0]);

const mlrc_q8_maxpool_variant mlrc_q8_maxpool_variants[] = {
#if defined(__x86_64__)
    {"q8_maxpool_avx2", MLRC_CPU_X86_AVX2, mlrc_q8_maxpool_avx2},
#endif
    {"q8_maxpool_ref", 0, mlrc_q8_maxpool_ref},
};
const int32_t mlrc_q8_maxpool_variant_count =
    (int32_t)(sizeof mlrc_q8_maxpool_variants / sizeof mlrc_q8_maxpool_variants[0]);

int32_t mlrc_q8_quantize_choose(uint32_t features) {
    MLRC_FIRST_ENABLED(mlrc_q8_quantize_variants, mlrc_q8_quantize_variant_count, features)
}
static int32_t add_choose(uint32_t features) {
    MLRC_FIRST_ENABLED(mlrc_q8_add_variants, mlrc_q8_add_variant_count, features)
}
static int32_t maxpool_choose(uint32_t features) {
    MLRC_FIRST_ENABLED(mlrc_q8_maxpool_variants, mlrc_q8_maxpool_variant_count, features)
}

static void plan_of(int32_t op, int32_t variant, mlrc_kernel_plan *plan) {
    const mlrc_kernel_plan p = {op, 0, variant, -1, -1, 1, 0};
    *plan = p;
}

void mlrc_q8_quantize_plan(mlrc_kernel_plan *plan) {
    plan_of(MLRC_OP_Q8_QUANTIZE, mlrc_q8_quantize_choose(mlrc_cpu_enabled()), plan);
}
void mlrc_q8_add_plan(mlrc_kernel_plan *plan) { plan_of(MLRC_OP_Q8_ADD, add_choose(mlrc_cpu_enabled()), plan); }
void mlrc_q8_maxpool_plan(mlrc_kernel_plan *plan) {
    plan_of(MLRC_OP_Q8_MAXPOOL, maxpool_choose(mlrc_cpu_enabled()), plan);
}

/* Blocks of 4096 values across the threads, each through the chosen block kernel. */
int mlrc_q8_quantize_run(const mlrc_kernel_plan *plan, size_t count, const float *x, float inv_scale, int32_t zero,
                         uint8_t *q, int32_t threads) {
    const mlrc_q8_quantize_block_fn block = mlrc_q8_quantize_variants[plan->variant].block;
    const size_t blocks = (count + 4095) / 4096;
    int nt = mlrc_threads_for(threads, (int64_t)(count / 4096));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t b = 0; b < blocks; b++) {
        const size_t i0 = b * 4096, n = count - i0 < 4096 ? count - i0 : 4096;
        block(n, x + i0, inv_scale, zero, q + i0);
    }
    return MLRC_KERNEL_OK;
}

/* Blocks of 1024 floats of the flat tensor: each block is scaled into a stack buffer and quantized while in L1. */
int mlrc_f32_channel_scale_quantize_run(const mlrc_kernel_plan *plan, int32_t pixels, int32_t channels, const float *x,
                                        const float *gate, float inv_scale, int32_t zero, uint8_t *q, int32_t threads) {
    enum { BLOCK = 1024 };
    if (pixels <= 0 || channels <= 0) return MLRC_KERNEL_OK;
    const mlrc_q8_quantize_block_fn quantize = mlrc_q8_quantize_variants[plan->variant].block;
    const size_t count = (size_t)pixels * (size_t)channels, blocks = (count + BLOCK - 1) / BLOCK;
    int nt = mlrc_threads_for(threads, (int64_t)(count / 4096));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t blk = 0; blk < blocks; blk++) {
        float tmp[BLOCK];
        const size_t i0 = blk * BLOCK, n = count - i0 < BLOCK ? count - i0 : BLOCK;
        size_t c = i0 % (size_t)channels;
        for (size_t j = 0; j < n; j++) {
            tmp[j] = x[i0 + j] * gate[c];
            if (++c == (size_t)channels) c = 0;
        }
        quantize(n, tmp, inv_scale, zero, q + i0);
    }
    return MLRC_KERNEL_OK;
}

/* Blocks of 1024 (4 KB of floats): each block's sum is quantized while it is in L1. */
int mlrc_f32_add_quantize_run(const mlrc_kernel_plan *plan, size_t count, const float *a, const float *b, float *out,
                              int32_t act, float inv_scale, int32_t zero, uint8_t *q, int32_t threads) {
    enum { BLOCK = 1024, CHUNK = 4096 };
    const mlrc_q8_quantize_block_fn quantize = mlrc_q8_quantize_variants[plan->variant].block;
    const size_t blocks = (count + BLOCK - 1) / BLOCK;
    int nt = mlrc_threads_for(threads, (int64_t)(count / CHUNK));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t blk = 0; blk < blocks; blk++) {
        float tmp[BLOCK];
        const size_t i0 = blk * BLOCK, n = count - i0 < BLOCK ? count - i0 : BLOCK;
        float *o = out ? out + i0 : tmp;
        mlrc_f32_add_block(n, a + i0, b + i0, o, act);
        quantize(n, o, inv_scale, zero, q + i0);
    }
    return MLRC_KERNEL_OK;
}

/* Blocks of 4096 values across the threads. */
int mlrc_q8_add_run(const mlrc_kernel_plan *plan, size_t count, const uint8_t *a, int32_t za, float ma,
                    const uint8_t *b, int32_t zb, float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out,
                    int32_t threads) {
    const mlrc_q8_add_fn add = mlrc_q8_add_variants[plan->variant].run;
    const size_t blocks = (count + 4095) / 4096;
    int nt = mlrc_threads_for(threads, (int64_t)(count / 4096));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t blk = 0; blk < blocks; blk++)
        add(blk * 4096, (blk + 1) * 4096 < count ? (blk + 1) * 4096 : count, a, za, ma, b, zb, mb, zero_out, lo, hi,
            out);
    return MLRC_KERNEL_OK;
}

/* Output rows across the threads. */
int mlrc_q8_maxpool_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const uint8_t *input,
                        uint8_t *output, int32_t threads) {
    const mlrc_q8_maxpool_fn pool = mlrc_q8_maxpool_variants[plan->variant].run;
    int nt = mlrc_threads_for(threads, g->out_h);
    if (nt <= 1) {
        pool(g, input, output, 0, g->out_h);
        return MLRC_KERNEL_OK;
    }
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), n = omp_get_num_threads();
        const int32_t r0 = (int32_t)((int64_t)g->out_h * t / n), r1 = (int32_t)((int64_t)g->out_h * (t + 1) / n);
        if (r0 < r1) pool(g, input, output, r0, r1);
    }
    return MLRC_KERNEL_OK;
}

/* The plain entry points: choose, then run. */
void mlrc_q8_quantize(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_q8_quantize_plan(&plan);
    mlrc_q8_quantize_run(&plan, count, x, inv_scale, zero, q, threads);
}

void mlrc_f32_add_quantize(size_t count, const float *a, const float *b, float *out, int32_t act, float inv_scale,
                           int32_t zero, uint8_t *q, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_q8_quantize_plan(&plan);
    mlrc_f32_add_quantize_run(&plan, count, a, b, out, act, inv_scale, zero, q, threads);
}

void mlrc_q8_add(size_t count, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb, float mb,
                 int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_q8_add_plan(&plan);
    mlrc_q8_add_run(&plan, count, a, za, ma, b, zb, mb, zero_out, lo, hi, out, threads);
}

void mlrc_q8_maxpool(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_q8_maxpool_plan(&plan);
    mlrc_q8_maxpool_run(&plan, g, input, output, threads);
}
