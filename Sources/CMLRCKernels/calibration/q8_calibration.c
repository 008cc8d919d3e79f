/* The per-element loops of int8 calibration and fidelity measurement (run by quantize, not at inference):
 * in C so they run at full speed even in a debug build of the Swift tools (`swift run quantize`). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include "mlrc_calibration.h"
#include "mlrc_kernels.h"

void mlrc_calib_range(const float *x, size_t pixels, int32_t channels, float *min_io, float *max_io,
                      double *channel_sums, double *channel_squares) {
    float lo = *min_io, hi = *max_io;
    for (size_t p = 0; p < pixels; p++) {
        const float *row = x + p * (size_t)channels;
        for (int32_t c = 0; c < channels; c++) {
            const float v = row[c];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            channel_sums[c] += v;
            channel_squares[c] += (double)v * v;
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

/* Codes of the weights w0 and w1 (a pair: rows k = 2j, 2j + 1 of one channel) at step s, inside the pair bound:
 * when both round to the same sign and their magnitudes add up past `limit`, the integers on the line
 * |q0| + |q1| = limit (each at most 127) nearest to (w0, w1) / s in the metric e0 d0^2 + e1 d1^2, e the two input
 * rows' energies: the error goes where the layer's input is small. limit 0: plain rounding. */
static inline void pair_codes(float w0, float w1, float s, int32_t limit, double e0, double e1, float *q0, float *q1) {
    const float x0 = w0 / s, x1 = w1 / s;
    *q0 = clamp127(roundf(x0)), *q1 = clamp127(roundf(x1));
    if (!limit || *q0 * *q1 <= 0.0f || fabsf(*q0) + fabsf(*q1) <= (float)limit) return;
    /* |q0| = t, |q1| = limit - t: e0 (|x0| - t)^2 + e1 (|x1| - limit + t)^2 is least at this t (a 1-D quadratic,
     * so the nearest integer is the best one) */
    const float lim = (float)limit, lo = lim - 127.0f > 0.0f ? lim - 127.0f : 0.0f, hi = lim < 127.0f ? lim : 127.0f;
    const double sum = e0 + e1 > 0.0 ? e0 + e1 : 2.0, f0 = e0 + e1 > 0.0 ? e0 : 1.0, f1 = e0 + e1 > 0.0 ? e1 : 1.0;
    float t = roundf((float)((f0 * fabsf(x0) + f1 * (lim - fabsf(x1))) / sum));
    t = t < lo ? lo : (t > hi ? hi : t);
    const float sign = *q0 > 0.0f ? 1.0f : -1.0f;
    *q0 = sign * t, *q1 = sign * (lim - t);
}

/* Weight i's partner under the pair bound: its channel's next row (k + 1) when i's row k is even, -1 when it
 * has none (no bound, or the last of an odd k), -2 when i is itself a partner (visited with the row before it). */
static inline ptrdiff_t pair_partner(size_t i, int32_t co_g, int32_t k, int32_t limit) {
    const size_t row = (i / (size_t)co_g) % (size_t)k;
    if (!limit) return -1;
    if (row % 2 == 1) return -2;
    return row + 1 < (size_t)k ? (ptrdiff_t)(i + (size_t)co_g) : -1;
}

/* The energy of the input row that weight i reads (1 without energies). */
static inline double row_energy(size_t i, int32_t co_g, int32_t k, int32_t cin_g, const double *energy, int32_t n) {
    if (!energy) return 1.0;
    const int32_t ci =
        (int32_t)(i / ((size_t)k * (size_t)co_g)) * cin_g + (int32_t)((i / (size_t)co_g) % (size_t)k) % cin_g;
    return ci < n ? energy[ci] : 1.0;
}

void mlrc_quantize_weights(const float *w, size_t count, int32_t co_g, int32_t k, int32_t channels, const float *ratios,
                           int32_t nratios, int32_t pair_limit, int32_t cin_g, const double *energy, int32_t nenergy,
                           float *scales, double *errors, int8_t *out) {
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
            const ptrdiff_t partner = pair_partner(i, co_g, k, pair_limit);
            if (partner == -2) continue;
            const int32_t c = channel_of(i, co_g, k);
            const float w1 = partner >= 0 ? w[partner] : 0.0f;
            const double e0 = row_energy(i, co_g, k, cin_g, energy, nenergy),
                         e1 = partner >= 0 ? row_energy((size_t)partner, co_g, k, cin_g, energy, nenergy) : 0.0;
            for (int32_t r = 0; r < nratios; r++) {
                const float s = scales[c] * ratios[r];
                float q0, q1;
                pair_codes(w[i], w1, s, partner >= 0 ? pair_limit : 0, e0, e1, &q0, &q1);
                const double d0 = (double)(w[i] - q0 * s), d1 = partner >= 0 ? (double)(w1 - q1 * s) : 0.0;
                errors[(size_t)c * nratios + r] += e0 * d0 * d0 + e1 * d1 * d1;
            }
        }
        for (int32_t c = 0; c < channels; c++) {
            int32_t best = 0;
            for (int32_t r = 1; r < nratios; r++)
                if (errors[(size_t)c * nratios + r] < errors[(size_t)c * nratios + best]) best = r;
            scales[c] *= ratios[best]; /* all-zero channels: every error is 0, best = ratio 1 */
        }
    }
    for (size_t i = 0; i < count; i++) {
        const ptrdiff_t partner = pair_partner(i, co_g, k, pair_limit);
        if (partner == -2) continue;
        const float s = scales[channel_of(i, co_g, k)];
        const double e0 = row_energy(i, co_g, k, cin_g, energy, nenergy),
                     e1 = partner >= 0 ? row_energy((size_t)partner, co_g, k, cin_g, energy, nenergy) : 0.0;
        float q0, q1;
        pair_codes(w[i], partner >= 0 ? w[partner] : 0.0f, s, partner >= 0 ? pair_limit : 0, e0, e1, &q0, &q1);
        out[i] = (int8_t)q0;
        if (partner >= 0) out[partner] = (int8_t)q1;
    }
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

