/* Body of the 256-bit int8 GEMM and indirect convolution built on a four-product dot step, included once per
 * instruction that provides the step: vpdpbusd in the EVEX (q8_gemm_avx512vnni.c) and VEX (q8_gemm_avxvnni.c)
 * encodings, and vpmaddubsw + vpmaddwd on plain AVX2 for weights whose pairs cannot saturate
 * (q8_gemm_avx2_maddubs.c). QDOT_TARGET is the target attribute, QDOT(acc, x, w) adds to each int32 lane of acc
 * the four uint8 x int8 products of its quad, QDOT_NAME(x) suffixes names.
 * QDOT_NAMED_STORES (1 or 0): full 6-row tiles store through their named accumulators rather than an array
 * indexed in a loop. That keeps the vpmaddubsw tile's accumulators out of memory in its output stage (15% on
 * K = 16 layers); with vpdpbusd, clang then spills accumulators inside the K loop instead (25% slower at
 * K = 112), so the VNNI files leave it off.
 *
 * The packed weight quads are already the step's layout (one 32-byte quad row = 8 columns x 4 consecutive k). So
 * the activations are used as they are (no widening, no packing): each row's 4 bytes of a quad are broadcast, and
 * the zero point comes off per column afterwards, sum (a - z) w = sum a w - z * sum w. Exact in int32 for
 * K <= 65536 (the graph validator's bound), so the result equals the reference bit for bit. 6 x 16 tile. */

/* 4 bytes of a row at k (the last, partial quad zero-filled: the weights there are zero, but reading past the
 * row could leave the buffer). */
QDOT_TARGET static inline __m256i QDOT_NAME(quad)(const uint8_t *row, int32_t k, int32_t K) {
    int32_t v = 0;
    if (k + 4 <= K)
        memcpy(&v, row + k, 4);
    else
        memcpy(&v, row + k, (size_t)(K - k));
    return _mm256_set1_epi32(v);
}

/* bias - zero * (sum over k of each column) for one 8-column panel. */
QDOT_TARGET static inline __m256i QDOT_NAME(panel_bias)(const int8_t *panel, int32_t kq, int32_t n0, int32_t cols,
                                                        const int32_t *bias, int32_t zero) {
    __m256i sum = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi8(1);
    /* zero 0 (no zero point, or folded into the bias beforehand): no pass over the panel */
    for (int32_t q = 0; zero != 0 && q < kq; q++)
        sum = QDOT(sum, ones, _mm256_loadu_si256((const __m256i *)(panel + (size_t)q * 32)));
    const __m256i mask = mlrc_avx2_tail_mask(cols);
    const __m256i b = bias ? _mm256_maskload_epi32(bias + n0, mask) : _mm256_setzero_si256();
    return _mm256_sub_epi32(b, _mm256_mullo_epi32(sum, _mm256_set1_epi32(zero)));
}

static inline int32_t QDOT_NAME(load4)(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The uint8 output stage two rows at a time, with the bias already in the accumulators (they start from it) and
 * no table (the callers run it over finished rows). Rounding commutes with clamping to integer bounds, so only
 * the upper clamp is done in float: the int16 pack saturates values far below the range downwards (cvtps2dq
 * gives INT32_MIN past the int32 range), the zero point is added with saturation, the byte pack clamps at 0 and
 * a byte max at lo. The same bytes as mlrc_q8_store8_avx2, in about half the instructions; on layers with K of
 * 16-40 the output stage costs as much as the products. */
typedef struct QDOT_NAME(stage) {
    __m256 s0, s1, hi; /* the two panels' scales; hi - zero */
    __m256i zero16, lo8;
} QDOT_NAME(stage);

QDOT_TARGET static inline QDOT_NAME(stage)
    QDOT_NAME(stage_load)(const float *scale, int32_t n0, int two, const mlrc_q8_output *out) {
    QDOT_NAME(stage) s;
    s.s0 = _mm256_loadu_ps(scale + n0);
    s.s1 = two ? _mm256_loadu_ps(scale + n0 + 8) : s.s0;
    s.hi = _mm256_set1_ps((float)(out->hi - out->zero));
    s.zero16 = _mm256_set1_epi16((int16_t)out->zero);
    s.lo8 = _mm256_set1_epi8((char)out->lo);
    return s;
}

QDOT_TARGET static inline __m256i QDOT_NAME(stage_int)(__m256i acc, __m256 scale, __m256 hi) {
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale), hi));
}

