/* int8 depthwise convolution with AVX512-VNNI: vpdpbusd sums four uint8 x int8 products per int32 lane, so each
 * lane (one channel) takes four of its kernel taps at once: 64 products per instruction, against 16-32 per three
 * or four instructions on the int16 path.
 *
 * The four taps of a lane are four kernel rows of one kernel column, so the interleaved vector depends only on the
 * input column: for each output row it is built once per input column ("column vectors": the four rows' 16-channel
 * vectors in one 512-bit register, [row0 | row1 | row2 | row3], and one vpermb putting channel c's four bytes in
 * lane c) and then read by every output pixel whose window covers that column (k_w of them at stride 1). Kernels of
 * 5-8 rows take two column vectors per column. The weights get the same interleave once per channel block. At
 * stride 1 the vectors' spare row (k_h = 3, 5, 7 in 4 or 8 rows) serves the next output row too, with the weights
 * shifted down a row, so each column is built once per two output rows.
 *
 * The zero point comes off per channel afterwards (sum (x - z) w = sum x w - z sum w, exact in int32), so padding
 * reads zero-point bytes: a padded column is a broadcast, a padded row a masked load that touches nothing, and
 * borders run the same code as the interior. Rows past k_h have zero weights. Channel blocks of 16, the last one
 * masked. Needs AVX-512 BW + VBMI (vpermb) + VNNI. */
#if defined(__x86_64__)
#include <omp.h>
#include "q8_output_avx512.h"

#define DW_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni")))

enum {
    DW_MAX_KH = 8,     /* two column vectors per column */
    DW_MAX_KW = 8,
    DW_MAX_STRIDE = 4,
    DW_SEG_COLS = 64,  /* input columns whose vectors are held at once (8 KB): a row is done in segments */
    DW_CHUNK = 4       /* channel blocks whose interleaved weights are held at once (2 x up to 4 KB) */
};

int mlrc_q8_dwconv_vnni_supported(const mlrc_conv_geometry *g) {
    __builtin_cpu_init();
    return g->kernel_h <= DW_MAX_KH && g->kernel_w <= DW_MAX_KW && g->stride_w <= DW_MAX_STRIDE &&
           __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi") && mlrc_cpu_has_avx512bw();
}

/* Byte 4c + r of the result is byte 16r + c of [row0 | row1 | row2 | row3]. */
DW_TARGET static inline __m512i interleave_index(void) {
    uint8_t idx[64];
    for (int j = 0; j < 64; j++) idx[j] = (uint8_t)(16 * (j % 4) + j / 4);
    return _mm512_loadu_si512(idx);
}

/* Four 16-byte vectors at p[r] + off (lanes off in k[r] take `fill` and are not read), interleaved. */
DW_TARGET static inline __m512i gather4(const uint8_t *const p[4], size_t off, const __mmask16 k[4], __m128i fill,
                                        __m512i idx) {
    const __m128i a = _mm_mask_loadu_epi8(fill, k[0], p[0] + off), b = _mm_mask_loadu_epi8(fill, k[1], p[1] + off);
    const __m128i c = _mm_mask_loadu_epi8(fill, k[2], p[2] + off), d = _mm_mask_loadu_epi8(fill, k[3], p[3] + off);
    const __m512i ab = _mm512_inserti32x4(_mm512_castsi128_si512(a), b, 1);
    return _mm512_permutexvar_epi8(idx, _mm512_inserti32x4(_mm512_inserti32x4(ab, c, 2), d, 3));
}

/* One segment of an output row for one channel block: its columns' vectors, then its pixels. */
typedef struct segment {
    const mlrc_conv_geometry *g;
    const uint8_t *const (*p)[4]; /* per column vector: its four input rows (+ channel offset) */
    const __mmask16 (*k)[4];      /* and their lanes */
    int32_t ox0, ox1, ix0, c;
    size_t esize;
    __m512i bias;
    const mlrc_q8_stage16 *st;
    const mlrc_q8_output *out;
    char *row_out, *row_out2; /* row_out2: the next output row, when a pair is done (else NULL) */
    const __m512i (*w)[2];  /* [kx][v] */
    const __m512i (*w2)[2]; /* the same weights one row down: the next output row's, from the same columns */
    __m512i (*col)[2];
    __m128i zfill;
    __m512i zcol, idx;
} segment;

