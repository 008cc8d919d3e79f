/* int8 depthwise convolution for AVX2 on horizontal tap pairs: 16 channels at a time, each input row widened
 * once into the thread's scratch as int16 pairs (x[ix], x[ix + 1]) per channel, so that one 32-byte load and one
 * vpmaddwd against the pair's weights (w[kx], w[kx + 1]) give 8 channels two taps, with no shuffle in the tap
 * loop (the row-at-a-time kernel widens and interleaves every tap of every output pixel again). A row buffer
 * spans the padded width, padding holding the zero point, so every output pixel runs the same code; the zero
 * point is folded into the bias (sum (x - z) w = sum x w - z sum w; x0 w0 + x1 w1 <= 2 x 255 x 128, exact in
 * int32). Buffers form a ring of kernel_h rows, so at stride 1 an input row is widened once per channel block,
 * not once per output row. Loop order: channel block outside (its weights, bias and scales stay in registers or
 * L1), output rows inside. Vertical strips (k x 1) pair input rows instead of columns: the ring holds pairs of
 * rows (x[r], x[r + 1]), each built once and read by every output row whose window pairs them. The common kernel
 * shapes are compiled with constant loop bounds; channels past the last multiple of 16 take the same path through
 * bounded copies. */
#if defined(__x86_64__)
#include <limits.h>
#include <string.h>
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"

enum { MAX_KH = 16, MAX_KW = 16, MAX_PAIRS = (MAX_KW + 1) / 2 };

/* Tap pairs per kernel row, and pairs per row buffer: output column ox reads pairs ox * stride + 2p. */
static int32_t pairs_per_row(const mlrc_conv_geometry *g) { return (g->kernel_w + 1) / 2; }
static int32_t buffer_cols(const mlrc_conv_geometry *g) { return (g->out_w - 1) * g->stride_w + g->kernel_w; }

int mlrc_q8_dwconv_16c2_avx2_suits(const mlrc_conv_geometry *g, uint32_t features) {
    (void)features;
    /* 1 x 1 has no pair to make: the tap-pair row kernel takes it */
    return g->kernel_h <= MAX_KH && g->kernel_w <= MAX_KW && (g->kernel_w >= 2 || g->kernel_h >= 2) && g->out_w >= 1;
}

size_t mlrc_q8_dwconv_16c2_avx2_scratch(const mlrc_conv_geometry *g) {
    return (size_t)g->kernel_h * (size_t)buffer_cols(g) * 64;
}

/* 16 input bytes of channels [c, c + cn) at column ix of a row (the zero point outside the row or past cn). */
MLRC_AVX2 static inline __m128i column(const uint8_t *row, int32_t ix, const mlrc_conv_geometry *g, int32_t cn,
                                       __m128i zero8) {
    if (ix < 0 || ix >= g->in_w) return zero8;
    if (cn == 16) return _mm_loadu_si128((const __m128i *)(row + (size_t)ix * g->in_c));
    uint8_t tmp[16];
    _mm_storeu_si128((__m128i *)tmp, zero8);
    memcpy(tmp, row + (size_t)ix * g->in_c, (size_t)cn);
    return _mm_loadu_si128((const __m128i *)tmp);
}

/* Pair px of a row buffer from the 16 channels of its two taps: channels 0-7 into the low half, 8-15 the high. */
MLRC_AVX2 static inline void put_pair(int16_t *lo, int16_t *hi, int32_t px, __m128i x0, __m128i x1) {
    _mm256_storeu_si256((__m256i *)(lo + (size_t)px * 16), _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(x0, x1)));
    _mm256_storeu_si256((__m256i *)(hi + (size_t)px * 16), _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(x0, x1)));
}

/* Input row iy (zero point rows outside the input) as pairs: half h of pair px at buf + (h * cols + px) * 16. */
MLRC_AVX2 static void widen_row(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, int32_t iy, int32_t c,
                                int32_t cn, int16_t *buf) {
    const int32_t cols = buffer_cols(g);
    if (iy < 0 || iy >= g->in_h) {
        const __m256i z = _mm256_set1_epi16((int16_t)zero);
        for (int32_t i = 0; i < 2 * cols; i++) _mm256_storeu_si256((__m256i *)(buf + (size_t)i * 16), z);
        return;
    }
    const __m128i z8 = _mm_set1_epi8((char)(uint8_t)zero);
    const uint8_t *row = input + (size_t)iy * g->in_w * g->in_c + c;
    int16_t *lo = buf, *hi = buf + (size_t)cols * 16;
    if (g->stride_w % 2 == 0) { /* output columns read only the even pairs */
        for (int32_t px = 0; px < cols; px += 2) {
            const __m128i cur = column(row, px - g->pad_left, g, cn, z8);
            const __m128i next = column(row, px + 1 - g->pad_left, g, cn, z8);
            put_pair(lo, hi, px, cur, next);
        }
        return;
    }
    __m128i cur = column(row, -g->pad_left, g, cn, z8);
    for (int32_t px = 0; px < cols; px++) {
        const __m128i next = column(row, px + 1 - g->pad_left, g, cn, z8);
        put_pair(lo, hi, px, cur, next);
        cur = next;
    }
}

