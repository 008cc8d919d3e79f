/* Image preprocessing: antialiased resize (the filter widened by the scale factor when shrinking, as PIL's
 * BILINEAR and BICUBIC resizes that torchvision's Resize uses), center crop, normalisation.
 * Only the columns and rows inside the crop window are computed. */
#include <math.h>
#include <stdlib.h>
#include "mlrc_image.h"

typedef struct filter_taps {
    int32_t *first; /* first input index for each output index */
    int32_t *count; /* taps for each output index */
    float *weights; /* [out][max_taps] */
    int32_t max_taps;
} filter_taps;

static void taps_free(filter_taps *t) {
    free(t->first);
    free(t->count);
    free(t->weights);
}

static double triangle(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Keys' cubic convolution with a = -0.5, PIL's BICUBIC. */
static double cubic(double x) {
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* Taps for output indices [out_begin, out_begin + out_n) of an in_size -> out_size resize. */
static int taps_build(filter_taps *t, int32_t in_size, int32_t out_size, int32_t out_begin, int32_t out_n,
                      int32_t filter) {
    double (*kernel)(double) = filter == MLRC_RESIZE_BICUBIC ? cubic : triangle;
    const double radius = filter == MLRC_RESIZE_BICUBIC ? 2.0 : 1.0;
    const double scale = (double)in_size / (double)out_size;
    const double filterscale = scale > 1.0 ? scale : 1.0;
    const double support = radius * filterscale;
    t->max_taps = (int32_t)ceil(support) * 2 + 1;
    t->first = malloc(sizeof(int32_t) * (size_t)out_n);
    t->count = malloc(sizeof(int32_t) * (size_t)out_n);
    t->weights = calloc((size_t)out_n * (size_t)t->max_taps, sizeof(float));
    if (!t->first || !t->count || !t->weights) {
        taps_free(t);
        return -1;
    }
    for (int32_t i = 0; i < out_n; i++) {
        const double center = ((double)(out_begin + i) + 0.5) * scale;
        int32_t lo = (int32_t)(center - support + 0.5);
        int32_t hi = (int32_t)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        int32_t n = hi - lo;
        if (n > t->max_taps) n = t->max_taps;
        if (n < 1) { /* cannot happen for in_size >= 1, kept so indexing stays in range */
            lo = lo < in_size ? lo : in_size - 1;
            n = 1;
        }
        double total = 0.0;
        float *w = t->weights + (size_t)i * t->max_taps;
        for (int32_t k = 0; k < n; k++) {
            const double v = kernel(((double)(lo + k) - center + 0.5) / filterscale);
            w[k] = (float)v;
            total += v;
        }
        for (int32_t k = 0; k < n; k++) w[k] = total > 0.0 ? (float)(w[k] / total) : (k == 0 ? 1.0f : 0.0f);
        t->first[i] = lo;
        t->count[i] = n;
    }
    return 0;
}

int mlrc_preprocess_rgb(const uint8_t *rgb, int32_t width, int32_t height, int32_t row_stride, int32_t resize_w,
                        int32_t resize_h, int32_t crop_w, int32_t crop_h, const float mean[3], const float std[3],
                        int32_t filter, float *output_nhwc) {
    const int32_t left = (int32_t)lround((resize_w - crop_w) / 2.0);
    const int32_t top = (int32_t)lround((resize_h - crop_h) / 2.0);
    filter_taps tx = {0}, ty = {0};
    if (taps_build(&tx, width, resize_w, left, crop_w, filter) != 0) return -1;
    if (taps_build(&ty, height, resize_h, top, crop_h, filter) != 0) {
        taps_free(&tx);
        return -1;
    }
    /* Horizontal pass for the input rows the vertical taps touch. */
    const int32_t row_lo = ty.first[0];
    int32_t row_hi = row_lo;
    for (int32_t i = 0; i < crop_h; i++)
        if (ty.first[i] + ty.count[i] > row_hi) row_hi = ty.first[i] + ty.count[i];
    const int32_t rows = row_hi - row_lo;
    float *tmp = malloc(sizeof(float) * (size_t)rows * (size_t)crop_w * 3);
    if (!tmp) {
        taps_free(&tx);
        taps_free(&ty);
        return -1;
    }
    for (int32_t y = 0; y < rows; y++) {
        const uint8_t *src = rgb + (size_t)(row_lo + y) * (size_t)row_stride;
        float *dst = tmp + (size_t)y * crop_w * 3;
        for (int32_t x = 0; x < crop_w; x++) {
            const float *w = tx.weights + (size_t)x * tx.max_taps;
            float r = 0.0f, g = 0.0f, b = 0.0f;
            for (int32_t k = 0; k < tx.count[x]; k++) {
                const uint8_t *px = src + (size_t)(tx.first[x] + k) * 3;
                r += w[k] * px[0];
                g += w[k] * px[1];
                b += w[k] * px[2];
            }
            /* PIL stores the horizontal pass as 8 bits (which also clips the cubic's overshoot): so do we. */
            r = floorf(fminf(fmaxf(r, 0.0f), 255.0f) + 0.5f);
            g = floorf(fminf(fmaxf(g, 0.0f), 255.0f) + 0.5f);
            b = floorf(fminf(fmaxf(b, 0.0f), 255.0f) + 0.5f);
            dst[x * 3 + 0] = r;
            dst[x * 3 + 1] = g;
            dst[x * 3 + 2] = b;
        }
    }
    for (int32_t y = 0; y < crop_h; y++) {
        const float *w = ty.weights + (size_t)y * ty.max_taps;
        float *out = output_nhwc + (size_t)y * crop_w * 3;
        for (int32_t x = 0; x < crop_w * 3; x++) {
            float v = 0.0f;
            for (int32_t k = 0; k < ty.count[y]; k++)
                v += w[k] * tmp[(size_t)(ty.first[y] - row_lo + k) * crop_w * 3 + x];
            /* PIL rounds to 8 bits after resizing; do the same so we see the image torchvision sees. */
            v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
            v = floorf(v + 0.5f);
            const int32_t ch = x % 3;
            out[x] = (v / 255.0f - mean[ch]) / std[ch];
        }
    }
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    return 0;
}
