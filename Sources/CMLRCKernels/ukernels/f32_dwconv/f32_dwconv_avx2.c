/* Depthwise convolution for AVX2/FMA in NHWC. Per output row and 8-channel block, the block's kernel taps
 * are loaded once and the row is swept pixel by pixel, each tap one FMA; pixels whose window lies inside
 * the input take a branch-free loop. Channel tails use masked loads; rows are split across threads. */
#if defined(__x86_64__)
#include "x86/f32_vmath_avx2.h"
#include "mlrc_ukernels.h"
#include "window.h"

#define MAX_TAPS 64

MLRC_AVX2 static inline __m256 load8(const float *p, int full, __m256i mask) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

MLRC_AVX2 static inline void store8(float *p, __m256 v, int full, __m256i mask) {
    if (full)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, mask, v);
}

/* One output row, channels [c, c + lanes). */
MLRC_AVX2 static void row_block(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                const float *bias, float *output, int32_t act, int32_t oy, int32_t c, int32_t lanes) {
    const int32_t C = g->in_c, kh = g->kernel_h, kw = g->kernel_w;
    const int full = lanes == 8;
    const __m256i mask = mlrc_avx2_tail_mask(lanes);
    __m256 w[MAX_TAPS];
    for (int32_t t = 0; t < kh * kw; t++) w[t] = load8(weights + (size_t)t * C + c, full, mask);
    const __m256 b = bias ? load8(bias + c, full, mask) : _mm256_setzero_ps();
    const mlrc_window row = mlrc_window_at(g, oy, 0); /* the kernel rows inside the input hold for the whole row */
    const int32_t iy0 = row.iy0, ky_lo = row.ky_lo, ky_hi = row.ky_hi;
    const size_t row_stride = (size_t)g->in_w * C;
    const float *in_c = input + c;
    float *out = output + (size_t)oy * g->out_w * C + c;
    const int32_t sw = g->stride_w;
    const size_t step = (size_t)sw * C;
    int32_t ox = 0;
    while (ox < g->out_w) {
        const int32_t ix0 = ox * sw - g->pad_left;
        if (ox + 4 <= g->out_w && ix0 >= 0 && ix0 + 3 * sw + kw <= g->in_w) {
            /* Four interior pixels at once: four independent FMA chains hide the FMA latency. */
            __m256 a0 = b, a1 = b, a2 = b, a3 = b;
            for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                const float *in = in_c + (size_t)(iy0 + ky) * row_stride + (size_t)ix0 * C;
                const __m256 *wr = w + ky * kw;
                for (int32_t kx = 0; kx < kw; kx++) {
                    const float *p = in + (size_t)kx * C;
                    a0 = _mm256_fmadd_ps(load8(p, full, mask), wr[kx], a0);
                    a1 = _mm256_fmadd_ps(load8(p + step, full, mask), wr[kx], a1);
                    a2 = _mm256_fmadd_ps(load8(p + 2 * step, full, mask), wr[kx], a2);
                    a3 = _mm256_fmadd_ps(load8(p + 3 * step, full, mask), wr[kx], a3);
                }
            }
            float *o = out + (size_t)ox * C;
            store8(o, mlrc_avx2_activate(a0, act), full, mask);
            store8(o + C, mlrc_avx2_activate(a1, act), full, mask);
            store8(o + 2 * C, mlrc_avx2_activate(a2, act), full, mask);
            store8(o + 3 * C, mlrc_avx2_activate(a3, act), full, mask);
            ox += 4;
            continue;
        }
        /* A border pixel: only the taps inside the input. */
        const mlrc_window win = mlrc_window_at(g, oy, ox);
        const int32_t kx_lo = win.kx_lo, kx_hi = win.kx_hi;
        __m256 acc = b;
        for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
            const float *in = in_c + (size_t)(iy0 + ky) * row_stride;
            for (int32_t kx = kx_lo; kx < kx_hi; kx++)
                acc = _mm256_fmadd_ps(load8(in + (size_t)(ix0 + kx) * C, full, mask), w[ky * kw + kx], acc);
        }
        store8(out + (size_t)ox * C, mlrc_avx2_activate(acc, act), full, mask);
        ox++;
    }
}

static void dwconv_row(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                       float *output, int32_t act, int32_t oy) {
    for (int32_t c = 0; c < g->in_c; c += 8)
        row_block(g, input, weights, bias, output, act, oy, c, g->in_c - c < 8 ? g->in_c - c : 8);
}

int mlrc_f32_dwconv_avx2_suits(const mlrc_conv_geometry *g, uint32_t features) {
    (void)features;
    return g->kernel_h * g->kernel_w <= MAX_TAPS;
}

void mlrc_f32_dwconv_avx2(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0, int32_t u1) {
    (void)u0, (void)u1;
    for (int32_t oy = oy0; oy < oy1; oy++) dwconv_row(g, input, weights, bias, output, act, oy);
}
#endif
