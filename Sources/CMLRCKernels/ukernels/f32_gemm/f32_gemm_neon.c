/* fp32 GEMM for NEON (AArch64): an 8 x 8 register tile (16 of the 32 vector registers as accumulators),
 * B read row by row from the [K][N] weights, row tails by repeating the last valid row (never stored),
 * column tails (N % 8) by the reference loop. Blocking and threading as the AVX2 GEMM. */
#if defined(__aarch64__)
#include <omp.h>
#include "arm/f32_vmath_neon.h"
#include "mlrc_ukernels.h"

#define MR 8
#define NR 8
#define MC_BLOCKS 12

/* Accumulators lR / hR: row R, columns 0-3 / 4-7. Named variables, not arrays: gcc keeps arrays of vectors in
 * memory across the k loop. */
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define ACC(R) float32x4_t l##R = b0, h##R = b1;
#define FMA(R)                                                                                                         \
    {                                                                                                                  \
        const float32x4_t x = vld1q_dup_f32(a##R + k);                                                                 \
        l##R = vfmaq_f32(l##R, x, w0);                                                                                 \
        h##R = vfmaq_f32(h##R, x, w1);                                                                                 \
    }
#define STORE(R)                                                                                                       \
    if (rows > R) {                                                                                                    \
        vst1q_f32(C + (size_t)R * ldc, mlrc_neon_activate(l##R, act));                                                 \
        vst1q_f32(C + (size_t)R * ldc + 4, mlrc_neon_activate(h##R, act));                                             \
    }
#define ROW_POINTER(R) const float *a##R = A + (size_t)(R < rows ? R : rows - 1) * lda;

static void tile(int32_t rows, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb, const float *bias,
                 float *C, int32_t ldc, int32_t act) {
    ROWS8(ROW_POINTER)
    const float32x4_t b0 = bias ? vld1q_f32(bias) : vdupq_n_f32(0.0f),
                      b1 = bias ? vld1q_f32(bias + 4) : vdupq_n_f32(0.0f);
    ROWS8(ACC)
    for (int32_t k = 0; k < K; k++) {
        const float32x4_t w0 = vld1q_f32(B + (size_t)k * ldb), w1 = vld1q_f32(B + (size_t)k * ldb + 4);
        ROWS8(FMA)
    }
    ROWS8(STORE)
}

static void row_range(int32_t rb_begin, int32_t rb_end, int32_t M, int32_t N, int32_t K, const float *A, int32_t lda,
                      const float *B, int32_t ldb, const float *bias, float *C, int32_t ldc, int32_t act) {
    const int32_t n_full = N / NR * NR;
    for (int32_t chunk = rb_begin; chunk < rb_end; chunk += MC_BLOCKS) {
        const int32_t chunk_end = chunk + MC_BLOCKS < rb_end ? chunk + MC_BLOCKS : rb_end;
        for (int32_t n = 0; n < n_full; n += NR)
            for (int32_t rb = chunk; rb < chunk_end; rb++) {
                const int32_t m = rb * MR, rows = M - m < MR ? M - m : MR;
                tile(rows, K, A + (size_t)m * lda, lda, B + n, ldb, bias ? bias + n : 0, C + (size_t)m * ldc + n, ldc,
                     act);
            }
        if (n_full < N) {
            const int32_t m0 = chunk * MR, m1 = chunk_end * MR < M ? chunk_end * MR : M;
            mlrc_f32_gemm_ref(m1 - m0, N - n_full, K, A + (size_t)m0 * lda, lda, B + n_full, ldb,
                              bias ? bias + n_full : 0, C + (size_t)m0 * ldc + n_full, ldc, act, 1);
        }
    }
}

void mlrc_f32_gemm_8x8_neon(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                            const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads) {
    const int32_t row_blocks = (M + MR - 1) / MR;
    int nt = mlrc_threads_for(threads, row_blocks);
    if (nt <= 1) {
        row_range(0, row_blocks, M, N, K, A, lda, B, ldb, bias, C, ldc, act);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        row_range((int32_t)((int64_t)row_blocks * t / T), (int32_t)((int64_t)row_blocks * (t + 1) / T), M, N, K, A, lda,
                  B, ldb, bias, C, ldc, act);
    }
}
#endif
