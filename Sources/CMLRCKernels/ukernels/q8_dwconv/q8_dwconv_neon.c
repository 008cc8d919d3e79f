/* int8 depthwise convolution for NEON (ARMv8.0: the Cortex-A72 and A76 alike), 16 channels at a time, taps in
 * pairs on 8-bit lanes: smull then smlal sum two products in int16 (|(x - 128) w| <= 128 x 127, twice is below
 * 32768: weights lie in [-127, 127]), saddw adds them into int32 on the other vector pipe. 4 multiplies and 4 adds
 * per 32 MACs, against 4 multiplies per 16 with 16-bit lanes.
 * Inputs are flipped to int8 in the register (x ^ 0x80 = x - 128); the difference to the zero point is folded into
 * the bias once per call, bias + (128 - zero) * (sum of the channel's taps). Padding taps read a row of the zero
 * point itself, which flips to zero - 128 and cancels that tap's share of the correction, so every output pixel
 * runs the same loop over all taps: no window clipping, no per-tap tests. Per output pixel the tap pointers are set
 * once and serve every channel group. Channel tails of 8 run on 8-byte vectors; the last C % 8 channels through
 * the reference (their loads would pass the tensors' ends). Any kernel size, stride and padding. */
#if defined(__aarch64__)
#include <string.h>
#include "arm/q8_output_neon.h"
#include "mlrc_ukernels.h"

#define INLINE __attribute__((always_inline)) inline
/* Tap loops unrolled in full (t / KW and t % KW become constants) up to 7x7; compilers stop short on their own. */
#if defined(__clang__)
#define UNROLL_TAPS _Pragma("clang loop unroll(full)")
#else
#define UNROLL_TAPS _Pragma("GCC unroll 64")
#endif

/* Per-thread scratch: a zero-point input row (in_w x C + 16 bytes), the tap pointers, and the weights repacked per call for this
 * thread's channels in blocks of 16 channels, [16 corrected biases][taps][16 weights][16 scales], so that one
 * pointer reaches all of a group's constants with immediate offsets. */
static size_t zero_row_bytes(const mlrc_conv_geometry *g) {
    return ((size_t)g->in_w * g->in_c + 16 + 15) & ~(size_t)15;
}
static size_t block_bytes(int32_t taps) { return 64 + (size_t)taps * 16 + 64; }
static size_t pointer_bytes(const mlrc_conv_geometry *g) {
    return ((size_t)g->kernel_h * g->kernel_w * sizeof(void *) + 15) & ~(size_t)15;
}

size_t mlrc_q8_dwconv_16c2_neon_scratch(const mlrc_conv_geometry *g) {
    const size_t groups = ((size_t)g->in_c + 15) / 16;
    return zero_row_bytes(g) + pointer_bytes(g) + groups * block_bytes(g->kernel_h * g->kernel_w);
}

static INLINE int8x16_t flip16(const uint8_t *p) {
    return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p), vdupq_n_u8(0x80)));
}
static INLINE int8x8_t flip8(const uint8_t *p) { return vreinterpret_s8_u8(veor_u8(vld1_u8(p), vdup_n_u8(0x80))); }

/* The block of channels [c, c + n) (n <= 16; the rest of the block zero): bias + (128 - zero) * sum of taps (modulo
 * 2^32 like the kernels' adds), the weights, the scales. */
static void pack_block(const int8_t *weights, const int32_t *bias, const float *scale, int32_t zero, int32_t C,
                       int32_t taps, int32_t c, int32_t n, uint8_t *blk) {
    memset(blk, 0, block_bytes(taps));
    int32_t *b = (int32_t *)blk;
    int8_t *w = (int8_t *)(blk + 64);
    float *s = (float *)(blk + 64 + (size_t)taps * 16);
    for (int32_t j = 0; j < n; j++) {
        uint32_t sum = 0;
        for (int32_t t = 0; t < taps; t++) {
            const int8_t v = weights[(size_t)t * C + c + j];
            w[t * 16 + j] = v;
            sum += (uint32_t)(int32_t)v;
        }
        b[j] = (int32_t)((uint32_t)(bias ? bias[c + j] : 0) + (uint32_t)(128 - zero) * sum);
        s[j] = scale[c + j];
    }
}

