/* What the two AArch64 int8 GEMMs share (q8_gemm_neon.c without dotprod, q8_gemm_dotprod.c with it): both
 * multiply int8 x int8, so an activation row is read straight from A, 16 bytes (4 quads of K) at a time, and
 * flipped in the register, a ^ 0x80 = a - 128; the difference to the input's zero point is a per-column constant,
 *   sum (a - z) w = sum (a - 128) w + (128 - z) * sum w,
 * which a session folds into the bias once (the table row says input_zero = 128, so z = 128 and it vanishes);
 * other callers get it added here, computed once per column panel and chunk of rows. Rows are read in place:
 * only the last bytes of a row that does not fill 16 are copied, into a 16-byte buffer padded with 0x80 (which
 * flips to 0). Weights must lie in [-127, 127] (the format's rule), so that two 8-bit products sum exactly in
 * int16 where the kernels pair them. */
#ifndef MLRC_Q8_GEMM_NEON_ROWS_H
#define MLRC_Q8_GEMM_NEON_ROWS_H
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>
#include "arm/q8_output_neon.h"
#include "mlrc_ukernels.h"
#include "q8_requantize.h"

#define MLRC_NEON_INLINE __attribute__((always_inline)) inline

/* Rows of a tile: pointers to their first byte (a block of fewer rows repeats its last row; those results are not
 * stored). */
static MLRC_NEON_INLINE void mlrc_q8_neon_row_pointers(const uint8_t *A, int32_t lda, int32_t rows, int32_t mr,
                                                       const uint8_t **p) {
    for (int32_t r = 0; r < mr; r++) p[r] = A + (size_t)(r < rows ? r : rows - 1) * lda;
}

/* 16 activation bytes at k of one row, flipped to int8; `tail` holds the row's last K % 16 bytes once copied. */
static MLRC_NEON_INLINE int8x16_t mlrc_q8_neon_load16(const uint8_t *row, int32_t k, int32_t K, uint8_t *tail) {
    const uint8x16_t flip = vdupq_n_u8(0x80);
    if (k + 16 <= K) return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(row + k), flip));
    memset(tail, 0x80, 16);
    memcpy(tail, row + k, (size_t)(K - k));
    return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(tail), flip));
}

/* One 8-column panel's output stage, loaded once per chunk of rows: the bias (+ the zero-point correction), which
 * the tiles add to their accumulators (int32 adds wrap alike in any order), the scales and the clamp. */
typedef struct mlrc_q8_neon_stage {
    int32x4_t bias0, bias1; /* columns 0-3, 4-7 */
    float32x4_t scale0, scale1;
    mlrc_q8_neon_clamp k;
    int32_t cols;
} mlrc_q8_neon_stage;

/* sum over k of each of the panel's 8 columns (quads of 4 k, 32 bytes each). */
static MLRC_NEON_INLINE void mlrc_q8_neon_column_sums(const int8_t *panel, int32_t kq, int32x4_t *s0, int32x4_t *s1) {
    int32x4_t a = vdupq_n_s32(0), b = vdupq_n_s32(0);
    for (int32_t q = 0; q < kq; q++) {
        a = vpadalq_s16(a, vpaddlq_s8(vld1q_s8(panel + (size_t)q * 32)));
        b = vpadalq_s16(b, vpaddlq_s8(vld1q_s8(panel + (size_t)q * 32 + 16)));
    }
    *s0 = a, *s1 = b;
}

static MLRC_NEON_INLINE void mlrc_q8_neon_stage_load(mlrc_q8_neon_stage *s, const int8_t *panel, int32_t kq, int32_t n0,
                                                     int32_t cols, const mlrc_q8_gemm_args *g) {
    int32_t b[8] = {0};
    float sc[8] = {0};
    for (int32_t j = 0; j < cols; j++) b[j] = g->bias ? g->bias[n0 + j] : 0, sc[j] = g->scale[n0 + j];
    s->bias0 = vld1q_s32(b), s->bias1 = vld1q_s32(b + 4);
    if (g->zero != 128) {
        int32x4_t s0, s1;
        mlrc_q8_neon_column_sums(panel, kq, &s0, &s1);
        s->bias0 = vmlaq_n_s32(s->bias0, s0, 128 - g->zero);
        s->bias1 = vmlaq_n_s32(s->bias1, s1, 128 - g->zero);
    }
    s->scale0 = vld1q_f32(sc), s->scale1 = vld1q_f32(sc + 4);
    s->k = mlrc_q8_neon_clamp_of(g->out);
    s->cols = cols;
}

