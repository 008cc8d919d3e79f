/* int8 depthwise convolution for NEON: 16 channels at a time, (x - zero) and the weights widened to int16 and
 * multiplied into four int32x4 accumulators with smlal / smlal2 (exact). Only in-bounds taps are visited;
 * channel tails use the scalar stage. */
#if defined(__aarch64__)
#include "arm/q8_output_neon.h"
#include "mlrc_ukernels.h"
#include "window.h"

static void dw_row(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                   const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t oy) {
    const int32_t C = g->in_c, full = C / 16 * 16;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const int16x8_t z = vdupq_n_s16((int16_t)zero);
    char *row_out = (char *)output + (size_t)oy * g->out_w * C * esize;
    for (int32_t ox = 0; ox < g->out_w; ox++) {
        const mlrc_window win = mlrc_window_at(g, oy, ox);
        char *px = row_out + (size_t)ox * C * esize;
        for (int32_t c = 0; c < full; c += 16) {
            int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
            for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
                /* Row pointers start at the first in-bounds tap: ix0 itself may be negative. */
                const uint8_t *in = input + ((size_t)(win.iy0 + ky) * g->in_w + (win.ix0 + win.kx_lo)) * C + c;
                const int8_t *w = weights + ((size_t)ky * g->kernel_w + win.kx_lo) * C + c;
                for (int32_t kx = 0; kx < win.kx_hi - win.kx_lo; kx++) {
                    const uint8x16_t xb = vld1q_u8(in + (size_t)kx * C);
                    const int8x16_t wb = vld1q_s8(w + (size_t)kx * C);
                    const int16x8_t x0 = vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(xb))), z);
                    const int16x8_t x1 = vsubq_s16(vreinterpretq_s16_u16(vmovl_high_u8(xb)), z);
                    const int16x8_t w0 = vmovl_s8(vget_low_s8(wb)), w1 = vmovl_high_s8(wb);
                    a0 = vmlal_s16(a0, vget_low_s16(x0), vget_low_s16(w0));
                    a1 = vmlal_high_s16(a1, x0, w0);
                    a2 = vmlal_s16(a2, vget_low_s16(x1), vget_low_s16(w1));
                    a3 = vmlal_high_s16(a3, x1, w1);
                }
            }
            mlrc_q8_store8_neon(a0, a1, c, 8, bias, scale, out, px);
            mlrc_q8_store8_neon(a2, a3, c + 8, 8, bias, scale, out, px);
        }
        if (full < C) /* channel tail: the reference */
            mlrc_q8_dwconv_ref_pixel(g, input, zero, weights, bias, scale, out, px, oy, ox, full, C);
    }
}

void mlrc_q8_dwconv_8c_neon(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                            const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                            int32_t oy0, int32_t oy1, int32_t u0, int32_t u1, void *scratch) {
    (void)scratch;
    (void)u0, (void)u1;
    for (int32_t oy = oy0; oy < oy1; oy++) dw_row(g, input, in_zero, weights, bias, scale, out, output, oy);
}
#endif
