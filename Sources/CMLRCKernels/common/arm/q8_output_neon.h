/* The int8 output stage (mlrc_q8_output) for the NEON int8 kernels, on int32 accumulators that already hold the
 * bias: the scalar stage's float multiply (one rounding), fcvtns (round half to even), the zero point added and the
 * clamp to [lo, hi] on integers. The scalar stage clamps before rounding; with integer bounds both orders give the
 * same value, and the saturating narrowings keep out-of-range values at the bounds. */
#ifndef MLRC_Q8_OUTPUT_NEON_H
#define MLRC_Q8_OUTPUT_NEON_H
#if defined(__aarch64__)
#include <arm_neon.h>
#include "arm/f32_vmath_neon.h"
#include "q8_requantize.h"

/* The stage's constants, loaded once per call. */
typedef struct mlrc_q8_neon_clamp {
    int16x8_t zero;
    uint8x16_t lo, hi;
} mlrc_q8_neon_clamp;

static inline mlrc_q8_neon_clamp mlrc_q8_neon_clamp_of(const mlrc_q8_output *out) {
    const mlrc_q8_neon_clamp k = {vdupq_n_s16((int16_t)out->zero), vdupq_n_u8((uint8_t)out->lo),
                                  vdupq_n_u8((uint8_t)out->hi)};
    return k;
}

static inline int16x8_t mlrc_q8_neon_round8(int32x4_t a0, int32x4_t a1, float32x4_t s0, float32x4_t s1,
                                            const mlrc_q8_neon_clamp *k) {
    const int32x4_t i0 = vcvtnq_s32_f32(vmulq_f32(vcvtq_f32_s32(a0), s0));
    const int32x4_t i1 = vcvtnq_s32_f32(vmulq_f32(vcvtq_f32_s32(a1), s1));
    return vqaddq_s16(vqmovn_high_s32(vqmovn_s32(i0), i1), k->zero);
}

/* 8 uint8 values from 8 accumulators and their scales (no table). */
static inline uint8x8_t mlrc_q8_neon_requant8(int32x4_t a0, int32x4_t a1, float32x4_t s0, float32x4_t s1,
                                              const mlrc_q8_neon_clamp *k) {
    const uint8x8_t q = vqmovun_s16(mlrc_q8_neon_round8(a0, a1, s0, s1, k));
    return vmin_u8(vmax_u8(q, vget_low_u8(k->lo)), vget_low_u8(k->hi));
}

/* 16 uint8 values from 16 accumulators (no table). */
static inline uint8x16_t mlrc_q8_neon_requant16(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3, float32x4_t s0,
                                                float32x4_t s1, float32x4_t s2, float32x4_t s3,
                                                const mlrc_q8_neon_clamp *k) {
    const uint8x16_t q =
        vqmovun_high_s16(vqmovun_s16(mlrc_q8_neon_round8(a0, a1, s0, s1, k)), mlrc_q8_neon_round8(a2, a3, s2, s3, k));
    return vminq_u8(vmaxq_u8(q, k->lo), k->hi);
}

/* The stage's other forms on 8 accumulators, out of line (their code would otherwise take a kernel's registers):
 * float output with its activation, or uint8 through the table; `cols` of the 8 values are stored. */
static __attribute__((noinline, unused)) void mlrc_q8_neon_store8_slow(int32x4_t a0, int32x4_t a1, float32x4_t s0,
                                                                       float32x4_t s1, const mlrc_q8_output *out,
                                                                       int32_t cols, void *dst) {
    const float32x4_t v0 = vmulq_f32(vcvtq_f32_s32(a0), s0), v1 = vmulq_f32(vcvtq_f32_s32(a1), s1);
    if (out->kind == MLRC_Q8_OUT_F32) {
        float y[8];
        vst1q_f32(y, mlrc_neon_activate(v0, out->act));
        vst1q_f32(y + 4, mlrc_neon_activate(v1, out->act));
        for (int32_t j = 0; j < cols; j++) ((float *)dst)[j] = y[j];
        return;
    }
    const mlrc_q8_neon_clamp k = mlrc_q8_neon_clamp_of(out);
    uint8_t bytes[8];
    vst1_u8(bytes, mlrc_q8_neon_requant8(a0, a1, s0, s1, &k));
    for (int32_t j = 0; j < cols; j++) ((uint8_t *)dst)[j] = out->lut ? out->lut[bytes[j]] : bytes[j];
}

/* One 8-column store: the fast uint8 path for full vectors without a table, the rest out of line. */
static inline void mlrc_q8_neon_store8(int32x4_t a0, int32x4_t a1, float32x4_t s0, float32x4_t s1,
                                       const mlrc_q8_neon_clamp *k, const mlrc_q8_output *out, int32_t cols,
                                       void *dst) {
    if (out->kind == MLRC_Q8_OUT_U8 && !out->lut && cols == 8)
        vst1_u8((uint8_t *)dst, mlrc_q8_neon_requant8(a0, a1, s0, s1, k));
    else
        mlrc_q8_neon_store8_slow(a0, a1, s0, s1, out, cols, dst);
}
#endif
#endif
