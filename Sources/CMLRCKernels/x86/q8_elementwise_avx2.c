/* AVX2 quantize (fp32 -> uint8) and requantizing add: the same float operations as the reference, 16 lanes at a
 * time, so results are bit-identical. */
#if defined(__x86_64__)
#include "q8_output_avx2.h"

/* 16 int32 (two vectors, already clamped to 0..255) to 16 bytes in order. */
MLRC_AVX2 static inline __m128i pack16(__m256i a, __m256i b) {
    const __m256i w = _mm256_packs_epi32(a, b);                   /* a0-3 b0-3 | a4-7 b4-7 */
    const __m256i p = _mm256_permute4x64_epi64(w, 0xD8);          /* a0-3 a4-7 | b0-3 b4-7 */
    return _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
}

MLRC_AVX2 static inline __m256i round_clamp(__m256 v, __m256 vlo, __m256 vhi, __m256i zero) {
    v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), zero);
}

MLRC_AVX2 static void quantize_range(size_t i0, size_t i1, const float *x, float inv_scale, int32_t zero, uint8_t *q) {
    const __m256 s = _mm256_set1_ps(inv_scale);
    const __m256 vlo = _mm256_set1_ps((float)-zero), vhi = _mm256_set1_ps((float)(255 - zero));
    const __m256i z = _mm256_set1_epi32(zero);
    size_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        const __m256i a = round_clamp(_mm256_mul_ps(_mm256_loadu_ps(x + i), s), vlo, vhi, z);
        const __m256i b = round_clamp(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8), s), vlo, vhi, z);
        _mm_storeu_si128((__m128i *)(q + i), pack16(a, b));
    }
    for (; i < i1; i++) q[i] = (uint8_t)mlrc_q8_round_clamp(x[i] * inv_scale, zero, 0, 255);
}

void mlrc_q8_quantize_avx2(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q,
                           int32_t threads) {
    const size_t blocks = (count + 4095) / 4096;
    int nt = mlrc_threads_for(threads, (int64_t)(count / 4096));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t b = 0; b < blocks; b++) {
        const size_t i1 = (b + 1) * 4096 < count ? (b + 1) * 4096 : count;
        quantize_range(b * 4096, i1, x, inv_scale, zero, q);
    }
}

MLRC_AVX2 static inline __m256 widen8(const uint8_t *p, __m256i zero) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(v, zero));
}

MLRC_AVX2 static void add_range(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b,
                                int32_t zb, float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out) {
    const __m256i zav = _mm256_set1_epi32(za), zbv = _mm256_set1_epi32(zb), zo = _mm256_set1_epi32(zero_out);
    const __m256 mav = _mm256_set1_ps(ma), mbv = _mm256_set1_ps(mb);
    const __m256 vlo = _mm256_set1_ps((float)(lo - zero_out)), vhi = _mm256_set1_ps((float)(hi - zero_out));
    size_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        /* mul, mul, add: no FMA, so the rounding matches the reference's va + vb. */
        const __m256 v0 = _mm256_add_ps(_mm256_mul_ps(widen8(a + i, zav), mav), _mm256_mul_ps(widen8(b + i, zbv), mbv));
        const __m256 v1 =
            _mm256_add_ps(_mm256_mul_ps(widen8(a + i + 8, zav), mav), _mm256_mul_ps(widen8(b + i + 8, zbv), mbv));
        _mm_storeu_si128((__m128i *)(out + i), pack16(round_clamp(v0, vlo, vhi, zo), round_clamp(v1, vlo, vhi, zo)));
    }
    for (; i < i1; i++) {
        const float va = (float)((int32_t)a[i] - za) * ma, vb = (float)((int32_t)b[i] - zb) * mb;
        out[i] = (uint8_t)mlrc_q8_round_clamp(va + vb, zero_out, lo, hi);
    }
}

void mlrc_q8_add_avx2(size_t count, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                      float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out, int32_t threads) {
    const size_t blocks = (count + 4095) / 4096;
    int nt = mlrc_threads_for(threads, (int64_t)(count / 4096));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t blk = 0; blk < blocks; blk++) {
        const size_t i1 = (blk + 1) * 4096 < count ? (blk + 1) * 4096 : count;
        add_range(blk * 4096, i1, a, za, ma, b, zb, mb, zero_out, lo, hi, out);
    }
}
#endif
