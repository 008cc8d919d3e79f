/* General and grouped fp32 convolution without im2col ("indirect GEMM"): for a tile of 6 output pixels, a table
 * points each (pixel, tap) at the input pixel's channels of the current group, or at a zero row where the tap
 * falls in the padding; the micro-kernel then walks taps x input channels with the GEMM's 6 x 16 (or 6 x 8)
 * AVX2/FMA register tile. The AVX-512 entry adds 32-column zmm tiles and, for pixel blocks inside one output row,
 * tiles that read the input rows directly (no pointer tables). Weights are the conv layout [group][tap][ci][co].
 * For kernels with at most MAX_TAPS taps and at most MAX_ZERO input channels per group. */
#if defined(__x86_64__)
#include <stddef.h>
#include <string.h>
#include "x86/f32_vmath_avx2.h"
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"
#include "window.h"

#define MR 6
#define MAX_TAPS 64
#define MAX_ZERO 4096
#define CHUNK 16 /* pixel blocks sharing one pass over the weights (pointer tables: CHUNK * 3 KB of stack) */

static const float zero_row[MAX_ZERO];

/* Pointers into the padding point at zero_row and are shifted by the group's channel offset like the
 * others, so zero_row must cover all input channels. */
int mlrc_f32_conv_indirect_suits(const mlrc_conv_geometry *g, uint32_t features) {
    (void)features;
    return g->kernel_h * g->kernel_w <= MAX_TAPS && g->in_c <= MAX_ZERO;
}

/* A quantized output (mlrc_f32_conv_indirect_avx2_quantize): blocks in the pointer tables' path put their
 * floats in a stack buffer of QUANT_FLOATS, quantized at the end of the chunk; row tiles quantize in registers.
 * Either way the float output is never written to memory. */
#define QUANT_FLOATS 3072
typedef struct quant_target {
    uint8_t *q;
    float inv_scale;
    int32_t zero;
} quant_target;

/* acc (rows x cols) = bias + sum over segments u and their inputs j of in[r][u][j] * w[u][j][:]; WIDE: 16
 * columns (two accumulators a row), else 8. A segment is a tap of cin_g channels whose rows the pointer tables
 * give (ROWS 0: tile16, tile8), or a whole kernel row of kw * in_c contiguous floats (ROWS 1: tile16_rows, for a
 * block of pixels in one output row whose windows lie inside the input, an ungrouped conv: stems, with 3 input
 * channels, where a tap's loop of 3 does little per step). Both take the products in the same order (tap, then
 * channel), so their results agree. With qt (rows tiles only), each row is quantized in registers as
 * mlrc_avx2_quantize_floats does. */
