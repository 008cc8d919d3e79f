/* General and grouped convolution: im2col one group at a time, then the dispatched GEMM.
 * A 1x1, stride-1, unpadded, ungrouped convolution is a GEMM on the NHWC input directly. */
#include <string.h>
#include "mlrc_kernels.h"
#include "activation.h"

static int is_plain_pointwise(const mlrc_conv_geometry *g) {
    return g->kernel_h == 1 && g->kernel_w == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_top == 0 &&
           g->pad_left == 0 && g->groups == 1 && g->out_h == g->in_h && g->out_w == g->in_w;
}

size_t mlrc_f32_conv_scratch_floats(const mlrc_conv_geometry *g) {
    if (is_plain_pointwise(g)) return 0;
    return (size_t)g->out_h * g->out_w * g->kernel_h * g->kernel_w * (g->in_c / g->groups);
}

/* Writes rows [oy][ox] = the (ky, kx, ci) window of group `group`, zeros where it falls in the padding. */
static void im2col_group(const mlrc_conv_geometry *g, const float *input, int32_t group, float *cols, int threads) {
    const int32_t cin_g = g->in_c / g->groups;
    const size_t K = (size_t)g->kernel_h * g->kernel_w * cin_g;
    int nt = mlrc_threads_for(threads, g->out_h);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int32_t oy = 0; oy < g->out_h; oy++) {
        for (int32_t ox = 0; ox < g->out_w; ox++) {
            float *row = cols + ((size_t)oy * g->out_w + ox) * K;
            for (int32_t ky = 0; ky < g->kernel_h; ky++) {
                const int32_t iy = oy * g->stride_h - g->pad_top + ky;
                for (int32_t kx = 0; kx < g->kernel_w; kx++) {
                    const int32_t ix = ox * g->stride_w - g->pad_left + kx;
                    float *dst = row + ((size_t)ky * g->kernel_w + kx) * cin_g;
                    if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                        memset(dst, 0, sizeof(float) * (size_t)cin_g);
                    } else {
                        const float *src = input + ((size_t)iy * g->in_w + ix) * g->in_c + (size_t)group * cin_g;
                        memcpy(dst, src, sizeof(float) * (size_t)cin_g);
                    }
                }
            }
        }
    }
}

void mlrc_f32_conv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                   float *output, float *scratch, int32_t act, int32_t threads) {
    const int32_t M = g->out_h * g->out_w;
    if (is_plain_pointwise(g)) {
        mlrc_f32_gemm(M, g->out_c, g->in_c, input, g->in_c, weights, g->out_c, bias, output, g->out_c, act, threads);
        return;
    }
#if defined(__x86_64__)
    const int isa = mlrc_kernels_active_isa();
    if ((isa == MLRC_ISA_AVX2 || isa == MLRC_ISA_AVX2_VNNI) && mlrc_f32_conv_indirect_supported(g)) {
        mlrc_f32_conv_indirect_avx2(g, input, weights, bias, output, act, threads);
        return;
    }
#endif
    mlrc_f32_conv_im2col(g, input, weights, bias, output, scratch, act, threads);
}

void mlrc_f32_conv_quantize(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                            float *output, float *scratch, int32_t act, float inv_scale, int32_t zero, uint8_t *q,
                            int32_t threads) {
#if defined(__x86_64__)
    const int isa = mlrc_kernels_active_isa();
    if ((isa == MLRC_ISA_AVX2 || isa == MLRC_ISA_AVX2_VNNI) && !is_plain_pointwise(g) &&
        mlrc_f32_conv_indirect_supported(g) && mlrc_f32_conv_indirect_quantize_supported(g)) {
        mlrc_f32_conv_indirect_avx2_quantize(g, input, weights, bias, act, inv_scale, zero, q, threads);
        return;
    }
#endif
    mlrc_f32_conv(g, input, weights, bias, output, scratch, act, threads);
    mlrc_q8_quantize((size_t)g->out_h * g->out_w * g->out_c, output, inv_scale, zero, q, threads);
}

void mlrc_f32_conv_im2col(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, float *scratch, int32_t act, int32_t threads) {
    const int32_t M = g->out_h * g->out_w;
    const int32_t cin_g = g->in_c / g->groups, cout_g = g->out_c / g->groups;
    const int32_t K = g->kernel_h * g->kernel_w * cin_g;
    for (int32_t group = 0; group < g->groups; group++) {
        im2col_group(g, input, group, scratch, threads);
        mlrc_f32_gemm(M, cout_g, K, scratch, K, weights + (size_t)group * K * cout_g, cout_g,
                      bias ? bias + (size_t)group * cout_g : NULL, output + (size_t)group * cout_g, g->out_c, act,
                      threads);
    }
}
