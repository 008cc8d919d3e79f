/* int8 GEMM for AVX2. Activations are widened once to int16 with the zero point subtracted (a - zero lies in
 * [-255, 255]), weights are widened from the packed quads on the fly, and vpmaddwd multiplies pairs into exact
 * int32 sums: no int16 saturation can occur (unlike vpmaddubsw on full-range uint8 x int8), so weights keep all
 * 8 bits. Micro-kernel: 6 rows x 8 columns, 12 accumulators each holding two k-pairs per column, reduced by one
 * hadd at the end; blocks of fewer rows (the last of a map) run a tile of their own height, not a 6-row tile.
 * Blocking: chunks of 24 rows are widened into the thread's scratch, interleaved by quad (a tile's six
 * broadcasts are fixed offsets from one pointer), then every column panel passes over the chunk while it is in
 * L1, with its bias and scale loaded once per chunk and the next panel's weights prefetched; a range of at most
 * 60 rows (a 7x7 map) is one chunk, so that its weights, the larger operand there, stream through once. The
 * uint8 output stage runs on two rows at a time and is kept short, since on layers with K of 16-40 it costs as
 * much as the products: the bias starts the accumulators, the columns stay in the order the hadd leaves them
 * (scales loaded in that order, one word interleave restores it on the bytes), and the lower clamp is a byte
 * max; a table activation follows over each chunk's finished rows. */
#if defined(__x86_64__)
#include <string.h>
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"
#include "q8_requantize.h"
#include "window.h"

#define MR 6
#define INLINE __attribute__((always_inline)) inline

/* Rows [m, m + rows) of A as int16 (a - zero), zero-padded to kp, in blocks of 6 rows interleaved by quad:
 * block b holds [kq][6][4], so a tile's six broadcasts per quad are fixed offsets from one pointer (rows a block
 * lacks are never read). */
MLRC_AVX2 static void pack_rows(int32_t rows, int32_t K, int32_t kp, const uint8_t *A, int32_t lda, int32_t zero,
                                int16_t *dst) {
    const __m256i z = _mm256_set1_epi16((int16_t)zero);
    for (int r = 0; r < rows; r++) {
        const uint8_t *src = A + (size_t)r * lda;
        int16_t *d = dst + (size_t)(r / MR) * MR * kp + (size_t)(r % MR) * 4; /* quad q at d + q * MR * 4 */
        int32_t k = 0;
        for (; k + 16 <= K; k += 16) {
            const __m256i x = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + k))), z);
            const __m128i lo = _mm256_castsi256_si128(x), hi = _mm256_extracti128_si256(x, 1);
            int16_t *q = d + (size_t)(k / 4) * MR * 4;
            _mm_storel_epi64((__m128i *)q, lo);
            _mm_storeh_pd((double *)(q + MR * 4), _mm_castsi128_pd(lo));
            _mm_storel_epi64((__m128i *)(q + 2 * MR * 4), hi);
            _mm_storeh_pd((double *)(q + 3 * MR * 4), _mm_castsi128_pd(hi));
        }
        /* the rest of K: 8 and then 4 at a time (K = 24, 40, 28 stems: not a scalar loop per element) */
        const __m128i z8 = _mm256_castsi256_si128(z);
        for (; k + 8 <= K; k += 8) {
            const __m128i x = _mm_sub_epi16(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(src + k))), z8);
            int16_t *q = d + (size_t)(k / 4) * MR * 4;
            _mm_storel_epi64((__m128i *)q, x);
            _mm_storeh_pd((double *)(q + MR * 4), _mm_castsi128_pd(x));
        }
        for (; k + 4 <= K; k += 4) {
            int32_t four;
            memcpy(&four, src + k, sizeof four);
            const __m128i x = _mm_sub_epi16(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(four)), z8);
            _mm_storel_epi64((__m128i *)(d + (size_t)(k / 4) * MR * 4), x);
        }
        for (; k < kp; k++) d[(size_t)(k / 4) * MR * 4 + k % 4] = k < K ? (int16_t)((int32_t)src[k] - zero) : 0;
    }
}

/* One panel's output stage, loaded once per chunk. fast: uint8 output over all 8 columns, the two-row path below,
 * with the bias starting the accumulators (in the first slot of each column's pair) and the scales in the order
 * the reduction leaves the columns in (0 1 4 5 | 2 3 6 7); else mlrc_q8_store8_avx2 per row. */
typedef struct stage {
    __m256i bias_lo, bias_hi; /* accumulator starts: columns 0-3 and 4-7 as (bias, 0) pairs; zero unless fast */
    __m256 scale, hi;
    __m256i zero16, lo8;
    int fast;
} stage;

