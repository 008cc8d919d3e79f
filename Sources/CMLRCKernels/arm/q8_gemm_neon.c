/* int8 GEMM for NEON (ARMv8.0, e.g. Cortex-A72, no dotprod). As on AVX2, activations are widened once per row
 * chunk to int16 with the zero point subtracted; each packed weight quad is de-interleaved by vld4 into one
 * 8-column vector per k, widened, and multiplied by one lane of the row's quad with smlal / smlal2 (exact int32).
 * 6 x 8 tile, chunks of MLRC_Q8_PACK_ROWS rows, threading as the AVX2 GEMM. */
#if defined(__aarch64__)
#include <omp.h>
#include "q8_output_neon.h"

#define MR 6
#define MC_BLOCKS (MLRC_Q8_PACK_ROWS / MR)

static void pack_rows(int32_t rows, int32_t K, int32_t kp, const uint8_t *A, int32_t lda, int32_t zero, int16_t *dst) {
    const int16x8_t z = vdupq_n_s16((int16_t)zero);
    for (int r = 0; r < MR; r++) {
        const uint8_t *src = A + (size_t)(r < rows ? r : rows - 1) * lda;
        int16_t *d = dst + (size_t)r * kp;
        int32_t k = 0;
        for (; k + 8 <= K; k += 8) vst1q_s16(d + k, vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(src + k))), z));
        for (; k < K; k++) d[k] = (int16_t)((int32_t)src[k] - zero);
        for (; k < kp; k++) d[k] = 0;
    }
}

#define Q8_LANE(L, W)                                                \
    for (int r = 0; r < MR; r++) {                                   \
        lo[r] = vmlal_lane_s16(lo[r], vget_low_s16(W), a[r], L);     \
        hi[r] = vmlal_high_lane_s16(hi[r], W, a[r], L);              \
    }

static void tile(int32_t rows, int32_t cols, int32_t kq, int32_t kp, const int16_t *ap, const int8_t *bp, int32_t n0,
                 const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C, size_t row_bytes) {
    int32x4_t lo[MR], hi[MR];
    for (int r = 0; r < MR; r++) lo[r] = hi[r] = vdupq_n_s32(0);
    for (int32_t q = 0; q < kq; q++) {
        const int8x8x4_t w = vld4_s8(bp + (size_t)q * 32); /* w.val[j]: columns 0..7 at k = 4q + j */
        int16x4_t a[MR];
        for (int r = 0; r < MR; r++) a[r] = vld1_s16(ap + (size_t)r * kp + 4 * (size_t)q);
        const int16x8_t w0 = vmovl_s8(w.val[0]), w1 = vmovl_s8(w.val[1]);
        const int16x8_t w2 = vmovl_s8(w.val[2]), w3 = vmovl_s8(w.val[3]);
        Q8_LANE(0, w0) Q8_LANE(1, w1) Q8_LANE(2, w2) Q8_LANE(3, w3)
    }
    for (int r = 0; r < rows; r++)
        mlrc_q8_store8_neon(lo[r], hi[r], n0, cols, bias, scale, out, (char *)C + (size_t)r * row_bytes);
}

static void block_range(int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1, int32_t M, int32_t N, int32_t K,
                        const uint8_t *A, int32_t lda, int32_t zero, const int8_t *B, const int32_t *bias,
                        const float *scale, const mlrc_q8_output *out, void *C, size_t row_bytes, int16_t *pack) {
    const int32_t kq = (K + 3) / 4, kp = kq * 4;
    for (int32_t chunk = rb0; chunk < rb1; chunk += MC_BLOCKS) {
        const int32_t chunk_end = chunk + MC_BLOCKS < rb1 ? chunk + MC_BLOCKS : rb1;
        for (int32_t rb = chunk; rb < chunk_end; rb++) {
            const int32_t m = rb * MR, rows = M - m < MR ? M - m : MR;
            pack_rows(rows, K, kp, A + (size_t)m * lda, lda, zero, pack + (size_t)(rb - chunk) * MR * kp);
        }
        for (int32_t nb = nb0; nb < nb1; nb++) {
            const int32_t n0 = nb * 8, cols = N - n0 < 8 ? N - n0 : 8;
            for (int32_t rb = chunk; rb < chunk_end; rb++) {
                const int32_t m = rb * MR, rows = M - m < MR ? M - m : MR;
                tile(rows, cols, kq, kp, pack + (size_t)(rb - chunk) * MR * kp, B + (size_t)nb * kq * 32, n0, bias,
                     scale, out, (char *)C + (size_t)m * row_bytes, row_bytes);
            }
        }
    }
}

void mlrc_q8_gemm_neon(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero,
                       const int8_t *B, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                       int32_t ldc, void *scratch, int32_t threads) {
    if (M <= 0 || N <= 0) return;
    const int32_t row_blocks = (M + MR - 1) / MR, col_blocks = (N + 7) / 8;
    const size_t row_bytes = (size_t)ldc * (out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1);
    const size_t per_thread = mlrc_q8_gemm_scratch_bytes(K, 1);
    if (threads < 1) threads = 1;
    const int split_rows = row_blocks >= 2 * threads || threads == 1;
    int nt = mlrc_threads_for(threads, split_rows ? row_blocks : col_blocks);
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        int16_t *pack = (int16_t *)((char *)scratch + per_thread * t);
        if (split_rows) {
            const int32_t b0 = (int32_t)((int64_t)row_blocks * t / T), b1 = (int32_t)((int64_t)row_blocks * (t + 1) / T);
            block_range(b0, b1, 0, col_blocks, M, N, K, A, lda, a_zero, B, bias, scale, out, C, row_bytes, pack);
        } else {
            const int32_t c0 = (int32_t)((int64_t)col_blocks * t / T), c1 = (int32_t)((int64_t)col_blocks * (t + 1) / T);
            if (c0 < c1)
                block_range(0, row_blocks, c0, c1, M, N, K, A, lda, a_zero, B, bias, scale, out, C, row_bytes, pack);
        }
    }
}
#endif
