/* fp32 depthwise convolution with AVX-512 in NHWC, for layers of 64 channels or more. The unit of work is
 * one output row x 64 channels (four zmm): each output pixel runs its valid taps with four independent FMA
 * chains, weights read straight from the tap-major weight tensor (they stay in L1 across the row). Small,
 * wide maps (7x7 with a 5x5 kernel: every pixel is a border pixel) are where the AVX2 kernel's one chain per
 * border pixel stalls on FMA latency; here every pixel is the same loop. Units are spread over rows and channel
 * chunks together, so a 7-row map still splits evenly across threads. Taps are summed in the reference order. */
#if defined(__x86_64__)
#include "x86/avx2_common.h"
#include "mlrc_ukernels.h"
#include "x86/f32_vmath_avx2.h"
#include "window.h"

#define ZMM_TARGET __attribute__((target("avx2,fma,avx512f")))
#define CHUNK 64

ZMM_TARGET static void row_chunk(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                 const float *bias, float *output, int32_t act, int32_t oy, int32_t c) {
    const int32_t C = g->in_c, kw = g->kernel_w;
    __mmask16 k[4];
    __m512 b[4];
    for (int v = 0; v < 4; v++) {
        k[v] = mlrc_avx512_lanes(C - c - 16 * v);
        b[v] = bias ? _mm512_maskz_loadu_ps(k[v], bias + c + 16 * v) : _mm512_setzero_ps();
    }
    const size_t row_stride = (size_t)g->in_w * C;
    float *out = output + (size_t)oy * g->out_w * C + c;
    for (int32_t ox = 0; ox < g->out_w; ox++) {
        const mlrc_window win = mlrc_window_at(g, oy, ox);
        __m512 a0 = b[0], a1 = b[1], a2 = b[2], a3 = b[3];
        for (int32_t ky = win.ky_lo; ky < win.ky_hi; ky++) {
            const float *in = input + (size_t)(win.iy0 + ky) * row_stride + c;
            const float *wr = weights + (size_t)ky * kw * C + c;
            for (int32_t kx = win.kx_lo; kx < win.kx_hi; kx++) {
                const float *p = in + (size_t)(win.ix0 + kx) * C, *w = wr + (size_t)kx * C;
                a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k[0], p), _mm512_maskz_loadu_ps(k[0], w), a0);
                a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k[1], p + 16), _mm512_maskz_loadu_ps(k[1], w + 16), a1);
                a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k[2], p + 32), _mm512_maskz_loadu_ps(k[2], w + 32), a2);
                a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k[3], p + 48), _mm512_maskz_loadu_ps(k[3], w + 48), a3);
            }
        }
        float *o = out + (size_t)ox * C;
        _mm512_mask_storeu_ps(o, k[0], mlrc_avx512_activate(a0, act));
        if (k[1]) _mm512_mask_storeu_ps(o + 16, k[1], mlrc_avx512_activate(a1, act));
        if (k[2]) _mm512_mask_storeu_ps(o + 32, k[2], mlrc_avx512_activate(a2, act));
        if (k[3]) _mm512_mask_storeu_ps(o + 48, k[3], mlrc_avx512_activate(a3, act));
    }
}

int mlrc_f32_dwconv_64c_avx512_suits(const mlrc_conv_geometry *g, uint32_t features) {
    (void)features;
    return g->in_c >= CHUNK;
}

void mlrc_f32_dwconv_64c_avx512(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                const float *bias, float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0,
                                int32_t u1) {
    for (int32_t oy = oy0; oy < oy1; oy++)
        for (int32_t u = u0; u < u1; u++) row_chunk(g, input, weights, bias, output, act, oy, u * CHUNK);
}
#endif