__attribute__((always_inline)) MLRC_AVX2 static inline void
tile_body(const float *const *ptrs, size_t shift, const float *a, ptrdiff_t rstride, ptrdiff_t kstride, int32_t segs,
          int32_t len, int32_t rows, int32_t cols, const float *w, int32_t ldw, const float *bias, void *out,
          int32_t ldo, int32_t act, const quant_target *qt, const int WIDE, const int ROWS) {
    const int full = cols == (WIDE ? 16 : 8), full0 = cols >= 8;
    const __m256i m0 = mlrc_avx2_tail_mask(cols), m1 = mlrc_avx2_tail_mask(cols - 8);
    const __m256 b0 = bias ? _mm256_maskload_ps(bias, m0) : _mm256_setzero_ps();
    const __m256 b1 = bias && WIDE ? _mm256_maskload_ps(bias + 8, m1) : _mm256_setzero_ps();
    __m256 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1;
    __m256 c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1;
    for (int32_t u = 0; u < segs; u++) {
        /* row r's inputs of segment u; in ROWS mode rows past the block's last repeat it (never stored) */
#define SEG(r) (ROWS ? a + ((r) < rows ? (r) : rows - 1) * rstride + u * kstride : ptrs[(r)*MAX_TAPS + u] + shift)
        const float *a0 = SEG(0), *a1 = SEG(1), *a2 = SEG(2), *a3 = SEG(3), *a4 = SEG(4), *a5 = SEG(5);
#undef SEG
        const float *wt = w + (size_t)u * len * ldw;
        for (int32_t j = 0; j < len; j++) {
            const float *wr = wt + (size_t)j * ldw;
            const __m256 w0 = full0 ? _mm256_loadu_ps(wr) : _mm256_maskload_ps(wr, m0);
            if (WIDE) {
                const __m256 w1 = full ? _mm256_loadu_ps(wr + 8) : _mm256_maskload_ps(wr + 8, m1);
                __m256 x;
                x = _mm256_broadcast_ss(a0 + j), c00 = _mm256_fmadd_ps(x, w0, c00), c01 = _mm256_fmadd_ps(x, w1, c01);
                x = _mm256_broadcast_ss(a1 + j), c10 = _mm256_fmadd_ps(x, w0, c10), c11 = _mm256_fmadd_ps(x, w1, c11);
                x = _mm256_broadcast_ss(a2 + j), c20 = _mm256_fmadd_ps(x, w0, c20), c21 = _mm256_fmadd_ps(x, w1, c21);
                x = _mm256_broadcast_ss(a3 + j), c30 = _mm256_fmadd_ps(x, w0, c30), c31 = _mm256_fmadd_ps(x, w1, c31);
                x = _mm256_broadcast_ss(a4 + j), c40 = _mm256_fmadd_ps(x, w0, c40), c41 = _mm256_fmadd_ps(x, w1, c41);
                x = _mm256_broadcast_ss(a5 + j), c50 = _mm256_fmadd_ps(x, w0, c50), c51 = _mm256_fmadd_ps(x, w1, c51);
            } else {
                c00 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + j), w0, c00);
                c10 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + j), w0, c10);
                c20 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + j), w0, c20);
                c30 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + j), w0, c30);
                c40 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + j), w0, c40);
                c50 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + j), w0, c50);
            }
        }
    }
    const __m256 lo[MR] = {c00, c10, c20, c30, c40, c50}, hi[MR] = {c01, c11, c21, c31, c41, c51};
    if (!qt) {
        for (int r = 0; r < rows; r++) {
            float *o = (float *)out + (size_t)r * ldo;
            _mm256_maskstore_ps(o, m0, mlrc_avx2_activate(lo[r], act));
            if (WIDE) _mm256_maskstore_ps(o + 8, m1, mlrc_avx2_activate(hi[r], act));
        }
        return;
    }
    const __m256 s = _mm256_set1_ps(qt->inv_scale);
    const __m256 vlo = _mm256_set1_ps((float)-qt->zero), vhi = _mm256_set1_ps((float)(255 - qt->zero));
    const __m256i z = _mm256_set1_epi32(qt->zero);
    for (int r = 0; r < rows; r++) {
        const __m256i q0 = mlrc_avx2_round_clamp(_mm256_mul_ps(mlrc_avx2_activate(lo[r], act), s), vlo, vhi, z);
        const __m256i q1 = mlrc_avx2_round_clamp(_mm256_mul_ps(mlrc_avx2_activate(hi[r], act), s), vlo, vhi, z);
        const __m128i bytes = mlrc_avx2_pack16(q0, q1);
        uint8_t *o = (uint8_t *)out + (size_t)r * ldo, tmp[16];
        if (full) {
            _mm_storeu_si128((__m128i *)o, bytes);
        } else {
            _mm_storeu_si128((__m128i *)tmp, bytes);
            memcpy(o, tmp, (size_t)cols);
        }
    }
}

/* From the pointer tables: 16 or 8 columns. */
MLRC_AVX2 static void tile16(const float *const *ptrs, size_t shift, int32_t rows, int32_t taps, int32_t cin_g,
                             int32_t cols, const float *w, int32_t ldw, const float *bias, float *out, int32_t ldo,
                             int32_t act) {
    tile_body(ptrs, shift, NULL, 0, 0, taps, cin_g, rows, cols, w, ldw, bias, out, ldo, act, NULL, 1, 0);
}

MLRC_AVX2 static void tile8(const float *const *ptrs, size_t shift, int32_t rows, int32_t taps, int32_t cin_g,
                            int32_t cols, const float *w, int32_t ldw, const float *bias, float *out, int32_t ldo,
                            int32_t act) {
    tile_body(ptrs, shift, NULL, 0, 0, taps, cin_g, rows, cols, w, ldw, bias, out, ldo, act, NULL, 0, 0);
}

/* Without tables: 6 pixels of one output row x up to 16 columns. */
MLRC_AVX2 static void tile16_rows(const float *a, ptrdiff_t rstride, ptrdiff_t kstride, int32_t kh, int32_t run,
                                  int32_t rows, int32_t cols, const float *w, int32_t ldw, const float *bias, void *out,
                                  int32_t ldo, int32_t act, const quant_target *qt) {
    tile_body(NULL, 0, a, rstride, kstride, kh, run, rows, cols, w, ldw, bias, out, ldo, act, qt, 1, 1);
}