/* Vertical strips (kernel_w 1): pairs of input rows r and r + 1 instead, (x[r][ix], x[r + 1][ix]), in the same
 * layout; pair row r serves every output row whose window starts r - 2p rows above it. */
MLRC_AVX2 static void widen_row_pair(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, int32_t r,
                                     int32_t c, int32_t cn, int16_t *buf) {
    const int32_t cols = buffer_cols(g);
    const __m128i z8 = _mm_set1_epi8((char)(uint8_t)zero);
    const size_t row_elems = (size_t)g->in_w * g->in_c;
    const uint8_t *a = r >= 0 && r < g->in_h ? input + (size_t)r * row_elems + c : NULL;
    const uint8_t *b = r + 1 >= 0 && r + 1 < g->in_h ? input + (size_t)(r + 1) * row_elems + c : NULL;
    int16_t *lo = buf, *hi = buf + (size_t)cols * 16;
    for (int32_t px = 0; px < cols; px++) {
        const int32_t ix = px - g->pad_left;
        const __m128i x0 = a ? column(a, ix, g, cn, z8) : z8, x1 = b ? column(b, ix, g, cn, z8) : z8;
        put_pair(lo, hi, px, x0, x1);
    }
}

/* 8 weights of channels [c, c + cn) (zero past cn), as int8 in the low half. */
MLRC_AVX2 static inline __m128i weights8(const int8_t *w, int32_t cn) {
    if (cn >= 8) return _mm_loadl_epi64((const __m128i *)w);
    int8_t tmp[8] = {0};
    if (cn > 0) memcpy(tmp, w, (size_t)cn);
    return _mm_loadl_epi64((const __m128i *)tmp);
}

/* A channel block's constants: pair weights wv[(ky * MAX_PAIRS + p) * 2 + h] and the output stage with the zero
 * point folded into the bias. */
typedef struct block {
    __m256i wv[MAX_KH * MAX_PAIRS * 2];
    mlrc_q8_stage2x8 st;
} block;

MLRC_AVX2 static void load_block(const mlrc_conv_geometry *g, const int8_t *weights, const int32_t *bias,
                                 const float *scale, const mlrc_q8_output *out, int32_t zero, int32_t c, int32_t cn,
                                 block *b) {
    const int32_t C = g->in_c, vertical = g->kernel_w == 1;
    /* horizontal: kernel_h rows of pairs along kx; vertical: one row of pairs along ky (kernel row p of the
     * block's table holds the weights of kernel rows 2p and 2p + 1) */
    const int32_t rows = vertical ? (g->kernel_h + 1) / 2 : g->kernel_h, np = vertical ? 1 : pairs_per_row(g);
    const int32_t taps = vertical ? g->kernel_h : g->kernel_w;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i sum0 = _mm256_setzero_si256(), sum1 = sum0;
    for (int32_t ky = 0; ky < rows; ky++)
        for (int32_t p = 0; p < np; p++)
            for (int h = 0; h < 2; h++) {
                const int32_t t = vertical ? 2 * ky : 2 * p; /* the pair's first tap along its direction */
                const int8_t *w0 = weights + (vertical ? (size_t)t : (size_t)ky * g->kernel_w + t) * C + c + 8 * h;
                const __m128i a = weights8(w0, cn - 8 * h);
                const __m128i bb = t + 1 < taps
                                       ? weights8(w0 + (vertical ? (size_t)C * g->kernel_w : (size_t)C), cn - 8 * h)
                                       : _mm_setzero_si128();
                const __m256i v = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, bb));
                b->wv[(ky * MAX_PAIRS + p) * 2 + h] = v;
                if (h == 0)
                    sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(v, ones));
                else
                    sum1 = _mm256_add_epi32(sum1, _mm256_madd_epi16(v, ones));
            }
    /* per-channel constants through bounded copies for a tail block */
    int32_t bias16[16] = {0};
    float scale16[16] = {0};
    if (bias) memcpy(bias16, bias + c, sizeof(int32_t) * (size_t)cn);
    memcpy(scale16, scale + c, sizeof(float) * (size_t)cn);
    b->st = mlrc_q8_stage2x8_load(bias16, scale16, out, 0);
    const __m256i z = _mm256_set1_epi32(zero);
    b->st.b0 = _mm256_sub_epi32(b->st.b0, _mm256_mullo_epi32(sum0, z));
    b->st.b1 = _mm256_sub_epi32(b->st.b1, _mm256_mullo_epi32(sum1, z));
}

