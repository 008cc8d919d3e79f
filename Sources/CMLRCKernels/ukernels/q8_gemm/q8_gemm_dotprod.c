/* int8 GEMM for NEON with the dot-product extension (ARMv8.2 dotprod, e.g. the Cortex-A76 of a Raspberry Pi 5):
 * sdot multiplies 4 int8 pairs into each int32 lane, 16 products per instruction, on either vector pipe. A packed
 * weight quad vector is sdot's operand as stored (4 columns x 4 consecutive k); the lane-indexed form takes the
 * row's matching quad straight from a 16-byte row load, so no broadcast is spent. Tile: 4 rows x 16 columns (two
 * 8-column panels), 16 accumulators; rows from A itself, flipped to int8 in the register, input_zero 128
 * (q8_gemm_neon_rows.h).
 * Built with -march=armv8.2-a+dotprod by the Makefile's gcc (GCC cannot inline vdotq under a per-function
 * target); clang (SwiftPM) gets the feature through a target attribute on every function here. Only called when
 * the CPU reports dotprod (HWCAP_ASIMDDP). A compiler offering neither falls back to the plain NEON kernel. */
#if defined(__aarch64__) && (defined(__ARM_FEATURE_DOTPROD) || defined(__clang__))
#include "q8_gemm_neon_rows.h"
#if !defined(__ARM_FEATURE_DOTPROD)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#define MLRC_DOTPROD_ATTRIBUTE_PUSHED
#endif

#define MR 4

/* Accumulators aRV: row R, vector V (panel V / 2, columns 4 (V % 2) .. + 3); xR: row R's 16 bytes of K, flipped.
 * Named variables, not arrays: the accumulators stay in registers. */
#define ROW_QUAD(R, J)                                                                                                 \
    a##R##0 = vdotq_laneq_s32(a##R##0, w00, x##R, J);                                                                  \
    a##R##1 = vdotq_laneq_s32(a##R##1, w01, x##R, J);                                                                  \
    if (NP == 2) {                                                                                                     \
        a##R##2 = vdotq_laneq_s32(a##R##2, w10, x##R, J);                                                              \
        a##R##3 = vdotq_laneq_s32(a##R##3, w11, x##R, J);                                                              \
    }

/* Quad J of the 16 k in x0..x3, both panels' weights for it loaded once. */
#define QUAD(J)                                                                                                        \
    do {                                                                                                               \
        const int8x16_t w00 = vld1q_s8(b0 + (J)*32), w01 = vld1q_s8(b0 + (J)*32 + 16);                                 \
        const int8x16_t w10 = vld1q_s8(b1 + (J)*32), w11 = vld1q_s8(b1 + (J)*32 + 16);                                 \
        ROW_QUAD(0, J) ROW_QUAD(1, J) ROW_QUAD(2, J) ROW_QUAD(3, J)                                                    \
    } while (0)

/* NP panels (1 or 2) of one tile; inlined with NP constant. */
static MLRC_NEON_INLINE void tile_np(const mlrc_q8_gemm_args *g, int32_t m, int32_t rows, int32_t nb, const int NP,
                                     const mlrc_q8_neon_stage *stages) {
    const int32_t K = g->K, kq = (K + 3) / 4;
    const int32_t steps = K / 16;
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const uint8_t *row[MR];
    mlrc_q8_neon_row_pointers(g->A + (size_t)m * g->lda, g->lda, rows, MR, row);
    const uint8_t *p0 = row[0], *p1 = row[1], *p2 = row[2], *p3 = row[3];
    const int8_t *b0 = g->B + (size_t)nb * kq * 32, *b1 = NP == 2 ? b0 + (size_t)kq * 32 : b0;
    int32x4_t a00 = stages[0].bias0, a01 = stages[0].bias1, a02 = stages[NP - 1].bias0, a03 = stages[NP - 1].bias1;
    int32x4_t a10 = a00, a11 = a01, a12 = a02, a13 = a03, a20 = a00, a21 = a01, a22 = a02, a23 = a03;
    int32x4_t a30 = a00, a31 = a01, a32 = a02, a33 = a03;
    for (int32_t i = 0; i < steps; i++, p0 += 16, p1 += 16, p2 += 16, p3 += 16, b0 += 128, b1 += 128) {
        const int8x16_t x0 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p0), flip));
        const int8x16_t x1 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p1), flip));
        const int8x16_t x2 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p2), flip));
        const int8x16_t x3 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p3), flip));
        QUAD(0);
        QUAD(1);
        QUAD(2);
        QUAD(3);
    }
    const int32_t left = kq - 4 * steps;
    if (left > 0) { /* the last 1-4 quads (K % 16 bytes): the rows' ends copied */
        uint8_t tail[MR][16];
        const int32_t rest = K - 16 * steps;
        const int8x16_t x0 = mlrc_q8_neon_load16(p0, 0, rest, tail[0]), x1 = mlrc_q8_neon_load16(p1, 0, rest, tail[1]);
        const int8x16_t x2 = mlrc_q8_neon_load16(p2, 0, rest, tail[2]), x3 = mlrc_q8_neon_load16(p3, 0, rest, tail[3]);
        QUAD(0);
        if (left > 1) QUAD(1);
        if (left > 2) QUAD(2);
        if (left > 3) QUAD(3);
    }
    const size_t elem = g->out->kind == MLRC_Q8_OUT_F32 ? 4 : 1;
    char *c = (char *)g->C + (size_t)m * g->row_bytes + (size_t)nb * 8 * elem;
#define STORE_ROW(R)                                                                                                   \
    if (rows > R) {                                                                                                    \
        if (NP == 2)                                                                                                   \
            mlrc_q8_neon_stage_store16(stages, a##R##0, a##R##1, a##R##2, a##R##3, g->out, elem,                       \
                                       c + (size_t)R * g->row_bytes);                                                  \
        else                                                                                                           \
            mlrc_q8_neon_stage_store(&stages[0], a##R##0, a##R##1, g->out, c + (size_t)R * g->row_bytes);              \
    }
    STORE_ROW(0)
    STORE_ROW(1)
    STORE_ROW(2)
    STORE_ROW(3)
#undef STORE_ROW
}

static MLRC_NEON_INLINE void tile(const mlrc_q8_gemm_args *g, int32_t m, int32_t rows, int32_t nb, int32_t panels,
                                  const mlrc_q8_neon_stage *stages) {
    if (panels == 2)
        tile_np(g, m, rows, nb, 2, stages);
    else
        tile_np(g, m, rows, nb, 1, stages);
}

void mlrc_q8_gemm_range_4x16c4_dotprod(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                       int thread) {
    (void)thread;
    mlrc_q8_neon_range(g, rb0, rb1, nb0, nb1, MR, 2, tile);
}

#ifdef MLRC_DOTPROD_ATTRIBUTE_PUSHED
#pragma clang attribute pop
#endif
#elif defined(__aarch64__)
#include "mlrc_ukernels.h"

/* A compiler without the dotprod extension: the row is the plain NEON kernel under this name. */
void mlrc_q8_gemm_range_4x16c4_dotprod(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                       int thread) {
    mlrc_q8_gemm_range_2x8c4_neon(g, rb0, rb1, nb0, nb1, thread);
}
#endif
