/* int8 depthwise convolution with AVX512-VNNI: vpdpbusd sums four uint8 x int8 products per int32 lane, so each
 * lane (one channel) takes four of its kernel taps at once: 64 products per instruction, against 16-32 per three
 * or four instructions on the int16 path.
 *
 * The four taps of a lane are four kernel rows of one kernel column, so the interleaved vectors depend only on the
 * input column: for each output row they are built once per input column ("column vectors") and then read by
 * every output pixel whose window covers that column (k_w of them at stride 1). Channels go 64 at a time (a
 * chunk): one 64-byte load per window row, and two rounds of in-lane unpacks (bytes, then words) interleave four
 * rows into four vectors X_k whose lane 4L + j holds channel 16L + 4k + j. The output stage undoes that order for
 * free: the saturating packs that narrow X_0..X_3's results to bytes interleave the same way in reverse, so a
 * pixel's 64 channels leave as one 64-byte store. Weights, bias and scales take the same lane order once per
 * chunk. Kernels of 5-8 rows take two column vectors per column. At stride 1 the vectors' spare row (k_h = 3, 5,
 * 7 in 4 or 8 rows) serves the next output row too, with the weights shifted down a row, so each column is built
 * once per two output rows.
 *
 * The zero point comes off per channel afterwards (sum (x - z) w = sum x w - z sum w, exact in int32), so padding
 * reads zero-point bytes: a padded column is a broadcast, a padded row a masked load that touches nothing, and
 * borders run the same code as the interior. Rows past k_h have zero weights. Channels past the last full chunk
 * (C % 64) take the 16-channel block path further down, which wastes no lanes on them. Needs AVX-512 BW + VNNI,
 * and VBMI for that tail path. */
#if defined(__x86_64__)
#include "x86/q8_output_avx512.h"
#include "q8_dwconv_rows.h"
#include "mlrc_ukernels.h"

#define DW_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni")))

enum {
    DW_MAX_KH = 8, /* two column vectors per column */
    DW_MAX_KW = 8,
    DW_MAX_STRIDE = 4,
    DW_SEG_COLS = 64, /* column vector groups held at once (16 KB): 64 columns, or 32 of 8-row kernels */
    DW_CHUNK = 64     /* channels per chunk: four vectors of 16 lanes */
};

int mlrc_q8_dwconv_64c4_avx512vnni_suits(const mlrc_conv_geometry *g, uint32_t features) {
    return g->kernel_h <= DW_MAX_KH && g->kernel_w <= DW_MAX_KW && g->stride_w <= DW_MAX_STRIDE &&
           (g->in_c % DW_CHUNK == 0 || (features & MLRC_CPU_AVX512VBMI)); /* the tail blocks' vpermb */
}

/* Rows r0..r3 of 64 channels to x[k], lane 4L + j = the four rows' bytes of channel 16L + 4k + j. */
DW_TARGET static inline void interleave4(__m512i r0, __m512i r1, __m512i r2, __m512i r3, __m512i x[4]) {
    const __m512i a = _mm512_unpacklo_epi8(r0, r1), b = _mm512_unpackhi_epi8(r0, r1);
    const __m512i c = _mm512_unpacklo_epi8(r2, r3), d = _mm512_unpackhi_epi8(r2, r3);
    x[0] = _mm512_unpacklo_epi16(a, c);
    x[1] = _mm512_unpackhi_epi16(a, c);
    x[2] = _mm512_unpacklo_epi16(b, d);
    x[3] = _mm512_unpackhi_epi16(b, d);
}

/* Four rows at p[r] + off (rows with an empty mask take `fill` and read nothing), interleaved. */
DW_TARGET static inline void load4(const uint8_t *const p[4], size_t off, const __mmask64 k[4], __m512i fill,
                                   __m512i x[4]) {
    interleave4(_mm512_mask_loadu_epi8(fill, k[0], p[0] + off), _mm512_mask_loadu_epi8(fill, k[1], p[1] + off),
                _mm512_mask_loadu_epi8(fill, k[2], p[2] + off), _mm512_mask_loadu_epi8(fill, k[3], p[3] + off), x);
}