/* The groups of 16 channels [c, c16) of one output pixel over T taps (T > 0 a constant where inlined), then a
 * group of 8; q[t]: tap t's input at channel c, advanced as the groups go. */
static INLINE void pixel(const uint8_t *const *p, int32_t c, int32_t c16, int32_t c8, const int T, const uint8_t *blk,
                         size_t bb, const mlrc_q8_neon_clamp *k, const mlrc_q8_output *out, uint8_t *px, size_t esize) {
    const uint8_t *q[64];
    const int TT = T < 64 ? T : 64; /* the generic path (T not constant) reads p[] itself */
    if (T <= 64)
        for (int t = 0; t < TT; t++) q[t] = p[t] + c;
    for (; c < c16; c += 16, blk += bb) {
        int32x4_t a0 = vld1q_s32((const int32_t *)blk), a1 = vld1q_s32((const int32_t *)blk + 4);
        int32x4_t a2 = vld1q_s32((const int32_t *)blk + 8), a3 = vld1q_s32((const int32_t *)blk + 12);
        const int8_t *w = (const int8_t *)blk + 64;
        int t = 0;
        for (; t + 2 <= T; t += 2) {
            const int8x16_t x0 = flip16(T <= 64 ? q[t] : p[t] + c), x1 = flip16(T <= 64 ? q[t + 1] : p[t + 1] + c);
            const int8x16_t w0 = vld1q_s8(w + t * 16), w1 = vld1q_s8(w + t * 16 + 16);
            const int16x8_t lo = vmlal_s8(vmull_s8(vget_low_s8(x0), vget_low_s8(w0)), vget_low_s8(x1), vget_low_s8(w1));
            const int16x8_t hi = vmlal_high_s8(vmull_high_s8(x0, w0), x1, w1);
            a0 = vaddw_s16(a0, vget_low_s16(lo)), a1 = vaddw_high_s16(a1, lo);
            a2 = vaddw_s16(a2, vget_low_s16(hi)), a3 = vaddw_high_s16(a3, hi);
        }
        if (t < T) {
            const int8x16_t x0 = flip16(T <= 64 ? q[t] : p[t] + c), w0 = vld1q_s8(w + t * 16);
            const int16x8_t lo = vmull_s8(vget_low_s8(x0), vget_low_s8(w0)), hi = vmull_high_s8(x0, w0);
            a0 = vaddw_s16(a0, vget_low_s16(lo)), a1 = vaddw_high_s16(a1, lo);
            a2 = vaddw_s16(a2, vget_low_s16(hi)), a3 = vaddw_high_s16(a3, hi);
        }
        if (T <= 64)
            for (int u = 0; u < TT; u++) q[u] += 16;
        const float *s = (const float *)(blk + 64 + (size_t)T * 16);
        if (out->kind == MLRC_Q8_OUT_U8 && !out->lut) {
            vst1q_u8(px + c, mlrc_q8_neon_requant16(a0, a1, a2, a3, vld1q_f32(s), vld1q_f32(s + 4), vld1q_f32(s + 8),
                                                    vld1q_f32(s + 12), k));
        } else {
            mlrc_q8_neon_store8(a0, a1, vld1q_f32(s), vld1q_f32(s + 4), k, out, 8, px + (size_t)c * esize);
            mlrc_q8_neon_store8(a2, a3, vld1q_f32(s + 8), vld1q_f32(s + 12), k, out, 8, px + (size_t)(c + 8) * esize);
        }
    }
    if (c < c8) { /* 8 channels: the block's first half */
        int32x4_t a0 = vld1q_s32((const int32_t *)blk), a1 = vld1q_s32((const int32_t *)blk + 4);
        const int8_t *w = (const int8_t *)blk + 64;
        int t = 0;
        for (; t + 2 <= T; t += 2) {
            const int16x8_t prod =
                vmlal_s8(vmull_s8(flip8(p[t] + c), vld1_s8(w + t * 16)), flip8(p[t + 1] + c), vld1_s8(w + t * 16 + 16));
            a0 = vaddw_s16(a0, vget_low_s16(prod)), a1 = vaddw_high_s16(a1, prod);
        }
        if (t < T) {
            const int16x8_t prod = vmull_s8(flip8(p[t] + c), vld1_s8(w + t * 16));
            a0 = vaddw_s16(a0, vget_low_s16(prod)), a1 = vaddw_high_s16(a1, prod);
        }
        const float *s = (const float *)(blk + 64 + (size_t)T * 16);
        mlrc_q8_neon_store8(a0, a1, vld1q_f32(s), vld1q_f32(s + 4), k, out, 8, px + (size_t)c * esize);
    }
}