MLRC_AVX2 static INLINE void stage_load(stage *s, int32_t n0, int32_t cols, const int32_t *bias, const float *scale,
                                        const mlrc_q8_output *out) {
    s->fast = out->kind == MLRC_Q8_OUT_U8 && cols == 8;
    s->bias_lo = s->bias_hi = _mm256_setzero_si256();
    if (!s->fast) return;
    if (bias) {
        s->bias_lo = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(bias + n0)));
        s->bias_hi = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(bias + n0 + 4)));
    }
    s->scale = _mm256_permutevar8x32_ps(_mm256_loadu_ps(scale + n0), _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
    s->hi = _mm256_set1_ps((float)(out->hi - out->zero));
    s->zero16 = _mm256_set1_epi16((int16_t)out->zero);
    s->lo8 = _mm256_set1_epi8((char)out->lo);
}

/* round(min((acc + bias) * scale, hi - zero)), the bias already in acc: the U8 stage's multiply and upper clamp;
 * the lower clamp comes on the bytes (see store2). */
MLRC_AVX2 static INLINE __m256i stage_int(const stage *s, __m256i acc) {
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), s->scale), s->hi));
}

/* Two rows' 8 uint8 results before any table, from sums in the order 0 1 4 5 | 2 3 6 7: rows a and b (b may
 * repeat a). Rounding commutes with clamping to integer bounds, so the lower clamp can follow it: the int16 pack
 * saturates values far below the range downwards (cvtps2dq gives INT32_MIN past the int32 range), the zero point
 * is added with saturation, the byte pack clamps at 0 and the byte max at lo. The word interleave of the two
 * halves puts the columns back in order. */
MLRC_AVX2 static INLINE void store2(const stage *s, __m256i a, __m256i b, uint8_t *ya, uint8_t *yb, int two) {
    const __m256i p16 = _mm256_adds_epi16(_mm256_packs_epi32(stage_int(s, a), stage_int(s, b)), s->zero16);
    const __m256i u8 = _mm256_packus_epi16(p16, p16); /* lane 0: a0 a1 a4 a5 b0 b1 b4 b5, lane 1: a2 a3 a6 a7 ... */
    const __m128i ab = _mm_max_epu8(_mm_unpacklo_epi16(_mm256_castsi256_si128(u8), _mm256_extracti128_si256(u8, 1)),
                                    _mm256_castsi256_si128(s->lo8));
    _mm_storel_epi64((__m128i *)ya, ab);
    if (two) _mm_storeh_pd((double *)yb, _mm_castsi128_pd(ab));
}

/* Rows x 8 columns of a tile from its accumulators, lo holding columns 0-3 as (k0+k1, k2+k3) pairs and hi columns
 * 4-7: hadd then a lane permute gives c0..c7, then the output stage (without its table: see mlrc_avx2_table_rows). */
MLRC_AVX2 static INLINE void store_tile(const int rows, const __m256i *lo, const __m256i *hi, const stage *s,
                                        int32_t n0, int32_t cols, const mlrc_q8_gemm_args *a, char *C) {
    __m256i sum[MR];
    for (int r = 0; r < rows; r++) sum[r] = _mm256_hadd_epi32(lo[r], hi[r]); /* c0 c1 c4 c5 | c2 c3 c6 c7 */
    if (s->fast) {
        for (int r = 0; r < rows; r += 2)
            store2(s, sum[r], sum[r + 1 < rows ? r + 1 : r], (uint8_t *)(C + (size_t)r * a->row_bytes) + n0,
                   (uint8_t *)(C + (size_t)(r + 1) * a->row_bytes) + n0, r + 1 < rows);
    } else {
        for (int r = 0; r < rows; r++)
            mlrc_q8_store8_avx2(_mm256_permute4x64_epi64(sum[r], 0xD8), n0, cols, a->bias, a->scale, a->out,
                                C + (size_t)r * a->row_bytes);
    }
}

/* R rows (a constant where inlined) x 8 columns over all of K. */
MLRC_AVX2 static INLINE void tile(const int R, int32_t kq, int32_t kp, const int16_t *ap, const int8_t *bp, int32_t n0,
                                  int32_t cols, const stage *s, const mlrc_q8_gemm_args *g, char *C) {
    __m256i lo[MR], hi[MR];
    for (int r = 0; r < R; r++) lo[r] = s->bias_lo, hi[r] = s->bias_hi;
    for (int32_t q = 0; q < kq; q++) {
        const int8_t *w = bp + (size_t)q * 32;
        const int16_t *a = ap + (size_t)q * MR * 4; /* the block's quad q: 6 rows x 4 */
        const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w));
        const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 16)));
        for (int r = 0; r < R; r++) {
            int64_t quad;
            memcpy(&quad, a + 4 * r, sizeof quad);
            const __m256i x = _mm256_set1_epi64x(quad);
            lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(x, w0));
            hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(x, w1));
        }
    }
    store_tile(R, lo, hi, s, n0, cols, g, C);
}

