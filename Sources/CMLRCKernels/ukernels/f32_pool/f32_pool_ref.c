/* Pooling in NHWC: windowed max/average, global average, and ECA channel attention. */
#include <float.h>
#include <stdlib.h>
#include "mlrc_ukernels.h"
#include "activation.h"
#include "window.h"

void mlrc_f32_maxpool(const mlrc_conv_geometry *g, const float *input, float *output, int32_t threads) {
    const int32_t C = g->in_c;
    int nt = mlrc_threads_for(threads, g->out_h);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t oy = 0; oy < g->out_h; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            float *out = output + ((size_t)oy * g->out_w + ox) * C;
            for (int32_t c = 0; c < C; c++) out[c] = -FLT_MAX;
            const mlrc_window win = mlrc_window_at(g, oy, ox);
            for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
                for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++) {
                    const float *in = input + ((size_t)(win.iy0 + ky) * g->in_w + win.ix0 + kx) * C;
#pragma omp simd
                    for (int32_t c = 0; c < C; c++) out[c] = in[c] > out[c] ? in[c] : out[c];
                }
            }
        }
}

void mlrc_f32_avgpool(const mlrc_conv_geometry *g, const float *input, float *output, int32_t count_pad,
                      int32_t threads) {
    const int32_t C = g->in_c;
    int nt = mlrc_threads_for(threads, g->out_h);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t oy = 0; oy < g->out_h; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            float *out = output + ((size_t)oy * g->out_w + ox) * C;
            for (int32_t c = 0; c < C; c++) out[c] = 0.0f;
            int32_t n = 0;
            const mlrc_window win = mlrc_window_at(g, oy, ox);
            for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
                for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++) {
                    const float *in = input + ((size_t)(win.iy0 + ky) * g->in_w + win.ix0 + kx) * C;
#pragma omp simd
                    for (int32_t c = 0; c < C; c++) out[c] += in[c];
                    n++;
                }
            }
            const float inv = 1.0f / (float)(count_pad ? g->kernel_h * g->kernel_w : (n > 0 ? n : 1));
            for (int32_t c = 0; c < C; c++) out[c] *= inv;
        }
}

void mlrc_f32_global_avgpool(int32_t pixels, int32_t channels, const float *input, float *output) {
    for (int32_t c = 0; c < channels; c++) output[c] = 0.0f;
    for (int32_t p = 0; p < pixels; p++) {
        const float *x = input + (size_t)p * channels;
#pragma omp simd
        for (int32_t c = 0; c < channels; c++) output[c] += x[c];
    }
    const float inv = 1.0f / (float)(pixels > 0 ? pixels : 1);
    for (int32_t c = 0; c < channels; c++) output[c] *= inv;
}

void mlrc_f32_eca(int32_t pixels, int32_t channels, const float *input, const float *kernel, int32_t k, float *output,
                  float *scratch_2c, int32_t threads) {
    float *mean = scratch_2c, *gate = scratch_2c + channels;
    mlrc_f32_global_avgpool(pixels, channels, input, mean);
    const int32_t half = k / 2;
    for (int32_t c = 0; c < channels; c++) {
        float s = 0.0f;
        for (int32_t t = 0; t < k; t++) {
            const int32_t src = c - half + t;
            if (src >= 0 && src < channels) s += kernel[t] * mean[src];
        }
        gate[c] = mlrc_act_scalar(s, MLRC_ACT_SIGMOID);
    }
    int nt = mlrc_threads_for(threads, pixels / 16 + 1);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++) {
        const float *x = input + (size_t)p * channels;
        float *y = output + (size_t)p * channels;
#pragma omp simd
        for (int32_t c = 0; c < channels; c++) y[c] = x[c] * gate[c];
    }
}
