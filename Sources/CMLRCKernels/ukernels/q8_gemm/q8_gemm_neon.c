/* int8 GEMM for NEON (ARMv8.0, e.g. Cortex-A72, no dotprod). As on AVX2, activations are widened once per row
 * chunk to int16 with the zero point subtracted; each packed weight quad is de-interleaved by vld4 into one
 * 8-column vector per k, widened, and multiplied by one lane of the row's quad with smlal / smlal2 (exact int32).
 * 6 x 8 tile, chunks of MLRC_Q8_CHUNK_ROWS rows, threading as the AVX2 GEMM. */
#if defined(__aarch64__)
#include "arm/q8_output_neon.h"
#include "mlrc_ukernels.h"
#include "q8_gemm_ranges.h"

#define MR 6

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

/* clang-format off */
#define Q8_LANE(L, W)                                                \
    for (int r = 0; r < MR; r++) {                                   \
        lo[r] = vmlal_lane_s16(lo[r], vget_low_s16(W), a[r], L);     \
        hi[r] = vmlal_high_lane_s16(hi[r], W, a[r], L);              \
    }
/* clang-format on */

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
        /* clang-format off */
        Q8_LANE(0, w0) Q8_LANE(1, w1) Q8_LANE(2, w2) Q8_LANE(3, w3)
        /* clang-format on */
    }
    for (int r = 0; r < rows; r++)
        mlrc_q8_store8_neon(lo[r], hi[r], n0, cols, bias, scale, out, (char *)C + (size_t)r * row_bytes);
}

void mlrc_q8_gemm_range_6x8c4_neon(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                   int thread) {
    mlrc_q8_gemm_int16_range(g, rb0, rb1, nb0, nb1, thread, pack_rows, tile);
}

#endif
