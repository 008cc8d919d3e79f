/* int8 GEMM for AVX2. Activations are widened once to int16 with the zero point subtracted (a - zero lies in
 * [-255, 255]), weights are widened from the packed quads on the fly, and vpmaddwd multiplies pairs into exact
 * int32 sums: no int16 saturation can occur (unlike vpmaddubsw on full-range uint8 x int8), so weights keep all
 * 8 bits. Micro-kernel: 6 rows x 8 columns, 12 accumulators each holding two k-pairs per column, reduced by one
 * hadd at the end. Blocking and threading: common/q8_gemm_driver.h (chunks of 24 packed rows, every column panel
 * passing over a chunk while it is in L1/L2). */
#if defined(__x86_64__)
#include <string.h>
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"
#include "q8_gemm_ranges.h"

#define MR 6

/* Rows [m, m + rows) of A as int16 (a - zero), [MR][kp]; missing rows repeat the last one (computed, never stored). */
MLRC_AVX2 static void pack_rows(int32_t rows, int32_t K, int32_t kp, const uint8_t *A, int32_t lda, int32_t zero,
                                int16_t *dst) {
    const __m256i z = _mm256_set1_epi16((int16_t)zero);
    for (int r = 0; r < MR; r++) {
        const uint8_t *src = A + (size_t)(r < rows ? r : rows - 1) * lda;
        int16_t *d = dst + (size_t)r * kp;
        int32_t k = 0;
        for (; k + 16 <= K; k += 16) {
            const __m256i x = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + k)));
            _mm256_storeu_si256((__m256i *)(d + k), _mm256_sub_epi16(x, z));
        }
        for (; k < K; k++) d[k] = (int16_t)((int32_t)src[k] - zero);
        for (; k < kp; k++) d[k] = 0;
    }
}

#define Q8_ROW(r)                                                                                                      \
    {                                                                                                                  \
        const __m256i x = _mm256_set1_epi64x(*(const int64_t *)(ap + (size_t)(r)*kp + 4 * (size_t)q));                 \
        lo##r = _mm256_add_epi32(lo##r, _mm256_madd_epi16(x, w0));                                                     \
        hi##r = _mm256_add_epi32(hi##r, _mm256_madd_epi16(x, w1));                                                     \
    }

/* One 6 x 8 tile over all of K. */
MLRC_AVX2 static void tile(int32_t rows, int32_t cols, int32_t kq, int32_t kp, const int16_t *ap, const int8_t *bp,
                           int32_t n0, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                           size_t row_bytes) {
    __m256i lo0 = _mm256_setzero_si256(), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0;
    __m256i lo3 = lo0, hi3 = lo0, lo4 = lo0, hi4 = lo0, lo5 = lo0, hi5 = lo0;
    for (int32_t q = 0; q < kq; q++) {
        const int8_t *w = bp + (size_t)q * 32;
        const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w));
        const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 16)));
        /* clang-format off */
        Q8_ROW(0) Q8_ROW(1) Q8_ROW(2) Q8_ROW(3) Q8_ROW(4) Q8_ROW(5)
        /* clang-format on */
    }
    /* lo holds columns 0-3 as (k0+k1, k2+k3) pairs, hi columns 4-7: hadd then a lane permute gives c0..c7. */
    const __m256i sums[MR] = {
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo0, hi0), 0xD8),
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo1, hi1), 0xD8),
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo2, hi2), 0xD8),
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo3, hi3), 0xD8),
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo4, hi4), 0xD8),
        _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo5, hi5), 0xD8),
    };
    for (int r = 0; r < rows; r++)
        mlrc_q8_store8_avx2(sums[r], n0, cols, bias, scale, out, (char *)C + (size_t)r * row_bytes);
}

void mlrc_q8_gemm_range_6x8c4_avx2(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                   int thread) {
    mlrc_q8_gemm_int16_range(g, rb0, rb1, nb0, nb1, thread, pack_rows, tile);
}

#endif