/* Tap pair (t, t + 1) (or tap t alone, one = 1) of a KH x KW kernel at 16 / 8 channels: the inputs at row pointer
 * rr[t / KW] + (t % KW) * C, the weights at w + 16 t. */
#define TAPS16(t, one)                                                                                                 \
    do {                                                                                                               \
        const int8x16_t x0 = flip16(rr[(t) / KW] + (size_t)((t) % KW) * C), w0 = vld1q_s8(w + (t)*16);                 \
        int16x8_t lo = vmull_s8(vget_low_s8(x0), vget_low_s8(w0)), hi = vmull_high_s8(x0, w0);                         \
        if (!(one)) {                                                                                                  \
            const int8x16_t x1 = flip16(rr[((t) + 1) / KW] + (size_t)(((t) + 1) % KW) * C);                            \
            const int8x16_t w1 = vld1q_s8(w + (t)*16 + 16);                                                            \
            lo = vmlal_s8(lo, vget_low_s8(x1), vget_low_s8(w1)), hi = vmlal_high_s8(hi, x1, w1);                       \
        }                                                                                                              \
        a0 = vaddw_s16(a0, vget_low_s16(lo)), a1 = vaddw_high_s16(a1, lo);                                             \
        a2 = vaddw_s16(a2, vget_low_s16(hi)), a3 = vaddw_high_s16(a3, hi);                                             \
    } while (0)
#define TAPS8(t, one)                                                                                                  \
    do {                                                                                                               \
        int16x8_t prod = vmull_s8(flip8(rr[(t) / KW] + (size_t)((t) % KW) * C), vld1_s8(w + (t)*16));                  \
        if (!(one))                                                                                                    \
            prod = vmlal_s8(prod, flip8(rr[((t) + 1) / KW] + (size_t)(((t) + 1) % KW) * C), vld1_s8(w + (t)*16 + 16)); \
        a0 = vaddw_s16(a0, vget_low_s16(prod)), a1 = vaddw_high_s16(a1, prod);                                         \
    } while (0)

/* The interior of an output row (every tap inside the input; stride 1 along x): n pixels from input column ix,
 * r[ky] the input row of kernel row ky (or the zero-point row). Channel groups outside, pixels inside: a group's
 * biases and scales stay in registers along the row, and each tap's input is a row pointer plus a constant
 * multiple of C, the pointers moving by C a pixel. */