/* 16 uint8 outputs from sums that started from the bias, without a table: the short stage of the quad-dot GEMM
 * (q8_gemm_quad_dot_ymm.h). Rounding commutes with clamping to integer bounds, so only the upper clamp is done
 * in float; the int16 pack saturates values far below the range downwards, the zero point is added with
 * saturation, the byte pack clamps at 0 and a byte max at lo: the bytes of mlrc_q8_store16_avx2. */
MLRC_AVX2 static __attribute__((always_inline)) inline __m128i stage_u8(const mlrc_q8_stage2x8 *st, __m256i a0,
                                                                        __m256i a1, __m256i zero16, __m128i lo8) {
    const __m256i q0 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a0), st->s0), st->vhi));
    const __m256i q1 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a1), st->s1), st->vhi));
    const __m256i w = _mm256_permute4x64_epi64(_mm256_adds_epi16(_mm256_packs_epi32(q0, q1), zero16), 0xD8);
    return _mm_max_epu8(_mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)), lo8);
}

/* One output row of a full block of 16 channels with uint8 outputs and no table, two pixels at a time: each pair
 * weight is loaded once for both, and the sums start from the bias. */
MLRC_AVX2 static __attribute__((always_inline)) inline void
out_row_u8(const int KH, const int NP, const block *b, const int16_t *const *rows, int32_t cols, int32_t out_w,
           int32_t sw, const mlrc_q8_output *out, char *dst, size_t step) {
    const __m256i zero16 = _mm256_set1_epi16((int16_t)out->zero);
    const __m128i lo8 = _mm_set1_epi8((char)(uint8_t)out->lo);
    const size_t next = (size_t)sw * 16; /* int16s from one output pixel's pairs to the next one's */
    int32_t ox = 0;
    for (; ox + 2 <= out_w; ox += 2) {
        __m256i a0 = b->st.b0, a1 = b->st.b1, c0 = a0, c1 = a1;
        const size_t px = (size_t)ox * sw;
        for (int ky = 0; ky < KH; ky++) {
            const int16_t *lo = rows[ky] + px * 16, *hi = lo + (size_t)cols * 16;
            for (int p = 0; p < NP; p++) {
                const __m256i w0 = b->wv[(ky * MAX_PAIRS + p) * 2], w1 = b->wv[(ky * MAX_PAIRS + p) * 2 + 1];
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(lo + 32 * p)), w0));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(hi + 32 * p)), w1));
                c0 = _mm256_add_epi32(c0,
                                      _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(lo + next + 32 * p)), w0));
                c1 = _mm256_add_epi32(c1,
                                      _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(hi + next + 32 * p)), w1));
            }
        }
        char *d = dst + (size_t)ox * step;
        _mm_storeu_si128((__m128i *)d, stage_u8(&b->st, a0, a1, zero16, lo8));
        _mm_storeu_si128((__m128i *)(d + step), stage_u8(&b->st, c0, c1, zero16, lo8));
    }
    if (ox < out_w) {
        __m256i a0 = b->st.b0, a1 = b->st.b1;
        const size_t px = (size_t)ox * sw;
        for (int ky = 0; ky < KH; ky++) {
            const int16_t *lo = rows[ky] + px * 16, *hi = lo + (size_t)cols * 16;
            for (int p = 0; p < NP; p++) {
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(lo + 32 * p)),
                                                            b->wv[(ky * MAX_PAIRS + p) * 2]));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(hi + 32 * p)),
                                                            b->wv[(ky * MAX_PAIRS + p) * 2 + 1]));
            }
        }
        _mm_storeu_si128((__m128i *)(dst + (size_t)ox * step), stage_u8(&b->st, a0, a1, zero16, lo8));
    }
}

/* One output row of a block: rows[i] are its buffers, each read at NP pairs. KH (buffers), NP constant where
 * inlined. */
