/* Helpers shared by the AVX2/FMA kernels: lane masks for channel tails and vectorised activations. */
#ifndef MLRC_AVX2_COMMON_H
#define MLRC_AVX2_COMMON_H
#if defined(__x86_64__)
#include <immintrin.h>
#include "activation.h"

#define MLRC_AVX2 __attribute__((target("avx2,fma")))

/* A mask enabling the first n (0..8) lanes. */
MLRC_AVX2 static inline __m256i mlrc_avx2_tail_mask(int n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

/* The AVX-512 counterpart: a 16-lane mask enabling the first n lanes (n <= 0: none, n >= 16: all). */
static inline __mmask16 mlrc_avx512_lanes(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

#endif
#endif