/* 16 columns of rows a and b (b may repeat a; stored only when both). */
QDOT_TARGET static inline void QDOT_NAME(store2x16)(const QDOT_NAME(stage) * s, __m256i a0, __m256i a1, __m256i b0,
                                                    __m256i b1, uint8_t *ya, uint8_t *yb, int both) {
    const __m256i pa = _mm256_adds_epi16(
        _mm256_packs_epi32(QDOT_NAME(stage_int)(a0, s->s0, s->hi), QDOT_NAME(stage_int)(a1, s->s1, s->hi)), s->zero16);
    const __m256i pb = _mm256_adds_epi16(
        _mm256_packs_epi32(QDOT_NAME(stage_int)(b0, s->s0, s->hi), QDOT_NAME(stage_int)(b1, s->s1, s->hi)), s->zero16);
    /* dwords of 4 columns: lane 0 a0-3 a8-11 b0-3 b8-11, lane 1 a4-7 a12-15 b4-7 b12-15 */
    const __m256i u8 =
        _mm256_permutevar8x32_epi32(_mm256_packus_epi16(pa, pb), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    const __m256i y = _mm256_max_epu8(u8, s->lo8);
    _mm_storeu_si128((__m128i *)ya, _mm256_castsi256_si128(y));
    if (both) _mm_storeu_si128((__m128i *)yb, _mm256_extracti128_si256(y, 1));
}

/* 8 columns (the first panel's) of rows a and b. */
QDOT_TARGET static inline void QDOT_NAME(store2x8)(const QDOT_NAME(stage) * s, __m256i a, __m256i b, uint8_t *ya,
                                                   uint8_t *yb, int both) {
    const __m256i p = _mm256_adds_epi16(
        _mm256_packs_epi32(QDOT_NAME(stage_int)(a, s->s0, s->hi), QDOT_NAME(stage_int)(b, s->s0, s->hi)), s->zero16);
    const __m256i u8 = _mm256_packus_epi16(p, p); /* lane 0: a0-3 b0-3 (twice), lane 1: a4-7 b4-7 */
    const __m128i y = _mm_max_epu8(_mm_unpacklo_epi32(_mm256_castsi256_si128(u8), _mm256_extracti128_si256(u8, 1)),
                                   _mm256_castsi256_si128(s->lo8));
    _mm_storel_epi64((__m128i *)ya, y);
    if (both) _mm_storeh_pd((double *)yb, _mm_castsi128_pd(y));
}

/* One quad step for 6 rows: X(r) yields row r's broadcast quad; two panels or one. */
/* clang-format off */
#define QDOT_STEP2(X)                                                                                                  \
    {                                                                                                                  \
        __m256i x;                                                                                                     \
        x = X(0); c00 = QDOT(c00, x, w0); c01 = QDOT(c01, x, w1);                                                      \
        x = X(1); c10 = QDOT(c10, x, w0); c11 = QDOT(c11, x, w1);                                                      \
        x = X(2); c20 = QDOT(c20, x, w0); c21 = QDOT(c21, x, w1);                                                      \
        x = X(3); c30 = QDOT(c30, x, w0); c31 = QDOT(c31, x, w1);                                                      \
        x = X(4); c40 = QDOT(c40, x, w0); c41 = QDOT(c41, x, w1);                                                      \
        x = X(5); c50 = QDOT(c50, x, w0); c51 = QDOT(c51, x, w1);                                                      \
    }
/* clang-format on */
/* clang-format off */
#define QDOT_STEP1(X)                                                                                                  \
    {                                                                                                                  \
        c00 = QDOT(c00, X(0), w0); c10 = QDOT(c10, X(1), w0); c20 = QDOT(c20, X(2), w0);                               \
        c30 = QDOT(c30, X(3), w0); c40 = QDOT(c40, X(4), w0); c50 = QDOT(c50, X(5), w0);                               \
    }
/* clang-format on */
#define QDOT_FULL(r) _mm256_set1_epi32(QDOT_NAME(load4)(a##r + 4 * (size_t)q))
#define QDOT_TAIL(r) QDOT_NAME(quad)(a##r, 4 * q, K)

/* Rows [m, m + rows) x the panels nb (and nb + 1 when two > 0). Full quads load 4 bytes straight from the rows;
 * only the last, partial quad goes through the bounded copy. */
QDOT_TARGET static void QDOT_NAME(tile)(int32_t rows, const uint8_t *A, int32_t lda, int32_t K, const int8_t *p0,
                                        const int8_t *p1, int two, int32_t kq, const __m256i *b0, const __m256i *b1,
                                        int32_t n0, int32_t N, const float *scale, const mlrc_q8_output *out, void *C,
                                        size_t row_bytes) {
#define QDOT_ROWPTR(r) const uint8_t *a##r = A + (size_t)((r) < rows ? (r) : rows - 1) * lda
    /* clang-format off */
    QDOT_ROWPTR(0); QDOT_ROWPTR(1); QDOT_ROWPTR(2); QDOT_ROWPTR(3); QDOT_ROWPTR(4); QDOT_ROWPTR(5);
    /* clang-format on */
#undef QDOT_ROWPTR
    /* the per-panel bias (bias - zero * column sum) starts the sums */
    __m256i c00 = *b0, c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00;
    __m256i c01 = *b1, c11 = c01, c21 = c01, c31 = c01, c41 = c01, c51 = c01;
    const int32_t full = K / 4;
    int32_t q = 0;
    if (two) {
        for (; q < full; q++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(p0 + (size_t)q * 32));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(p1 + (size_t)q * 32));
            QDOT_STEP2(QDOT_FULL)
        }
        for (; q < kq; q++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(p0 + (size_t)q * 32));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(p1 + (size_t)q * 32));
            QDOT_STEP2(QDOT_TAIL)
        }
    } else { /* a single (last or only) panel: narrow groups must not pay for a second one */
        for (; q < full; q++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(p0 + (size_t)q * 32));
            QDOT_STEP1(QDOT_FULL)
        }
        for (; q < kq; q++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(p0 + (size_t)q * 32));
            QDOT_STEP1(QDOT_TAIL)
        }
    }
    const int32_t cols0 = N - n0 < 8 ? N - n0 : 8, cols1 = N - n0 - 8 < 8 ? N - n0 - 8 : 8;
