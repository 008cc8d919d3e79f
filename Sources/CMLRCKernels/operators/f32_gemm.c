/* The fp32 GEMM operator: its table (each row still splits its own row blocks over threads). */
#include "mlrc_ukernels.h"
#include "choose.h"

const mlrc_f32_gemm_variant mlrc_f32_gemm_variants[] = {
#if defined(__x86_64__)
    {"f32_gemm_6x16_avx2", MLRC_CPU_X86_AVX2, mlrc_f32_gemm_6x16_avx2},
#endif
#if defined(__aarch64__)
    {"f32_gemm_8x8_neon", MLRC_CPU_NEON, mlrc_f32_gemm_8x8_neon},
#endif
    {"f32_gemm_ref", 0, mlrc_f32_gemm_ref},
};
const int32_t mlrc_f32_gemm_variant_count = (int32_t)(sizeof mlrc_f32_gemm_variants / sizeof mlrc_f32_gemm_variants[0]);

int32_t mlrc_f32_gemm_choose(uint32_t features) {
    MLRC_FIRST_ENABLED(mlrc_f32_gemm_variants, mlrc_f32_gemm_variant_count, features)
}

void mlrc_f32_gemm(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                   const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads) {
    mlrc_f32_gemm_variants[mlrc_f32_gemm_choose(mlrc_cpu_enabled())].run(M, N, K, A, lda, B, ldb, bias, C, ldc, act,
                                                                         threads);
}
