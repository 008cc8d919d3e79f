/* fp32 GEMM for AVX2/FMA. Micro-kernel: 6 rows x 16 columns in 12 accumulators (or 6 x 8 when at most
 * 8 columns remain), B read row by row (weights are stored [K][N], so each k step loads contiguous floats),
 * column tails through masked loads/stores, row tails by repeating the last valid row (computed, never stored),
 * so every tile runs the same fully unrolled loop. The fused activation is applied in registers.
 * Blocking: each thread owns a range of row blocks; it walks them in chunks of MC rows and, per chunk, over
 * all column panels, so a K x 16 panel of B is reused from L1/L2 by the whole chunk of A. */
#if defined(__x86_64__)
#include <omp.h>
#include "x86/f32_vmath_avx2.h"
#include "mlrc_ukernels.h"

#define MR 6
#define NR 16
#define MC_BLOCKS 16 /* row blocks per chunk: 96 rows of A stay in L2 while B's panels stream past */
#define KC 256       /* K block: a 256 x 16 panel of B is 16 KB */

/* A tile starts from the bias, or (for the second and later K blocks) from the partial sums already in C;
 * the activation is applied once, by the last K block. */
MLRC_AVX2 static void tile16(int32_t rows, int32_t cols, int32_t K, const float *A, int32_t lda, const float *B,
                             int32_t ldb, const float *bias, float *C, int32_t ldc, int32_t act, int accumulate) {
    const float *a[MR];
    for (int r = 0; r < MR; r++) a[r] = A + (size_t)(r < rows ? r : rows - 1) * lda;
    const int full = cols == NR;
    const __m256i m0 = mlrc_avx2_tail_mask(cols), m1 = mlrc_avx2_tail_mask(cols - 8);
    const __m256 b0 = bias ? _mm256_maskload_ps(bias, m0) : _mm256_setzero_ps();
    const __m256 b1 = bias ? _mm256_maskload_ps(bias + 8, m1) : _mm256_setzero_ps();
    __m256 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1;
    __m256 c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1;
    if (accumulate) {
        const float *c[MR];
        for (int r = 0; r < MR; r++) c[r] = C + (size_t)(r < rows ? r : rows - 1) * ldc;
        c00 = _mm256_maskload_ps(c[0], m0), c01 = _mm256_maskload_ps(c[0] + 8, m1);
        c10 = _mm256_maskload_ps(c[1], m0), c11 = _mm256_maskload_ps(c[1] + 8, m1);
        c20 = _mm256_maskload_ps(c[2], m0), c21 = _mm256_maskload_ps(c[2] + 8, m1);
        c30 = _mm256_maskload_ps(c[3], m0), c31 = _mm256_maskload_ps(c[3] + 8, m1);
        c40 = _mm256_maskload_ps(c[4], m0), c41 = _mm256_maskload_ps(c[4] + 8, m1);
        c50 = _mm256_maskload_ps(c[5], m0), c51 = _mm256_maskload_ps(c[5] + 8, m1);
    }
    for (int32_t k = 0; k < K; k++) {
        const float *brow = B + (size_t)k * ldb;
        const __m256 w0 = full ? _mm256_loadu_ps(brow) : _mm256_maskload_ps(brow, m0);
        const __m256 w1 = full ? _mm256_loadu_ps(brow + 8) : _mm256_maskload_ps(brow + 8, m1);
        __m256 x;
        x = _mm256_broadcast_ss(a[0] + k);
        c00 = _mm256_fmadd_ps(x, w0, c00);
        c01 = _mm256_fmadd_ps(x, w1, c01);
        x = _mm256_broadcast_ss(a[1] + k);
        c10 = _mm256_fmadd_ps(x, w0, c10);
        c11 = _mm256_fmadd_ps(x, w1, c11);
        x = _mm256_broadcast_ss(a[2] + k);
        c20 = _mm256_fmadd_ps(x, w0, c20);
        c21 = _mm256_fmadd_ps(x, w1, c21);
        x = _mm256_broadcast_ss(a[3] + k);
        c30 = _mm256_fmadd_ps(x, w0, c30);
        c31 = _mm256_fmadd_ps(x, w1, c31);
        x = _mm256_broadcast_ss(a[4] + k);
        c40 = _mm256_fmadd_ps(x, w0, c40);
        c41 = _mm256_fmadd_ps(x, w1, c41);
        x = _mm256_broadcast_ss(a[5] + k);
        c50 = _mm256_fmadd_ps(x, w0, c50);
        c51 = _mm256_fmadd_ps(x, w1, c51);
    }
    const __m256 lo[MR] = {c00, c10, c20, c30, c40, c50}, hi[MR] = {c01, c11, c21, c31, c41, c51};
    for (int r = 0; r < rows; r++) {
        float *c = C + (size_t)r * ldc;
        if (full) {
            _mm256_storeu_ps(c, mlrc_avx2_activate(lo[r], act));
            _mm256_storeu_ps(c + 8, mlrc_avx2_activate(hi[r], act));
        } else {
            _mm256_maskstore_ps(c, m0, mlrc_avx2_activate(lo[r], act));
            _mm256_maskstore_ps(c + 8, m1, mlrc_avx2_activate(hi[r], act));
        }
    }
}

