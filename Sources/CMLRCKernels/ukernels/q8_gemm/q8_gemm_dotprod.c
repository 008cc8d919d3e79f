/* int8 GEMM for NEON with the dot-product extension (ARMv8.2 dotprod, e.g. Cortex-A76): sdot multiplies 4
 * int8 pairs and adds them to an int32 lane, 16 products per instruction. sdot is int8 x int8, so activations are
 * packed as a - 128 (exact in int8) and the difference is restored per column:
 *   sum (a - z) w = sum (a - 128) w + (128 - z) * sum w.
 * The packed weight quads are already sdot's layout: 16 bytes = 4 columns x 4 consecutive k.
 * Built with -march=armv8.2-a+dotprod by the Makefile's gcc (GCC cannot inline vdotq under a per-function
 * target); clang (SwiftPM) gets the feature through a target attribute on every function here. Only called when
 * the CPU reports dotprod (HWCAP_ASIMDDP). A compiler offering neither falls back to the plain NEON kernel. */
#if defined(__aarch64__) && (defined(__ARM_FEATURE_DOTPROD) || defined(__clang__))
#include "arm/q8_output_neon.h"
#include "q8_gemm_ranges.h"
#if !defined(__ARM_FEATURE_DOTPROD)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#define MLRC_DOTPROD_ATTRIBUTE_PUSHED
#endif

#define MR 6
#define MC_BLOCKS (MLRC_Q8_CHUNK_ROWS / MR)

/* int8 rows (a - 128), [MR][kp] bytes (the scratch's int16 rows hold twice that). */
static void pack_rows(int32_t rows, int32_t K, int32_t kp, const uint8_t *A, int32_t lda, int8_t *dst) {
    const uint8x16_t flip = vdupq_n_u8(0x80);
    for (int r = 0; r < MR; r++) {
        const uint8_t *src = A + (size_t)(r < rows ? r : rows - 1) * lda;
        int8_t *d = dst + (size_t)r * kp;
        int32_t k = 0;
        for (; k + 16 <= K; k += 16) vst1q_s8(d + k, vreinterpretq_s8_u8(veorq_u8(vld1q_u8(src + k), flip)));
        for (; k < K; k++) d[k] = (int8_t)(src[k] ^ 0x80);
        for (; k < kp; k++) d[k] = 0;
    }
}

static void tile(int32_t rows, int32_t cols, int32_t kq, int32_t kp, const int8_t *ap, const int8_t *bp, int32_t n0,
                 int32x4_t corr0, int32x4_t corr1, const int32_t *bias, const float *scale, const mlrc_q8_output *out,
                 void *C, size_t row_bytes) {
    int32x4_t lo[MR], hi[MR];
    for (int r = 0; r < MR; r++) lo[r] = corr0, hi[r] = corr1;
    for (int32_t q = 0; q < kq; q++) {
        const int8x16_t w0 = vld1q_s8(bp + (size_t)q * 32), w1 = vld1q_s8(bp + (size_t)q * 32 + 16);
        for (int r = 0; r < MR; r++) {
            const int8x16_t a =
                vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(ap + (size_t)r * kp + 4 * (size_t)q)));
            lo[r] = vdotq_s32(lo[r], w0, a);
            hi[r] = vdotq_s32(hi[r], w1, a);
        }
    }
    for (int r = 0; r < rows; r++)
        mlrc_q8_store8_neon(lo[r], hi[r], n0, cols, bias, scale, out, (char *)C + (size_t)r * row_bytes);
}

/* (128 - zero) * (sum over k of each of the panel's 8 columns). */
static void correction(const int8_t *bp, int32_t kq, int32_t zero, int32x4_t *c0, int32x4_t *c1) {
    int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(0);
    const int8x16_t ones = vdupq_n_s8(1);
    for (int32_t q = 0; q < kq; q++) {
        s0 = vdotq_s32(s0, vld1q_s8(bp + (size_t)q * 32), ones);
        s1 = vdotq_s32(s1, vld1q_s8(bp + (size_t)q * 32 + 16), ones);
    }
    *c0 = vmulq_n_s32(s0, 128 - zero);
    *c1 = vmulq_n_s32(s1, 128 - zero);
}

void mlrc_q8_gemm_range_6x8c4_dotprod(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                      int thread) {
    const int32_t M = g->M, N = g->N, K = g->K, lda = g->lda, zero = g->zero;
    const uint8_t *A = g->A;
    int8_t *pack = (int8_t *)((char *)g->scratch + g->per_thread * (size_t)thread);
    const int32_t kq = (K + 3) / 4, kp = kq * 4;
    for (int32_t chunk = rb0; chunk < rb1; chunk += MC_BLOCKS) {
        const int32_t chunk_end = chunk + MC_BLOCKS < rb1 ? chunk + MC_BLOCKS : rb1;
        for (int32_t rb = chunk; rb < chunk_end; rb++) {
            const int32_t m = rb * MR, rows = M - m < MR ? M - m : MR;
            pack_rows(rows, K, kp, A + (size_t)m * lda, lda, pack + (size_t)(rb - chunk) * MR * kp);
        }
        for (int32_t nb = nb0; nb < nb1; nb++) {
            const int32_t n0 = nb * 8, cols = N - n0 < 8 ? N - n0 : 8;
            const int8_t *panel = g->B + (size_t)nb * kq * 32;
            int32x4_t c0, c1;
            correction(panel, kq, zero, &c0, &c1);
            for (int32_t rb = chunk; rb < chunk_end; rb++) {
                const int32_t m = rb * MR, rows = M - m < MR ? M - m : MR;
                tile(rows, cols, kq, kp, pack + (size_t)(rb - chunk) * MR * kp, panel, n0, c0, c1, g->bias, g->scale,
                     g->out, (char *)g->C + (size_t)m * g->row_bytes, g->row_bytes);
            }
        }
    }
}

#ifdef MLRC_DOTPROD_ATTRIBUTE_PUSHED
#pragma clang attribute pop
#endif
#elif defined(__aarch64__)
#include "mlrc_ukernels.h"

/* A compiler without the dotprod extension: the row is the plain NEON kernel under this name. */
void mlrc_q8_gemm_range_6x8c4_dotprod(const mlrc_q8_gemm_args *g, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                      int thread) {
    mlrc_q8_gemm_range_6x8c4_neon(g, rb0, rb1, nb0, nb1, thread);
}
#endif