__attribute__((always_inline)) DW_TARGET static inline void dw_segment(const segment *s, const int32_t kw,
                                                                         const int32_t nv, const int pair) {
    const mlrc_conv_geometry *g = s->g;
    const int32_t C = g->in_c, sw = g->stride_w, ncol = (s->ox1 - 1 - s->ox0) * sw + kw;
    for (int32_t j = 0; j < ncol; j++) {
        const int32_t ix = s->ix0 + j;
        for (int32_t v = 0; v < nv; v++)
            s->col[j][v] = ix < 0 || ix >= g->in_w ? s->zcol : gather4(s->p[v], (size_t)ix * C, s->k[v], s->zfill, s->idx);
    }
    for (int32_t ox = s->ox0; ox < s->ox1; ox++) {
        const __m512i(*cw)[2] = s->col + (ox - s->ox0) * sw;
        __m512i acc = s->bias, acc2 = s->bias;
        for (int32_t kx = 0; kx < kw; kx++)
            for (int32_t v = 0; v < nv; v++) {
                acc = _mm512_dpbusd_epi32(acc, cw[kx][v], s->w[kx][v]);
                if (pair) acc2 = _mm512_dpbusd_epi32(acc2, cw[kx][v], s->w2[kx][v]);
            }
        const size_t at = ((size_t)ox * C + s->c) * s->esize;
        mlrc_q8_store16_avx512(s->st, acc, s->row_out + at);
        if (pair) mlrc_q8_store16_avx512(s->st, acc2, s->row_out2 + at);
    }
}

/* Channels [c, c + 16)'s weights as column vectors w[kx][v], lane row 4v + r holding kernel row 4v + r - shift
 * (zero outside the kernel): shift 0 for the output row itself, 1 for the second row of a pair. */
DW_TARGET static void weight_columns(const int8_t *weights, const mlrc_conv_geometry *g, int32_t c, __mmask16 lanes,
                                     int32_t shift, __m512i idx, __m512i w[DW_MAX_KW][2]) {
    const int32_t kh = g->kernel_h, kw = g->kernel_w, C = g->in_c;
    for (int32_t v = 0; v < (kh + 3) / 4; v++) {
        const uint8_t *p[4];
        __mmask16 k[4];
        for (int r = 0; r < 4; r++) {
            const int32_t ky = 4 * v + r - shift, inside = ky >= 0 && ky < kh;
            k[r] = inside ? lanes : 0;
            p[r] = (const uint8_t *)weights + (inside ? (size_t)ky * kw * C : 0);
        }
        for (int32_t kx = 0; kx < kw; kx++) w[kx][v] = gather4(p, (size_t)kx * C + c, k, _mm_setzero_si128(), idx);
    }
}

/* Whether output rows oy and oy + 1 are done together. */
static inline int pair_here(int pairs, int32_t oy, int32_t oy1) { return pairs && oy + 1 < oy1; }