MLRC_AVX2 static __attribute__((always_inline)) inline void
out_row(const int KH, const int NP, const block *b, const int16_t *const *rows, int32_t cols, int32_t out_w, int32_t sw,
        const mlrc_q8_output *out, char *dst, size_t step, int32_t cn, size_t esize) {
    if (cn == 16 && out->kind == MLRC_Q8_OUT_U8 && !out->lut) {
        out_row_u8(KH, NP, b, rows, cols, out_w, sw, out, dst, step);
        return;
    }
    for (int32_t ox = 0; ox < out_w; ox++) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0;
        const size_t px = (size_t)ox * sw;
        for (int ky = 0; ky < KH; ky++) {
            const int16_t *lo = rows[ky] + px * 16, *hi = lo + (size_t)cols * 16;
            for (int p = 0; p < NP; p++) {
                const __m256i x0 = _mm256_loadu_si256((const __m256i *)(lo + 32 * p));
                const __m256i x1 = _mm256_loadu_si256((const __m256i *)(hi + 32 * p));
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x0, b->wv[(ky * MAX_PAIRS + p) * 2]));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x1, b->wv[(ky * MAX_PAIRS + p) * 2 + 1]));
            }
        }
        char *d = dst + (size_t)ox * step;
        if (cn == 16) {
            mlrc_q8_store16_avx2(&b->st, a0, a1, out, d);
        } else {
            char tmp[64];
            mlrc_q8_store16_avx2(&b->st, a0, a1, out, tmp);
            memcpy(d, tmp, (size_t)cn * esize);
        }
    }
}

MLRC_AVX2 void mlrc_q8_dwconv_16c2_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                        const int8_t *weights, const int32_t *bias, const float *scale,
                                        const mlrc_q8_output *out, void *output, int32_t oy0, int32_t oy1, int32_t u0,
                                        int32_t u1, void *scratch) {
    const int32_t C = g->in_c, KH = g->kernel_h, cols = buffer_cols(g);
    const int vertical = g->kernel_w == 1;
    /* buffers per output row, and tap pairs per buffer: horizontal pairs along each kernel row, or a vertical
     * strip's pairs of kernel rows (one pair per buffer) */
    const int32_t NR = vertical ? (KH + 1) / 2 : KH, NP = vertical ? 1 : pairs_per_row(g);
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1, step = (size_t)C * esize;
    int16_t *ring = (int16_t *)scratch;
    block b;
    for (int32_t u = u0; u < u1; u++) { /* unit u: channels [16u, 16u + 16) */
        const int32_t c = 16 * u, cn = C - c < 16 ? C - c : 16;
        if (cn <= 0) break;
        load_block(g, weights, bias, scale, out, in_zero, c, cn, &b);
        int32_t tag[MAX_KH];
        for (int32_t s = 0; s < KH; s++) tag[s] = INT_MIN;
        for (int32_t oy = oy0; oy < oy1; oy++) {
            /* the buffers this output row reads: kernel_h input rows, or a vertical strip's pair rows (every
             * second row from the window's first) */
            const int16_t *rows[MAX_KH];
            const int32_t iy0 = oy * g->stride_h - g->pad_top;
            for (int32_t i = 0; i < NR; i++) {
                const int32_t r = iy0 + (vertical ? 2 * i : i), s = ((r % KH) + KH) % KH;
                int16_t *buf = ring + (size_t)s * cols * 32;
                if (tag[s] != r) {
                    if (vertical)
                        widen_row_pair(g, input, in_zero, r, c, cn, buf);
                    else
                        widen_row(g, input, in_zero, r, c, cn, buf);
                    tag[s] = r;
                }
                rows[i] = buf;
            }
            char *dst = (char *)output + ((size_t)oy * g->out_w * C + c) * esize;
#define ROW(nr, np) out_row(nr, np, &b, rows, cols, g->out_w, g->stride_w, out, dst, step, cn, esize)
            if (NR == 3 && NP == 2)
                ROW(3, 2);
            else if (NR == 5 && NP == 3)
                ROW(5, 3);
            else if (NR == 7 && NP == 4)
                ROW(7, 4);
            else if (NR == 1 && NP == 2)
                ROW(1, 2);
            else if (NR == 1 && NP == 3)
                ROW(1, 3);
            else if (NR == 1 && NP == 4)
                ROW(1, 4);
            else if (NR == 2 && NP == 1)
                ROW(2, 1);
            else if (NR == 3 && NP == 1)
                ROW(3, 1);
            else if (NR == 4 && NP == 1)
                ROW(4, 1);
            else
                ROW(NR, NP);
#undef ROW
        }
    }
}
#endif