MLRC_AVX2 static void tile_any(int32_t rows, int32_t kq, int32_t kp, const int16_t *ap, const int8_t *bp, int32_t n0,
                               int32_t cols, const stage *s, const mlrc_q8_gemm_args *g, char *C) {
    switch (rows) {
#define TILE_CASE(R)                                                                                                   \
    case R: tile(R, kq, kp, ap, bp, n0, cols, s, g, C); break;
        TILE_CASE(6)
        TILE_CASE(5)
        TILE_CASE(4)
        TILE_CASE(3)
        TILE_CASE(2)
        TILE_CASE(1)
#undef TILE_CASE
    default: break;
    }
}

MLRC_AVX2 void mlrc_q8_gemm_range_6x8c4_avx2(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0,
                                             int32_t nb1, int thread) {
    int16_t *pack = (int16_t *)((char *)g->scratch + g->per_thread * (size_t)thread);
    const int32_t kq = (g->K + 3) / 4, kp = kq * 4;
    const int32_t chunk_blocks = rb1 - rb0 <= MLRC_Q8_PACK_ROWS / MR ? rb1 - rb0 : MLRC_Q8_CHUNK_ROWS / MR;
    mlrc_avx2_table_pass table;
    mlrc_avx2_table_pass_init(&table, g->out);
    mlrc_q8_gemm_args plain_args = *g; /* the tiles' output stage: the table comes after each chunk */
    plain_args.out = &table.plain;
    const mlrc_q8_gemm_args *ga = &plain_args;
    const int32_t c0 = nb0 * 8, c1 = nb1 * 8 < g->N ? nb1 * 8 : g->N;
    for (int32_t chunk = rb0; chunk < rb1; chunk += chunk_blocks) {
        const int32_t chunk_end = chunk + chunk_blocks < rb1 ? chunk + chunk_blocks : rb1;
        const int32_t m0 = chunk * MR, m1 = chunk_end * MR < g->M ? chunk_end * MR : g->M;
        pack_rows(m1 - m0, g->K, kp, g->A + (size_t)m0 * g->lda, g->lda, g->zero, pack);
        for (int32_t nb = nb0; nb < nb1; nb++) {
            const int32_t n0 = nb * 8, cols = g->N - n0 < 8 ? g->N - n0 : 8;
            stage s;
            stage_load(&s, n0, cols, g->bias, g->scale, ga->out);
            const int8_t *bp = g->B + (size_t)nb * kq * 32;
            /* the next panel's weights on their way while this one computes: in a net they come cold from the
             * model file, and a small map gives each panel too little work to hide the misses */
            if (nb + 1 < nb1)
                for (int32_t q = 0; q < kq; q += 2)
                    _mm_prefetch((const char *)(bp + (size_t)(kq + q) * 32), _MM_HINT_T0);
            for (int32_t m = m0; m < m1; m += MR)
                tile_any(m1 - m < MR ? m1 - m : MR, kq, kp, pack + (size_t)(m - m0) * kp, bp, n0, cols, &s, ga,
                         (char *)g->C + (size_t)m * g->row_bytes);
        }
        mlrc_avx2_table_rows(&table, (char *)g->C + (size_t)m0 * g->row_bytes, g->row_bytes, m1 - m0, c0, c1);
    }
}

/* ---- Convolution through tap pointers (in_c / groups a multiple of 4, at most 64 taps) ----
 * The prepare step widens the whole input once to int16 (x - zero) in scratch, followed by one row of zeros that
 * padding taps point at; every block of 6 output pixels then builds a table of where each pixel's taps read, and
 * each group's panels run the GEMM tile's loop over it: no im2col rows, and no row widened again per group (the
 * im2col path widens every gathered row once per group, for a group's 8 or 16 columns). */
enum { CONV_MAX_TAPS = 64 };

static size_t conv_input_elems(const mlrc_conv_geometry *g) { return (size_t)g->in_h * g->in_w * g->in_c; }

size_t mlrc_q8_conv_indirect_avx2_scratch_bytes(const mlrc_conv_geometry *g) {
    return (conv_input_elems(g) + (size_t)g->in_c + 16) * sizeof(int16_t);
}

