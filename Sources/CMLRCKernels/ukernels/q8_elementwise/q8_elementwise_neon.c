/* NEON quantize (fp32 -> uint8) and requantizing add: the reference's float operations in the same order (no
 * fused multiply-add), rounding by fcvtns (half to even), so results equal the reference bit for bit. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include "q8_requantize.h"
#include "mlrc_ukernels.h"

static inline int32x4_t round_clamp(float32x4_t v, float32x4_t vlo, float32x4_t vhi, int32x4_t zero) {
    return vaddq_s32(vcvtnq_s32_f32(vminq_f32(vmaxq_f32(v, vlo), vhi)), zero);
}

/* 16 int32 (already within 0..255) to 16 bytes. */
static inline uint8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    const int16x8_t lo = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)), hi = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
    return vcombine_u8(vqmovun_s16(lo), vqmovun_s16(hi));
}

void mlrc_q8_quantize_block_neon(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q) {
    const float32x4_t vlo = vdupq_n_f32((float)-zero), vhi = vdupq_n_f32((float)(255 - zero));
    const int32x4_t z = vdupq_n_s32(zero);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        int32x4_t r[4];
        for (int j = 0; j < 4; j++) r[j] = round_clamp(vmulq_n_f32(vld1q_f32(x + i + 4 * j), inv_scale), vlo, vhi, z);
        vst1q_u8(q + i, narrow16(r[0], r[1], r[2], r[3]));
    }
    for (; i < count; i++) q[i] = (uint8_t)mlrc_q8_round_clamp(x[i] * inv_scale, zero, 0, 255);
}

/* (x - zero) of 4 bytes as floats. */
static inline float32x4_t widen4(uint16x4_t x, int32x4_t zero) {
    return vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(vmovl_u16(x)), zero));
}

static void add_range(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                      float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out) {
    const int32x4_t zav = vdupq_n_s32(za), zbv = vdupq_n_s32(zb), zo = vdupq_n_s32(zero_out);
    const float32x4_t vlo = vdupq_n_f32((float)(lo - zero_out)), vhi = vdupq_n_f32((float)(hi - zero_out));
    size_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        const uint8x16_t xa = vld1q_u8(a + i), xb = vld1q_u8(b + i);
        const uint16x8_t al = vmovl_u8(vget_low_u8(xa)), ah = vmovl_high_u8(xa);
        const uint16x8_t bl = vmovl_u8(vget_low_u8(xb)), bh = vmovl_high_u8(xb);
        const uint16x4_t pa[4] = {vget_low_u16(al), vget_high_u16(al), vget_low_u16(ah), vget_high_u16(ah)};
        const uint16x4_t pb[4] = {vget_low_u16(bl), vget_high_u16(bl), vget_low_u16(bh), vget_high_u16(bh)};
        int32x4_t r[4];
        for (int j = 0; j < 4; j++) {
            /* mul, mul, add: never fused, as in the reference */
            const float32x4_t va = vmulq_n_f32(widen4(pa[j], zav), ma), vb = vmulq_n_f32(widen4(pb[j], zbv), mb);
            r[j] = round_clamp(vaddq_f32(va, vb), vlo, vhi, zo);
        }
        vst1q_u8(out + i, narrow16(r[0], r[1], r[2], r[3]));
    }
    for (; i < i1; i++) {
        const float va = (float)((int32_t)a[i] - za) * ma, vb = (float)((int32_t)b[i] - zb) * mb;
        out[i] = (uint8_t)mlrc_q8_round_clamp(va + vb, zero_out, lo, hi);
    }
}

void mlrc_q8_add_neon(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                      float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out) {
    add_range(i0, i1, a, za, ma, b, zb, mb, zero_out, lo, hi, out);
}
#endif
