/* int8 GEMM micro-kernels with AVX512-VNNI (vpdpbusd; Ice Lake, Zen 4/5, Sapphire Rapids): the 6 x 32 zmm tile
 * (with a register-weight pass for narrow K) and the 6 x 16 ymm tile of q8_gemm_quad_dot_ymm.h compiled for the EVEX
 * encoding; and the indirect (im2col-free) convolution of that header. The VEX encoding (AVX-VNNI, no AVX-512)
 * is q8_gemm_avxvnni.c. */
#if defined(__x86_64__)
#include <string.h>
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"
#include "x86/q8_output_avx512.h"
#include "activation.h"
#include "q8_requantize.h"
#include "window.h"

#define QDOT_TARGET __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))
#define QDOT _mm256_dpbusd_epi32
#define QDOT_NAME(x) x##_avx512vnni
#define QDOT_NAMED_STORES 0
#include "q8_gemm_quad_dot_ymm.h"
#undef QDOT_TARGET
#undef QDOT
#undef QDOT_NAME
#undef QDOT_NAMED_STORES

/* AVX512-VNNI on 512-bit registers: four panels (32 columns) per 6-row tile, the two panels of each zmm joined
 * from the packed layout with one insert. Where the core has full-width 512-bit units (Zen 5, Intel server cores)
 * this doubles the products per instruction; leftover panels go through the 256-bit tile above. */
#define ZMM_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

ZMM_TARGET static inline __m512i zmm_panels(const int8_t *pa, const int8_t *pb, int32_t q) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(pa + (size_t)q * 32))),
                              _mm256_loadu_si256((const __m256i *)(pb + (size_t)q * 32)), 1);
}

/* clang-format off */
#define ZMM_STEP(X)                                                                                            \
    {                                                                                                          \
        __m512i x;                                                                                             \
        x = X(0); c00 = _mm512_dpbusd_epi32(c00, x, w0); c01 = _mm512_dpbusd_epi32(c01, x, w1);                \
        x = X(1); c10 = _mm512_dpbusd_epi32(c10, x, w0); c11 = _mm512_dpbusd_epi32(c11, x, w1);                \
        x = X(2); c20 = _mm512_dpbusd_epi32(c20, x, w0); c21 = _mm512_dpbusd_epi32(c21, x, w1);                \
        x = X(3); c30 = _mm512_dpbusd_epi32(c30, x, w0); c31 = _mm512_dpbusd_epi32(c31, x, w1);                \
        x = X(4); c40 = _mm512_dpbusd_epi32(c40, x, w0); c41 = _mm512_dpbusd_epi32(c41, x, w1);                \
        x = X(5); c50 = _mm512_dpbusd_epi32(c50, x, w0); c51 = _mm512_dpbusd_epi32(c51, x, w1);                \
    }
/* clang-format on */
#define ZMM_FULL(r) _mm512_set1_epi32(load4_avx512vnni(a##r + 4 * (size_t)q))
#define ZMM_TAIL(r) _mm512_broadcast_i32x4(_mm256_castsi256_si128(quad_avx512vnni(a##r, 4 * q, K)))

