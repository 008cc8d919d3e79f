/* int8 depthwise convolution for AVX2: 16 channels at a time, (x - zero) and the weights widened to int16,
 * their products exact in int16 (|x - zero| <= 255, |w| <= 128, so |p| <= 32640) and widened into two int32
 * accumulators. Only in-bounds taps are visited (padding is real 0). Channel tails use the scalar stage. */
#if defined(__x86_64__)
#include "q8_output_avx2.h"
#include "window.h"

MLRC_AVX2 static void dw_row(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                             const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                             int32_t oy) {
    const int32_t C = g->in_c, full = C / 16 * 16;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const __m256i z = _mm256_set1_epi16((int16_t)zero);
    for (int32_t ox = 0; ox < g->out_w; ox++) {
        char *row = (char *)output + ((size_t)oy * g->out_w + ox) * C * esize;
        const mlrc_window win = mlrc_window_at(g, oy, ox);
        for (int32_t c = 0; c < full; c += 16) {
            __m256i a0 = _mm256_setzero_si256(), a1 = a0;
            for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
                const uint8_t *in = input + ((size_t)(win.iy0 + ky) * g->in_w + win.ix0) * C + c;
                const int8_t *w = weights + (size_t)ky * g->kernel_w * C + c;
                for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++) {
                    const __m256i x = _mm256_sub_epi16(
                        _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(in + (size_t)kx * C))), z);
                    const __m256i k = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + (size_t)kx * C)));
                    const __m256i p = _mm256_mullo_epi16(x, k);
                    a0 = _mm256_add_epi32(a0, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(p)));
                    a1 = _mm256_add_epi32(a1, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(p, 1)));
                }
            }
            mlrc_q8_store8_avx2(a0, c, 8, bias, scale, out, row);
            mlrc_q8_store8_avx2(a1, c + 8, 8, bias, scale, out, row);
        }
        if (full < C) {
            int32_t acc[16] = {0};
            for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++)
                for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++) {
                    const uint8_t *in = input + ((size_t)(win.iy0 + ky) * g->in_w + win.ix0 + kx) * C;
                    const int8_t *w = weights + ((size_t)ky * g->kernel_w + kx) * C;
                    for (int32_t ch = full; ch < C; ch++) acc[ch - full] += ((int32_t)in[ch] - zero) * w[ch];
                }
            mlrc_q8_store_row(acc, full, C - full, bias, scale, out, row);
        }
    }
}

void mlrc_q8_dwconv_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                         const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                         int32_t threads) {
    int nt = mlrc_threads_for(threads, g->out_h);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t oy = 0; oy < g->out_h; oy++) dw_row(g, input, in_zero, weights, bias, scale, out, output, oy);
}
#endif
