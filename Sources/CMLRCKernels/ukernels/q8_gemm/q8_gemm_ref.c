/* Reference int8 GEMM on the packed weight layout, and the packing itself. */
#include <string.h>
#include "mlrc_ukernels.h"
#include "q8_requantize.h"

size_t mlrc_q8_packed_bytes(int32_t N, int32_t K) { return (size_t)((N + 7) / 8) * (size_t)((K + 3) / 4) * 32; }

void mlrc_q8_pack_weights(int32_t N, int32_t K, const int8_t *w_kn, int8_t *packed) {
    const int32_t kq = (K + 3) / 4;
    memset(packed, 0, mlrc_q8_packed_bytes(N, K));
    for (int32_t k = 0; k < K; k++)
        for (int32_t n = 0; n < N; n++)
            packed[((size_t)(n / 8) * kq + k / 4) * 32 + (n % 8) * 4 + k % 4] = w_kn[(size_t)k * N + n];
}

/* Pairs k = 2j, 2j + 1 of a column are adjacent bytes at an even offset of the packed layout (padding is zero). */
static int32_t pair_peak_of(const int8_t *packed, size_t bytes) {
    int32_t peak = 0;
    for (size_t i = 0; i + 1 < bytes; i += 2) {
        const int32_t a = packed[i], b = packed[i + 1];
        const int32_t pos = (a > 0 ? a : 0) + (b > 0 ? b : 0), neg = (a < 0 ? -a : 0) + (b < 0 ? -b : 0);
        peak = pos > peak ? pos : peak;
        peak = neg > peak ? neg : peak;
    }
    return peak;
}

int32_t mlrc_q8_weight_pair_peak(int32_t N, int32_t K, const int8_t *packed) {
    if (!packed || N <= 0 || K <= 0) return MLRC_Q8_PAIR_PEAK_UNKNOWN;
    return pair_peak_of(packed, mlrc_q8_packed_bytes(N, K));
}

size_t mlrc_q8_gemm_scratch_bytes(int32_t K, int32_t threads) {
    const size_t kp = (size_t)((K + 3) / 4) * 4;
    const size_t per_thread = ((size_t)MLRC_Q8_PACK_ROWS * kp * sizeof(int16_t) + 63) & ~(size_t)63;
    return per_thread * (size_t)(threads < 1 ? 1 : threads);
}

uint8_t mlrc_q8_requantize_scalar(int32_t acc, int32_t bias, float scale, const mlrc_q8_output *out) {
    return mlrc_q8_stage_u8(acc, bias, scale, out);
}

/* Row m of C over column panels [nb0, nb1): the reference's arithmetic, shared by both entry points. */
static void ref_row(const mlrc_q8_gemm_args *g, int32_t m, int32_t nb0, int32_t nb1) {
    const int32_t kq = (g->K + 3) / 4;
    const uint8_t *a = g->A + (size_t)m * g->lda;
    char *row = (char *)g->C + (size_t)m * g->row_bytes;
    for (int32_t nb = nb0; nb < nb1; nb++) {
        const int32_t n0 = nb * 8, cols = g->N - n0 < 8 ? g->N - n0 : 8;
        const int8_t *panel = g->B + (size_t)nb * kq * 32;
        int32_t acc[8] = {0};
        for (int32_t k = 0; k < g->K; k++) {
            const int32_t x = (int32_t)a[k] - g->zero;
            const int8_t *w = panel + (size_t)(k / 4) * 32 + k % 4;
            for (int32_t j = 0; j < cols; j++) acc[j] += x * w[j * 4];
        }
        mlrc_q8_store_row(acc, n0, cols, g->bias, g->scale, g->out, row);
    }
}

void mlrc_q8_gemm_range_ref(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1, int t) {
    (void)t;
    const int32_t m1 = rb1 * 6 < g->M ? rb1 * 6 : g->M;
    for (int32_t m = rb0 * 6; m < m1; m++) ref_row(g, m, nb0, nb1);
}

void mlrc_q8_gemm_ref(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero, const int8_t *B,
                      const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C, int32_t ldc,
                      int32_t threads) {
    const mlrc_q8_gemm_args g = {M,     N,      K, A,
                                 lda,   a_zero, B, bias,
                                 scale, out,    C, (size_t)ldc * (out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1),
                                 NULL,  0};
    int nt = mlrc_threads_for(threads, M);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t m = 0; m < M; m++) ref_row(&g, m, 0, (N + 7) / 8);
}