#if QDOT_NAMED_STORES
    if (rows == 6 && two && out->kind == MLRC_Q8_OUT_U8 && !out->lut && cols0 == 8 && cols1 == 8) {
        /* the common full tile, its accumulators named: through an array indexed in a loop they would pass
         * through memory, which on K = 16-40 layers costs a good part of the stage */
        const QDOT_NAME(stage) s = QDOT_NAME(stage_load)(scale, n0, 1, out);
        uint8_t *y = (uint8_t *)C + n0;
        QDOT_NAME(store2x16)(&s, c00, c01, c10, c11, y, y + row_bytes, 1);
        QDOT_NAME(store2x16)(&s, c20, c21, c30, c31, y + 2 * row_bytes, y + 3 * row_bytes, 1);
        QDOT_NAME(store2x16)(&s, c40, c41, c50, c51, y + 4 * row_bytes, y + 5 * row_bytes, 1);
        return;
    }
#endif
    const __m256i lo[6] = {c00, c10, c20, c30, c40, c50}, hi[6] = {c01, c11, c21, c31, c41, c51};
    if (out->kind == MLRC_Q8_OUT_U8 && !out->lut && cols0 == 8 && (!two || cols1 == 8)) {
        const QDOT_NAME(stage) s = QDOT_NAME(stage_load)(scale, n0, two, out);
        for (int r = 0; r < rows; r += 2) {
            const int both = r + 1 < rows, r1 = both ? r + 1 : r;
            uint8_t *ya = (uint8_t *)C + (size_t)r * row_bytes + n0, *yb = ya + row_bytes;
            if (two)
                QDOT_NAME(store2x16)(&s, lo[r], hi[r], lo[r1], hi[r1], ya, yb, both);
            else
                QDOT_NAME(store2x8)(&s, lo[r], lo[r1], ya, yb, both);
        }
        return;
    }
    for (int r = 0; r < rows; r++) {
        char *row = (char *)C + (size_t)r * row_bytes;
        mlrc_q8_store8_with_bias_avx2(lo[r], n0, cols0, scale, out, row);
        if (two) mlrc_q8_store8_with_bias_avx2(hi[r], n0 + 8, cols1, scale, out, row);
    }
}
#undef QDOT_STEP2
#undef QDOT_STEP1
#undef QDOT_FULL
#undef QDOT_TAIL

