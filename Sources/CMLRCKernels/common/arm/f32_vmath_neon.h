/* Vector exp, erf, GELU and sigmoid for NEON (AArch64), the same approximations as the AVX2 path:
 * exp by ln 2 range reduction and a degree-6 polynomial, erf by Abramowitz & Stegun 7.1.26. */
#ifndef MLRC_F32_VMATH_NEON_H
#define MLRC_F32_VMATH_NEON_H
#if defined(__aarch64__)
#include <arm_neon.h>
#include "activation.h"

static inline float32x4_t mlrc_neon_exp(float32x4_t x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.3f)), vdupq_n_f32(88.3f));
    const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

static inline float32x4_t mlrc_neon_reciprocal(float32x4_t d) {
    float32x4_t r = vrecpeq_f32(d);
    r = vmulq_f32(r, vrecpsq_f32(d, r));
    return vmulq_f32(r, vrecpsq_f32(d, r));
}

static inline float32x4_t mlrc_neon_erf(float32x4_t x) {
    const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
    const float32x4_t a = vabsq_f32(x);
    const float32x4_t t = mlrc_neon_reciprocal(vfmaq_f32(vdupq_n_f32(1.0f), a, vdupq_n_f32(0.3275911f)));
    float32x4_t p = vdupq_n_f32(1.061405429f);
    p = vfmaq_f32(vdupq_n_f32(-1.453152027f), p, t);
    p = vfmaq_f32(vdupq_n_f32(1.421413741f), p, t);
    p = vfmaq_f32(vdupq_n_f32(-0.284496736f), p, t);
    p = vfmaq_f32(vdupq_n_f32(0.254829592f), p, t);
    p = vmulq_f32(p, t);
    const float32x4_t e = mlrc_neon_exp(vnegq_f32(vmulq_f32(a, a)));
    const float32x4_t y = vfmsq_f32(vdupq_n_f32(1.0f), p, e);
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(y), sign));
}

static inline float32x4_t mlrc_neon_hardsigmoid(float32x4_t x) {
    const float32x4_t t = vaddq_f32(x, vdupq_n_f32(3.0f));
    return vmulq_f32(vminq_f32(vmaxq_f32(t, vdupq_n_f32(0.0f)), vdupq_n_f32(6.0f)), vdupq_n_f32(1.0f / 6.0f));
}

static inline float32x4_t mlrc_neon_sigmoid(float32x4_t v) {
    return mlrc_neon_reciprocal(vaddq_f32(vdupq_n_f32(1.0f), mlrc_neon_exp(vnegq_f32(v))));
}

static inline float32x4_t mlrc_neon_activate(float32x4_t v, int32_t act) {
    switch (act) {
    case MLRC_ACT_RELU: return vmaxq_f32(v, vdupq_n_f32(0.0f));
    case MLRC_ACT_RELU6: return vminq_f32(vmaxq_f32(v, vdupq_n_f32(0.0f)), vdupq_n_f32(6.0f));
    case MLRC_ACT_GELU: {
        const float32x4_t half_x = vmulq_f32(v, vdupq_n_f32(0.5f));
        return vfmaq_f32(half_x, half_x, mlrc_neon_erf(vmulq_f32(v, vdupq_n_f32(0.70710678118654752f))));
    }
    case MLRC_ACT_SIGMOID: return mlrc_neon_sigmoid(v);
    case MLRC_ACT_HARDSWISH: return vmulq_f32(v, mlrc_neon_hardsigmoid(v));
    case MLRC_ACT_HARDSIGMOID: return mlrc_neon_hardsigmoid(v);
    case MLRC_ACT_SILU: return vmulq_f32(v, mlrc_neon_sigmoid(v));
    default: return v;
    }
}
#endif
#endif
