/* Pixels [p0, p1) of LayerNorm over the channels (ConvNeXt's channels-last LayerNorm), as fp32 or quantized to
 * uint8 in the same loop that writes the normalized value: the body every row of the family compiles, the
 * reference for the baseline ISA and the AVX2 row for 256-bit registers (same operations in the same order, so the
 * same bits). */
#ifndef MLRC_LAYERNORM_ROWS_H
#define MLRC_LAYERNORM_ROWS_H
#include "layernorm_stats.h"
#include "q8_requantize.h"

static inline __attribute__((always_inline)) void mlrc_layernorm_rows_f32(int32_t p0, int32_t p1, int32_t channels,
                                                                          const float *input, const float *gamma,
                                                                          const float *beta, float eps, float *output) {
    for (int32_t p = p0; p < p1; p++) {
        const float *x = input + (size_t)p * channels;
        float *y = output + (size_t)p * channels;
        float mean, rstd;
        mlrc_layernorm_stats(x, channels, eps, &mean, &rstd);
        if (gamma && beta)
            for (int32_t c = 0; c < channels; c++) y[c] = (x[c] - mean) * rstd * gamma[c] + beta[c];
        else
            for (int32_t c = 0; c < channels; c++) y[c] = (x[c] - mean) * rstd;
    }
}

static inline __attribute__((always_inline)) void mlrc_layernorm_rows_q8(int32_t p0, int32_t p1, int32_t channels,
                                                                         const float *input, const float *gamma,
                                                                         const float *beta, float eps, float inv_scale,
                                                                         int32_t zero, uint8_t *q) {
    for (int32_t p = p0; p < p1; p++) {
        const float *x = input + (size_t)p * channels;
        uint8_t *y = q + (size_t)p * channels;
        float mean, r;
        mlrc_layernorm_stats(x, channels, eps, &mean, &r);
        if (gamma && beta)
            for (int32_t c = 0; c < channels; c++)
                y[c] = (uint8_t)mlrc_q8_round_clamp(((x[c] - mean) * r * gamma[c] + beta[c]) * inv_scale, zero, 0, 255);
        else
            for (int32_t c = 0; c < channels; c++)
                y[c] = (uint8_t)mlrc_q8_round_clamp((x[c] - mean) * r * inv_scale, zero, 0, 255);
    }
}
#endif