/* One row's 8 accumulators (bias included) through the panel's stage. */
static MLRC_NEON_INLINE void mlrc_q8_neon_stage_store(const mlrc_q8_neon_stage *s, int32x4_t a0, int32x4_t a1,
                                                      const mlrc_q8_output *out, void *dst) {
    mlrc_q8_neon_store8(a0, a1, s->scale0, s->scale1, &s->k, out, s->cols, dst);
}

/* Two adjacent panels' stages on one row's 16 accumulators: uint8 outputs of full panels without a table are
 * narrowed and clamped 16 at a time, the rest as two 8-column stores. */
static MLRC_NEON_INLINE void mlrc_q8_neon_stage_store16(const mlrc_q8_neon_stage *s, int32x4_t a0, int32x4_t a1,
                                                        int32x4_t a2, int32x4_t a3, const mlrc_q8_output *out,
                                                        size_t elem, void *dst) {
    if (out->kind != MLRC_Q8_OUT_U8 || out->lut || s[0].cols != 8 || s[1].cols != 8) {
        mlrc_q8_neon_stage_store(&s[0], a0, a1, out, dst);
        mlrc_q8_neon_stage_store(&s[1], a2, a3, out, (char *)dst + 8 * elem);
        return;
    }
    vst1q_u8((uint8_t *)dst,
             mlrc_q8_neon_requant16(a0, a1, a2, a3, s[0].scale0, s[0].scale1, s[1].scale0, s[1].scale1, &s[0].k));
}

/* The range loop: rows [6 rb0, 6 rb1) in tiles of mr rows, a chunk of about 16 KB of rows at a time (read in place,
 * they stay in L1 while every column step passes over them), column panels [nb0, nb1) np at a time (the last step
 * may have one), their output stages loaded once per chunk. tile(g, m, rows, nb, panels, stages) computes and
 * stores one tile. */
typedef void (*mlrc_q8_neon_tile_fn)(const mlrc_q8_gemm_args *g, int32_t m, int32_t rows, int32_t nb, int32_t panels,
                                     const mlrc_q8_neon_stage *stages);

static MLRC_NEON_INLINE void mlrc_q8_neon_range(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0,
                                                int32_t nb1, int32_t mr, int32_t np, mlrc_q8_neon_tile_fn tile) {
    const int32_t m0 = rb0 * 6, m1 = rb1 * 6 < g->M ? rb1 * 6 : g->M;
    int32_t chunk = (int32_t)(16384 / (g->K > 0 ? g->K : 1));
    chunk = chunk < mr ? mr : chunk - chunk % mr;
    for (int32_t c0 = m0; c0 < m1; c0 += chunk) {
        const int32_t c1 = c0 + chunk < m1 ? c0 + chunk : m1;
        for (int32_t nb = nb0; nb < nb1; nb += np) {
            const int32_t panels = nb1 - nb < np ? nb1 - nb : np, kq = (g->K + 3) / 4;
            mlrc_q8_neon_stage stages[2];
            for (int32_t p = 0; p < panels; p++) {
                const int32_t n0 = (nb + p) * 8;
                mlrc_q8_neon_stage_load(&stages[p], g->B + (size_t)(nb + p) * kq * 32, kq, n0,
                                        g->N - n0 < 8 ? g->N - n0 : 8, g);
            }
            for (int32_t m = c0; m < c1; m += mr) tile(g, m, c1 - m < mr ? c1 - m : mr, nb, panels, stages);
        }
    }
}

#endif
#endif
