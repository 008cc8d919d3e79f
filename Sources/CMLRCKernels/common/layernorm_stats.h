/* The statistics of LayerNorm over one pixel's channels, shared by the fp32 LayerNorm and the one fused with
 * int8 quantization: two-pass (mean, then variance around it) as PyTorch. The sums run in 8 lanes (lane j takes
 * channels j, j + 8, ...) combined by a fixed tree, an order every build of this code keeps (no fast-math), so the
 * AVX2 rows, which compile the same code for 256-bit registers, give the reference's bits. */
#ifndef MLRC_LAYERNORM_STATS_H
#define MLRC_LAYERNORM_STATS_H
#include <math.h>
#include <stdint.h>

static inline __attribute__((always_inline)) float mlrc_lanes8_sum(const float s[8]) {
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/* mean and 1 / sqrt(variance + eps) of x[0..channels). */
static inline __attribute__((always_inline)) void mlrc_layernorm_stats(const float *x, int32_t channels, float eps,
                                                                       float *mean_out, float *rstd_out) {
    float s[8] = {0};
    int32_t c = 0;
    for (; c + 8 <= channels; c += 8)
        for (int j = 0; j < 8; j++) s[j] += x[c + j];
    for (int j = 0; c + j < channels; j++) s[j] += x[c + j];
    const float mean = mlrc_lanes8_sum(s) / (float)channels;
    float v[8] = {0};
    for (c = 0; c + 8 <= channels; c += 8)
        for (int j = 0; j < 8; j++) {
            const float d = x[c + j] - mean;
            v[j] += d * d;
        }
    for (int j = 0; c + j < channels; j++) {
        const float d = x[c + j] - mean;
        v[j] += d * d;
    }
    *mean_out = mean;
    *rstd_out = 1.0f / sqrtf(mlrc_lanes8_sum(v) / (float)channels + eps);
}
#endif
