/* What every optimized int8 GEMM shares around its micro-kernel: the call's arguments in one struct, and how the
 * work spreads over threads (contiguous ranges of 6-row blocks when there are enough rows, else ranges of
 * 8-column panels, e.g. the classifier head). A variant supplies only the function that runs one range. */
#ifndef MLRC_Q8_GEMM_DRIVER_H
#define MLRC_Q8_GEMM_DRIVER_H
#include <omp.h>
#include "mlrc_kernels.h"
#include "activation.h"
#include "q8_requantize.h"

typedef struct mlrc_q8_gemm_args {
    int32_t M, N, K;
    const uint8_t *A;
    int32_t lda, zero;
    const int8_t *B;
    const int32_t *bias;
    const float *scale;
    const mlrc_q8_output *out;
    void *C;
    size_t row_bytes;  /* ldc in bytes */
    void *scratch;     /* this call's scratch; thread t owns per_thread bytes at t * per_thread */
    size_t per_thread;
} mlrc_q8_gemm_args;

/* Runs row blocks [rb0, rb1) x column panels [nb0, nb1) on thread `thread`. */
typedef void (*mlrc_q8_gemm_range)(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                   int thread);

/* panel_step: panels a range boundary must be a multiple of (a variant that tiles 4 panels at once passes 4). */
static inline void mlrc_q8_gemm_parallel(const mlrc_q8_gemm_args *a, int32_t panel_step, int32_t threads,
                                         mlrc_q8_gemm_range range) {
    if (a->M <= 0 || a->N <= 0) return;
    const int32_t row_blocks = (a->M + 5) / 6, col_blocks = (a->N + 7) / 8;
    const int32_t steps = (col_blocks + panel_step - 1) / panel_step;
    if (threads < 1) threads = 1;
    /* Split the rows unless that leaves the threads less evenly loaded than splitting the column steps (a 7x7 map:
     * 9 row blocks load two threads 5 : 4, 6 column steps 3 : 3, and each thread then reads only its share of
     * the weights). */
    const int64_t row_load = ((int64_t)row_blocks + threads - 1) / threads * steps;  /* the busiest thread's work */
    const int64_t col_load = ((int64_t)steps + threads - 1) / threads * row_blocks;
    const int split_rows = threads == 1 || row_load <= col_load;
    int nt = mlrc_threads_for(threads, split_rows ? row_blocks : steps);
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        if (split_rows) {
            const int32_t b0 = (int32_t)((int64_t)row_blocks * t / T), b1 = (int32_t)((int64_t)row_blocks * (t + 1) / T);
            if (b0 < b1) range(a, b0, b1, 0, col_blocks, t);
        } else {
            const int32_t c0 = (int32_t)((int64_t)steps * t / T) * panel_step;
            int32_t c1 = (int32_t)((int64_t)steps * (t + 1) / T) * panel_step;
            c1 = c1 < col_blocks ? c1 : col_blocks;
            if (c0 < c1) range(a, 0, row_blocks, c0, c1, t);
        }
    }
}

/* The range loop of the variants that widen rows to int16 (AVX2, NEON): chunks of MLRC_Q8_PACK_ROWS / 6 row blocks
 * are packed into the thread's scratch, then every column panel passes over the chunk while it is in cache.
 * pack(rows, K, kp, A, lda, zero, dst) and tile(rows, cols, kq, kp, packed, panel, n0, bias, scale, out, C, row_bytes)
 * are the variant's; as a static inline called with known functions, the calls inline. */
typedef void (*mlrc_q8_pack_fn)(int32_t rows, int32_t K, int32_t kp, const uint8_t *A, int32_t lda, int32_t zero,
                                int16_t *dst);
typedef void (*mlrc_q8_tile_fn)(int32_t rows, int32_t cols, int32_t kq, int32_t kp, const int16_t *ap,
                                const int8_t *bp, int32_t n0, const int32_t *bias, const float *scale,
                                const mlrc_q8_output *out, void *C, size_t row_bytes);

static inline void mlrc_q8_gemm_int16_range(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0,
                                            int32_t nb1, int thread, mlrc_q8_pack_fn pack_rows,
                                            mlrc_q8_tile_fn tile) {
    enum { MR = 6, CHUNK = MLRC_Q8_PACK_ROWS / 6 };
    int16_t *pack = (int16_t *)((char *)g->scratch + g->per_thread * (size_t)thread);
    const int32_t kq = (g->K + 3) / 4, kp = kq * 4;
    for (int32_t chunk = rb0; chunk < rb1; chunk += CHUNK) {
        const int32_t chunk_end = chunk + CHUNK < rb1 ? chunk + CHUNK : rb1;
        for (int32_t rb = chunk; rb < chunk_end; rb++) {
            const int32_t m = rb * MR, rows = g->M - m < MR ? g->M - m : MR;
            pack_rows(rows, g->K, kp, g->A + (size_t)m * g->lda, g->lda, g->zero, pack + (size_t)(rb - chunk) * MR * kp);
        }
        for (int32_t nb = nb0; nb < nb1; nb++) {
            const int32_t n0 = nb * 8, cols = g->N - n0 < 8 ? g->N - n0 : 8;
            for (int32_t rb = chunk; rb < chunk_end; rb++) {
                const int32_t m = rb * MR, rows = g->M - m < MR ? g->M - m : MR;
                tile(rows, cols, kq, kp, pack + (size_t)(rb - chunk) * MR * kp, g->B + (size_t)nb * kq * 32, n0,
                     g->bias, g->scale, g->out, (char *)g->C + (size_t)m * g->row_bytes, g->row_bytes);
            }
        }
    }
}

/* The arguments of a GEMM call as the struct (row_bytes from ldc and the output kind). */
static inline mlrc_q8_gemm_args mlrc_q8_gemm_pack_args(int32_t M, int32_t N, int32_t K, const uint8_t *A,
                                                       int32_t lda, int32_t zero, const int8_t *B,
                                                       const int32_t *bias, const float *scale,
                                                       const mlrc_q8_output *out, void *C, int32_t ldc,
                                                       void *scratch, size_t per_thread) {
    mlrc_q8_gemm_args a = {M, N, K, A, lda, zero, B, bias, scale, out, C,
                           (size_t)ldc * (out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1), scratch, per_thread};
    return a;
}
#endif