/* Row r's pointer; rows past the tile's last repeat it (computed, never stored). Shared by both zmm tiles. */
#define ZMM_ROWPTR(r) const uint8_t *a##r = A + (size_t)((r) < rows ? (r) : rows - 1) * lda
ZMM_TARGET static void tile_zmm(int32_t rows, const uint8_t *A, int32_t lda, int32_t K, const int8_t *p, int32_t kq,
                                const __m512i bias2[2], int32_t n0, const float *scale, const mlrc_q8_output *out,
                                void *C, size_t row_bytes) {
    /* clang-format off */
    ZMM_ROWPTR(0); ZMM_ROWPTR(1); ZMM_ROWPTR(2); ZMM_ROWPTR(3); ZMM_ROWPTR(4); ZMM_ROWPTR(5);
    /* clang-format on */
    const size_t panel = (size_t)kq * 32;
    const int8_t *p0 = p, *p1 = p + panel, *p2 = p + 2 * panel, *p3 = p + 3 * panel;
    __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const int32_t full = K / 4;
    int32_t q = 0;
    for (; q < full; q++) {
        const __m512i w0 = zmm_panels(p0, p1, q), w1 = zmm_panels(p2, p3, q);
        ZMM_STEP(ZMM_FULL)
    }
    for (; q < kq; q++) {
        const __m512i w0 = zmm_panels(p0, p1, q), w1 = zmm_panels(p2, p3, q);
        ZMM_STEP(ZMM_TAIL)
    }
    const __m512i lo[6] = {c00, c10, c20, c30, c40, c50}, hi[6] = {c01, c11, c21, c31, c41, c51};
    /* 16 columns per output stage: the tile's 32 columns' constants are loaded once. */
    const mlrc_q8_stage16 st0 = mlrc_q8_stage16_at(scale, n0, 0xFFFF, out);
    const mlrc_q8_stage16 st1 = mlrc_q8_stage16_at(scale, n0 + 16, 0xFFFF, out);
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    for (int r = 0; r < rows; r++)
        mlrc_q8_store32_avx512(&st0, &st1, _mm512_add_epi32(lo[r], bias2[0]), _mm512_add_epi32(hi[r], bias2[1]),
                               (char *)C + (size_t)r * row_bytes + (size_t)n0 * esize);
}
/* One row, four panels: the classifier (M = 1) and the last row of a 6k + 1 row count. Four independent
 * accumulator pairs over q keep the vpdpbusd latency hidden; a 6-row tile would do six times the products. */
ZMM_TARGET static void tile_zmm_row(const uint8_t *a0, int32_t K, const int8_t *p, int32_t kq, const __m512i bias2[2],
                                    int32_t n0, const float *scale, const mlrc_q8_output *out, void *C) {
    const size_t panel = (size_t)kq * 32;
    const int8_t *p0 = p, *p1 = p + panel, *p2 = p + 2 * panel, *p3 = p + 3 * panel;
    __m512i lo[4], hi[4];
    for (int j = 0; j < 4; j++) lo[j] = hi[j] = _mm512_setzero_si512();
    const int32_t full = K / 4;
    int32_t q = 0;
    for (; q + 4 <= full; q += 4) {
        for (int j = 0; j < 4; j++) {
            const __m512i x = _mm512_set1_epi32(load4_avx512vnni(a0 + 4 * (size_t)(q + j)));
            lo[j] = _mm512_dpbusd_epi32(lo[j], x, zmm_panels(p0, p1, q + j));
            hi[j] = _mm512_dpbusd_epi32(hi[j], x, zmm_panels(p2, p3, q + j));
        }
    }
    for (; q < kq; q++) {
        const __m512i x = q < full ? _mm512_set1_epi32(load4_avx512vnni(a0 + 4 * (size_t)q))
                                   : _mm512_broadcast_i32x4(_mm256_castsi256_si128(quad_avx512vnni(a0, 4 * q, K)));
        lo[0] = _mm512_dpbusd_epi32(lo[0], x, zmm_panels(p0, p1, q));
        hi[0] = _mm512_dpbusd_epi32(hi[0], x, zmm_panels(p2, p3, q));
    }
    const __m512i l = _mm512_add_epi32(_mm512_add_epi32(lo[0], lo[1]), _mm512_add_epi32(lo[2], lo[3]));
    const __m512i h = _mm512_add_epi32(_mm512_add_epi32(hi[0], hi[1]), _mm512_add_epi32(hi[2], hi[3]));
    const mlrc_q8_stage16 st0 = mlrc_q8_stage16_at(scale, n0, 0xFFFF, out);
    const mlrc_q8_stage16 st1 = mlrc_q8_stage16_at(scale, n0 + 16, 0xFFFF, out);
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    mlrc_q8_store32_avx512(&st0, &st1, _mm512_add_epi32(l, bias2[0]), _mm512_add_epi32(h, bias2[1]),
                           (char *)C + (size_t)n0 * esize);
}

