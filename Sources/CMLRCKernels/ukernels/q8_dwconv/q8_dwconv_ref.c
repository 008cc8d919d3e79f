/* Reference int8 depthwise convolution (any k_h x k_w, stride, asymmetric padding), NHWC. */
#include "mlrc_ukernels.h"
#include "q8_requantize.h"
#include "window.h"

void mlrc_q8_dwconv_ref_pixel(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                              const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *pixel_out,
                              int32_t oy, int32_t ox, int32_t c0, int32_t c1) {
    const int32_t C = g->in_c;
    const mlrc_window win = mlrc_window_at(g, oy, ox);
    for (int32_t cb = c0; cb < c1; cb += 64) {
        const int32_t cn = c1 - cb < 64 ? c1 - cb : 64;
        int32_t acc[64] = {0};
        for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
            for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++) {
                const uint8_t *in = input + ((size_t)(win.iy0 + ky) * g->in_w + win.ix0 + kx) * C + cb;
                const int8_t *w = weights + ((size_t)ky * g->kernel_w + kx) * C + cb;
                for (int32_t c = 0; c < cn; c++) acc[c] += ((int32_t)in[c] - in_zero) * w[c];
            }
        }
        mlrc_q8_store_row(acc, cb, cn, bias, scale, out, pixel_out);
    }
}

void mlrc_q8_dwconv_ref(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                        const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t oy0,
                        int32_t oy1, int32_t u0, int32_t u1, void *scratch) {
    (void)scratch;
    (void)u0, (void)u1;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    for (int32_t oy = oy0; oy < oy1; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++)
            mlrc_q8_dwconv_ref_pixel(g, input, in_zero, weights, bias, scale, out,
                                     (char *)output + ((size_t)oy * g->out_w + ox) * g->in_c * esize, oy, ox, 0,
                                     g->in_c);
}
