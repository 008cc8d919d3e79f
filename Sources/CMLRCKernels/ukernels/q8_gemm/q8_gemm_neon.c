/* int8 GEMM for NEON without dotprod (ARMv8.0, e.g. the Raspberry Pi 4's Cortex-A72), at its int8 rate: the A72
 * has one integer-multiply pipe, and smull / smlal on 8-bit lanes do 8 products per instruction where 16-bit
 * lanes do 4. Two products are summed in int16 (smull, then smlal over the next quad of K: |(a - 128) w| <= 128 x 127,
 * twice is below 32768), and sadalp adds the int16 pairs into int32 on the other vector pipe.
 * The packed weights are read in place: a quad vector holds 4 columns x 4 consecutive k, so the row's matching quad
 * is broadcast to all four 32-bit lanes (dup from the row register, also off the multiply pipe); each accumulator
 * then holds two partial sums per column, added pairwise at the end. Tile: 2 rows x 8 columns, 8 accumulators
 * (more rows would spill the 32 vector registers: each row also needs its four int16 partial sums in flight).
 * Rows come from A itself, flipped to int8 in the register (q8_gemm_neon_rows.h); input_zero 128. */
#if defined(__aarch64__)
#include "q8_gemm_neon_rows.h"

#define MR 2

/* sadalp, as an instruction: compilers otherwise split it into saddlp + add where the accumulator passes a branch,
 * one more vector operation for every two multiplies. */
static inline __attribute__((always_inline)) int32x4_t padal(int32x4_t acc, int16x8_t t) {
    __asm__("sadalp %0.4s, %1.8h" : "+w"(acc) : "w"(t));
    return acc;
}

/* Accumulators aRH: row R, columns 2H and 2H + 1 (two lanes each); xR: row R's 16 bytes of K, flipped. Named
 * variables, not arrays: they stay in registers. wl0, wh0 / wl1, wh1: quads J and J + 1 of the panel (lo: columns
 * 0-3, hi: 4-7); the row's quads J and J + 1 come from lanes of xR. */
#define ROW_PAIR(R, J)                                                                                                 \
    do {                                                                                                               \
        const int8x16_t d0 = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x##R), (J)));                   \
        const int8x16_t d1 = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x##R), (J) + 1));               \
        a##R##0 =                                                                                                      \
            padal(a##R##0, vmlal_s8(vmull_s8(vget_low_s8(wl0), vget_low_s8(d0)), vget_low_s8(wl1), vget_low_s8(d1)));  \
        a##R##1 = padal(a##R##1, vmlal_high_s8(vmull_high_s8(wl0, d0), wl1, d1));                                      \
        a##R##2 =                                                                                                      \
            padal(a##R##2, vmlal_s8(vmull_s8(vget_low_s8(wh0), vget_low_s8(d0)), vget_low_s8(wh1), vget_low_s8(d1)));  \
        a##R##3 = padal(a##R##3, vmlal_high_s8(vmull_high_s8(wh0, d0), wh1, d1));                                      \
    } while (0)

#define PAIR(J)                                                                                                        \
    do {                                                                                                               \
        const int8x16_t wl0 = vld1q_s8(w + (J)*32), wh0 = vld1q_s8(w + (J)*32 + 16);                                   \
        const int8x16_t wl1 = vld1q_s8(w + (J)*32 + 32), wh1 = vld1q_s8(w + (J)*32 + 48);                              \
        ROW_PAIR(0, J);                                                                                                \
        ROW_PAIR(1, J);                                                                                                \
    } while (0)

/* The last quad of an odd count: one product per int16 lane. */
#define ROW_SINGLE(R, J)                                                                                               \
    do {                                                                                                               \
        const int8x16_t d0 = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x##R), (J)));                   \
        a##R##0 = padal(a##R##0, vmull_s8(vget_low_s8(wl0), vget_low_s8(d0)));                                         \
        a##R##1 = padal(a##R##1, vmull_high_s8(wl0, d0));                                                              \
        a##R##2 = padal(a##R##2, vmull_s8(vget_low_s8(wh0), vget_low_s8(d0)));                                         \
        a##R##3 = padal(a##R##3, vmull_high_s8(wh0, d0));                                                              \
    } while (0)

#define SINGLE(J)                                                                                                      \
    do {                                                                                                               \
        const int8x16_t wl0 = vld1q_s8(w + (J)*32), wh0 = vld1q_s8(w + (J)*32 + 16);                                   \
        ROW_SINGLE(0, J);                                                                                              \
        ROW_SINGLE(1, J);                                                                                              \
    } while (0)

static MLRC_NEON_INLINE void tile(const mlrc_q8_gemm_args *g, int32_t m, int32_t rows, int32_t nb, int32_t panels,
                                  const mlrc_q8_neon_stage *stages) {
    const int32_t K = g->K, kq = (K + 3) / 4, steps = K / 16;
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const uint8_t *r0 = g->A + (size_t)m * g->lda, *r1 = rows > 1 ? r0 + g->lda : r0;
    const size_t elem = g->out->kind == MLRC_Q8_OUT_F32 ? 4 : 1;
    for (int32_t p = 0; p < panels; p++) {
        const int8_t *w = g->B + (size_t)(nb + p) * kq * 32;
        const mlrc_q8_neon_stage *s = &stages[p];
        int32x4_t a00 = vdupq_n_s32(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        const uint8_t *p0 = r0, *p1 = r1;
        for (int32_t i = 0; i < steps; i++, p0 += 16, p1 += 16, w += 128) { /* 16 k: quads 0-3 of the step */
            const int8x16_t x0 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p0), flip));
            const int8x16_t x1 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p1), flip));
            PAIR(0);
            PAIR(2);
        }
        const int32_t left = kq - 4 * steps;
        if (left > 0) { /* the last 1-4 quads (K % 16 bytes): the rows' ends copied */
            uint8_t t0[16], t1[16];
            const int8x16_t x0 = mlrc_q8_neon_load16(p0, 0, K - 16 * steps, t0);
            const int8x16_t x1 = mlrc_q8_neon_load16(p1, 0, K - 16 * steps, t1);
            if (left >= 2) PAIR(0);
            if (left == 1) SINGLE(0);
            if (left == 3) SINGLE(2);
            if (left == 4) PAIR(2);
        }
        char *c = (char *)g->C + (size_t)m * g->row_bytes + (size_t)(nb + p) * 8 * elem;
        mlrc_q8_neon_stage_store(s, vaddq_s32(vpaddq_s32(a00, a01), s->bias0),
                                 vaddq_s32(vpaddq_s32(a02, a03), s->bias1), g->out, c);
        if (rows > 1)
            mlrc_q8_neon_stage_store(s, vaddq_s32(vpaddq_s32(a10, a11), s->bias0),
                                     vaddq_s32(vpaddq_s32(a12, a13), s->bias1), g->out, c + g->row_bytes);
    }
}

void mlrc_q8_gemm_range_2x8c4_neon(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                   int thread) {
    (void)thread;
    mlrc_q8_neon_range(g, rb0, rb1, nb0, nb1, MR, 1, tile);
}

#endif