/* AVX-512: 32 columns per tile in two 512-bit accumulators a row, twice the products per instruction (stems:
 * 3 input channels, 32 outputs). The products go segment by segment, `len` inputs each, against consecutive
 * weight rows: a segment is a tap of cin_g channels, its rows found in the pointer tables (ROWS 0, the same
 * products in the same order as tile16), or a whole kernel row of kw * in_c contiguous floats (ROWS 1: every
 * window inside the input, pixels in one output row, row r's window rstride floats after row r - 1's; no
 * tables). With qt, the activated values are quantized as mlrc_q8_quantize_block does. */
#define ZMM_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))
__attribute__((always_inline)) ZMM_TARGET static inline void
tile32_body(const float *const *ptrs, size_t shift, const float *a, ptrdiff_t rstride, ptrdiff_t kstride, int32_t segs,
            int32_t len, int32_t rows, int32_t cols, const float *w, int32_t ldw, const float *bias, void *out,
            int32_t ldo, int32_t act, const quant_target *qt, const int ROWS) {
    const __mmask16 k0 = mlrc_avx512_lanes(cols), k1 = mlrc_avx512_lanes(cols - 16);
    const __m512 b0 = bias ? _mm512_maskz_loadu_ps(k0, bias) : _mm512_setzero_ps();
    const __m512 b1 = bias ? _mm512_maskz_loadu_ps(k1, bias + 16) : _mm512_setzero_ps();
    __m512 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1;
    __m512 c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1;
    for (int32_t u = 0; u < segs; u++) {
        /* row r's inputs of segment u; in ROWS mode rows past the block's last repeat it (never stored) */
#define SEG(r) (ROWS ? a + ((r) < rows ? (r) : rows - 1) * rstride + u * kstride : ptrs[(r)*MAX_TAPS + u] + shift)
        const float *a0 = SEG(0), *a1 = SEG(1), *a2 = SEG(2), *a3 = SEG(3), *a4 = SEG(4), *a5 = SEG(5);
#undef SEG
        const float *wt = w + (size_t)u * len * ldw;
        for (int32_t j = 0; j < len; j++) {
            const float *wr = wt + (size_t)j * ldw;
            const __m512 w0 = _mm512_maskz_loadu_ps(k0, wr), w1 = _mm512_maskz_loadu_ps(k1, wr + 16);
            __m512 x;
            x = _mm512_set1_ps(a0[j]);
            c00 = _mm512_fmadd_ps(x, w0, c00);
            c01 = _mm512_fmadd_ps(x, w1, c01);
            x = _mm512_set1_ps(a1[j]);
            c10 = _mm512_fmadd_ps(x, w0, c10);
            c11 = _mm512_fmadd_ps(x, w1, c11);
            x = _mm512_set1_ps(a2[j]);
            c20 = _mm512_fmadd_ps(x, w0, c20);
            c21 = _mm512_fmadd_ps(x, w1, c21);
            x = _mm512_set1_ps(a3[j]);
            c30 = _mm512_fmadd_ps(x, w0, c30);
            c31 = _mm512_fmadd_ps(x, w1, c31);
            x = _mm512_set1_ps(a4[j]);
            c40 = _mm512_fmadd_ps(x, w0, c40);
            c41 = _mm512_fmadd_ps(x, w1, c41);
            x = _mm512_set1_ps(a5[j]);
            c50 = _mm512_fmadd_ps(x, w0, c50);
            c51 = _mm512_fmadd_ps(x, w1, c51);
        }
    }
    const __m512 lo[MR] = {c00, c10, c20, c30, c40, c50}, hi[MR] = {c01, c11, c21, c31, c41, c51};
    if (!qt) {
        for (int r = 0; r < rows; r++) {
            float *o = (float *)out + (size_t)r * ldo;
            _mm512_mask_storeu_ps(o, k0, mlrc_avx512_activate(lo[r], act));
            if (k1) _mm512_mask_storeu_ps(o + 16, k1, mlrc_avx512_activate(hi[r], act));
        }
        return;
    }
    /* mlrc_avx2_quantize_floats's operations: multiply, clamp (max then min), round to even, add the zero point */
    const __m512 s = _mm512_set1_ps(qt->inv_scale);
    const __m512 vlo = _mm512_set1_ps((float)-qt->zero), vhi = _mm512_set1_ps((float)(255 - qt->zero));
    const __m512i z = _mm512_set1_epi32(qt->zero);
    for (int r = 0; r < rows; r++) {
        uint8_t *o = (uint8_t *)out + (size_t)r * ldo;
        const __m512 v[2] = {mlrc_avx512_activate(lo[r], act), mlrc_avx512_activate(hi[r], act)};
        for (int h = 0; h < 2; h++) {
            const __m512 c = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(v[h], s), vlo), vhi);
            _mm_mask_storeu_epi8(o + 16 * h, h ? k1 : k0,
                                 _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(c), z)));
        }
    }
}