static INLINE void interior(const uint8_t *const *r, int32_t ix, int32_t n, int32_t C, int32_t c0, int32_t c16,
                            int32_t c8, const int KH, const int KW, const uint8_t *blocks, size_t bb,
                            const mlrc_q8_neon_clamp *k, const mlrc_q8_output *out, uint8_t *dst, size_t esize) {
    const int T = KH * KW;
    const int fast = out->kind == MLRC_Q8_OUT_U8 && !out->lut;
    const uint8_t *blk = blocks;
    int32_t c = c0;
    for (; c < c16; c += 16, blk += bb) {
        const int32x4_t b0 = vld1q_s32((const int32_t *)blk), b1 = vld1q_s32((const int32_t *)blk + 4);
        const int32x4_t b2 = vld1q_s32((const int32_t *)blk + 8), b3 = vld1q_s32((const int32_t *)blk + 12);
        const float *sp = (const float *)(blk + 64 + (size_t)T * 16);
        const float32x4_t s0 = vld1q_f32(sp), s1 = vld1q_f32(sp + 4), s2 = vld1q_f32(sp + 8), s3 = vld1q_f32(sp + 12);
        const int8_t *w = (const int8_t *)blk + 64;
        const uint8_t *rr[KH];
        for (int ky = 0; ky < KH; ky++) rr[ky] = r[ky] + (size_t)ix * C + c;
        uint8_t *o = dst + (size_t)c * esize;
        for (int32_t i = 0; i < n; i++, o += (size_t)C * esize) {
            int32x4_t a0 = b0, a1 = b1, a2 = b2, a3 = b3;
            int t = 0;
            UNROLL_TAPS for (; t + 2 <= T; t += 2) TAPS16(t, 0);
            if (t < T) TAPS16(t, 1);
            for (int ky = 0; ky < KH; ky++) rr[ky] += C;
            if (fast) {
                vst1q_u8(o, mlrc_q8_neon_requant16(a0, a1, a2, a3, s0, s1, s2, s3, k));
            } else {
                mlrc_q8_neon_store8(a0, a1, s0, s1, k, out, 8, o);
                mlrc_q8_neon_store8(a2, a3, s2, s3, k, out, 8, o + 8 * esize);
            }
        }
    }
    if (c < c8) { /* 8 channels: the block's first half */
        const int32x4_t b0 = vld1q_s32((const int32_t *)blk), b1 = vld1q_s32((const int32_t *)blk + 4);
        const float *sp = (const float *)(blk + 64 + (size_t)T * 16);
        const float32x4_t s0 = vld1q_f32(sp), s1 = vld1q_f32(sp + 4);
        const int8_t *w = (const int8_t *)blk + 64;
        const uint8_t *rr[KH];
        for (int ky = 0; ky < KH; ky++) rr[ky] = r[ky] + (size_t)ix * C + c;
        uint8_t *o = dst + (size_t)c * esize;
        for (int32_t i = 0; i < n; i++, o += (size_t)C * esize) {
            int32x4_t a0 = b0, a1 = b1;
            int t = 0;
            UNROLL_TAPS for (; t + 2 <= T; t += 2) TAPS8(t, 0);
            if (t < T) TAPS8(t, 1);
            for (int ky = 0; ky < KH; ky++) rr[ky] += C;
            mlrc_q8_neon_store8(a0, a1, s0, s1, k, out, 8, o);
        }
    }
}

/* Output rows [oy0, oy1), channels [c0, c1); blocks: the packed groups from c0 on. KH, KW: the kernel's size, as
 * constants for the common shapes (interior() needs them), else 0 and every pixel takes the pointer path. */
