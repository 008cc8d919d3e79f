/* Element-wise ops: residual add, unfolded BatchNorm, activations, channel concatenation. */
#include <string.h>
#include "mlrc_kernels.h"
#include "activation.h"

#define MLRC_ELEMENTWISE_CHUNK 4096

void mlrc_f32_add(size_t count, const float *a, const float *b, float *out, int32_t act, int32_t threads) {
    int nt = mlrc_threads_for(threads, (int64_t)(count / MLRC_ELEMENTWISE_CHUNK));
    if (act == MLRC_ACT_NONE) {
#pragma omp parallel for simd schedule(static) num_threads(nt)
        for (size_t i = 0; i < count; i++) out[i] = a[i] + b[i];
    } else if (act == MLRC_ACT_RELU) {
#pragma omp parallel for simd schedule(static) num_threads(nt)
        for (size_t i = 0; i < count; i++) {
            float v = a[i] + b[i];
            out[i] = v > 0.0f ? v : 0.0f;
        }
    } else {
#pragma omp parallel for schedule(static) num_threads(nt)
        for (size_t i = 0; i < count; i++) out[i] = mlrc_act_scalar(a[i] + b[i], act);
    }
}

void mlrc_f32_channel_affine(int32_t pixels, int32_t channels, const float *x, const float *scale, const float *shift,
                             float *out, int32_t act, int32_t threads) {
    int nt = mlrc_threads_for(threads, pixels / 16 + 1);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++) {
        const float *xi = x + (size_t)p * channels;
        float *o = out + (size_t)p * channels;
#pragma omp simd
        for (int32_t c = 0; c < channels; c++) o[c] = xi[c] * scale[c] + shift[c];
        if (act != MLRC_ACT_NONE)
            for (int32_t c = 0; c < channels; c++) o[c] = mlrc_act_scalar(o[c], act);
    }
}

void mlrc_f32_activation(size_t count, float *x, int32_t act, int32_t threads) {
    if (act == MLRC_ACT_NONE) return;
    int nt = mlrc_threads_for(threads, (int64_t)(count / MLRC_ELEMENTWISE_CHUNK));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t i = 0; i < count; i++) x[i] = mlrc_act_scalar(x[i], act);
}

void mlrc_f32_copy_channels(int32_t pixels, const float *src, int32_t src_c, float *dst, int32_t dst_c,
                            int32_t offset, int32_t threads) {
    int nt = mlrc_threads_for(threads, pixels / 64 + 1);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++)
        memcpy(dst + (size_t)p * dst_c + offset, src + (size_t)p * src_c, sizeof(float) * (size_t)src_c);
}