/* The driver's range: row blocks in chunks of 16, every panel pair passing over a chunk while it is in cache. */
QDOT_TARGET void QDOT_NAME(mlrc_q8_gemm_range_6x16c4)(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0,
                                                      int32_t nb1, int thread) {
    (void)thread;
    const int32_t kq = (g->K + 3) / 4;
    mlrc_avx2_table_pass table; /* the tiles run without the table; it follows over each chunk's rows */
    mlrc_avx2_table_pass_init(&table, g->out);
    const mlrc_q8_output *plain = &table.plain;
    const int32_t col0 = nb0 * 8, col1 = nb1 * 8 < g->N ? nb1 * 8 : g->N;
    for (int32_t c0 = rb0; c0 < rb1; c0 += 16) {
        const int32_t c1 = c0 + 16 < rb1 ? c0 + 16 : rb1;
        for (int32_t nb = nb0; nb < nb1; nb += 2) {
            const int two = nb + 1 < nb1;
            const int8_t *p0 = g->B + (size_t)nb * kq * 32, *p1 = two ? p0 + (size_t)kq * 32 : p0;
            const int32_t n0 = nb * 8;
            const __m256i b0 = QDOT_NAME(panel_bias)(p0, kq, n0, g->N - n0 < 8 ? g->N - n0 : 8, g->bias, g->zero);
            const __m256i b1 =
                two ? QDOT_NAME(panel_bias)(p1, kq, n0 + 8, g->N - n0 - 8 < 8 ? g->N - n0 - 8 : 8, g->bias, g->zero)
                    : b0;
            for (int32_t rb = c0; rb < c1; rb++) {
                const int32_t m = rb * 6, rows = g->M - m < 6 ? g->M - m : 6;
                QDOT_NAME(tile)
                (rows, g->A + (size_t)m * g->lda, g->lda, g->K, p0, p1, two, kq, &b0, &b1, n0, g->N, g->scale, plain,
                 (char *)g->C + (size_t)m * g->row_bytes, g->row_bytes);
            }
        }
        const int32_t m0 = c0 * 6, m1 = c1 * 6 < g->M ? c1 * 6 : g->M;
        mlrc_avx2_table_rows(&table, (char *)g->C + (size_t)m0 * g->row_bytes, g->row_bytes, m1 - m0, col0, col1);
    }
}

/* Convolution read straight from the input, no im2col (cg = in_c / groups a multiple of 4, so every quad of K =
 * (ky, kx, ci) is 4 contiguous input bytes): for each block of 6 output pixels a table holds, per tap, where that
 * pixel's window reads (or a buffer of zero-point bytes for padding), and every group and panel walks it. */