/* Two panels (16 columns) per 6-row tile, one zmm accumulator a row; with THIRD, a third panel in a ymm
 * accumulator beside it (24 columns: each broadcast activation quad then feeds two instructions, where N = 24 or
 * 40 would otherwise leave a half-empty zmm tile). cols: the columns present (the last panel may be partial, the
 * second absent: p1 then repeats p0 and its lanes are masked off at the store). */
__attribute__((always_inline)) ZMM_TARGET static inline void
tile_panels(int32_t rows, const uint8_t *A, int32_t lda, int32_t K, const int8_t *p0, const int8_t *p1,
            const int8_t *p2, int32_t kq, __m512i bias01, __m256i bias2, int32_t n0, int32_t cols, const float *scale,
            const mlrc_q8_output *out, void *C, size_t row_bytes, const int THIRD) {
    /* clang-format off */
    ZMM_ROWPTR(0); ZMM_ROWPTR(1); ZMM_ROWPTR(2); ZMM_ROWPTR(3); ZMM_ROWPTR(4); ZMM_ROWPTR(5);
    /* clang-format on */
    __m512i c[6];
    __m256i d[6];
    for (int r = 0; r < 6; r++) c[r] = _mm512_setzero_si512(), d[r] = _mm256_setzero_si256();
    const int32_t full = K / 4;
    int32_t q = 0;
/* clang-format off */
#define ZMM_STEP_PANELS(X)                                                                                     \
    {                                                                                                          \
        const __m512i w = zmm_panels(p0, p1, q);                                                               \
        const __m256i v = THIRD ? _mm256_loadu_si256((const __m256i *)(p2 + (size_t)q * 32)) : _mm256_setzero_si256(); \
        const __m512i x[6] = {X(0), X(1), X(2), X(3), X(4), X(5)};                                             \
        for (int r = 0; r < 6; r++) {                                                                          \
            c[r] = _mm512_dpbusd_epi32(c[r], x[r], w);                                                         \
            if (THIRD) d[r] = _mm256_dpbusd_epi32(d[r], _mm512_castsi512_si256(x[r]), v);                      \
        }                                                                                                      \
    }
    /* clang-format on */
    for (; q < full; q++) ZMM_STEP_PANELS(ZMM_FULL)
    for (; q < kq; q++) ZMM_STEP_PANELS(ZMM_TAIL)
#undef ZMM_STEP_PANELS
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const mlrc_q8_stage16 st0 = mlrc_q8_stage16_at(scale, n0, mlrc_avx512_lanes(cols), out);
    const mlrc_q8_stage16 st1 = mlrc_q8_stage16_at(scale, n0 + 16, mlrc_avx512_lanes(cols - 16), out);
    for (int r = 0; r < rows; r++) {
        char *row = (char *)C + (size_t)r * row_bytes + (size_t)n0 * esize;
        if (THIRD)
            mlrc_q8_store32_avx512(&st0, &st1, _mm512_add_epi32(c[r], bias01),
                                   _mm512_zextsi256_si512(_mm256_add_epi32(d[r], bias2)), row);
        else
            mlrc_q8_store16_avx512(&st0, _mm512_add_epi32(c[r], bias01), row);
    }
}

#undef ZMM_ROWPTR
#undef ZMM_STEP
#undef ZMM_FULL
#undef ZMM_TAIL

/* Narrow K (16-40, the expand and project layers of the first blocks): a group of G zmm column vectors
 * (16 columns each) has all its weights, KQ x G <= 20 zmm, in registers, and every row of the range is one pass:
 * KQ broadcasts feed KQ x G vpdpbusd, where the 6 x 32 tile spends a broadcast on every two and rebuilds its
 * weight vectors per row block. */