/* The chunk's output stage: per-lane constants in the interleaved lane order. */
typedef struct chunk_stage {
    __m512 scale[4], lo, hi; /* lo, hi: the clamp bounds relative to the zero point */
    __m512i zero16;          /* the output zero point in int16 lanes */
    __mmask64 lanes;         /* the chunk's channels, in natural order */
    int32_t kind, act;
    const uint8_t *lut;
} chunk_stage;

/* One pixel's 64 channels from acc[k] (+ bias already). uint8: the same float operations as q8_requantize.h, then
 * packs (exact: the values are within +-255), the zero point added in int16, packus: bytes in natural order. */
__attribute__((always_inline)) DW_TARGET static inline void store_pixel(const chunk_stage *st, const __m512i acc[4],
                                                                        void *dst) {
    if (st->kind == MLRC_Q8_OUT_F32) {
        __m512 f[4];
        for (int k = 0; k < 4; k++) f[k] = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[k]), st->scale[k]);
        /* 128-bit lane L of f[k] holds channels 16L + 4k..4k+3: a 4x4 transpose of lanes gives block L */
        const __m512 t0 = _mm512_shuffle_f32x4(f[0], f[1], 0x44), t1 = _mm512_shuffle_f32x4(f[0], f[1], 0xEE);
        const __m512 t2 = _mm512_shuffle_f32x4(f[2], f[3], 0x44), t3 = _mm512_shuffle_f32x4(f[2], f[3], 0xEE);
        const __m512 blk[4] = {_mm512_shuffle_f32x4(t0, t2, 0x88), _mm512_shuffle_f32x4(t0, t2, 0xDD),
                               _mm512_shuffle_f32x4(t1, t3, 0x88), _mm512_shuffle_f32x4(t1, t3, 0xDD)};
        for (int L = 0; L < 4; L++) {
            const __mmask16 m = (__mmask16)(st->lanes >> (16 * L));
            if (m) _mm512_mask_storeu_ps((float *)dst + 16 * L, m, mlrc_avx512_activate(blk[L], st->act));
        }
        return;
    }
    __m512i q[4];
    for (int k = 0; k < 4; k++) {
        const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[k]), st->scale[k]);
        q[k] = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, st->lo), st->hi));
    }
    const __m512i w01 = _mm512_add_epi16(_mm512_packs_epi32(q[0], q[1]), st->zero16);
    const __m512i w23 = _mm512_add_epi16(_mm512_packs_epi32(q[2], q[3]), st->zero16);
    const __m512i bytes = _mm512_packus_epi16(w01, w23);
    if (st->lut) {
        uint8_t tmp[64];
        _mm512_storeu_si512(tmp, bytes);
        for (int j = 0; j < 64; j++) tmp[j] = st->lut[tmp[j]];
        _mm512_mask_storeu_epi8(dst, st->lanes, _mm512_loadu_si512(tmp));
        return;
    }
    _mm512_mask_storeu_epi8(dst, st->lanes, bytes);
}

/* Column vectors of one output row segment: col[(j * nv + v) * 4 + k] is input column ix0 + j, window rows
 * 4v..4v+3, vector k. */
typedef struct columns {
    const mlrc_conv_geometry *g;
    const uint8_t *const (*p)[4]; /* per row group: its four input rows (+ the chunk's first channel) */
    const __mmask64 (*k)[4];      /* and their lanes (the chunk's channels; none for padding rows) */
    __m512i zcol;
} columns;

