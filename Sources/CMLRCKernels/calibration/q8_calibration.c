/* The per-element loops of int8 calibration and fidelity measurement (run by quantize, not at inference):
 * in C so they run at full speed even in a debug build of the Swift tools (`swift run quantize`). */
#include <math.h>
#include "mlrc_calibration.h"
#include "mlrc_kernels.h"

void mlrc_calib_range(const float *x, size_t pixels, int32_t channels, float *min_io, float *max_io,
                      double *channel_sums) {
    float lo = *min_io, hi = *max_io;
    for (size_t p = 0; p < pixels; p++) {
        const float *row = x + p * (size_t)channels;
        for (int32_t c = 0; c < channels; c++) {
            const float v = row[c];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            channel_sums[c] += v;
        }
    }
    *min_io = lo;
    *max_io = hi;
}

void mlrc_calib_histogram(const float *x, size_t count, float lo, float inv_width, int32_t bins, double *histogram) {
    for (size_t i = 0; i < count; i++) {
        const float f = floorf((x[i] - lo) * inv_width);
        const int32_t b = f >= 0.0f ? (f < (float)bins ? (int32_t)f : bins - 1) : 0; /* NaN lands in bin 0 */
        histogram[b] += 1.0;
    }
}

void mlrc_noise_f32(const float *ref, const float *x, size_t count, double *signal, double *noise) {
    double s = 0.0, e = 0.0;
    for (size_t i = 0; i < count; i++) {
        const double r = ref[i], d = r - x[i];
        s += r * r;
        e += d * d;
    }
    *signal += s;
    *noise += e;
}

void mlrc_noise_u8(const float *ref, const uint8_t *q, float scale, int32_t zero, size_t count, double *signal,
                   double *noise) {
    double s = 0.0, e = 0.0;
    for (size_t i = 0; i < count; i++) {
        const double r = ref[i], d = r - (double)((float)((int32_t)q[i] - zero) * scale);
        s += r * r;
        e += d * d;
    }
    *signal += s;
    *noise += e;
}

void mlrc_channel_error_f32(const float *ref, const float *x, size_t pixels, int32_t channels, double *sums) {
    for (size_t p = 0; p < pixels; p++)
        for (int32_t c = 0; c < channels; c++) {
            const size_t i = p * (size_t)channels + (size_t)c;
            sums[c] += (double)x[i] - (double)ref[i];
        }
}

void mlrc_channel_error_u8(const float *ref, const uint8_t *q, float scale, int32_t zero, size_t pixels,
                           int32_t channels, double *sums) {
    for (size_t p = 0; p < pixels; p++)
        for (int32_t c = 0; c < channels; c++) {
            const size_t i = p * (size_t)channels + (size_t)c;
            sums[c] += (double)((float)((int32_t)q[i] - zero) * scale) - (double)ref[i];
        }
}

void mlrc_quantize_ref_u8(const float *x, size_t count, float scale, int32_t zero, uint8_t *q) {
    for (size_t i = 0; i < count; i++) {
        const float v = roundf(x[i] / scale) + (float)zero;
        q[i] = (uint8_t)(v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v));
    }
}

/* Weight layouts as quantize builds them: element i of a general conv ([group][k][co of the group]) belongs to
 * output channel (i / (k * co_g)) * co_g + i % co_g; a depthwise conv ([taps][C]) is the same with co_g = C,
 * k = taps. */
static inline int32_t channel_of(size_t i, int32_t co_g, int32_t k) {
    return (int32_t)(i / ((size_t)k * (size_t)co_g)) * co_g + (int32_t)(i % (size_t)co_g);
}

static inline float clamp127(float q) { return q < -127.0f ? -127.0f : (q > 127.0f ? 127.0f : q); }

void mlrc_quantize_weights(const float *w, size_t count, int32_t co_g, int32_t k, int32_t channels, const float *ratios,
                           int32_t nratios, float *scales, double *errors, int8_t *out) {
    for (int32_t c = 0; c < channels; c++) scales[c] = 0.0f;
    for (size_t i = 0; i < count; i++) {
        const int32_t c = channel_of(i, co_g, k);
        const float a = fabsf(w[i]);
        if (a > scales[c]) scales[c] = a;
    }
    for (int32_t c = 0; c < channels; c++) scales[c] = scales[c] > 0.0f ? scales[c] / 127.0f : 1.0f;
    if (nratios > 1) {
        for (size_t e = 0; e < (size_t)channels * (size_t)nratios; e++) errors[e] = 0.0;
        for (size_t i = 0; i < count; i++) {
            const int32_t c = channel_of(i, co_g, k);
            for (int32_t r = 0; r < nratios; r++) {
                const float s = scales[c] * ratios[r];
                const double d = (double)(w[i] - clamp127(roundf(w[i] / s)) * s);
                errors[(size_t)c * nratios + r] += d * d;
            }
        }
        for (int32_t c = 0; c < channels; c++) {
            int32_t best = 0;
            for (int32_t r = 1; r < nratios; r++)
                if (errors[(size_t)c * nratios + r] < errors[(size_t)c * nratios + best]) best = r;
            scales[c] *= ratios[best]; /* all-zero channels: every error is 0, best = ratio 1 */
        }
    }
    for (size_t i = 0; i < count; i++) out[i] = (int8_t)clamp127(roundf(w[i] / scales[channel_of(i, co_g, k)]));
}

void mlrc_weight_mean_shift(const float *w, const int8_t *q, const float *scales, size_t count, int32_t co_g, int32_t k,
                            int32_t cin_g, int depthwise, const float *means, int32_t nmeans, double *shift) {
    for (size_t i = 0; i < count; i++) {
        const int32_t c = channel_of(i, co_g, k);
        const int32_t ci = depthwise ? c
                                     : (int32_t)(i / ((size_t)k * (size_t)co_g)) * cin_g +
                                           (int32_t)((i / (size_t)co_g) % (size_t)k) % cin_g;
        if (ci < nmeans) shift[c] += (double)((float)q[i] * scales[c] - w[i]) * (double)means[ci];
    }
}