__attribute__((always_inline)) ZMM_TARGET static inline void
rows_regw(const mlrc_q8_gemm_args *g, int32_t m0, int32_t m1, int32_t nb, const int KQ, const int G) {
    const size_t panel = (size_t)KQ * 32;
    const int8_t *p = g->B + (size_t)nb * panel;
    __m512i w[KQ][G], bias[G];
    mlrc_q8_stage16 st[G];
    for (int j = 0; j < G; j++) {
        const int8_t *pa = p + (size_t)(2 * j) * panel, *pb = pa + panel;
        for (int q = 0; q < KQ; q++) w[q][j] = zmm_panels(pa, pb, q);
        const int32_t n0 = (nb + 2 * j) * 8;
        bias[j] = _mm512_inserti64x4(_mm512_castsi256_si512(panel_bias_avx512vnni(pa, KQ, n0, 8, g->bias, g->zero)),
                                     panel_bias_avx512vnni(pb, KQ, n0 + 8, 8, g->bias, g->zero), 1);
        st[j] = mlrc_q8_stage16_at(g->scale, n0, 0xFFFF, g->out);
    }
    const size_t esize = g->out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    char *c0 = (char *)g->C + (size_t)nb * 8 * esize;
    for (int32_t m = m0; m < m1; m++) {
        const uint8_t *a = g->A + (size_t)m * g->lda;
        __m512i acc[G];
        for (int j = 0; j < G; j++) acc[j] = bias[j];
        for (int q = 0; q < KQ; q++) {
            const __m512i x = _mm512_set1_epi32(load4_avx512vnni(a + 4 * q));
            for (int j = 0; j < G; j++) acc[j] = _mm512_dpbusd_epi32(acc[j], x, w[q][j]);
        }
        char *row = c0 + (size_t)m * g->row_bytes;
        int j = 0;
        for (; j + 2 <= G; j += 2)
            mlrc_q8_store32_avx512(&st[j], &st[j + 1], acc[j], acc[j + 1], row + (size_t)j * 16 * esize);
        if (j < G) mlrc_q8_store16_avx512(&st[j], acc[j], row + (size_t)j * 16 * esize);
    }
}

/* Two vectors (32 columns) per group: more spills the output stage's constants (measured: K = 16, N = 96 runs
 * 94 us with two, 146 with four, 115 on the tiles). */
#define GMAX 2

/* Column groups of the register-weight pass for K = 4 * kq, from panel 0; returns the first panel left to the
 * tiles (0 where K is not one of the narrow sizes). */
ZMM_TARGET static int32_t narrow_k(const mlrc_q8_gemm_args *g, int32_t m0, int32_t m1) {
    const int32_t kq = g->K / 4, full_pairs = g->N / 16; /* whole 16-column vectors */
    if (g->K % 4 != 0 || (kq != 4 && kq != 6 && kq != 8 && kq != 10)) return 0;
    const int gmax = GMAX;
    int32_t pair = 0;
    while (pair < full_pairs) {
        const int left = full_pairs - pair;
        const int G = left >= gmax ? gmax : left >= 2 ? 2 : 1;
        const int32_t nb = pair * 2;
#define NARROW(KQ, GG)                                                                                                 \
    if (kq == KQ && G == GG) rows_regw(g, m0, m1, nb, KQ, GG)
        /* clang-format off */
        NARROW(4, 2); NARROW(4, 1); NARROW(6, 2); NARROW(6, 1); NARROW(8, 2); NARROW(8, 1); NARROW(10, 2); NARROW(10, 1);
        /* clang-format on */
#undef NARROW
        pair += G;
    }
    return pair * 2;
}

/* The driver's range: row blocks in chunks of 16; groups of four panels in 32-column zmm tiles, then pairs of
 * panels in 16-column ones. */