/* At most 8 columns: one accumulator per row, so narrow outputs (grouped convs) waste no lanes. */
MLRC_AVX2 static void tile8(int32_t rows, int32_t cols, int32_t K, const float *A, int32_t lda, const float *B,
                            int32_t ldb, const float *bias, float *C, int32_t ldc, int32_t act, int accumulate) {
    const float *a[MR];
    for (int r = 0; r < MR; r++) a[r] = A + (size_t)(r < rows ? r : rows - 1) * lda;
    const __m256i m = mlrc_avx2_tail_mask(cols);
    const __m256 b = bias ? _mm256_maskload_ps(bias, m) : _mm256_setzero_ps();
    __m256 c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b;
    if (accumulate) {
        const float *c[MR];
        for (int r = 0; r < MR; r++) c[r] = C + (size_t)(r < rows ? r : rows - 1) * ldc;
        c0 = _mm256_maskload_ps(c[0], m), c1 = _mm256_maskload_ps(c[1], m), c2 = _mm256_maskload_ps(c[2], m);
        c3 = _mm256_maskload_ps(c[3], m), c4 = _mm256_maskload_ps(c[4], m), c5 = _mm256_maskload_ps(c[5], m);
    }
    for (int32_t k = 0; k < K; k++) {
        const __m256 w = _mm256_maskload_ps(B + (size_t)k * ldb, m);
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a[0] + k), w, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a[1] + k), w, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a[2] + k), w, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a[3] + k), w, c3);
        c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a[4] + k), w, c4);
        c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a[5] + k), w, c5);
    }
    const __m256 acc[MR] = {c0, c1, c2, c3, c4, c5};
    for (int r = 0; r < rows; r++) _mm256_maskstore_ps(C + (size_t)r * ldc, m, mlrc_avx2_activate(acc[r], act));
}

static void tile(int32_t rows, int32_t cols, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                 const float *bias, float *C, int32_t ldc, int32_t act, int accumulate) {
    if (cols > 8)
        tile16(rows, cols, K, A, lda, B, ldb, bias, C, ldc, act, accumulate);
    else
        tile8(rows, cols, K, A, lda, B, ldb, bias, C, ldc, act, accumulate);
}

/* Row blocks [rb_begin, rb_end): chunks of MC_BLOCKS row blocks, each swept across all column panels, K in
 * blocks of KC so a KC x 16 panel of B (16 KB) stays in L1 while the chunk's row blocks pass over it. */
static void row_range(int32_t rb_begin, int32_t rb_end, int32_t M, int32_t N, int32_t K, const float *A, int32_t lda,
                      const float *B, int32_t ldb, const float *bias, float *C, int32_t ldc, int32_t act) {
    for (int32_t chunk = rb_begin; chunk < rb_end; chunk += MC_BLOCKS) {
        const int32_t chunk_end = chunk + MC_BLOCKS < rb_end ? chunk + MC_BLOCKS : rb_end;
        for (int32_t k0 = 0; k0 < K; k0 += KC) {
            const int32_t kc = K - k0 < KC ? K - k0 : KC, last = k0 + kc >= K;
            for (int32_t n = 0; n < N; n += NR) {
                const int32_t cols = N - n < NR ? N - n : NR;
                for (int32_t rb = chunk; rb < chunk_end; rb++) {
                    const int32_t m = rb * MR, rows = M - m < MR ? M - m : MR;
                    tile(rows, cols, kc, A + (size_t)m * lda + k0, lda, B + (size_t)k0 * ldb + n, ldb,
                         bias && k0 == 0 ? bias + n : 0, C + (size_t)m * ldc + n, ldc, last ? act : MLRC_ACT_NONE,
                         k0 > 0);
                }
            }
        }
    }
}

