/* Body of the 256-bit VNNI int8 GEMM, included once per encoding (q8_gemm_avx512vnni.c: EVEX on ymm;
 * q8_gemm_avxvnni.c: AVX-VNNI):
 * VNNI_TARGET is the target attribute, VNNI_DPBUSD the dot-product intrinsic, VNNI_NAME(x) suffixes names.
 *
 * vpdpbusd adds four uint8 x int8 products to each int32 lane with no intermediate rounding or saturation, and
 * the packed weight quads are already its layout (one 32-byte quad row = 8 columns x 4 consecutive k). So the
 * activations are used as they are (no widening, no packing): each row's 4 bytes of a quad are broadcast, and
 * the zero point comes off per column afterwards, sum (a - z) w = sum a w - z * sum w. Exact in int32 for
 * K <= 65536 (the graph validator's bound), so the result equals the reference bit for bit. 6 x 16 tile. */

/* 4 bytes of a row at k (the last, partial quad zero-filled: the weights there are zero, but reading past the
 * row could leave the buffer). */
VNNI_TARGET static inline __m256i VNNI_NAME(quad)(const uint8_t *row, int32_t k, int32_t K) {
    int32_t v = 0;
    if (k + 4 <= K)
        memcpy(&v, row + k, 4);
    else
        memcpy(&v, row + k, (size_t)(K - k));
    return _mm256_set1_epi32(v);
}

/* bias - zero * (sum over k of each column) for one 8-column panel. */
VNNI_TARGET static inline __m256i VNNI_NAME(panel_bias)(const int8_t *panel, int32_t kq, int32_t n0, int32_t cols,
                                                        const int32_t *bias, int32_t zero) {
    __m256i sum = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi8(1);
    /* zero 0 (no zero point, or folded into the bias beforehand): no pass over the panel */
    for (int32_t q = 0; zero != 0 && q < kq; q++)
        sum = VNNI_DPBUSD(sum, ones, _mm256_loadu_si256((const __m256i *)(panel + (size_t)q * 32)));
    const __m256i mask = mlrc_avx2_tail_mask(cols);
    const __m256i b = bias ? _mm256_maskload_epi32(bias + n0, mask) : _mm256_setzero_si256();
    return _mm256_sub_epi32(b, _mm256_mullo_epi32(sum, _mm256_set1_epi32(zero)));
}

static inline int32_t VNNI_NAME(load4)(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* One quad step for 6 rows: X(r) yields row r's broadcast quad; two panels or one. */
/* clang-format off */
#define VNNI_STEP2(X)                                                                                          \
    {                                                                                                          \
        __m256i x;                                                                                             \
        x = X(0); c00 = VNNI_DPBUSD(c00, x, w0); c01 = VNNI_DPBUSD(c01, x, w1);                                \
        x = X(1); c10 = VNNI_DPBUSD(c10, x, w0); c11 = VNNI_DPBUSD(c11, x, w1);                                \
        x = X(2); c20 = VNNI_DPBUSD(c20, x, w0); c21 = VNNI_DPBUSD(c21, x, w1);                                \
        x = X(3); c30 = VNNI_DPBUSD(c30, x, w0); c31 = VNNI_DPBUSD(c31, x, w1);                                \
        x = X(4); c40 = VNNI_DPBUSD(c40, x, w0); c41 = VNNI_DPBUSD(c41, x, w1);                                \
        x = X(5); c50 = VNNI_DPBUSD(c50, x, w0); c51 = VNNI_DPBUSD(c51, x, w1);                                \
    }
/* clang-format on */
/* clang-format off */
#define VNNI_STEP1(X)                                                                                          \
    {                                                                                                          \
        c00 = VNNI_DPBUSD(c00, X(0), w0); c10 = VNNI_DPBUSD(c10, X(1), w0); c20 = VNNI_DPBUSD(c20, X(2), w0);  \
        c30 = VNNI_DPBUSD(c30, X(3), w0); c40 = VNNI_DPBUSD(c40, X(4), w0); c50 = VNNI_DPBUSD(c50, X(5), w0);  \
    }
/* clang-format on */
#define VNNI_FULL(r) _mm256_set1_epi32(VNNI_NAME(load4)(a##r + 4 * (size_t)q))
#define VNNI_TAIL(r) VNNI_NAME(quad)(a##r, 4 * q, K)

/* Rows [m, m + rows) x the panels nb (and nb + 1 when two > 0). Full quads load 4 bytes straight from the rows;
 * only the last, partial quad goes through the bounded copy. */
VNNI_TARGET static void VNNI_NAME(tile)(int32_t rows, const uint8_t *A, int32_t lda, int32_t K, const int8_t *p0,
                                        const int8_t *p1, int two, int32_t kq, const __m256i *b0, const __m256i *b1,
                                        int32_t n0, int32_t N, const float *scale, const mlrc_q8_output *out, void *C,
                                        size_t row_bytes) {
#define VNNI_ROWPTR(r) const uint8_t *a##r = A + (size_t)((r) < rows ? (r) : rows - 1) * lda
    /* clang-format off */
    VNNI_ROWPTR(0); VNNI_ROWPTR(1); VNNI_ROWPTR(2); VNNI_ROWPTR(3); VNNI_ROWPTR(4); VNNI_ROWPTR(5);
    /* clang-format on */
#undef VNNI_ROWPTR
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const int32_t full = K / 4;
    int32_t q = 0;
    if (two) {
        for (; q < full; q++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(p0 + (size_t)q * 32));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(p1 + (size_t)q * 32));
            VNNI_STEP2(VNNI_FULL)
        }
        for (; q < kq; q++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(p0 + (size_t)q * 32));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(p1 + (size_t)q * 32));
            VNNI_STEP2(VNNI_TAIL)
        }
    } else { /* a single (last or only) panel: narrow groups must not pay for a second one */
        for (; q < full; q++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(p0 + (size_t)q * 32));
            VNNI_STEP1(VNNI_FULL)
        }
        for (; q < kq; q++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(p0 + (size_t)q * 32));
            VNNI_STEP1(VNNI_TAIL)
        }
    }
    const __m256i lo[6] = {c00, c10, c20, c30, c40, c50}, hi[6] = {c01, c11, c21, c31, c41, c51};
    const int32_t cols0 = N - n0 < 8 ? N - n0 : 8, cols1 = N - n0 - 8 < 8 ? N - n0 - 8 : 8;
    for (int r = 0; r < rows; r++) {
        char *row = (char *)C + (size_t)r * row_bytes;
        /* The per-panel bias already holds bias - zero * column sum; the output stage adds it. */
        mlrc_q8_store8_with_bias_avx2(_mm256_add_epi32(lo[r], *b0), n0, cols0, scale, out, row);
        if (two) mlrc_q8_store8_with_bias_avx2(_mm256_add_epi32(hi[r], *b1), n0 + 8, cols1, scale, out, row);
    }
}
#undef VNNI_STEP2
#undef VNNI_STEP1
#undef VNNI_FULL
#undef VNNI_TAIL

