/* int8 depthwise convolution for AVX2: 16 channels at a time. Pixels whose window lies inside the input take
 * two taps per vpmaddwd: the raw uint8 inputs and the weights widened to int16 and interleaved in tap pairs
 * (x0 w0 + x1 w1 <= 2 x 255 x 128, exact in int32), the zero point folded into the bias once per block
 * (sum (x - z) w = sum x w - z sum w). Border pixels visit only their in-bounds taps, (x - zero) times the weight
 * exact in int16 and widened into int32 (32 channels in 512-bit registers where the CPU has AVX-512BW). Loop
 * order: channel block outside, output column inside, so a block's weights, bias, scales and output-stage
 * constants stay put along the row. Channel tails use the scalar stage. */
#if defined(__x86_64__)
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"
#include "window.h"

/* AVX-512BW: 32 channels per step (the 16-channel blocks below take the rest). Channels [0, wide) of a row. */
#define ZMM_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))
ZMM_TARGET static void dw_row_zmm(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero,
                                  const int8_t *weights, const int32_t *bias, const float *scale,
                                  const mlrc_q8_output *out, char *row_out, size_t esize, int32_t oy, int32_t wide) {
    const int32_t C = g->in_c;
    const __m512i z = _mm512_set1_epi16((int16_t)zero);
    for (int32_t c = 0; c < wide; c += 32) {
        const mlrc_q8_stage2x8 st0 = mlrc_q8_stage2x8_load(bias, scale, out, c),
                               st1 = mlrc_q8_stage2x8_load(bias, scale, out, c + 16);
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            const mlrc_window win = mlrc_window_at(g, oy, ox);
            __m512i a0 = _mm512_setzero_si512(), a1 = a0;
            for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
                const uint8_t *in = input + ((size_t)(win.iy0 + ky) * g->in_w + (win.ix0 + win.kx_lo)) * C + c;
                const int8_t *w = weights + ((size_t)ky * g->kernel_w + win.kx_lo) * C + c;
                for (int32_t kx = 0; kx < win.kx_hi - win.kx_lo; kx++) {
                    const __m512i x = _mm512_sub_epi16(
                        _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(in + (size_t)kx * C))), z);
                    const __m512i k = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(w + (size_t)kx * C)));
                    const __m512i p = _mm512_mullo_epi16(x, k);
                    a0 = _mm512_add_epi32(a0, _mm512_cvtepi16_epi32(_mm512_castsi512_si256(p)));
                    a1 = _mm512_add_epi32(a1, _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(p, 1)));
                }
            }
            char *dst = row_out + ((size_t)ox * C + c) * esize;
            mlrc_q8_store16_avx2(&st0, _mm512_castsi512_si256(a0), _mm512_extracti64x4_epi64(a0, 1), out, dst);
            mlrc_q8_store16_avx2(&st1, _mm512_castsi512_si256(a1), _mm512_extracti64x4_epi64(a1, 1), out,
                                 dst + 16 * esize);
        }
    }
}

/* The tap-pair path's constants for channels [c, c + 16): pair p's weights in wp[2p] (channels 0-3 and 8-11,
 * the order unpacklo_epi16 gives) and wp[2p + 1] (4-7 and 12-15), taps 2p and 2p + 1 (zero past the last); and
 * the block's output stage with the bias less zero * sum w (the zero point folded in). */
#define MAX_PAIRS 32
typedef struct pair_block {
    __m256i wp[2 * MAX_PAIRS];
    mlrc_q8_stage2x8 st;
} pair_block;

MLRC_AVX2 static void pair_weights(const mlrc_conv_geometry *g, const int8_t *weights, const mlrc_q8_stage2x8 *st,
                                   int32_t zero, int32_t c, pair_block *pb) {
    const int32_t taps = g->kernel_h * g->kernel_w, C = g->in_c;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i sum_lo = _mm256_setzero_si256(), sum_hi = sum_lo;
    for (int32_t t = 0; t < taps; t += 2) {
        const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(weights + (size_t)t * C + c)));
        const __m256i w1 =
            t + 1 < taps ? _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(weights + (size_t)(t + 1) * C + c)))
                         : _mm256_setzero_si256();
        pb->wp[t] = _mm256_unpacklo_epi16(w0, w1);
        pb->wp[t + 1] = _mm256_unpackhi_epi16(w0, w1);
        sum_lo = _mm256_add_epi32(sum_lo, _mm256_madd_epi16(pb->wp[t], ones));
        sum_hi = _mm256_add_epi32(sum_hi, _mm256_madd_epi16(pb->wp[t + 1], ones));
    }
    /* the sums back to channel order: [lo.0 hi.0] = channels 0-7, [lo.1 hi.1] = 8-15 */
    const __m256i z = _mm256_set1_epi32(zero);
    pb->st = *st;
    pb->st.b0 = _mm256_sub_epi32(st->b0, _mm256_mullo_epi32(_mm256_permute2x128_si256(sum_lo, sum_hi, 0x20), z));
    pb->st.b1 = _mm256_sub_epi32(st->b1, _mm256_mullo_epi32(_mm256_permute2x128_si256(sum_lo, sum_hi, 0x31), z));
}

