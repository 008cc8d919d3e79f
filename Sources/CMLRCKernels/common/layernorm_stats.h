/* The statistics of LayerNorm over one pixel's channels, shared by the fp32 LayerNorm and the one fused with
 * int8 quantization: two-pass (mean, then variance around it) as PyTorch, vectorized by the compiler. */
#ifndef MLRC_LAYERNORM_STATS_H
#define MLRC_LAYERNORM_STATS_H
#include <math.h>
#include <stdint.h>

/* mean and 1 / sqrt(variance + eps) of x[0..channels). */
static inline void mlrc_layernorm_stats(const float *x, int32_t channels, float eps, float *mean_out, float *rstd_out) {
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int32_t c = 0; c < channels; c++) sum += x[c];
    const float mean = sum / (float)channels;
    float var = 0.0f;
#pragma omp simd reduction(+ : var)
    for (int32_t c = 0; c < channels; c++) var += (x[c] - mean) * (x[c] - mean);
    *mean_out = mean;
    *rstd_out = 1.0f / sqrtf(var / (float)channels + eps);
}
#endif
