/* Reference GEMM: the specification the optimized GEMMs are tested against. */
#include "mlrc_ukernels.h"
#include "activation.h"

void mlrc_f32_gemm_ref(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                       const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads) {
    int nt = mlrc_threads_for(threads, M);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t m = 0; m < M; m++) {
        float *c = C + (size_t)m * ldc;
        for (int32_t n = 0; n < N; n++) c[n] = bias ? bias[n] : 0.0f;
        const float *a = A + (size_t)m * lda;
        for (int32_t k = 0; k < K; k++) {
            const float av = a[k];
            const float *b = B + (size_t)k * ldb;
            for (int32_t n = 0; n < N; n++) c[n] += av * b[n];
        }
        if (act != MLRC_ACT_NONE)
            for (int32_t n = 0; n < N; n++) c[n] = mlrc_act_scalar(c[n], act);
    }
}
