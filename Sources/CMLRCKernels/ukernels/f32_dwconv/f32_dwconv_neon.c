/* Depthwise convolution for NEON (AArch64) in NHWC: per output row and 4-channel block, the taps are
 * loaded once and the row is swept four interior pixels at a time (four independent FMA chains);
 * border pixels take only their in-range taps. Channel tails (C % 4) use the reference row. */
#if defined(__aarch64__)
#include "arm/f32_vmath_neon.h"
#include "mlrc_ukernels.h"
#include "window.h"

#define MAX_TAPS 64

static void row_block(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                      float *output, int32_t act, int32_t oy, int32_t c) {
    const int32_t C = g->in_c, kh = g->kernel_h, kw = g->kernel_w, sw = g->stride_w;
    float32x4_t w[MAX_TAPS];
    for (int32_t t = 0; t < kh * kw; t++) w[t] = vld1q_f32(weights + (size_t)t * C + c);
    const float32x4_t b = bias ? vld1q_f32(bias + c) : vdupq_n_f32(0.0f);
    const mlrc_window row = mlrc_window_at(g, oy, 0); /* the kernel rows inside the input hold for the whole row */
    const int32_t iy0 = row.iy0, ky_lo = row.ky_lo, ky_hi = row.ky_hi;
    const size_t row_stride = (size_t)g->in_w * C, step = (size_t)sw * C;
    const float *in_c = input + c;
    float *out = output + (size_t)oy * g->out_w * C + c;
    int32_t ox = 0;
    while (ox < g->out_w) {
        const int32_t ix0 = ox * sw - g->pad_left;
        if (ox + 4 <= g->out_w && ix0 >= 0 && ix0 + 3 * sw + kw <= g->in_w) {
            float32x4_t a0 = b, a1 = b, a2 = b, a3 = b;
            for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                const float *in = in_c + (size_t)(iy0 + ky) * row_stride + (size_t)ix0 * C;
                for (int32_t kx = 0; kx < kw; kx++) {
                    const float *p = in + (size_t)kx * C;
                    const float32x4_t wt = w[ky * kw + kx];
                    a0 = vfmaq_f32(a0, vld1q_f32(p), wt);
                    a1 = vfmaq_f32(a1, vld1q_f32(p + step), wt);
                    a2 = vfmaq_f32(a2, vld1q_f32(p + 2 * step), wt);
                    a3 = vfmaq_f32(a3, vld1q_f32(p + 3 * step), wt);
                }
            }
            float *o = out + (size_t)ox * C;
            vst1q_f32(o, mlrc_neon_activate(a0, act));
            vst1q_f32(o + C, mlrc_neon_activate(a1, act));
            vst1q_f32(o + 2 * C, mlrc_neon_activate(a2, act));
            vst1q_f32(o + 3 * C, mlrc_neon_activate(a3, act));
            ox += 4;
            continue;
        }
        const mlrc_window win = mlrc_window_at(g, oy, ox);
        const int32_t kx_lo = win.kx_lo, kx_hi = win.kx_hi;
        float32x4_t acc = b;
        for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
            const float *in = in_c + (size_t)(iy0 + ky) * row_stride;
            for (int32_t kx = kx_lo; kx < kx_hi; kx++)
                acc = vfmaq_f32(acc, vld1q_f32(in + (size_t)(ix0 + kx) * C), w[ky * kw + kx]);
        }
        vst1q_f32(out + (size_t)ox * C, mlrc_neon_activate(acc, act));
        ox++;
    }
}

int mlrc_f32_dwconv_neon_suits(const mlrc_conv_geometry *g, uint32_t features) {
    (void)features;
    return g->kernel_h * g->kernel_w <= MAX_TAPS;
}

void mlrc_f32_dwconv_neon(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0, int32_t u1) {
    (void)u0, (void)u1;
    const int32_t c_full = g->in_c / 4 * 4;
    for (int32_t oy = oy0; oy < oy1; oy++) {
        for (int32_t c = 0; c < c_full; c += 4) row_block(g, input, weights, bias, output, act, oy, c);
        if (c_full < g->in_c) mlrc_f32_dwconv_ref_row(g, input, weights, bias, output, act, oy, c_full, g->in_c);
    }
}
#endif
