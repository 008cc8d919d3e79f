/* The int8 output stage (mlrc_q8_output) on 8 int32 accumulators, shared by the AVX2 int8 kernels. */
#ifndef MLRC_Q8_OUTPUT_AVX2_H
#define MLRC_Q8_OUTPUT_AVX2_H
#if defined(__x86_64__)
#include <string.h>
#include "x86/f32_vmath_avx2.h"
#include "q8_requantize.h"

/* Stores one row's 8 (or `cols`) int32 sums through the output stage. */
MLRC_AVX2 static inline void mlrc_q8_store8_avx2(__m256i acc, int32_t n0, int32_t cols, const int32_t *bias,
                                                 const float *scale, const mlrc_q8_output *out, void *row) {
    const __m256i mask = mlrc_avx2_tail_mask(cols);
    const __m256i b = bias ? _mm256_maskload_epi32(bias + n0, mask) : _mm256_setzero_si256();
    const __m256 s = _mm256_maskload_ps(scale + n0, mask);
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, b)), s);
    if (out->kind == MLRC_Q8_OUT_F32) {
        _mm256_maskstore_ps((float *)row + n0, mask, mlrc_avx2_activate(v, out->act));
        return;
    }
    v = _mm256_max_ps(v, _mm256_set1_ps((float)(out->lo - out->zero)));
    v = _mm256_min_ps(v, _mm256_set1_ps((float)(out->hi - out->zero)));
    const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(out->zero));
    const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    uint8_t bytes[16];
    _mm_storeu_si128((__m128i *)bytes, _mm_packus_epi16(q16, q16));
    uint8_t *y = (uint8_t *)row + n0;
    if (out->lut)
        for (int32_t j = 0; j < cols; j++) y[j] = out->lut[bytes[j]];
    else if (cols == 8)
        memcpy(y, bytes, 8);
    else
        memcpy(y, bytes, (size_t)cols);
}

/* 16 int32 (two vectors, already clamped to 0..255) to 16 bytes in order. */
MLRC_AVX2 static inline __m128i mlrc_avx2_pack16(__m256i a, __m256i b) {
    const __m256i w = _mm256_packs_epi32(a, b);          /* a0-3 b0-3 | a4-7 b4-7 */
    const __m256i p = _mm256_permute4x64_epi64(w, 0xD8); /* a0-3 a4-7 | b0-3 b4-7 */
    return _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
}

MLRC_AVX2 static inline __m256i mlrc_avx2_round_clamp(__m256 v, __m256 vlo, __m256 vhi, __m256i zero) {
    v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), zero);
}

/* mlrc_q8_quantize_block_avx2's body: every kernel that quantizes floats on AVX2 runs this. */
MLRC_AVX2 static inline void mlrc_avx2_quantize_floats(size_t count, const float *x, float inv_scale, int32_t zero,
                                                       uint8_t *q) {
    const __m256 s = _mm256_set1_ps(inv_scale);
    const __m256 vlo = _mm256_set1_ps((float)-zero), vhi = _mm256_set1_ps((float)(255 - zero));
    const __m256i z = _mm256_set1_epi32(zero);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        const __m256i a = mlrc_avx2_round_clamp(_mm256_mul_ps(_mm256_loadu_ps(x + i), s), vlo, vhi, z);
        const __m256i b = mlrc_avx2_round_clamp(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8), s), vlo, vhi, z);
        _mm_storeu_si128((__m128i *)(q + i), mlrc_avx2_pack16(a, b));
    }
    for (; i < count; i++) q[i] = (uint8_t)mlrc_q8_round_clamp(x[i] * inv_scale, zero, 0, 255);
}

/* The output stage for 16 channels with every per-channel constant already loaded. */
typedef struct mlrc_q8_stage2x8 {
    __m256i b0, b1;
    __m256 s0, s1, vlo, vhi;
    __m256i zero;
} mlrc_q8_stage2x8;

/* Always inlined: it runs once per output pixel of a depthwise kernel, where a call (its vectors through memory)
 * costs as much as the pixel's arithmetic and compilers otherwise keep it out of line. */
MLRC_AVX2 static inline __attribute__((always_inline)) void
mlrc_q8_store16_avx2(const mlrc_q8_stage2x8 *st, __m256i a0, __m256i a1, const mlrc_q8_output *out, char *dst) {
    __m256 v0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(a0, st->b0)), st->s0);
    __m256 v1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(a1, st->b1)), st->s1);
    if (out->kind == MLRC_Q8_OUT_F32) {
        _mm256_storeu_ps((float *)dst, mlrc_avx2_activate(v0, out->act));
        _mm256_storeu_ps((float *)dst + 8, mlrc_avx2_activate(v1, out->act));
        return;
    }
    v0 = _mm256_min_ps(_mm256_max_ps(v0, st->vlo), st->vhi);
    v1 = _mm256_min_ps(_mm256_max_ps(v1, st->vlo), st->vhi);
    const __m256i q0 = _mm256_add_epi32(_mm256_cvtps_epi32(v0), st->zero);
    const __m256i q1 = _mm256_add_epi32(_mm256_cvtps_epi32(v1), st->zero);
    const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
    const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    if (out->lut) {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)tmp, bytes);
        for (int j = 0; j < 16; j++) ((uint8_t *)dst)[j] = out->lut[tmp[j]];
    } else {
        _mm_storeu_si128((__m128i *)dst, bytes);
    }
}