__attribute__((always_inline)) DW_TARGET static inline void build_columns(const columns *cs, int32_t ix0, int32_t ncol,
                                                                          const int32_t nv, __m512i *col) {
    /* local copies: the column stores could otherwise alias them, forcing reloads */
    const int32_t in_w = cs->g->in_w;
    const size_t C = (size_t)cs->g->in_c;
    const __m512i zcol = cs->zcol;
    const uint8_t *p[2][4];
    __mmask64 k[2][4];
    for (int32_t v = 0; v < nv; v++)
        for (int r = 0; r < 4; r++) p[v][r] = cs->p[v][r], k[v][r] = cs->k[v][r];
    for (int32_t j = 0; j < ncol; j++) {
        const int32_t ix = ix0 + j;
        for (int32_t v = 0; v < nv; v++) {
            __m512i *dst = col + (j * nv + v) * 4;
            if (ix < 0 || ix >= in_w)
                dst[0] = dst[1] = dst[2] = dst[3] = zcol;
            else
                load4(p[v], (size_t)ix * C, k[v], zcol, dst);
        }
    }
}

/* One segment of an output row: its pixels, from the columns already built. */
typedef struct segment {
    int32_t ox0, ox1, sw;
    size_t pixel;        /* bytes per output pixel */
    const __m512i *bias; /* [4] */
    const chunk_stage *st;
    char *row_out, *row_out2;  /* the chunk's first channel in the output row; row_out2: the next row of a pair */
    const __m512i (*w)[2][4];  /* [kx][v][k] */
    const __m512i (*w2)[2][4]; /* the same weights one row down: the next output row's, from the same columns */
    const __m512i *col;
} segment;

__attribute__((always_inline)) DW_TARGET static inline void dw_segment(const segment *s, const int32_t kw,
                                                                       const int32_t nv, const int pair) {
    /* local copies of everything the loop reads: the output stores (char pointers) could alias the originals */
    const chunk_stage st = *s->st;
    const __m512i *col = s->col;
    const __m512i b0 = s->bias[0], b1 = s->bias[1], b2 = s->bias[2], b3 = s->bias[3];
    const int32_t ox0 = s->ox0, ox1 = s->ox1, step = s->sw * nv * 4;
    const size_t pixel = s->pixel;
    char *row_out = s->row_out, *row_out2 = s->row_out2;
    __m512i w[DW_MAX_KW][2][4], w2[DW_MAX_KW][2][4];
    for (int32_t kx = 0; kx < kw; kx++)
        for (int32_t v = 0; v < nv; v++)
            for (int k = 0; k < 4; k++) {
                w[kx][v][k] = s->w[kx][v][k];
                if (pair) w2[kx][v][k] = s->w2[kx][v][k];
            }
    for (int32_t ox = ox0; ox < ox1; ox++) {
        const __m512i *cw = col + (size_t)(ox - ox0) * step;
        __m512i acc[4] = {b0, b1, b2, b3}, acc2[4] = {b0, b1, b2, b3};
        for (int32_t kx = 0; kx < kw; kx++)
            for (int32_t v = 0; v < nv; v++)
                for (int k = 0; k < 4; k++) {
                    const __m512i x = cw[(kx * nv + v) * 4 + k];
                    acc[k] = _mm512_dpbusd_epi32(acc[k], x, w[kx][v][k]);
                    if (pair) acc2[k] = _mm512_dpbusd_epi32(acc2[k], x, w2[kx][v][k]);
                }
        store_pixel(&st, acc, row_out + (size_t)ox * pixel);
        if (pair) store_pixel(&st, acc2, row_out2 + (size_t)ox * pixel);
    }
}

/* The chunk's weights as column vectors w[kx][v][k], row 4v + r holding kernel row 4v + r - shift (zero outside
 * the kernel): shift 0 for the output row itself, 1 for the second row of a pair. */
