/* AVX2 quantize (fp32 -> uint8) and requantizing add: the same float operations as the reference, 16 lanes at a
 * time, so results are bit-identical. Max pooling of uint8 codes: vpmaxub over the window's valid taps. */
#if defined(__x86_64__)
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"
#include "window.h"

#define pack16 mlrc_avx2_pack16
#define round_clamp mlrc_avx2_round_clamp

MLRC_AVX2 void mlrc_q8_quantize_block_avx2(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q) {
    mlrc_avx2_quantize_floats(count, x, inv_scale, zero, q);
}

MLRC_AVX2 static inline __m256 widen8(const uint8_t *p, __m256i zero) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(v, zero));
}

MLRC_AVX2 static void add_range(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b,
                                int32_t zb, float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out) {
    const __m256i zav = _mm256_set1_epi32(za), zbv = _mm256_set1_epi32(zb), zo = _mm256_set1_epi32(zero_out);
    const __m256 mav = _mm256_set1_ps(ma), mbv = _mm256_set1_ps(mb);
    const __m256 vlo = _mm256_set1_ps((float)(lo - zero_out)), vhi = _mm256_set1_ps((float)(hi - zero_out));
    size_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        /* mul, mul, add: no FMA, so the rounding matches the reference's va + vb. */
        const __m256 v0 = _mm256_add_ps(_mm256_mul_ps(widen8(a + i, zav), mav), _mm256_mul_ps(widen8(b + i, zbv), mbv));
        const __m256 v1 =
            _mm256_add_ps(_mm256_mul_ps(widen8(a + i + 8, zav), mav), _mm256_mul_ps(widen8(b + i + 8, zbv), mbv));
        _mm_storeu_si128((__m128i *)(out + i), pack16(round_clamp(v0, vlo, vhi, zo), round_clamp(v1, vlo, vhi, zo)));
    }
    for (; i < i1; i++) {
        const float va = (float)((int32_t)a[i] - za) * ma, vb = (float)((int32_t)b[i] - zb) * mb;
        out[i] = (uint8_t)mlrc_q8_round_clamp(va + vb, zero_out, lo, hi);
    }
}

void mlrc_q8_add_avx2(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                      float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out) {
    add_range(i0, i1, a, za, ma, b, zb, mb, zero_out, lo, hi, out);
}
/* out[i] = max(0, base[r * row_step + k * col_step + i] over r < rows, k < cols) for i < width: every max pooling
 * pass below is this, on a pixel's channels or on runs of contiguous bytes. */
MLRC_AVX2 static void max_grid(const uint8_t *base, int32_t rows, size_t row_step, int32_t cols, size_t col_step,
                               size_t width, uint8_t *out) {
    size_t i = 0;
    for (; i + 32 <= width; i += 32) {
        __m256i m = _mm256_setzero_si256();
        for (int32_t r = 0; r < rows; r++)
            for (int32_t k = 0; k < cols; k++)
                m = _mm256_max_epu8(m, _mm256_loadu_si256((const __m256i *)(base + r * row_step + k * col_step + i)));
        _mm256_storeu_si256((__m256i *)(out + i), m);
    }
    for (; i + 16 <= width; i += 16) {
        __m128i m = _mm_setzero_si128();
        for (int32_t r = 0; r < rows; r++)
            for (int32_t k = 0; k < cols; k++)
                m = _mm_max_epu8(m, _mm_loadu_si128((const __m128i *)(base + r * row_step + k * col_step + i)));
        _mm_storeu_si128((__m128i *)(out + i), m);
    }
    for (; i < width; i++) {
        uint8_t m = 0;
        for (int32_t r = 0; r < rows; r++)
            for (int32_t k = 0; k < cols; k++) {
                const uint8_t v = base[r * row_step + k * col_step + i];
                m = v > m ? v : m;
            }
        out[i] = m;
    }
}

