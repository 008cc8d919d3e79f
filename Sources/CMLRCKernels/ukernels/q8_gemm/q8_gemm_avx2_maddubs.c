/* int8 GEMM and indirect convolution for AVX2 on weights whose pairs cannot saturate int16: the 6 x 16 tile of
 * q8_gemm_quad_dot_ymm.h with its four-product step made of vpmaddubsw (uint8 x int8 products summed in pairs
 * into int16, with saturation) and vpmaddwd against ones (the two pairs of a quad summed into int32).
 *
 * A pair sum a0 w0 + a1 w1 with a in [0, 255] lies in [-255 n, 255 p], p and n the pair's positive and negative
 * weight magnitudes added up; it fits int16 without saturating when p <= 128 and n <= 128 (255 * 128 = 32640).
 * mlrc_q8_weight_pair_peak measures that bound on the packed weights, and the operators choose these rows only
 * when it holds (MLRC_Q8_MADDUBS_PAIR_LIMIT), so the sums are exact and the bytes equal the reference's. The
 * gain over the exact-int16 rows: no activation widening or packing, no weight widening inside the tile, and three
 * vector instructions per 32 products instead of four and a share of the widening. quantize keeps the weights of
 * layers it measures no worse for it inside that bound (docs/QUANTIZATION.md). */
#if defined(__x86_64__)
#include <string.h>
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"
#include "activation.h"
#include "q8_requantize.h"
#include "window.h"

__attribute__((target("avx2,fma"), always_inline)) static inline __m256i maddubs_quad_dot(__m256i acc, __m256i x,
                                                                                          __m256i w) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), _mm256_set1_epi16(1)));
}

#define QDOT_TARGET __attribute__((target("avx2,fma")))
#define QDOT maddubs_quad_dot
#define QDOT_NAME(x) x##_avx2_maddubs
#define QDOT_NAMED_STORES 1
#include "q8_gemm_quad_dot_ymm.h"
#undef QDOT_TARGET
#undef QDOT
#undef QDOT_NAME
#undef QDOT_NAMED_STORES
#else
typedef int mlrc_q8_gemm_avx2_maddubs_unused; /* ISO C wants a declaration in every file */
#endif