/* From the pointer tables: the signature of tile16 / tile8. */
ZMM_TARGET static void tile32(const float *const *ptrs, size_t shift, int32_t rows, int32_t taps, int32_t cin_g,
                              int32_t cols, const float *w, int32_t ldw, const float *bias, float *out, int32_t ldo,
                              int32_t act) {
    tile32_body(ptrs, shift, NULL, 0, 0, taps, cin_g, rows, cols, w, ldw, bias, out, ldo, act, NULL, 0);
}

/* Without tables: a block of pixels in one output row, every window inside the input, an ungrouped conv. */
ZMM_TARGET static void tile32_rows(const float *a, ptrdiff_t rstride, ptrdiff_t kstride, int32_t kh, int32_t run,
                                   int32_t rows, int32_t cols, const float *w, int32_t ldw, const float *bias,
                                   void *out, int32_t ldo, int32_t act, const quant_target *qt) {
    tile32_body(NULL, 0, a, rstride, kstride, kh, run, rows, cols, w, ldw, bias, out, ldo, act, qt, 1);
}

/* Points each (pixel, tap) of the block at its input pixel's channels, or at zeros in the padding. */
static void block_pointers(const mlrc_conv_geometry *g, const float *input, int32_t p0, int32_t rows,
                           const ptrdiff_t *tap_offset, const float **ptrs) {
    for (int32_t r = 0; r < MR; r++) {
        const int32_t p = p0 + (r < rows ? r : rows - 1); /* row tail: repeat the last pixel, never stored */
        const int32_t oy = p / g->out_w, ox = p % g->out_w;
        const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
        if (iy0 >= 0 && ix0 >= 0 && iy0 + g->kernel_h <= g->in_h && ix0 + g->kernel_w <= g->in_w) {
            /* window inside the input: fixed offsets from its first tap */
            const float *base = input + ((size_t)iy0 * g->in_w + ix0) * g->in_c;
            for (int32_t t = 0; t < g->kernel_h * g->kernel_w; t++) ptrs[r * MAX_TAPS + t] = base + tap_offset[t];
            continue;
        }
        MLRC_PIXEL_TAPS(ptrs + r * MAX_TAPS, g, oy, ox, input, zero_row)
    }
}

/* The input of a block for the rows tiles (its pixels in one output row, every window inside the input), or NULL. */
static const float *row_block_input(const mlrc_conv_geometry *g, const float *input, int32_t p0, int32_t rows) {
    const int32_t oy = p0 / g->out_w, ox = p0 % g->out_w;
    if (ox + rows > g->out_w) return NULL;
    const int32_t iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    const int32_t ix_last = (ox + rows - 1) * g->stride_w - g->pad_left;
    if (iy0 < 0 || iy0 + g->kernel_h > g->in_h || ix0 < 0 || ix_last + g->kernel_w > g->in_w) return NULL;
    return input + ((size_t)iy0 * g->in_w + ix0) * g->in_c;
}

/* Pixel blocks [b0, b1), CHUNK blocks at a time: the chunk's pointer tables are built once, then each group's
 * 16-column weight panels sweep the whole chunk, so a panel is reused from cache by CHUNK blocks. */