/* One interior pixel of the tap-pair path: in points at its window's first tap (+ c); off[t] is tap t's offset. */
MLRC_AVX2 static inline void pair_pixel(const pair_block *pb, const uint8_t *in, const ptrdiff_t *off, int32_t taps,
                                        const mlrc_q8_output *out, char *dst) {
    __m256i alo = _mm256_setzero_si256(), ahi = alo;
    for (int32_t t = 0; t < taps; t += 2) {
        const __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(in + off[t])));
        const __m256i x1 = t + 1 < taps ? _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(in + off[t + 1])))
                                        : _mm256_setzero_si256();
        alo = _mm256_add_epi32(alo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1), pb->wp[t]));
        ahi = _mm256_add_epi32(ahi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1), pb->wp[t + 1]));
    }
    mlrc_q8_store16_avx2(&pb->st, _mm256_permute2x128_si256(alo, ahi, 0x20), _mm256_permute2x128_si256(alo, ahi, 0x31),
                         out, dst);
}

/* Output row oy, channels [c_begin, C) (c_begin a multiple of 16). */
MLRC_AVX2 static void dw_row(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                             const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                             int32_t oy, int wide_ok, int32_t c_begin) {
    /* channels [0, wide) in 512-bit steps (only from channel 0), then 16-channel blocks from `first` */
    const int32_t C = g->in_c, full = C / 16 * 16, wide = wide_ok && c_begin == 0 ? C / 32 * 32 : 0;
    const int32_t first = wide > c_begin ? wide : c_begin;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const __m256i z = _mm256_set1_epi16((int16_t)zero);
    char *row_out = (char *)output + (size_t)oy * g->out_w * C * esize;
    if (wide) dw_row_zmm(g, input, zero, weights, bias, scale, out, row_out, esize, oy, wide);
    const int32_t taps = g->kernel_h * g->kernel_w;
    const int pairs_ok = taps <= 2 * MAX_PAIRS && full > first;
    ptrdiff_t off[2 * MAX_PAIRS];
    for (int32_t t = 0; pairs_ok && t < taps; t++)
        off[t] = ((ptrdiff_t)(t / g->kernel_w) * g->in_w + t % g->kernel_w) * C;
    /* this row's output columns whose windows lie inside the input (none when its rows do not) */
    const int32_t iy0 = oy * g->stride_h - g->pad_top, sw = g->stride_w;
    int32_t in0 = 0, in1 = 0;
    if (pairs_ok && iy0 >= 0 && iy0 + g->kernel_h <= g->in_h) {
        in0 = (g->pad_left + sw - 1) / sw;
        in1 = g->in_w - g->kernel_w + g->pad_left >= 0 ? (g->in_w - g->kernel_w + g->pad_left) / sw + 1 : 0;
        if (in1 > g->out_w) in1 = g->out_w;
        if (in1 < in0) in1 = in0;
    }
    pair_block pb;
    for (int32_t c = first; c < full; c += 16) {
        const mlrc_q8_stage2x8 st = mlrc_q8_stage2x8_load(bias, scale, out, c);
        if (in1 > in0) pair_weights(g, weights, &st, zero, c, &pb);
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            if (ox >= in0 && ox < in1) {
                const uint8_t *in = input + ((size_t)iy0 * g->in_w + (size_t)(ox * sw - g->pad_left)) * C + c;
                pair_pixel(&pb, in, off, taps, out, row_out + ((size_t)ox * C + c) * esize);
                continue;
            }
            const mlrc_window win = mlrc_window_at(g, oy, ox);
            __m256i a0 = _mm256_setzero_si256(), a1 = a0;
            for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
                /* Row pointers start at the first in-bounds tap: ix0 itself may be negative. */
                const uint8_t *in = input + ((size_t)(win.iy0 + ky) * g->in_w + (win.ix0 + win.kx_lo)) * C + c;
                const int8_t *w = weights + ((size_t)ky * g->kernel_w + win.kx_lo) * C + c;
                for (int32_t kx = 0; kx < win.kx_hi - win.kx_lo; kx++) {
                    const __m256i x = _mm256_sub_epi16(
                        _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(in + (size_t)kx * C))), z);
                    const __m256i k = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + (size_t)kx * C)));
                    const __m256i p = _mm256_mullo_epi16(x, k);
                    a0 = _mm256_add_epi32(a0, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(p)));
                    a1 = _mm256_add_epi32(a1, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(p, 1)));
                }
            }
            mlrc_q8_store16_avx2(&st, a0, a1, out, row_out + ((size_t)ox * C + c) * esize);
        }
    }
    if (full < C) /* channel tail: the reference */
        for (int32_t ox = 0; ox < g->out_w; ox++)
            mlrc_q8_dwconv_ref_pixel(g, input, zero, weights, bias, scale, out, row_out + (size_t)ox * C * esize, oy,
                                     ox, full, C);
}

void mlrc_q8_dwconv_16c_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                             const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                             int32_t oy0, int32_t oy1, int32_t u0, int32_t u1, void *scratch) {
    (void)scratch;
    (void)u0, (void)u1;
    for (int32_t oy = oy0; oy < oy1; oy++) dw_row(g, input, in_zero, weights, bias, scale, out, output, oy, 0, 0);
}

void mlrc_q8_dwconv_32c_avx512(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                               const int8_t *weights, const int32_t *bias, const float *scale,
                               const mlrc_q8_output *out, void *output, int32_t oy0, int32_t oy1, int32_t u0,
                               int32_t u1, void *scratch) {
    (void)scratch;
    (void)u0, (void)u1;
    for (int32_t oy = oy0; oy < oy1; oy++) dw_row(g, input, in_zero, weights, bias, scale, out, output, oy, 1, 0);
}

void mlrc_q8_dwconv_16c_avx2_row(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                 const int8_t *weights, const int32_t *bias, const float *scale,
                                 const mlrc_q8_output *out, void *output, int32_t oy, int32_t c_begin) {
    dw_row(g, input, in_zero, weights, bias, scale, out, output, oy, 0, c_begin);
}
#endif