QDOT_TARGET static void QDOT_NAME(conv_block)(const mlrc_conv_geometry *g, const uint8_t *const *ptr, int32_t taps,
                                              int32_t rows, const int8_t *weights, const __m256i *pbias, int32_t p0,
                                              const float *scale, const mlrc_q8_output *out, void *output,
                                              size_t esize) {
    const int32_t cg = g->in_c / g->groups, ng = g->out_c / g->groups, qpt = cg / 4, kq = taps * qpt;
    const int32_t panels = (ng + 7) / 8;
    const size_t wbytes = mlrc_q8_packed_bytes(ng, taps * cg), row_bytes = (size_t)g->out_c * esize;
    for (int32_t grp = 0; grp < g->groups; grp++) {
        for (int32_t pn = 0; pn < panels; pn++) {
            const int8_t *panel = weights + grp * wbytes + (size_t)pn * kq * 32;
            const __m256i b = pbias[grp * panels + pn]; /* bias - zero * column sums starts the sums */
            __m256i c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b;
            const size_t off = (size_t)grp * cg;
            for (int32_t t = 0; t < taps; t++) {
                const uint8_t *r0 = ptr[t] + off, *r1 = ptr[64 + t] + off, *r2 = ptr[128 + t] + off;
                const uint8_t *r3 = ptr[192 + t] + off, *r4 = ptr[256 + t] + off, *r5 = ptr[320 + t] + off;
                for (int32_t j = 0; j < qpt; j++) {
                    const __m256i w = _mm256_loadu_si256((const __m256i *)(panel + ((size_t)t * qpt + j) * 32));
                    c0 = QDOT(c0, _mm256_set1_epi32(QDOT_NAME(load4)(r0 + 4 * j)), w);
                    c1 = QDOT(c1, _mm256_set1_epi32(QDOT_NAME(load4)(r1 + 4 * j)), w);
                    c2 = QDOT(c2, _mm256_set1_epi32(QDOT_NAME(load4)(r2 + 4 * j)), w);
                    c3 = QDOT(c3, _mm256_set1_epi32(QDOT_NAME(load4)(r3 + 4 * j)), w);
                    c4 = QDOT(c4, _mm256_set1_epi32(QDOT_NAME(load4)(r4 + 4 * j)), w);
                    c5 = QDOT(c5, _mm256_set1_epi32(QDOT_NAME(load4)(r5 + 4 * j)), w);
                }
            }
            const int32_t n0 = grp * ng + pn * 8, cols = ng - pn * 8 < 8 ? ng - pn * 8 : 8;
#if QDOT_NAMED_STORES
            if (rows == 6 && out->kind == MLRC_Q8_OUT_U8 && !out->lut && cols == 8) { /* named, as in the GEMM */
                const QDOT_NAME(stage) s = QDOT_NAME(stage_load)(scale, n0, 0, out);
                uint8_t *y = (uint8_t *)output + (size_t)p0 * row_bytes + n0;
                QDOT_NAME(store2x8)(&s, c0, c1, y, y + row_bytes, 1);
                QDOT_NAME(store2x8)(&s, c2, c3, y + 2 * row_bytes, y + 3 * row_bytes, 1);
                QDOT_NAME(store2x8)(&s, c4, c5, y + 4 * row_bytes, y + 5 * row_bytes, 1);
                continue;
            }
#endif
            const __m256i acc[6] = {c0, c1, c2, c3, c4, c5};
            if (out->kind == MLRC_Q8_OUT_U8 && !out->lut && cols == 8) {
                const QDOT_NAME(stage) s = QDOT_NAME(stage_load)(scale, n0, 0, out);
                for (int r = 0; r < rows; r += 2) {
                    const int both = r + 1 < rows;
                    uint8_t *ya = (uint8_t *)output + (size_t)(p0 + r) * row_bytes + n0;
                    QDOT_NAME(store2x8)(&s, acc[r], acc[both ? r + 1 : r], ya, ya + row_bytes, both);
                }
                continue;
            }
            for (int r = 0; r < rows; r++)
                mlrc_q8_store8_with_bias_avx2(acc[r], n0, cols, scale, out,
                                              (char *)output + (size_t)(p0 + r) * row_bytes);
        }
    }
}

