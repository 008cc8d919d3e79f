/* The int8 output stage (mlrc_q8_output) on 8 int32 accumulators (two int32x4), shared by the NEON int8 kernels.
 * Same float operations as the scalar stage: one multiply, clamp, fcvtns (round half to even). */
#ifndef MLRC_Q8_OUTPUT_NEON_H
#define MLRC_Q8_OUTPUT_NEON_H
#if defined(__aarch64__)
#include <string.h>
#include "arm/f32_vmath_neon.h"
#include "q8_requantize.h"

static inline void mlrc_q8_store8_neon(int32x4_t a0, int32x4_t a1, int32_t n0, int32_t cols, const int32_t *bias,
                                       const float *scale, const mlrc_q8_output *out, void *row) {
    int32_t b[8] = {0};
    float s[8] = {0};
    if (cols == 8) {
        if (bias) memcpy(b, bias + n0, sizeof b);
        memcpy(s, scale + n0, sizeof s);
    } else {
        for (int32_t j = 0; j < cols; j++) b[j] = bias ? bias[n0 + j] : 0, s[j] = scale[n0 + j];
    }
    float32x4_t v0 = vmulq_f32(vcvtq_f32_s32(vaddq_s32(a0, vld1q_s32(b))), vld1q_f32(s));
    float32x4_t v1 = vmulq_f32(vcvtq_f32_s32(vaddq_s32(a1, vld1q_s32(b + 4))), vld1q_f32(s + 4));
    if (out->kind == MLRC_Q8_OUT_F32) {
        float y[8];
        vst1q_f32(y, mlrc_neon_activate(v0, out->act));
        vst1q_f32(y + 4, mlrc_neon_activate(v1, out->act));
        memcpy((float *)row + n0, y, (size_t)cols * sizeof(float));
        return;
    }
    const float32x4_t lo = vdupq_n_f32((float)(out->lo - out->zero)), hi = vdupq_n_f32((float)(out->hi - out->zero));
    v0 = vminq_f32(vmaxq_f32(v0, lo), hi);
    v1 = vminq_f32(vmaxq_f32(v1, lo), hi);
    const int32x4_t z = vdupq_n_s32(out->zero);
    const int16x8_t q16 =
        vcombine_s16(vqmovn_s32(vaddq_s32(vcvtnq_s32_f32(v0), z)), vqmovn_s32(vaddq_s32(vcvtnq_s32_f32(v1), z)));
    uint8_t bytes[8];
    vst1_u8(bytes, vqmovun_s16(q16));
    uint8_t *y = (uint8_t *)row + n0;
    if (out->lut)
        for (int32_t j = 0; j < cols; j++) y[j] = out->lut[bytes[j]];
    else
        memcpy(y, bytes, (size_t)cols);
}
#endif
#endif
