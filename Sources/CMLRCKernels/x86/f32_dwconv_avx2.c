/* Depthwise convolution for AVX2/FMA in NHWC: 8 channels per register, one output pixel at a time,
 * every tap an FMA; channel tails through masked loads. Rows are split across threads. */
#if defined(__x86_64__)
#include "avx2_common.h"

/* One output row. Kept out of the OpenMP region: outlined parallel bodies do not inherit target("avx2"). */
MLRC_AVX2 static void dwconv_row(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                 const float *bias, float *output, int32_t act, int32_t oy) {
    const int32_t C = g->in_c;
    {
        const int32_t iy0 = oy * g->stride_h - g->pad_top;
        const int32_t ky_lo = iy0 < 0 ? -iy0 : 0;
        const int32_t ky_hi = g->in_h - iy0 < g->kernel_h ? g->in_h - iy0 : g->kernel_h;
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            const int32_t ix0 = ox * g->stride_w - g->pad_left;
            const int32_t kx_lo = ix0 < 0 ? -ix0 : 0;
            const int32_t kx_hi = g->in_w - ix0 < g->kernel_w ? g->in_w - ix0 : g->kernel_w;
            float *out = output + ((size_t)oy * g->out_w + ox) * C;
            for (int32_t c = 0; c < C; c += 8) {
                const int32_t lanes = C - c < 8 ? C - c : 8;
                const __m256i mask = mlrc_avx2_tail_mask(lanes);
                __m256 acc = bias ? _mm256_maskload_ps(bias + c, mask) : _mm256_setzero_ps();
                for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                    const float *in_row = input + ((size_t)(iy0 + ky) * g->in_w) * C + c;
                    const float *w_row = weights + (size_t)ky * g->kernel_w * C + c;
                    for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
                        const __m256 x = _mm256_maskload_ps(in_row + (size_t)(ix0 + kx) * C, mask);
                        const __m256 w = _mm256_maskload_ps(w_row + (size_t)kx * C, mask);
                        acc = _mm256_fmadd_ps(x, w, acc);
                    }
                }
                _mm256_maskstore_ps(out + c, mask, mlrc_avx2_clamp(acc, act));
            }
            if (!mlrc_act_is_clamp(act))
                for (int32_t c = 0; c < C; c++) out[c] = mlrc_act_scalar(out[c], act);
        }
    }
}

void mlrc_f32_dwconv_avx2(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, int32_t act, int32_t threads) {
    int nt = mlrc_threads_for(threads, g->out_h);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t oy = 0; oy < g->out_h; oy++) dwconv_row(g, input, weights, bias, output, act, oy);
}
#endif