DW_TARGET static void weight_columns(const int8_t *weights, const mlrc_conv_geometry *g, int32_t c0, __mmask64 lanes,
                                     int32_t shift, __m512i w[DW_MAX_KW][2][4]) {
    const int32_t kh = g->kernel_h, kw = g->kernel_w, C = g->in_c;
    for (int32_t v = 0; v < (kh + 3) / 4; v++) {
        const uint8_t *p[4];
        int inside[4];
        __mmask64 k[4];
        kernel_rows(g, weights, v, shift, c0, p, inside);
        for (int r = 0; r < 4; r++) k[r] = inside[r] ? lanes : 0;
        for (int32_t kx = 0; kx < kw; kx++) load4(p, (size_t)kx * C, k, _mm512_setzero_si512(), w[kx][v]);
    }
}

/* ---- The channel tail (C not a multiple of 64): 16-channel blocks, each column vector gathered on its own. ----
 * Per output row and block, each input column's four rows (16 channels each) go into one zmm and one vpermb
 * (VBMI) puts channel c's four bytes in lane c; every pixel's 16 channels leave through the 16-lane output stage.
 * Up to four blocks share one pass: their weights are interleaved once per row range. */
enum { BLOCK_CHUNK = 4 };

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
typedef struct block_segment {
    const mlrc_conv_geometry *g;
    const uint8_t *const (*p)[4]; /* per column vector: its four input rows (+ channel offset) */
    const __mmask16 (*k)[4];      /* and their lanes */
    int32_t ox0, ox1, ix0, c;
    size_t esize;
    __m512i bias;
    const mlrc_q8_stage16 *st;
    const mlrc_q8_output *out;
    char *row_out, *row_out2; /* row_out2: the next output row, when a pair is done (else NULL) */
    const __m512i (*w)[2];    /* [kx][v] */
    const __m512i (*w2)[2];   /* the same weights one row down: the next output row's, from the same columns */
    __m512i (*col)[2];
    __m128i zfill;
    __m512i zcol, idx;
} block_segment;