/* Pairing cost of input channels a and b of a general convolution's weights (codes [C][taps * N], steps s[N]):
 * the squared float error moving their same-signed pairs inside the bound would cost (the excess split evenly). */
static double pair_cost(const int8_t *qa, const int8_t *qb, size_t row, int32_t N, const float *s2, int32_t limit,
                        double stop) {
    double cost = 0.0;
    for (size_t j = 0; j < row && cost < stop; j++) {
        const int32_t a = qa[j], b = qb[j];
        if ((a > 0 && b > 0) || (a < 0 && b < 0)) {
            const int32_t ex = abs(a) + abs(b) - limit;
            if (ex > 0) cost += 0.5 * (double)ex * (double)ex * (double)s2[j % (size_t)N];
        }
    }
    return cost;
}

double mlrc_pair_channels(const float *w, int32_t taps, int32_t C, int32_t N, int32_t limit, int32_t *perm,
                          double *identity_cost) {
    const size_t row = (size_t)taps * (size_t)N;
    int8_t *q = malloc((size_t)C * row ? (size_t)C * row : 1);
    float *s2 = malloc((size_t)N * sizeof(float));
    int32_t *order = malloc((size_t)C * sizeof(int32_t)), *heavy = malloc((size_t)C * sizeof(int32_t));
    unsigned char *used = calloc((size_t)C ? (size_t)C : 1, 1);
    double total = 0.0;
    if (!q || !s2 || !order || !heavy || !used) {
        for (int32_t c = 0; c < C; c++) perm[c] = c;
        *identity_cost = 0.0;
        free(q), free(s2), free(order), free(heavy), free(used);
        return 0.0;
    }
    /* per output column: the plain step (absolute maximum / 127) and the codes, rows regrouped by input channel */
    for (int32_t n = 0; n < N; n++) {
        float m = 0.0f;
        for (int32_t t = 0; t < taps; t++)
            for (int32_t c = 0; c < C; c++) m = fmaxf(m, fabsf(w[((size_t)t * C + c) * N + n]));
        const float s = m > 0.0f ? m / 127.0f : 1.0f;
        s2[n] = s * s;
        for (int32_t t = 0; t < taps; t++)
            for (int32_t c = 0; c < C; c++)
                q[(size_t)c * row + (size_t)t * N + n] = (int8_t)clamp127(roundf(w[((size_t)t * C + c) * N + n] / s));
    }
    *identity_cost = 0.0;
    for (int32_t c = 0; c + 1 < C; c += 2)
        *identity_cost += pair_cost(q + (size_t)c * row, q + (size_t)(c + 1) * row, row, N, s2, limit, 1e300);
    /* greedy: the channels with the most large codes choose their partner first, the cheapest one left (a free
     * partner ends the search) */
    for (int32_t c = 0; c < C; c++) {
        int32_t h = 0;
        for (size_t j = 0; j < row; j++) h += abs(q[(size_t)c * row + j]) > limit / 2;
        heavy[c] = h, order[c] = c;
    }
    for (int32_t i = 1; i < C; i++) { /* insertion sort by heavy, descending (C is at most a few thousand) */
        const int32_t c = order[i];
        int32_t j = i;
        for (; j > 0 && heavy[order[j - 1]] < heavy[c]; j--) order[j] = order[j - 1];
        order[j] = c;
    }
    /* Each channel looks at most at `window` candidates, so that wide layers (4096-channel fully connected
     * pairs) stay at about 5e8 code comparisons in all; the narrower ones look at every candidate. */
    const double per_candidate = (double)C * (double)row;
    const int32_t window = per_candidate * C <= 5e8 ? C : (int32_t)fmax(64.0, 5e8 / fmax(per_candidate, 1.0));
    int32_t out = 0;
    for (int32_t i = 0; i < C; i++) {
        const int32_t a = order[i];
        if (used[a]) continue;
        used[a] = 1;
        int32_t best = -1, looked = 0;
        double best_cost = 1e300;
        for (int32_t j = i + 1; j < C && best_cost > 0.0 && looked < window; j++) {
            const int32_t b = order[j];
            if (used[b]) continue;
            looked++;
            const double cost = pair_cost(q + (size_t)a * row, q + (size_t)b * row, row, N, s2, limit, best_cost);
            if (cost < best_cost) best_cost = cost, best = b;
        }
        perm[out++] = a;
        if (best >= 0) {
            used[best] = 1;
            perm[out++] = best;
            total += best_cost;
        }
    }
    free(q), free(s2), free(order), free(heavy), free(used);
    return total;
}
