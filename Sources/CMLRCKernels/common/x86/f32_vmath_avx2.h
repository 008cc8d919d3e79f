/* Vector exp, erf, GELU and sigmoid for AVX2/FMA, so activations fused into kernels stay in registers.
 * exp: range reduction by ln 2 and a degree-6 polynomial (relative error ~2e-7).
 * erf: Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), which is well inside fp32 model tolerance. */
#ifndef MLRC_F32_VMATH_AVX2_H
#define MLRC_F32_VMATH_AVX2_H
#if defined(__x86_64__)
#include "x86/avx2_common.h"

MLRC_AVX2 static inline __m256 mlrc_avx2_exp(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* 1/d by the hardware estimate and one Newton step (relative error ~1e-7): much cheaper than a division. */
MLRC_AVX2 static inline __m256 mlrc_avx2_reciprocal(__m256 d) {
    const __m256 r = _mm256_rcp_ps(d);
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
}

MLRC_AVX2 static inline __m256 mlrc_avx2_erf(__m256 x) {
    const __m256 sign = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)));
    const __m256 a = _mm256_andnot_ps(_mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)), x);
    const __m256 t = mlrc_avx2_reciprocal(_mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    const __m256 e = mlrc_avx2_exp(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
    const __m256 y = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f));
    return _mm256_or_ps(y, sign);
}

MLRC_AVX2 static inline __m256 mlrc_avx2_gelu(__m256 x) {
    const __m256 half_x = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
    const __m256 e = mlrc_avx2_erf(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_fmadd_ps(half_x, e, half_x);
}

MLRC_AVX2 static inline __m256 mlrc_avx2_sigmoid(__m256 x) {
    const __m256 e = mlrc_avx2_exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return mlrc_avx2_reciprocal(_mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

MLRC_AVX2 static inline __m256 mlrc_avx2_hardsigmoid(__m256 x) {
    const __m256 t = _mm256_add_ps(x, _mm256_set1_ps(3.0f));
    const __m256 c = _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
    return _mm256_mul_ps(c, _mm256_set1_ps(1.0f / 6.0f));
}

/* Every activation in registers. */
MLRC_AVX2 static inline __m256 mlrc_avx2_activate(__m256 v, int32_t act) {
    switch (act) {
    case MLRC_ACT_RELU: return _mm256_max_ps(v, _mm256_setzero_ps());
    case MLRC_ACT_RELU6: return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
    case MLRC_ACT_GELU: return mlrc_avx2_gelu(v);
    case MLRC_ACT_SIGMOID: return mlrc_avx2_sigmoid(v);
    case MLRC_ACT_HARDSWISH: return _mm256_mul_ps(v, mlrc_avx2_hardsigmoid(v));
    case MLRC_ACT_HARDSIGMOID: return mlrc_avx2_hardsigmoid(v);
    case MLRC_ACT_SILU: return _mm256_mul_ps(v, mlrc_avx2_sigmoid(v));
    default: return v;
    }
}

/* A 512-bit vector through the same activation, one 256-bit half at a time (the AVX-512 kernels' fp32 outputs). */
__attribute__((target("avx2,fma,avx512f"))) static inline __m512 mlrc_avx512_activate(__m512 v, int32_t act) {
    const __m256 lo = mlrc_avx2_activate(_mm512_castps512_ps256(v), act);
    const __m256 hi = mlrc_avx2_activate(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)), act);
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
}
#endif
#endif