/* pbias: groups * panels vectors (bias - zero * column sums), filled here. */
QDOT_TARGET static void QDOT_NAME(conv_bias)(const mlrc_conv_geometry *g, const int8_t *weights, const int32_t *bias,
                                             int32_t zero, __m256i *pbias) {
    const int32_t cg = g->in_c / g->groups, ng = g->out_c / g->groups, kg = g->kernel_h * g->kernel_w * cg;
    const int32_t panels = (ng + 7) / 8, kq = kg / 4;
    const size_t wbytes = mlrc_q8_packed_bytes(ng, kg);
    for (int32_t grp = 0; grp < g->groups; grp++)
        for (int32_t pn = 0; pn < panels; pn++) {
            const int32_t cols = ng - pn * 8 < 8 ? ng - pn * 8 : 8;
            pbias[grp * panels + pn] = QDOT_NAME(panel_bias)(weights + grp * wbytes + (size_t)pn * kq * 32, kq,
                                                             grp * ng + pn * 8, cols, bias, zero);
            /* panel_bias reads bias at n0 = grp * ng + pn * 8: the group's own channels. */
        }
}

/* scratch: the per-panel bias vectors, then in_c bytes of zero point for padded taps (filled once per call by
 * the prepare step, before the blocks run). */
void QDOT_NAME(mlrc_q8_conv_indirect_prepare_6x16c4)(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero,
                                                     const int8_t *weights, const int32_t *bias, void *scratch) {
    (void)input; /* read in place by the blocks */
    const int32_t panels = (g->out_c / g->groups + 7) / 8;
    __m256i *pbias = (__m256i *)scratch;
    memset(pbias + (size_t)g->groups * panels, zero, (size_t)g->in_c);
    QDOT_NAME(conv_bias)(g, weights, bias, zero, pbias);
}

/* Pixel blocks [b0, b1) (6 output pixels each). */
void QDOT_NAME(mlrc_q8_conv_indirect_6x16c4)(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero,
                                             const int8_t *weights, const int32_t *bias, const float *scale,
                                             const mlrc_q8_output *out, void *output, void *scratch, int32_t b0,
                                             int32_t b1) {
    (void)zero, (void)bias; /* both are in the prepared scratch */
    const int32_t taps = g->kernel_h * g->kernel_w, M = g->out_h * g->out_w;
    const int32_t panels = (g->out_c / g->groups + 7) / 8;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const __m256i *pbias = (const __m256i *)scratch;
    const uint8_t *pad = (const uint8_t *)(pbias + (size_t)g->groups * panels);
    mlrc_avx2_table_pass table; /* the blocks run without the table; it follows over each block's pixels */
    mlrc_avx2_table_pass_init(&table, out);
    for (int32_t blk = b0; blk < b1; blk++) {
        const uint8_t *ptr[6 * 64];
        const int32_t p0 = blk * 6, rows = M - p0 < 6 ? M - p0 : 6;
        for (int r = 0; r < 6; r++) {
            const int32_t p = p0 + (r < rows ? r : rows - 1), oy = p / g->out_w, ox = p % g->out_w;
            MLRC_PIXEL_TAPS(ptr + r * 64, g, oy, ox, input, pad)
        }
        QDOT_NAME(conv_block)(g, ptr, taps, rows, weights, pbias, p0, scale, &table.plain, output, esize);
        mlrc_avx2_table_rows(&table, (char *)output + (size_t)p0 * g->out_c, (size_t)g->out_c, rows, 0, g->out_c);
    }
}
