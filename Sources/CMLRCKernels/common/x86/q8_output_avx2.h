/* The int8 output stage (mlrc_q8_output) on 8 int32 accumulators, shared by the AVX2 int8 kernels. */
#ifndef MLRC_Q8_OUTPUT_AVX2_H
#define MLRC_Q8_OUTPUT_AVX2_H
#if defined(__x86_64__)
#include <string.h>
#include "x86/f32_vmath_avx2.h"
#include "q8_requantize.h"

/* Stores one row's 8 (or `cols`) int32 sums through the output stage. */
MLRC_AVX2 static inline void mlrc_q8_store8_avx2(__m256i acc, int32_t n0, int32_t cols, const int32_t *bias, const float *scale,
                                const mlrc_q8_output *out, void *row) {
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

/* The same stage when the bias is already in the accumulators. */
MLRC_AVX2 static inline void mlrc_q8_store8_with_bias_avx2(__m256i acc, int32_t n0, int32_t cols, const float *scale,
                                                        const mlrc_q8_output *out, void *row) {
    mlrc_q8_store8_avx2(acc, n0, cols, NULL, scale, out, row);
}
#endif
#endif
