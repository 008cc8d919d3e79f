/* Reference depthwise convolution (any k_h x k_w, stride, asymmetric padding), NHWC. */
#include "mlrc_kernels.h"
#include "activation.h"

void mlrc_f32_dwconv_ref_row(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                             float *output, int32_t act, int32_t oy, int32_t c0, int32_t c1) {
    const int32_t C = g->in_c;
    for (int32_t ox = 0; ox < g->out_w; ox++) {
        float *out = output + ((size_t)oy * g->out_w + ox) * C;
        for (int32_t c = c0; c < c1; c++) out[c] = bias ? bias[c] : 0.0f;
        for (int32_t ky = 0; ky < g->kernel_h; ky++) {
            const int32_t iy = oy * g->stride_h - g->pad_top + ky;
            if (iy < 0 || iy >= g->in_h) continue;
            for (int32_t kx = 0; kx < g->kernel_w; kx++) {
                const int32_t ix = ox * g->stride_w - g->pad_left + kx;
                if (ix < 0 || ix >= g->in_w) continue;
                const float *in = input + ((size_t)iy * g->in_w + ix) * C;
                const float *w = weights + ((size_t)ky * g->kernel_w + kx) * C;
                for (int32_t c = c0; c < c1; c++) out[c] += in[c] * w[c];
            }
        }
        if (act != MLRC_ACT_NONE)
            for (int32_t c = c0; c < c1; c++) out[c] = mlrc_act_scalar(out[c], act);
    }
}

void mlrc_f32_dwconv_ref(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                         float *output, int32_t act, int32_t threads) {
    int nt = mlrc_threads_for(threads, g->out_h);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t oy = 0; oy < g->out_h; oy++) mlrc_f32_dwconv_ref_row(g, input, weights, bias, output, act, oy, 0, g->in_c);
}