/* Output rows [oy0, oy1). */
DW_TARGET static void dw_rows(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                              const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                              int32_t oy0, int32_t oy1) {
    const int32_t C = g->in_c, kh = g->kernel_h, kw = g->kernel_w, sw = g->stride_w, nv = (kh + 3) / 4;
    const int32_t blocks = (C + 15) / 16;
    const int32_t seg_px = (DW_SEG_COLS - kw) / sw + 1; /* output pixels per segment */
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const __m512i idx = interleave_index(), ones = _mm512_set1_epi8(1), zcol = _mm512_set1_epi8((char)zero);
    const __m128i zfill = _mm_set1_epi8((char)zero);
    /* Stride 1 with a spare row in the column vectors (k_h = 3, 5, 7): two output rows per pass over the columns,
     * the second with the weights shifted down one row. */
    const int pairs = g->stride_h == 1 && kh < 4 * nv;
    __m512i wq[DW_CHUNK][DW_MAX_KW][2], wq2[DW_CHUNK][DW_MAX_KW][2], bq[DW_CHUNK], col[DW_SEG_COLS][2];
    for (int32_t c0 = 0; c0 < blocks; c0 += DW_CHUNK) {
        const int32_t c1 = c0 + DW_CHUNK < blocks ? c0 + DW_CHUNK : blocks;
        /* The chunk's weights as column vectors, and bias - zero * (sum of each channel's weights). */
        for (int32_t b = c0; b < c1; b++) {
            const int32_t c = b * 16;
            const __mmask16 lanes = mlrc_avx512_lanes(C - c);
            weight_columns(weights, g, c, lanes, 0, idx, wq[b - c0]);
            if (pairs) weight_columns(weights, g, c, lanes, 1, idx, wq2[b - c0]);
            __m512i sum = _mm512_setzero_si512();
            for (int32_t kx = 0; kx < kw; kx++)
                for (int32_t v = 0; v < nv; v++) sum = _mm512_dpbusd_epi32(sum, ones, wq[b - c0][kx][v]);
            const __m512i bv = bias ? _mm512_maskz_loadu_epi32(lanes, bias + c) : _mm512_setzero_si512();
            bq[b - c0] = _mm512_sub_epi32(bv, _mm512_mullo_epi32(sum, _mm512_set1_epi32(zero)));
        }
        for (int32_t oy = oy0; oy < oy1; oy += 1 + pair_here(pairs, oy, oy1)) {
            const int pair = pair_here(pairs, oy, oy1);
            const int32_t iy0 = oy * g->stride_h - g->pad_top;
            char *row_out = (char *)output + (size_t)oy * g->out_w * C * esize;
            char *row_out2 = pair ? row_out + (size_t)g->out_w * C * esize : NULL;
            for (int32_t b = c0; b < c1; b++) {
                const int32_t c = b * 16;
                const __mmask16 lanes = mlrc_avx512_lanes(C - c);
                /* Each column vector's four input rows (+ c), and their lanes (none for padding rows). */
                const uint8_t *p[2][4];
                __mmask16 k[2][4];
                for (int32_t v = 0; v < nv; v++)
                    for (int r = 0; r < 4; r++) {
                        const int32_t iy = iy0 + 4 * v + r;
                        const int inside = 4 * v + r < kh + pair && iy >= 0 && iy < g->in_h;
                        k[v][r] = inside ? lanes : 0;
                        p[v][r] = input + (inside ? (size_t)iy * g->in_w * C : 0) + c;
                    }
                const mlrc_q8_stage16 st = mlrc_q8_stage16_at(scale, c, lanes, out);
                const __m512i bias_c = bq[b - c0];
                for (int32_t ox0 = 0; ox0 < g->out_w; ox0 += seg_px) {
                    const int32_t ox1 = ox0 + seg_px < g->out_w ? ox0 + seg_px : g->out_w;
                    const segment sg = {g, p, k, ox0, ox1, ox0 * sw - g->pad_left, c, esize, bias_c, &st, out,
                                        row_out, row_out2, wq[b - c0], wq2[b - c0], col, zfill, zcol, idx};
                    /* The common kernel shapes get loops the compiler unrolls, with the weights in registers. */
                    if (kw == 3 && nv == 1)
                        pair ? dw_segment(&sg, 3, 1, 1) : dw_segment(&sg, 3, 1, 0);
                    else if (kw == 5 && nv == 2)
                        pair ? dw_segment(&sg, 5, 2, 1) : dw_segment(&sg, 5, 2, 0);
                    else if (kw == 7 && nv == 2)
                        pair ? dw_segment(&sg, 7, 2, 1) : dw_segment(&sg, 7, 2, 0);
                    else if (kw == 1 && nv == 1)
                        pair ? dw_segment(&sg, 1, 1, 1) : dw_segment(&sg, 1, 1, 0);
                    else
                        dw_segment(&sg, kw, nv, pair);
                }
            }
        }
    }
}

void mlrc_q8_dwconv_vnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                         const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                         int32_t threads) {
    int nt = mlrc_threads_for(threads, g->out_h);
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        const int32_t oy0 = (int32_t)((int64_t)g->out_h * t / T), oy1 = (int32_t)((int64_t)g->out_h * (t + 1) / T);
        if (oy0 < oy1) dw_rows(g, input, in_zero, weights, bias, scale, out, output, oy0, oy1);
    }
}
#else
typedef int mlrc_q8_dwconv_vnni_unused; /* ISO C wants a declaration in every file */
#endif