/* The driver's range: row blocks in chunks of 16, every panel pair passing over a chunk while it is in cache. */
VNNI_TARGET void VNNI_NAME(mlrc_q8_gemm_range_6x16c4)(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0,
                                                      int32_t nb1, int thread) {
    (void)thread;
    const int32_t kq = (g->K + 3) / 4;
    for (int32_t c0 = rb0; c0 < rb1; c0 += 16) {
        const int32_t c1 = c0 + 16 < rb1 ? c0 + 16 : rb1;
        for (int32_t nb = nb0; nb < nb1; nb += 2) {
            const int two = nb + 1 < nb1;
            const int8_t *p0 = g->B + (size_t)nb * kq * 32, *p1 = two ? p0 + (size_t)kq * 32 : p0;
            const int32_t n0 = nb * 8;
            const __m256i b0 = VNNI_NAME(panel_bias)(p0, kq, n0, g->N - n0 < 8 ? g->N - n0 : 8, g->bias, g->zero);
            const __m256i b1 =
                two ? VNNI_NAME(panel_bias)(p1, kq, n0 + 8, g->N - n0 - 8 < 8 ? g->N - n0 - 8 : 8, g->bias, g->zero)
                    : b0;
            for (int32_t rb = c0; rb < c1; rb++) {
                const int32_t m = rb * 6, rows = g->M - m < 6 ? g->M - m : 6;
                VNNI_NAME(tile)
                (rows, g->A + (size_t)m * g->lda, g->lda, g->K, p0, p1, two, kq, &b0, &b1, n0, g->N, g->scale, g->out,
                 (char *)g->C + (size_t)m * g->row_bytes, g->row_bytes);
            }
        }
    }
}

/* Convolution read straight from the input, no im2col (cg = in_c / groups a multiple of 4, so every quad of K =
 * (ky, kx, ci) is 4 contiguous input bytes): for each block of 6 output pixels a table holds, per tap, where that
 * pixel's window reads (or a buffer of zero-point bytes for padding), and every group and panel walks it. */
