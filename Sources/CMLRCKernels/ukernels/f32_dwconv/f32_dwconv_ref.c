/* Reference depthwise convolution (any k_h x k_w, stride, asymmetric padding), NHWC. */
#include "mlrc_ukernels.h"
#include "activation.h"
#include "window.h"

void mlrc_f32_dwconv_ref_row(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                             float *output, int32_t act, int32_t oy, int32_t c0, int32_t c1) {
    const int32_t C = g->in_c;
    for (int32_t ox = 0; ox < g->out_w; ox++) {
        float *out = output + ((size_t)oy * g->out_w + ox) * C;
        for (int32_t c = c0; c < c1; c++) out[c] = bias ? bias[c] : 0.0f;
        const mlrc_window win = mlrc_window_at(g, oy, ox);
        for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
            for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++) {
                const float *in = input + ((size_t)(win.iy0 + ky) * g->in_w + win.ix0 + kx) * C;
                const float *w = weights + ((size_t)ky * g->kernel_w + kx) * C;
                for (int32_t c = c0; c < c1; c++) out[c] += in[c] * w[c];
            }
        }
        if (act != MLRC_ACT_NONE)
            for (int32_t c = c0; c < c1; c++) out[c] = mlrc_act_scalar(out[c], act);
    }
}

void mlrc_f32_dwconv_ref(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                         float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0, int32_t u1) {
    (void)u0, (void)u1;
    for (int32_t oy = oy0; oy < oy1; oy++)
        mlrc_f32_dwconv_ref_row(g, input, weights, bias, output, act, oy, 0, g->in_c);
}