/* One row (the classifier head after global pooling): a matrix-vector product that streams each weight row
 * once, 64 columns (8 accumulators) at a time. A 6-row tile would read the weights the same way but do six
 * times the arithmetic and reload B per 16 columns at a large stride. */
MLRC_AVX2 static void gemv_chunk(int32_t n0, int32_t n1, int32_t K, const float *a, const float *B, int32_t ldb,
                                 const float *bias, float *c, int32_t act) {
    for (int32_t n = n0; n < n1; n += 64) {
        const int32_t width = n1 - n < 64 ? n1 - n : 64;
        __m256i mask[8];
        __m256 acc[8];
        for (int v = 0; v < 8; v++) {
            mask[v] = mlrc_avx2_tail_mask(width - 8 * v);
            acc[v] = bias ? _mm256_maskload_ps(bias + n + 8 * v, mask[v]) : _mm256_setzero_ps();
        }
        if (width == 64) {
            for (int32_t k = 0; k < K; k++) {
                const __m256 x = _mm256_broadcast_ss(a + k);
                const float *b = B + (size_t)k * ldb + n;
                for (int v = 0; v < 8; v++) acc[v] = _mm256_fmadd_ps(x, _mm256_loadu_ps(b + 8 * v), acc[v]);
            }
        } else {
            for (int32_t k = 0; k < K; k++) {
                const __m256 x = _mm256_broadcast_ss(a + k);
                const float *b = B + (size_t)k * ldb + n;
                for (int v = 0; v < 8; v++) acc[v] = _mm256_fmadd_ps(x, _mm256_maskload_ps(b + 8 * v, mask[v]), acc[v]);
            }
        }
        for (int v = 0; v < 8; v++) _mm256_maskstore_ps(c + n + 8 * v, mask[v], mlrc_avx2_activate(acc[v], act));
    }
}

void mlrc_f32_gemm_6x16_avx2(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                             const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads) {
    if (M == 1) {
        const int32_t chunks = (N + 63) / 64;
        int nt = mlrc_threads_for(threads, chunks);
#pragma omp parallel num_threads(nt)
        {
            const int t = omp_get_thread_num(), T = omp_get_num_threads();
            const int32_t c0 = (int32_t)((int64_t)chunks * t / T), c1 = (int32_t)((int64_t)chunks * (t + 1) / T);
            const int32_t n1 = c1 * 64 < N ? c1 * 64 : N;
            if (c0 * 64 < n1) gemv_chunk(c0 * 64, n1, K, A, B, ldb, bias, C, act);
        }
        return;
    }
    const int32_t row_blocks = (M + MR - 1) / MR, col_blocks = (N + NR - 1) / NR;
    if (threads <= 1) {
        row_range(0, row_blocks, M, N, K, A, lda, B, ldb, bias, C, ldc, act);
    } else if (row_blocks >= 2 * threads) {
        /* Contiguous row ranges, one per thread (static schedule), each blocked as above. */
        int nt = mlrc_threads_for(threads, row_blocks);
#pragma omp parallel num_threads(nt)
        {
            const int t = omp_get_thread_num(), T = omp_get_num_threads();
            const int32_t begin = (int32_t)((int64_t)row_blocks * t / T),
                          end = (int32_t)((int64_t)row_blocks * (t + 1) / T);
            row_range(begin, end, M, N, K, A, lda, B, ldb, bias, C, ldc, act);
        }
    } else {
        /* Few rows (the classifier head): split the columns instead. */
        int nt = mlrc_threads_for(threads, col_blocks);
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int32_t cb = 0; cb < col_blocks; cb++) {
            const int32_t n = cb * NR, cols = N - n < NR ? N - n : NR;
            for (int32_t m = 0; m < M; m += MR)
                tile(M - m < MR ? M - m : MR, cols, K, A + (size_t)m * lda, lda, B + n, ldb, bias ? bias + n : 0,
                     C + (size_t)m * ldc + n, ldc, act, 0);
        }
    }
}
#endif