static INLINE void rows(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                        const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t oy0,
                        int32_t oy1, int32_t c0, int32_t c1, const int KH, const int KW, const uint8_t *zrow,
                        const uint8_t *blocks, const uint8_t **p) {
    const int32_t C = g->in_c, kh = g->kernel_h, kw = g->kernel_w, T = kh * kw;
    const int32_t c8 = c0 + (c1 - c0) / 8 * 8, c16 = c0 + (c1 - c0) / 16 * 16;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1, pix = (size_t)C, bb = block_bytes(T);
    const mlrc_q8_neon_clamp k = mlrc_q8_neon_clamp_of(out);
    /* interior columns [oxa, oxb): ox - pad_left >= 0 and ox - pad_left + kw <= in_w, at stride 1 */
    int32_t oxa = 0, oxb = 0;
    if (KH > 0 && g->stride_w == 1) {
        oxa = g->pad_left < g->out_w ? g->pad_left : g->out_w;
        oxb = g->in_w - kw + 1 + g->pad_left;
        oxb = oxb > g->out_w ? g->out_w : (oxb < oxa ? oxa : oxb);
    }
    for (int32_t oy = oy0; oy < oy1; oy++) {
        uint8_t *row_out = (uint8_t *)output + (size_t)oy * g->out_w * C * esize;
        const int32_t iy0 = oy * g->stride_h - g->pad_top;
        const uint8_t *r[8];
        for (int32_t ky = 0; ky < (KH > 0 ? KH : 0); ky++) {
            const int32_t iy = iy0 + ky;
            r[ky] = iy >= 0 && iy < g->in_h ? input + (size_t)iy * g->in_w * pix : zrow;
        }
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            if (ox == oxa && oxa < oxb) {
                if (KH > 0) {
                    interior(r, oxa - g->pad_left, oxb - oxa, C, c0, c16, c8, KH > 0 ? KH : 1, KW > 0 ? KW : 1, blocks,
                             bb, &k, out, row_out + (size_t)oxa * C * esize, esize);
                    if (c8 < c1) /* the last C % 8 channels: the reference */
                        for (int32_t x = oxa; x < oxb; x++)
                            mlrc_q8_dwconv_ref_pixel(g, input, zero, weights, bias, scale, out,
                                                     row_out + (size_t)x * C * esize, oy, x, c8, c1);
                }
                ox = oxb - 1;
                continue;
            }
            const int32_t ix0 = ox * g->stride_w - g->pad_left;
            for (int32_t ky = 0, t = 0; ky < kh; ky++) {
                const int32_t iy = iy0 + ky;
                const uint8_t *in_row = iy >= 0 && iy < g->in_h ? input + (size_t)iy * g->in_w * pix : NULL;
                for (int32_t kx = 0; kx < kw; kx++, t++) {
                    const int32_t ix = ix0 + kx;
                    p[t] = in_row && ix >= 0 && ix < g->in_w ? in_row + (size_t)ix * pix : zrow;
                }
            }
            uint8_t *px = row_out + (size_t)ox * C * esize;
            pixel(p, c0, c16, c8, T, blocks, bb, &k, out, px, esize);
            if (c8 < c1) /* the last C % 8 channels: the reference */
                mlrc_q8_dwconv_ref_pixel(g, input, zero, weights, bias, scale, out, px, oy, ox, c8, c1);
        }
    }
}

void mlrc_q8_dwconv_16c2_neon(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                              const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                              int32_t oy0, int32_t oy1, int32_t u0, int32_t u1, void *scratch) {
    const int32_t C = g->in_c, taps = g->kernel_h * g->kernel_w;
    const int32_t c0 = u0 * 16, c1 = u1 * 16 < C ? u1 * 16 : C;
    uint8_t *zrow = (uint8_t *)scratch;
    const uint8_t **p = (const uint8_t **)(zrow + zero_row_bytes(g));
    uint8_t *blocks = (uint8_t *)p + pointer_bytes(g);
    memset(zrow, in_zero, zero_row_bytes(g));
    for (int32_t c = c0; c < c1; c += 16)
        pack_block(weights, bias, scale, in_zero, C, taps, c, c1 - c < 16 ? c1 - c : 16,
                   blocks + (size_t)(c - c0) / 16 * block_bytes(taps));
        /* the common kernel shapes as constants (their tap loops unroll; interior() needs them) */
#define ROWS(KH, KW)                                                                                                   \
    rows(g, input, in_zero, weights, bias, scale, out, output, oy0, oy1, c0, c1, KH, KW, zrow, blocks, p)
    const int32_t kh = g->kernel_h, kw = g->kernel_w;
    if (kh == 3 && kw == 3)
        ROWS(3, 3);
    else if (kh == 5 && kw == 5)
        ROWS(5, 5);
    else if (kh == 7 && kw == 7)
        ROWS(7, 7);
    else if (kh == 1 && kw == 3)
        ROWS(1, 3);
    else if (kh == 3 && kw == 1)
        ROWS(3, 1);
    else if (kh == 1 && kw == 5)
        ROWS(1, 5);
    else if (kh == 5 && kw == 1)
        ROWS(5, 1);
    else if (kh == 1 && kw == 7)
        ROWS(1, 7);
    else if (kh == 7 && kw == 1)
        ROWS(7, 1);
    else
        ROWS(0, 0);
#undef ROWS
}
#endif
