/* fp32 GEMM for AVX2/FMA: a 6x16 register tile (12 accumulators), B read row by row (weights are stored
 * [K][N], so each k step loads 16 contiguous floats), column tails through masked loads and stores.
 * Work is split over row blocks, or over column blocks when there are few rows (the classifier head). */
#if defined(__x86_64__)
#include "avx2_common.h"

#define MR 6
#define NR 16

MLRC_AVX2 static void tile(int32_t rows, int32_t cols, int32_t K, const float *A, int32_t lda, const float *B,
                           int32_t ldb, const float *bias, float *C, int32_t ldc, int32_t act) {
    __m256 acc[MR][2];
    const __m256i m0 = mlrc_avx2_tail_mask(cols), m1 = mlrc_avx2_tail_mask(cols - 8);
    __m256 b0 = bias ? _mm256_maskload_ps(bias, m0) : _mm256_setzero_ps();
    __m256 b1 = bias ? _mm256_maskload_ps(bias + 8, m1) : _mm256_setzero_ps();
    for (int r = 0; r < MR; r++) {
        acc[r][0] = b0;
        acc[r][1] = b1;
    }
    if (rows == MR && cols == NR) {
        for (int32_t k = 0; k < K; k++) {
            const __m256 w0 = _mm256_loadu_ps(B + (size_t)k * ldb), w1 = _mm256_loadu_ps(B + (size_t)k * ldb + 8);
            for (int r = 0; r < MR; r++) {
                const __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k);
                acc[r][0] = _mm256_fmadd_ps(a, w0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(a, w1, acc[r][1]);
            }
        }
    } else {
        for (int32_t k = 0; k < K; k++) {
            const __m256 w0 = _mm256_maskload_ps(B + (size_t)k * ldb, m0);
            const __m256 w1 = _mm256_maskload_ps(B + (size_t)k * ldb + 8, m1);
            for (int r = 0; r < rows; r++) {
                const __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k);
                acc[r][0] = _mm256_fmadd_ps(a, w0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(a, w1, acc[r][1]);
            }
        }
    }
    for (int r = 0; r < rows; r++) {
        float *c = C + (size_t)r * ldc;
        _mm256_maskstore_ps(c, m0, mlrc_avx2_clamp(acc[r][0], act));
        _mm256_maskstore_ps(c + 8, m1, mlrc_avx2_clamp(acc[r][1], act));
        if (!mlrc_act_is_clamp(act))
            for (int32_t n = 0; n < cols; n++) c[n] = mlrc_act_scalar(c[n], act);
    }
}

void mlrc_f32_gemm_avx2(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B,
                                  int32_t ldb, const float *bias, float *C, int32_t ldc, int32_t act,
                                  int32_t threads) {
    const int32_t row_blocks = (M + MR - 1) / MR, col_blocks = (N + NR - 1) / NR;
    if (row_blocks >= (threads > 1 ? 2 * threads : 1)) {
        int nt = mlrc_threads_for(threads, row_blocks);
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int32_t rb = 0; rb < row_blocks; rb++) {
            const int32_t m = rb * MR, rows = M - m < MR ? M - m : MR;
            for (int32_t n = 0; n < N; n += NR)
                tile(rows, N - n < NR ? N - n : NR, K, A + (size_t)m * lda, lda, B + n, ldb, bias ? bias + n : 0,
                     C + (size_t)m * ldc + n, ldc, act);
        }
    } else {
        int nt = mlrc_threads_for(threads, col_blocks);
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int32_t cb = 0; cb < col_blocks; cb++) {
            const int32_t n = cb * NR, cols = N - n < NR ? N - n : NR;
            for (int32_t m = 0; m < M; m += MR)
                tile(M - m < MR ? M - m : MR, cols, K, A + (size_t)m * lda, lda, B + n, ldb, bias ? bias + n : 0,
                     C + (size_t)m * ldc + n, ldc, act);
        }
    }
}
#endif
