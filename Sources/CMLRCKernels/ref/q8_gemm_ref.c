/* Reference int8 GEMM on the packed weight layout, and the packing itself. */
#include <string.h>
#include "mlrc_kernels.h"
#include "q8_requantize.h"

size_t mlrc_q8_packed_bytes(int32_t N, int32_t K) {
    return (size_t)((N + 7) / 8) * (size_t)((K + 3) / 4) * 32;
}

void mlrc_q8_pack_weights(int32_t N, int32_t K, const int8_t *w_kn, int8_t *packed) {
    const int32_t kq = (K + 3) / 4;
    memset(packed, 0, mlrc_q8_packed_bytes(N, K));
    for (int32_t k = 0; k < K; k++)
        for (int32_t n = 0; n < N; n++)
            packed[((size_t)(n / 8) * kq + k / 4) * 32 + (n % 8) * 4 + k % 4] = w_kn[(size_t)k * N + n];
}

size_t mlrc_q8_gemm_scratch_bytes(int32_t K, int32_t threads) {
    const size_t kp = (size_t)((K + 3) / 4) * 4;
    const size_t per_thread = ((size_t)MLRC_Q8_PACK_ROWS * kp * sizeof(int16_t) + 63) & ~(size_t)63;
    return per_thread * (size_t)(threads < 1 ? 1 : threads);
}

uint8_t mlrc_q8_requantize_scalar(int32_t acc, int32_t bias, float scale, const mlrc_q8_output *out) {
    return mlrc_q8_stage_u8(acc, bias, scale, out);
}

void mlrc_q8_gemm_ref(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero,
                      const int8_t *B, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                      int32_t ldc, void *scratch, int32_t threads) {
    (void)scratch;
    const int32_t kq = (K + 3) / 4;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    int nt = mlrc_threads_for(threads, M);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t m = 0; m < M; m++) {
        const uint8_t *a = A + (size_t)m * lda;
        char *row = (char *)C + (size_t)m * ldc * esize;
        for (int32_t n0 = 0; n0 < N; n0 += 8) {
            const int32_t cols = N - n0 < 8 ? N - n0 : 8;
            const int8_t *panel = B + (size_t)(n0 / 8) * kq * 32;
            int32_t acc[8] = {0};
            for (int32_t k = 0; k < K; k++) {
                const int32_t x = (int32_t)a[k] - a_zero;
                const int8_t *w = panel + (size_t)(k / 4) * 32 + k % 4;
                for (int32_t j = 0; j < cols; j++) acc[j] += x * w[j * 4];
            }
            mlrc_q8_store_row(acc, n0, cols, bias, scale, out, row);
        }
    }
}