__attribute__((always_inline)) DW_TARGET static inline void block_segment_run(const block_segment *s, const int32_t kw,
                                                                              const int32_t nv, const int pair) {
    const mlrc_conv_geometry *g = s->g;
    const int32_t C = g->in_c, sw = g->stride_w, ncol = (s->ox1 - 1 - s->ox0) * sw + kw;
    for (int32_t j = 0; j < ncol; j++) {
        const int32_t ix = s->ix0 + j;
        for (int32_t v = 0; v < nv; v++)
            s->col[j][v] =
                ix < 0 || ix >= g->in_w ? s->zcol : gather4(s->p[v], (size_t)ix * C, s->k[v], s->zfill, s->idx);
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
DW_TARGET static void block_weight_columns(const int8_t *weights, const mlrc_conv_geometry *g, int32_t c,
                                           __mmask16 lanes, int32_t shift, __m512i idx, __m512i w[DW_MAX_KW][2]) {
    const int32_t kh = g->kernel_h, kw = g->kernel_w, C = g->in_c;
    for (int32_t v = 0; v < (kh + 3) / 4; v++) {
        const uint8_t *p[4];
        int inside[4];
        __mmask16 k[4];
        kernel_rows(g, weights, v, shift, 0, p, inside);
        for (int r = 0; r < 4; r++) k[r] = inside[r] ? lanes : 0;
        for (int32_t kx = 0; kx < kw; kx++) w[kx][v] = gather4(p, (size_t)kx * C + c, k, _mm_setzero_si128(), idx);
    }
}

/* Output rows [oy0, oy1), 16-channel blocks [b0, b1). */
DW_TARGET static void block_rows(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                                 const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                                 int32_t oy0, int32_t oy1, int32_t b0, int32_t b1) {
    const int32_t C = g->in_c, kh = g->kernel_h, kw = g->kernel_w, sw = g->stride_w, nv = (kh + 3) / 4;
    const int32_t seg_px = (DW_SEG_COLS - kw) / sw + 1; /* output pixels per segment */
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const __m512i idx = interleave_index(), ones = _mm512_set1_epi8(1), zcol = _mm512_set1_epi8((char)zero);
    const __m128i zfill = _mm_set1_epi8((char)zero);
    /* Stride 1 with a spare row in the column vectors (k_h = 3, 5, 7): two output rows per pass over the columns,
     * the second with the weights shifted down one row. */
    const int pairs = g->stride_h == 1 && kh < 4 * nv;
    __m512i wq[BLOCK_CHUNK][DW_MAX_KW][2], wq2[BLOCK_CHUNK][DW_MAX_KW][2], bq[BLOCK_CHUNK], col[DW_SEG_COLS][2];
    for (int32_t c0 = b0; c0 < b1; c0 += BLOCK_CHUNK) {
        const int32_t c1 = c0 + BLOCK_CHUNK < b1 ? c0 + BLOCK_CHUNK : b1;
        /* The chunk's weights as column vectors, and bias - zero * (sum of each channel's weights). */
        for (int32_t b = c0; b < c1; b++) {
            const int32_t c = b * 16;
            const __mmask16 lanes = mlrc_avx512_lanes(C - c);
            block_weight_columns(weights, g, c, lanes, 0, idx, wq[b - c0]);
            if (pairs) block_weight_columns(weights, g, c, lanes, 1, idx, wq2[b - c0]);
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
                int inside[2][4];
                __mmask16 k[2][4];
                window_rows(g, input, iy0, nv, pair, c, p, inside);
                for (int32_t v = 0; v < nv; v++)
                    for (int r = 0; r < 4; r++) k[v][r] = inside[v][r] ? lanes : 0;
                const mlrc_q8_stage16 st = mlrc_q8_stage16_at(scale, c, lanes, out);
                const __m512i bias_c = bq[b - c0];
                for (int32_t ox0 = 0; ox0 < g->out_w; ox0 += seg_px) {
                    const int32_t ox1 = ox0 + seg_px < g->out_w ? ox0 + seg_px : g->out_w;
                    const block_segment sg = {g,        p,          k,           ox0, ox1,   ox0 * sw - g->pad_left,
                                              c,        esize,      bias_c,      &st, out,   row_out,
                                              row_out2, wq[b - c0], wq2[b - c0], col, zfill, zcol,
                                              idx};
                    DW_SHAPES(block_segment_run, &sg, kw, nv, pair);
                }
            }
        }
    }
}

/* Output rows [oy0, oy1), chunks [ch0, ch1). */
DW_TARGET static void dw_rows(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                              const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                              int32_t oy0, int32_t oy1, int32_t ch0, int32_t ch1) {
    const int32_t C = g->in_c, kh = g->kernel_h, kw = g->kernel_w, sw = g->stride_w, nv = (kh + 3) / 4;
    const int32_t seg_cols = DW_SEG_COLS / nv;       /* the column vectors of a segment fill 16 KB */
    const int32_t seg_px = (seg_cols - kw) / sw + 1; /* output pixels per segment */
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const __m512i ones = _mm512_set1_epi8(1), zcol = _mm512_set1_epi8((char)zero);
    /* Stride 1 with a spare row in the column vectors (k_h = 3, 5, 7): two output rows per pass over the columns,
     * the second with the weights shifted down one row. */
    const int pairs = g->stride_h == 1 && kh < 4 * nv;
    __m512i wq[DW_MAX_KW][2][4], wq2[DW_MAX_KW][2][4], bq[4], col[DW_SEG_COLS * 4];
    for (int32_t ch = ch0; ch < ch1; ch++) {
        const int32_t c0 = ch * DW_CHUNK, n = C - c0 < DW_CHUNK ? C - c0 : DW_CHUNK;
        const __mmask64 lanes = n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
        weight_columns(weights, g, c0, lanes, 0, wq);
        if (pairs) weight_columns(weights, g, c0, lanes, 1, wq2);
        /* bias - zero * (sum of each channel's weights), and the scales, in the interleaved lane order */
        chunk_stage st;
        for (int k = 0; k < 4; k++) {
            int32_t b[16];
            float s[16];
            for (int i = 0; i < 16; i++) {
                const int32_t c = lane_channel(k, i);
                b[i] = c < n && bias ? bias[c0 + c] : 0;
                s[i] = c < n ? scale[c0 + c] : 0.0f;
            }
            __m512i sum = _mm512_setzero_si512();
            for (int32_t kx = 0; kx < kw; kx++)
                for (int32_t v = 0; v < nv; v++) sum = _mm512_dpbusd_epi32(sum, ones, wq[kx][v][k]);
            bq[k] = _mm512_sub_epi32(_mm512_loadu_si512(b), _mm512_mullo_epi32(sum, _mm512_set1_epi32(zero)));
            st.scale[k] = _mm512_loadu_ps(s);
        }
        st.lo = _mm512_set1_ps((float)(out->lo - out->zero));
        st.hi = _mm512_set1_ps((float)(out->hi - out->zero));
        st.zero16 = _mm512_set1_epi16((short)out->zero);
        st.lanes = lanes;
        st.kind = out->kind;
        st.act = out->act;
        st.lut = out->lut;
        for (int32_t oy = oy0; oy < oy1; oy += 1 + pair_here(pairs, oy, oy1)) {
            const int pair = pair_here(pairs, oy, oy1);
            const int32_t iy0 = oy * g->stride_h - g->pad_top;
            char *row_out = (char *)output + ((size_t)oy * g->out_w * C + c0) * esize;
            char *row_out2 = pair ? row_out + (size_t)g->out_w * C * esize : NULL;
            /* Each row group's four input rows (+ the chunk's first channel), and their lanes. */
            const uint8_t *p[2][4];
            int inside[2][4];
            __mmask64 k[2][4];
            window_rows(g, input, iy0, nv, pair, c0, p, inside);
            for (int32_t v = 0; v < nv; v++)
                for (int r = 0; r < 4; r++) k[v][r] = inside[v][r] ? lanes : 0;
            const columns cs = {g, p, k, zcol};
            for (int32_t ox0 = 0; ox0 < g->out_w; ox0 += seg_px) {
                const int32_t ox1 = ox0 + seg_px < g->out_w ? ox0 + seg_px : g->out_w;
                const int32_t ix0 = ox0 * sw - g->pad_left, ncol = (ox1 - 1 - ox0) * sw + kw;
                if (nv == 1)
                    build_columns(&cs, ix0, ncol, 1, col);
                else
                    build_columns(&cs, ix0, ncol, 2, col);
                const segment sg = {ox0, ox1, sw, (size_t)C * esize, bq, &st, row_out, row_out2, wq, wq2, col};
                DW_SHAPES(dw_segment, &sg, kw, nv, pair);
            }
        }
    }
}

/* Work unit u of rows [oy0, oy1): a full 64-channel chunk, or (the last unit, when C % 64 != 0) the tail blocks. */
static void run_unit(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                     const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t oy0,
                     int32_t oy1, int32_t u0, int32_t u1) {
    const int32_t full = g->in_c / DW_CHUNK;
    if (u0 < full) dw_rows(g, input, zero, weights, bias, scale, out, output, oy0, oy1, u0, u1 < full ? u1 : full);
    if (u1 > full)
        block_rows(g, input, zero, weights, bias, scale, out, output, oy0, oy1, full * 4, (g->in_c + 15) / 16);
}

void mlrc_q8_dwconv_64c4_avx512vnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                    const int8_t *weights, const int32_t *bias, const float *scale,
                                    const mlrc_q8_output *out, void *output, int32_t oy0, int32_t oy1, int32_t u0,
                                    int32_t u1, void *scratch) {
    (void)scratch;
    run_unit(g, input, in_zero, weights, bias, scale, out, output, oy0, oy1, u0, u1);
}
#else
typedef int mlrc_q8_dwconv_avx512vnni_unused; /* ISO C wants a declaration in every file */
#endif