/* One output pixel straight from the input: its window's valid taps. */
MLRC_AVX2 static void maxpool_pixel(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *out, int32_t oy,
                                    int32_t ox) {
    const int32_t C = g->in_c;
    const mlrc_window win = mlrc_window_at(g, oy, ox);
    const uint8_t *base = input + ((size_t)(win.iy0 + win.ky_lo) * g->in_w + (win.ix0 + win.kx_lo)) * C;
    max_grid(base, win.ky_hi - win.ky_lo, (size_t)g->in_w * C, win.kx_hi - win.kx_lo, (size_t)C, (size_t)C, out);
}

enum { MAXPOOL_BUF = 8192 }; /* bytes of column maxima held per segment of an output row */

/* Separable: the max over the window's rows of a segment of input columns (contiguous bytes, so plain vector
 * code whatever the channel count), then per output pixel the max over its columns. Pixels per segment are
 * bounded by the buffer; a row wider than it takes several segments. */
MLRC_AVX2 static void maxpool_row(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t oy) {
    const int32_t C = g->in_c, sw = g->stride_w, kw = g->kernel_w;
    const mlrc_window w0 = mlrc_window_at(g, oy, 0);
    const int32_t seg_px = (MAXPOOL_BUF / C - kw) / sw + 1, rows = w0.ky_hi - w0.ky_lo;
    uint8_t buf[MAXPOOL_BUF];
    for (int32_t ox0 = 0; ox0 < g->out_w; ox0 += seg_px) {
        const int32_t ox1 = ox0 + seg_px < g->out_w ? ox0 + seg_px : g->out_w;
        int32_t ia = ox0 * sw - g->pad_left, ib = (ox1 - 1) * sw - g->pad_left + kw;
        ia = ia < 0 ? 0 : ia;
        ib = ib > g->in_w ? g->in_w : ib;
        const size_t n = ib > ia ? (size_t)(ib - ia) * C : 0;
        const uint8_t *first = rows > 0 ? input + ((size_t)(w0.iy0 + w0.ky_lo) * g->in_w + ia) * C : input;
        max_grid(first, rows, (size_t)g->in_w * C, 1, 0, n, buf);
        int32_t in0 = ox1, in1 = ox1; /* stride 1: pixels whose window is inside the row, done below as bytes */
        if (sw == 1) {
            in0 = g->pad_left > ox0 ? g->pad_left : ox0;
            in1 = g->in_w - kw + g->pad_left + 1 < ox1 ? g->in_w - kw + g->pad_left + 1 : ox1;
            if (in1 < in0) in0 = in1 = ox1;
        }
        if (in0 < in1) /* out[ox][c] = max over kx of columns ox - pad_left + kx: kw shifted runs of bytes */
            max_grid(buf + (size_t)(in0 - g->pad_left - ia) * C, 1, 0, kw, (size_t)C, (size_t)(in1 - in0) * C,
                     output + ((size_t)oy * g->out_w + in0) * C);
        for (int32_t ox = ox0; ox < ox1; ox++) {
            if (ox == in0) ox = in1;
            if (ox >= ox1) break;
            int32_t lo = ox * sw - g->pad_left, hi = lo + kw;
            lo = lo < 0 ? 0 : lo;
            hi = hi > g->in_w ? g->in_w : hi;
            const int32_t taps = hi > lo ? hi - lo : 0;
            max_grid(taps ? buf + (size_t)(lo - ia) * C : buf, 1, 0, taps, (size_t)C, (size_t)C,
                     output + ((size_t)oy * g->out_w + ox) * C);
        }
    }
}

void mlrc_q8_maxpool_avx2(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t oy0,
                          int32_t oy1) {
    const int separable = g->in_c > 0 && MAXPOOL_BUF / g->in_c >= g->kernel_w;
    for (int32_t oy = oy0; oy < oy1; oy++) {
        if (separable) {
            maxpool_row(g, input, output, oy);
            continue;
        }
        for (int32_t ox = 0; ox < g->out_w; ox++)
            maxpool_pixel(g, input, output + ((size_t)oy * g->out_w + ox) * g->in_c, oy, ox);
    }
}
#endif
