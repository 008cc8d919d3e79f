/* int8 GEMM with VNNI (vpdpbusd): AVX512-VNNI on 256-bit registers (Ice Lake, Zen 4/5, Sapphire Rapids) and
 * AVX-VNNI (Alder Lake and later, Intel N100-class mini-PCs, Zen 5). One body, q8_gemm_vnni_impl.h, compiled
 * for each encoding. */
#if defined(__x86_64__)
#include <omp.h>
#include <string.h>
#include "q8_output_avx2.h"

#define VNNI_TARGET __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))
#define VNNI_DPBUSD _mm256_dpbusd_epi32
#define VNNI_NAME(x) x##_avx512vnni
#include "q8_gemm_vnni_impl.h"
#undef VNNI_TARGET
#undef VNNI_DPBUSD
#undef VNNI_NAME

#define VNNI_TARGET __attribute__((target("avx2,fma,avxvnni")))
#define VNNI_DPBUSD _mm256_dpbusd_avx_epi32
#define VNNI_NAME(x) x##_avxvnni
#include "q8_gemm_vnni_impl.h"
#undef VNNI_TARGET
#undef VNNI_DPBUSD
#undef VNNI_NAME

int mlrc_cpu_has_avx512vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") && mlrc_cpu_has_avx2_fma();
}

int mlrc_cpu_has_avxvnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avxvnni") && mlrc_cpu_has_avx2_fma();
}

void mlrc_q8_gemm_vnni_encoding(int encoding, int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda,
                                int32_t a_zero, const int8_t *B, const int32_t *bias, const float *scale,
                                const mlrc_q8_output *out, void *C, int32_t ldc, int32_t threads) {
    if (encoding == 512)
        gemm_avx512vnni(M, N, K, A, lda, a_zero, B, bias, scale, out, C, ldc, threads);
    else
        gemm_avxvnni(M, N, K, A, lda, a_zero, B, bias, scale, out, C, ldc, threads);
}

void mlrc_q8_gemm_vnni(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero,
                       const int8_t *B, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                       int32_t ldc, int32_t threads) {
    mlrc_q8_gemm_vnni_encoding(mlrc_cpu_has_avx512vnni() ? 512 : 256, M, N, K, A, lda, a_zero, B, bias, scale, out, C,
                               ldc, threads);
}
#else
typedef int mlrc_q8_gemm_vnni_unused; /* ISO C wants a declaration in every file */
#endif