/* The 16-channel stage of channels [c, c + 16). */
MLRC_AVX2 static inline mlrc_q8_stage2x8 mlrc_q8_stage2x8_load(const int32_t *bias, const float *scale,
                                                               const mlrc_q8_output *out, int32_t c) {
    mlrc_q8_stage2x8 st;
    st.b0 = bias ? _mm256_loadu_si256((const __m256i *)(bias + c)) : _mm256_setzero_si256();
    st.b1 = bias ? _mm256_loadu_si256((const __m256i *)(bias + c + 8)) : _mm256_setzero_si256();
    st.s0 = _mm256_loadu_ps(scale + c);
    st.s1 = _mm256_loadu_ps(scale + c + 8);
    st.vlo = _mm256_set1_ps((float)(out->lo - out->zero));
    st.vhi = _mm256_set1_ps((float)(out->hi - out->zero));
    st.zero = _mm256_set1_epi32(out->zero);
    return st;
}

/* A 256-entry byte table as 16 sub-tables of 16 (each in both 128-bit lanes), for mlrc_avx2_lut32. */
typedef struct mlrc_avx2_lut {
    __m256i part[16];
} mlrc_avx2_lut;

MLRC_AVX2 static inline void mlrc_avx2_lut_load(const uint8_t *lut, mlrc_avx2_lut *t) {
    for (int i = 0; i < 16; i++)
        t->part[i] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(lut + 16 * i)));
}

/* lut[x] for 32 bytes: sub-table i answers the bytes whose high nibble is i. x ^ (i << 4) is below 16 exactly
 * there, and a saturating + 0x70 keeps it a valid vpshufb index (0x70-0x7F) while pushing every other byte to
 * 0x80 or above, which vpshufb turns into 0; the 16 answers are ORed. */
MLRC_AVX2 static inline __m256i mlrc_avx2_lut32(const mlrc_avx2_lut *t, __m256i x) {
    const __m256i bias = _mm256_set1_epi8(0x70);
    __m256i r = _mm256_setzero_si256();
    for (int i = 0; i < 16; i++) {
        const __m256i idx = _mm256_adds_epu8(_mm256_xor_si256(x, _mm256_set1_epi8((char)(i << 4))), bias);
        r = _mm256_or_si256(r, _mm256_shuffle_epi8(t->part[i], idx));
    }
    return r;
}

/* y[i] = lut[y[i]] for n bytes in place. */
MLRC_AVX2 static inline void mlrc_avx2_lut_bytes(const mlrc_avx2_lut *t, const uint8_t *lut, uint8_t *y, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        _mm256_storeu_si256((__m256i *)(y + i), mlrc_avx2_lut32(t, _mm256_loadu_si256((const __m256i *)(y + i))));
    for (; i < n; i++) y[i] = lut[y[i]];
}

/* A table activation (GELU, sigmoid) over finished rows, 32 bytes a step, instead of one byte at a time inside the
 * tiles: a GEMM or convolution runs its tiles on `plain` (the output stage without its table), then
 * mlrc_avx2_table_rows over the rows they finished. */
typedef struct mlrc_avx2_table_pass {
    const uint8_t *lut; /* NULL: no table */
    mlrc_q8_output plain;
    mlrc_avx2_lut parts;
} mlrc_avx2_table_pass;

MLRC_AVX2 static inline void mlrc_avx2_table_pass_init(mlrc_avx2_table_pass *t, const mlrc_q8_output *out) {
    t->plain = *out;
    t->lut = out->kind == MLRC_Q8_OUT_U8 ? out->lut : NULL;
    t->plain.lut = NULL;
    if (t->lut) mlrc_avx2_lut_load(t->lut, &t->parts);
}

/* Columns [c0, c1) of `rows` rows row_bytes apart. */
MLRC_AVX2 static inline void mlrc_avx2_table_rows(const mlrc_avx2_table_pass *t, char *C, size_t row_bytes,
                                                  int32_t rows, int32_t c0, int32_t c1) {
    for (int32_t r = 0; t->lut && r < rows; r++)
        mlrc_avx2_lut_bytes(&t->parts, t->lut, (uint8_t *)C + (size_t)r * row_bytes + c0, (size_t)(c1 - c0));
}

/* The same stage when the bias is already in the accumulators. */
MLRC_AVX2 static inline void mlrc_q8_store8_with_bias_avx2(__m256i acc, int32_t n0, int32_t cols, const float *scale,
                                                           const mlrc_q8_output *out, void *row) {
    mlrc_q8_store8_avx2(acc, n0, cols, NULL, scale, out, row);
}
#endif
#endif
