/* What the int8 GEMM micro-kernels share on one thread: the range loop of the variants that widen rows to int16
 * (how ranges spread over threads is the operator's: operators/q8_gemm.c). */
#ifndef MLRC_Q8_GEMM_RANGES_H
#define MLRC_Q8_GEMM_RANGES_H
#include "mlrc_ukernels.h"
#include "activation.h"
#include "q8_requantize.h"

/* The range loop of the variants that widen rows to int16 (AVX2, NEON): chunks of MLRC_Q8_CHUNK_ROWS / 6 row blocks
 * are packed into the thread's scratch, then every column panel passes over the chunk while it is in cache.
 * pack(rows, K, kp, A, lda, zero, dst) and tile(rows, cols, kq, kp, packed, panel, n0, bias, scale, out, C, row_bytes)
 * are the variant's; as a static inline called with known functions, the calls inline. */
typedef void (*mlrc_q8_pack_fn)(int32_t rows, int32_t K, int32_t kp, const uint8_t *A, int32_t lda, int32_t zero,
                                int16_t *dst);
typedef void (*mlrc_q8_tile_fn)(int32_t rows, int32_t cols, int32_t kq, int32_t kp, const int16_t *ap, const int8_t *bp,
                                int32_t n0, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                                size_t row_bytes);

static inline void mlrc_q8_gemm_int16_range(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0,
                                            int32_t nb1, int thread, mlrc_q8_pack_fn pack_rows, mlrc_q8_tile_fn tile) {
    enum { MR = 6, CHUNK = MLRC_Q8_CHUNK_ROWS / 6 };
    int16_t *pack = (int16_t *)((char *)g->scratch + g->per_thread * (size_t)thread);
    const int32_t kq = (g->K + 3) / 4, kp = kq * 4;
    for (int32_t chunk = rb0; chunk < rb1; chunk += CHUNK) {
        const int32_t chunk_end = chunk + CHUNK < rb1 ? chunk + CHUNK : rb1;
        for (int32_t rb = chunk; rb < chunk_end; rb++) {
            const int32_t m = rb * MR, rows = g->M - m < MR ? g->M - m : MR;
            pack_rows(rows, g->K, kp, g->A + (size_t)m * g->lda, g->lda, g->zero,
                      pack + (size_t)(rb - chunk) * MR * kp);
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

#endif
