/* LayerNorm over the channels of each pixel (ConvNeXt's channels-last LayerNorm). Two-pass variance, as PyTorch. */
#include <math.h>
#include "mlrc_ukernels.h"
#include "activation.h"
#include "layernorm_stats.h"

void mlrc_f32_layernorm(int32_t pixels, int32_t channels, const float *input, const float *gamma, const float *beta,
                        float eps, float *output, int32_t threads) {
    int nt = mlrc_threads_for(threads, pixels / 16 + 1);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++) {
        const float *x = input + (size_t)p * channels;
        float *y = output + (size_t)p * channels;
        float mean, rstd;
        mlrc_layernorm_stats(x, channels, eps, &mean, &rstd);
        if (gamma && beta) {
#pragma omp simd
            for (int32_t c = 0; c < channels; c++) y[c] = (x[c] - mean) * rstd * gamma[c] + beta[c];
        } else {
#pragma omp simd
            for (int32_t c = 0; c < channels; c++) y[c] = (x[c] - mean) * rstd;
        }
    }
}