static void block_range(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                        float *output, const quant_target *qt, int32_t act, int32_t b0, int32_t b1, int wide) {
    const int32_t taps = g->kernel_h * g->kernel_w, cin_g = g->in_c / g->groups, cout_g = g->out_c / g->groups;
    const int32_t pixels = g->out_h * g->out_w;
    const float *ptrs[CHUNK][MR * MAX_TAPS];
    const float *row_input[CHUNK]; /* a block's input for a rows tile, NULL where it takes the pointer tables */
    float quant_buf[QUANT_FLOATS];
    const int32_t chunk = qt ? QUANT_FLOATS / (MR * g->out_c) < CHUNK ? QUANT_FLOATS / (MR * g->out_c) : CHUNK : CHUNK;
    ptrdiff_t tap_offset[MAX_TAPS];
    for (int32_t t = 0; t < taps; t++)
        tap_offset[t] = ((ptrdiff_t)(t / g->kernel_w) * g->in_w + t % g->kernel_w) * g->in_c;
    for (int32_t c0 = b0; c0 < b1; c0 += chunk) {
        const int32_t c1 = c0 + chunk < b1 ? c0 + chunk : b1;
        /* where the chunk's floats go: the output, or the stack buffer holding just this chunk (from pixel base) */
        float *const dst = qt ? quant_buf : output;
        const int32_t base = qt ? c0 * MR : 0;
        for (int32_t b = c0; b < c1; b++) {
            const int32_t p0 = b * MR, rows = pixels - p0 < MR ? pixels - p0 : MR;
            row_input[b - c0] = g->groups == 1 ? row_block_input(g, input, p0, rows) : NULL;
            if (!row_input[b - c0]) block_pointers(g, input, p0, rows, tap_offset, ptrs[b - c0]);
        }
        for (int32_t group = 0; group < g->groups; group++) {
            const float *w = weights + (size_t)group * taps * cin_g * cout_g;
            const size_t shift = (size_t)group * cin_g;
            for (int32_t n = 0; n < cout_g;) {
                /* 32-column zmm tiles where they pay (more than 16 columns left), else 16 or 8 */
                const int32_t left = cout_g - n, step = wide && left > 16 ? 32 : 16;
                const int32_t cols = left < step ? left : step, co = group * cout_g + n;
                for (int32_t b = c0; b < c1; b++) {
                    const int32_t p0 = b * MR, rows = pixels - p0 < MR ? pixels - p0 : MR;
                    if (row_input[b - c0]) {
                        void *o = qt ? (void *)(qt->q + (size_t)p0 * g->out_c + co)
                                     : (void *)(output + (size_t)p0 * g->out_c + co);
                        (wide ? tile32_rows : tile16_rows)(row_input[b - c0], (ptrdiff_t)g->stride_w * g->in_c,
                                                           (ptrdiff_t)g->in_w * g->in_c, g->kernel_h,
                                                           g->kernel_w * g->in_c, rows, cols, w + n, cout_g,
                                                           bias ? bias + co : 0, o, g->out_c, act, qt);
                        continue;
                    }
                    (step == 32 ? tile32
                     : cols > 8 ? tile16
                                : tile8)(ptrs[b - c0], shift, rows, taps, cin_g, cols, w + n, cout_g,
                                         bias ? bias + co : 0, dst + (size_t)(p0 - base) * g->out_c + co, g->out_c,
                                         act);
                }
                n += step;
            }
        }
        for (int32_t b = c0; qt && b < c1; b++) {
            if (row_input[b - c0]) continue; /* quantized in registers */
            const int32_t p0 = b * MR, rows = pixels - p0 < MR ? pixels - p0 : MR;
            mlrc_avx2_quantize_floats((size_t)rows * g->out_c, quant_buf + (size_t)(p0 - base) * g->out_c,
                                      qt->inv_scale, qt->zero, qt->q + (size_t)p0 * g->out_c);
        }
    }
}

int mlrc_f32_conv_indirect_quantize_suits(const mlrc_conv_geometry *g, uint32_t features) {
    return mlrc_f32_conv_indirect_suits(g, features) && MR * g->out_c <= QUANT_FLOATS;
}

/* Pixel blocks [b0, b1) (MR output pixels each); q: quantize in place instead of writing the floats. */
static void run(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias, float *output,
                int32_t act, float inv_scale, int32_t zero, uint8_t *q, int32_t b0, int32_t b1, int wide) {
    const quant_target qt = {q, inv_scale, zero};
    block_range(g, input, weights, bias, q ? NULL : output, q ? &qt : NULL, act, b0, b1, wide);
}

void mlrc_f32_conv_indirect_6x16_avx2(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                      const float *bias, float *output, int32_t act, float inv_scale, int32_t zero,
                                      uint8_t *q, int32_t b0, int32_t b1) {
    run(g, input, weights, bias, output, act, inv_scale, zero, q, b0, b1, 0);
}

void mlrc_f32_conv_indirect_6x32_avx512(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                        const float *bias, float *output, int32_t act, float inv_scale, int32_t zero,
                                        uint8_t *q, int32_t b0, int32_t b1) {
    run(g, input, weights, bias, output, act, inv_scale, zero, q, b0, b1, 1);
}
#endif