VNNI_TARGET static void VNNI_NAME(conv_block)(const mlrc_conv_geometry *g, const uint8_t *const *ptr, int32_t taps,
                                              int32_t rows, const int8_t *weights, const __m256i *pbias, int32_t p0,
                                              const float *scale, const mlrc_q8_output *out, void *output,
                                              size_t esize) {
    const int32_t cg = g->in_c / g->groups, ng = g->out_c / g->groups, qpt = cg / 4, kq = taps * qpt;
    const int32_t panels = (ng + 7) / 8;
    const size_t wbytes = mlrc_q8_packed_bytes(ng, taps * cg), row_bytes = (size_t)g->out_c * esize;
    for (int32_t grp = 0; grp < g->groups; grp++) {
        for (int32_t pn = 0; pn < panels; pn++) {
            const int8_t *panel = weights + grp * wbytes + (size_t)pn * kq * 32;
            __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
            const size_t off = (size_t)grp * cg;
            for (int32_t t = 0; t < taps; t++) {
                const uint8_t *r0 = ptr[t] + off, *r1 = ptr[64 + t] + off, *r2 = ptr[128 + t] + off;
                const uint8_t *r3 = ptr[192 + t] + off, *r4 = ptr[256 + t] + off, *r5 = ptr[320 + t] + off;
                for (int32_t j = 0; j < qpt; j++) {
                    const __m256i w = _mm256_loadu_si256((const __m256i *)(panel + ((size_t)t * qpt + j) * 32));
                    c0 = VNNI_DPBUSD(c0, _mm256_set1_epi32(VNNI_NAME(load4)(r0 + 4 * j)), w);
                    c1 = VNNI_DPBUSD(c1, _mm256_set1_epi32(VNNI_NAME(load4)(r1 + 4 * j)), w);
                    c2 = VNNI_DPBUSD(c2, _mm256_set1_epi32(VNNI_NAME(load4)(r2 + 4 * j)), w);
                    c3 = VNNI_DPBUSD(c3, _mm256_set1_epi32(VNNI_NAME(load4)(r3 + 4 * j)), w);
                    c4 = VNNI_DPBUSD(c4, _mm256_set1_epi32(VNNI_NAME(load4)(r4 + 4 * j)), w);
                    c5 = VNNI_DPBUSD(c5, _mm256_set1_epi32(VNNI_NAME(load4)(r5 + 4 * j)), w);
                }
            }
            const __m256i acc[6] = {c0, c1, c2, c3, c4, c5};
            const __m256i b = pbias[grp * panels + pn];
            const int32_t n0 = grp * ng + pn * 8, cols = ng - pn * 8 < 8 ? ng - pn * 8 : 8;
            for (int r = 0; r < rows; r++)
                mlrc_q8_store8_with_bias_avx2(_mm256_add_epi32(acc[r], b), n0, cols, scale, out,
                                              (char *)output + (size_t)(p0 + r) * row_bytes);
        }
    }
}

/* pbias: groups * panels vectors (bias - zero * column sums), filled here. */
VNNI_TARGET static void VNNI_NAME(conv_bias)(const mlrc_conv_geometry *g, const int8_t *weights, const int32_t *bias,
                                             int32_t zero, __m256i *pbias) {
    const int32_t cg = g->in_c / g->groups, ng = g->out_c / g->groups, kg = g->kernel_h * g->kernel_w * cg;
    const int32_t panels = (ng + 7) / 8, kq = kg / 4;
    const size_t wbytes = mlrc_q8_packed_bytes(ng, kg);
    for (int32_t grp = 0; grp < g->groups; grp++)
        for (int32_t pn = 0; pn < panels; pn++) {
            const int32_t cols = ng - pn * 8 < 8 ? ng - pn * 8 : 8;
            pbias[grp * panels + pn] = VNNI_NAME(panel_bias)(weights + grp * wbytes + (size_t)pn * kq * 32, kq,
                                                             grp * ng + pn * 8, cols, bias, zero);
            /* panel_bias reads bias at n0 = grp * ng + pn * 8: the group's own channels. */
        }
}

/* scratch: the per-panel bias vectors, then in_c bytes of zero point for padded taps (filled once per call by
 * the prepare step, before the blocks run). */
void VNNI_NAME(mlrc_q8_conv_indirect_prepare_6x16c4)(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero,
                                                     const int8_t *weights, const int32_t *bias, void *scratch) {
    (void)input; /* read in place by the blocks */
    const int32_t panels = (g->out_c / g->groups + 7) / 8;
    __m256i *pbias = (__m256i *)scratch;
    memset(pbias + (size_t)g->groups * panels, zero, (size_t)g->in_c);
    VNNI_NAME(conv_bias)(g, weights, bias, zero, pbias);
}

/* Pixel blocks [b0, b1) (6 output pixels each). */
void VNNI_NAME(mlrc_q8_conv_indirect_6x16c4)(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero,
                                             const int8_t *weights, const int32_t *bias, const float *scale,
                                             const mlrc_q8_output *out, void *output, void *scratch, int32_t b0,
                                             int32_t b1) {
    (void)zero, (void)bias; /* both are in the prepared scratch */
    const int32_t taps = g->kernel_h * g->kernel_w, M = g->out_h * g->out_w;
    const int32_t panels = (g->out_c / g->groups + 7) / 8;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const __m256i *pbias = (const __m256i *)scratch;
    const uint8_t *pad = (const uint8_t *)(pbias + (size_t)g->groups * panels);
    for (int32_t blk = b0; blk < b1; blk++) {
        const uint8_t *ptr[6 * 64];
        const int32_t p0 = blk * 6, rows = M - p0 < 6 ? M - p0 : 6;
        for (int r = 0; r < 6; r++) {
            const int32_t p = p0 + (r < rows ? r : rows - 1), oy = p / g->out_w, ox = p % g->out_w;
            MLRC_PIXEL_TAPS(ptr + r * 64, g, oy, ox, input, pad)
        }
        VNNI_NAME(conv_block)(g, ptr, taps, rows, weights, pbias, p0, scale, out, output, esize);
    }
}