MLRC_AVX2 void mlrc_q8_conv_indirect_prepare_6x8c4_avx2(const mlrc_conv_geometry *g, const uint8_t *input,
                                                        int32_t in_zero, const int8_t *weights, const int32_t *bias,
                                                        void *scratch) {
    (void)weights, (void)bias;
    const size_t n = conv_input_elems(g);
    int16_t *x = (int16_t *)scratch;
    const __m256i z = _mm256_set1_epi16((int16_t)in_zero);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(x + i),
                            _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(input + i))), z));
    for (; i < n; i++) x[i] = (int16_t)((int32_t)input[i] - in_zero);
    memset(x + n, 0, ((size_t)g->in_c + 16) * sizeof(int16_t));
}

/* Rows of one block x one panel of 8 columns: taps x (cg / 4) quads read through ptr[r * 64 + tap] + off (rows
 * past the block's repeat its last pixel, computed and never stored). */
MLRC_AVX2 static void conv_tile(int32_t rows, const int16_t *const *ptr, int32_t taps, int32_t qpt, size_t off,
                                const int8_t *panel, int32_t n0, int32_t cols, const stage *s,
                                const mlrc_q8_gemm_args *a, char *C) {
    __m256i lo[MR], hi[MR];
    for (int r = 0; r < MR; r++) lo[r] = s->bias_lo, hi[r] = s->bias_hi;
    for (int32_t t = 0; t < taps; t++) {
        const int16_t *row[MR];
        for (int r = 0; r < MR; r++) row[r] = ptr[r * CONV_MAX_TAPS + t] + off;
        const int8_t *w = panel + (size_t)t * qpt * 32;
        for (int32_t j = 0; j < qpt; j++) {
            const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + (size_t)j * 32)));
            const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + (size_t)j * 32 + 16)));
            for (int r = 0; r < MR; r++) {
                int64_t quad;
                memcpy(&quad, row[r] + 4 * j, sizeof quad);
                const __m256i x = _mm256_set1_epi64x(quad);
                lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(x, w0));
                hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(x, w1));
            }
        }
    }
    store_tile(rows, lo, hi, s, n0, cols, a, C);
}

MLRC_AVX2 void mlrc_q8_conv_indirect_6x8c4_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                                const int8_t *weights, const int32_t *bias, const float *scale,
                                                const mlrc_q8_output *out, void *output, void *scratch, int32_t b0,
                                                int32_t b1) {
    (void)input, (void)in_zero; /* both are in the prepared copy */
    const int32_t taps = g->kernel_h * g->kernel_w, M = g->out_h * g->out_w, cg = g->in_c / g->groups;
    const int32_t ng = g->out_c / g->groups, qpt = cg / 4, kq = taps * qpt, panels = (ng + 7) / 8;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1, wbytes = mlrc_q8_packed_bytes(ng, taps * cg);
    const int16_t *x = (const int16_t *)scratch, *zeros = x + conv_input_elems(g);
    mlrc_avx2_table_pass table;
    mlrc_avx2_table_pass_init(&table, out);
    /* the output stage's arguments, as the GEMM tile takes them (the table comes after each block) */
    const mlrc_q8_gemm_args a = {
        M, g->out_c, taps * cg, NULL, 0, 0, NULL, bias, scale, &table.plain, output, (size_t)g->out_c * esize, NULL, 0};
    for (int32_t blk = b0; blk < b1; blk++) {
        const int16_t *ptr[6 * CONV_MAX_TAPS];
        const int32_t p0 = blk * MR, rows = M - p0 < MR ? M - p0 : MR;
        for (int r = 0; r < MR; r++) {
            const int32_t p = p0 + (r < rows ? r : rows - 1), oy = p / g->out_w, ox = p % g->out_w;
            MLRC_PIXEL_TAPS(ptr + r * CONV_MAX_TAPS, g, oy, ox, x, zeros)
        }
        char *C = (char *)output + (size_t)p0 * a.row_bytes;
        for (int32_t grp = 0; grp < g->groups; grp++)
            for (int32_t pn = 0; pn < panels; pn++) {
                const int32_t n0 = grp * ng + pn * 8, cols = ng - pn * 8 < 8 ? ng - pn * 8 : 8;
                stage s;
                stage_load(&s, n0, cols, bias, scale, a.out);
                conv_tile(rows, ptr, taps, qpt, (size_t)grp * cg, weights + grp * wbytes + (size_t)pn * kq * 32, n0,
                          cols, &s, &a, C);
            }
        mlrc_avx2_table_rows(&table, C, a.row_bytes, rows, 0, g->out_c);
    }
}

#endif
