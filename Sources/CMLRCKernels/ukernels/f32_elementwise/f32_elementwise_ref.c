/* Element-wise ops: residual add, unfolded BatchNorm, activations, channel concatenation. */
#include <string.h>
#include "mlrc_ukernels.h"
#include "activation.h"

#define MLRC_ELEMENTWISE_CHUNK 4096

/* act(a + b) over one block on the calling thread: mlrc_f32_add and the fused add + quantize both run it. */
void mlrc_f32_add_block(size_t count, const float *a, const float *b, float *out, int32_t act) {
    if (act == MLRC_ACT_NONE) {
#pragma omp simd
        for (size_t i = 0; i < count; i++) out[i] = a[i] + b[i];
    } else if (act == MLRC_ACT_RELU) {
#pragma omp simd
        for (size_t i = 0; i < count; i++) {
            float v = a[i] + b[i];
            out[i] = v > 0.0f ? v : 0.0f;
        }
    } else {
        for (size_t i = 0; i < count; i++) out[i] = mlrc_act_scalar(a[i] + b[i], act);
    }
}

void mlrc_f32_add(size_t count, const float *a, const float *b, float *out, int32_t act, int32_t threads) {
    const size_t blocks = (count + MLRC_ELEMENTWISE_CHUNK - 1) / MLRC_ELEMENTWISE_CHUNK;
    int nt = mlrc_threads_for(threads, (int64_t)(count / MLRC_ELEMENTWISE_CHUNK));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t blk = 0; blk < blocks; blk++) {
        const size_t i0 = blk * MLRC_ELEMENTWISE_CHUNK;
        const size_t n = count - i0 < MLRC_ELEMENTWISE_CHUNK ? count - i0 : MLRC_ELEMENTWISE_CHUNK;
        mlrc_f32_add_block(n, a + i0, b + i0, out + i0, act);
    }
}

/* Blocks of 256 pixels: each block reads a short run of every plane and writes one contiguous run. */
void mlrc_f32_nchw_to_nhwc(int32_t channels, size_t pixels, const float *src, float *dst, int32_t threads) {
    enum { BLOCK = 256 };
    const size_t blocks = (pixels + BLOCK - 1) / BLOCK, C = channels > 0 ? (size_t)channels : 0;
    int nt = mlrc_threads_for(threads, (int64_t)(pixels * C / MLRC_ELEMENTWISE_CHUNK));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t b = 0; b < blocks; b++) {
        const size_t p0 = b * BLOCK, n = pixels - p0 < BLOCK ? pixels - p0 : BLOCK;
        float *d = dst + p0 * C;
        if (C == 3) { /* RGB: the common case, a loop the compiler turns into shuffles */
            const float *r = src + p0, *g = src + pixels + p0, *bl = src + 2 * pixels + p0;
            for (size_t i = 0; i < n; i++) {
                d[3 * i] = r[i];
                d[3 * i + 1] = g[i];
                d[3 * i + 2] = bl[i];
            }
            continue;
        }
        for (size_t c = 0; c < C; c++) {
            const float *s = src + c * pixels + p0;
            for (size_t i = 0; i < n; i++) d[i * C + c] = s[i];
        }
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

void mlrc_f32_copy_channels(int32_t pixels, const float *src, int32_t src_c, float *dst, int32_t dst_c, int32_t offset,
                            int32_t threads) {
    int nt = mlrc_threads_for(threads, pixels / 64 + 1);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++)
        memcpy(dst + (size_t)p * dst_c + offset, src + (size_t)p * src_c, sizeof(float) * (size_t)src_c);
}

void mlrc_f32_slice_channels(int32_t pixels, const float *src, int32_t src_c, int32_t offset, int32_t count,
                             float *dst, int32_t threads) {
    int nt = mlrc_threads_for(threads, (int64_t)pixels * count / MLRC_ELEMENTWISE_CHUNK);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++)
        memcpy(dst + (size_t)p * count, src + (size_t)p * src_c + offset, (size_t)count * sizeof(float));
}

void mlrc_f32_channel_shuffle(int32_t pixels, int32_t channels, int32_t groups, const float *x, float *out,
                              int32_t threads) {
    const int32_t per = channels / groups;
    int nt = mlrc_threads_for(threads, (int64_t)pixels * channels / MLRC_ELEMENTWISE_CHUNK);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++) {
        const float *xi = x + (size_t)p * channels;
        float *o = out + (size_t)p * channels;
        if (groups == 2) { /* ShuffleNetV2: interleave the two halves */
            const float *a = xi, *b = xi + per;
#pragma omp simd
            for (int32_t i = 0; i < per; i++) {
                o[2 * i] = a[i];
                o[2 * i + 1] = b[i];
            }
            continue;
        }
        for (int32_t g = 0; g < groups; g++)
            for (int32_t i = 0; i < per; i++) o[i * groups + g] = xi[g * per + i];
    }
}

void mlrc_f32_channel_scale(int32_t pixels, int32_t channels, const float *x, const float *gate, float *out,
                            int32_t threads) {
    int nt = mlrc_threads_for(threads, (int64_t)pixels * channels / MLRC_ELEMENTWISE_CHUNK);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++) {
        const float *xi = x + (size_t)p * channels;
        float *o = out + (size_t)p * channels;
#pragma omp simd
        for (int32_t c = 0; c < channels; c++) o[c] = xi[c] * gate[c];
    }
}
