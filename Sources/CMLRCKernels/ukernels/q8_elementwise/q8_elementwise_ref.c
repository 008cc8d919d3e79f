/* int8 element-wise kernels: quantize / dequantize, requantizing add, table activations, LayerNorm fused
 * with its quantize, pooling. Reference versions, plus the ones simple enough to need no SIMD variant. */
#include <math.h>
#include <string.h>
#include "mlrc_ukernels.h"
#include "q8_requantize.h"
#include "window.h"

void mlrc_q8_quantize_block_ref(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q) {
    for (size_t i = 0; i < count; i++) q[i] = (uint8_t)mlrc_q8_round_clamp(x[i] * inv_scale, zero, 0, 255);
}

void mlrc_q8_dequantize(size_t count, const uint8_t *q, float scale, int32_t zero, float *x, int32_t threads) {
    int nt = mlrc_threads_for(threads, (int64_t)(count / 4096));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t i = 0; i < count; i++) x[i] = (float)((int32_t)q[i] - zero) * scale;
}

void mlrc_q8_dequantize_channels(int32_t pixels, const uint8_t *src, int32_t src_c, float scale, int32_t zero,
                                 float *dst, int32_t dst_c, int32_t offset, int32_t threads) {
    int nt = mlrc_threads_for(threads, pixels / 64 + 1);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t p = 0; p < pixels; p++) {
        const uint8_t *in = src + (size_t)p * src_c;
        float *out = dst + (size_t)p * dst_c + offset;
#pragma omp simd
        for (int32_t c = 0; c < src_c; c++) out[c] = (float)((int32_t)in[c] - zero) * scale;
    }
}

void mlrc_q8_add_ref(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                     float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out) {
    for (size_t i = i0; i < i1; i++) {
        const float va = (float)((int32_t)a[i] - za) * ma, vb = (float)((int32_t)b[i] - zb) * mb;
        out[i] = (uint8_t)mlrc_q8_round_clamp(va + vb, zero_out, lo, hi);
    }
}

void mlrc_q8_lut(size_t count, const uint8_t *x, const uint8_t *lut, uint8_t *y, int32_t threads) {
    int nt = mlrc_threads_for(threads, (int64_t)(count / 4096));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t i = 0; i < count; i++) y[i] = lut[x[i]];
}

void mlrc_q8_make_lut(int32_t act, float scale_in, int32_t zero_in, float scale_out, int32_t zero_out, uint8_t *lut) {
    for (int32_t q = 0; q < 256; q++) {
        const float v = mlrc_act_scalar((float)(q - zero_in) * scale_in, act);
        lut[q] = (uint8_t)mlrc_q8_round_clamp(v / scale_out, zero_out, 0, 255);
    }
}

/* Max commutes with the (monotonic) quantization, so uint8 codes pool exactly: output code = max of input codes,
 * same scale and zero point. Padding cells are skipped, as in the fp32 max pool. */
void mlrc_q8_maxpool_ref(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t oy0, int32_t oy1) {
    const int32_t C = g->in_c;
    for (int32_t oy = oy0; oy < oy1; oy++)
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            const mlrc_window win = mlrc_window_at(g, oy, ox);
            uint8_t *restrict out = output + ((size_t)oy * g->out_w + ox) * C;
            /* 64 channels at a time in a local block the compiler keeps in vector registers */
            for (int32_t c0 = 0; c0 < C; c0 += 64) {
                const int32_t n = C - c0 < 64 ? C - c0 : 64;
                uint8_t m[64] = {0};
                for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++)
                    for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++) {
                        const uint8_t *restrict in = input + ((size_t)(win.iy0 + ky) * g->in_w + win.ix0 + kx) * C + c0;
                        if (n == 64) {
                            for (int32_t c = 0; c < 64; c++) m[c] = in[c] > m[c] ? in[c] : m[c];
                        } else if (n == 16) {
                            for (int32_t c = 0; c < 16; c++) m[c] = in[c] > m[c] ? in[c] : m[c];
                        } else {
                            for (int32_t c = 0; c < n; c++) m[c] = in[c] > m[c] ? in[c] : m[c];
                        }
                    }
                memcpy(out + c0, m, (size_t)n);
            }
        }
}

void mlrc_q8_avgpool(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, float scale_ratio,
                     int32_t out_zero, uint8_t *output, int32_t threads) {
    const int32_t C = g->in_c;
    const mlrc_q8_output stage = {MLRC_Q8_OUT_U8, out_zero, 0, 255, 0, 0};
    int nt = mlrc_threads_for(threads, g->out_h);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t oy = 0; oy < g->out_h; oy++) {
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            const mlrc_window win = mlrc_window_at(g, oy, ox);
            const int32_t n = (win.ky_hi - win.ky_lo) * (win.kx_hi - win.kx_lo);
            const float s = n > 0 ? scale_ratio / (float)n : 0.0f;
            uint8_t *y = output + ((size_t)oy * g->out_w + ox) * C;
            for (int32_t c = 0; c < C; c++) {
                int32_t sum = 0;
                for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++)
                    for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++)
                        sum += (int32_t)input[((size_t)(win.iy0 + ky) * g->in_w + win.ix0 + kx) * C + c] - in_zero;
                y[c] = mlrc_q8_stage_u8(sum, 0, s, &stage);
            }
        }
    }
}

void mlrc_q8_global_avgpool(int32_t pixels, int32_t channels, const uint8_t *input, int32_t zero, float scale,
                            float *output) {
    for (int32_t c = 0; c < channels; c++) output[c] = 0.0f;
    for (int32_t c0 = 0; c0 < channels; c0 += 256) {
        const int32_t cn = channels - c0 < 256 ? channels - c0 : 256;
        int64_t sum[256] = {0};
        for (int32_t p = 0; p < pixels; p++) {
            const uint8_t *x = input + (size_t)p * channels + c0;
            for (int32_t c = 0; c < cn; c++) sum[c] += x[c];
        }
        for (int32_t c = 0; c < cn; c++)
            output[c0 + c] = ((float)((double)sum[c] / (pixels > 0 ? pixels : 1)) - (float)zero) * scale;
    }
}