ZMM_TARGET void mlrc_q8_gemm_range_6x32c4_avx512vnni(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0,
                                                     int32_t nb1, int thread) {
    const int32_t kq = (g->K + 3) / 4;
    /* narrow K over whole rows ranges (the row split): its column groups first, the tiles take what is left */
    if (nb0 == 0 && nb1 == (g->N + 7) / 8 && rb1 - rb0 >= 4) {
        const int32_t m0 = rb0 * 6, m1 = rb1 * 6 < g->M ? rb1 * 6 : g->M;
        nb0 = narrow_k(g, m0, m1);
        if (nb0 >= nb1) return;
    }
    for (int32_t c0 = rb0; c0 < rb1; c0 += 16) {
        const int32_t c1 = c0 + 16 < rb1 ? c0 + 16 : rb1;
        int32_t nb = nb0;
        for (; nb + 4 <= nb1 && (nb + 4) * 8 <= g->N; nb += 4) {
            const int8_t *p = g->B + (size_t)nb * kq * 32;
            __m256i b4[4];
            for (int j = 0; j < 4; j++)
                b4[j] = panel_bias_avx512vnni(p + (size_t)j * kq * 32, kq, (nb + j) * 8, 8, g->bias, g->zero);
            const __m512i b[2] = {_mm512_inserti64x4(_mm512_castsi256_si512(b4[0]), b4[1], 1),
                                  _mm512_inserti64x4(_mm512_castsi256_si512(b4[2]), b4[3], 1)};
            for (int32_t rb = c0; rb < c1; rb++) {
                const int32_t m = rb * 6, rows = g->M - m < 6 ? g->M - m : 6;
                if (rows == 1)
                    tile_zmm_row(g->A + (size_t)m * g->lda, g->K, p, kq, b, nb * 8, g->scale, g->out,
                                 (char *)g->C + (size_t)m * g->row_bytes);
                else
                    tile_zmm(rows, g->A + (size_t)m * g->lda, g->lda, g->K, p, kq, b, nb * 8, g->scale, g->out,
                             (char *)g->C + (size_t)m * g->row_bytes, g->row_bytes);
            }
        }
        if (nb + 3 == nb1 && (nb + 2) * 8 < g->N) { /* three panels left (the third may be partial) */
            const int32_t n0 = nb * 8, cols = g->N - n0 < 24 ? g->N - n0 : 24;
            const int8_t *p = g->B + (size_t)nb * kq * 32;
            const __m256i b0 = panel_bias_avx512vnni(p, kq, n0, 8, g->bias, g->zero);
            const __m256i b1 = panel_bias_avx512vnni(p + (size_t)kq * 32, kq, n0 + 8, 8, g->bias, g->zero);
            const __m256i b2 = panel_bias_avx512vnni(p + (size_t)2 * kq * 32, kq, n0 + 16, cols - 16, g->bias, g->zero);
            const __m512i b01 = _mm512_inserti64x4(_mm512_castsi256_si512(b0), b1, 1);
            for (int32_t rb = c0; rb < c1; rb++) {
                const int32_t m = rb * 6, rows = g->M - m < 6 ? g->M - m : 6;
                tile_panels(rows, g->A + (size_t)m * g->lda, g->lda, g->K, p, p + (size_t)kq * 32,
                            p + (size_t)2 * kq * 32, kq, b01, b2, n0, cols, g->scale, g->out,
                            (char *)g->C + (size_t)m * g->row_bytes, g->row_bytes, 1);
            }
            nb = nb1;
        }
        for (; nb < nb1; nb += 2) {
            const int32_t n0 = nb * 8, cols = g->N - n0 < 16 ? g->N - n0 : 16;
            const int two = nb + 1 < nb1;
            const int8_t *p0 = g->B + (size_t)nb * kq * 32, *p1 = two ? p0 + (size_t)kq * 32 : p0;
            const __m256i b0 = panel_bias_avx512vnni(p0, kq, n0, cols < 8 ? cols : 8, g->bias, g->zero);
            /* A missing second panel reads the first again; its lanes are masked off at the store. */
            const __m256i b1 = two ? panel_bias_avx512vnni(p1, kq, n0 + 8, cols - 8, g->bias, g->zero) : b0;
            const __m512i b = _mm512_inserti64x4(_mm512_castsi256_si512(b0), b1, 1);
            for (int32_t rb = c0; rb < c1; rb++) {
                const int32_t m = rb * 6, rows = g->M - m < 6 ? g->M - m : 6;
                tile_panels(rows, g->A + (size_t)m * g->lda, g->lda, g->K, p0, p1, NULL, kq, b, _mm256_setzero_si256(),
                            n0, two ? cols : (cols < 8 ? cols : 8), g->scale, g->out,
                            (char *)g->C + (size_t)m * g->row_bytes, g->row_bytes, 0);
            }
        }
    }
}

#else
typedef int mlrc_q8_gemm_avx512vnni_unused; /* ISO C wants a declaration in every file */
#endif
