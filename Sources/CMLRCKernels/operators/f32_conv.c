/* The fp32 convolution operator. A 1x1, stride-1, unpadded, ungrouped convolution is a GEMM on the NHWC input
 * directly; a convolution that a direct variant of the table takes reads its input through tap pointers (and
 * may quantize its output in place); the rest run im2col one group at a time, then the GEMM. */
#include <omp.h>
#include <string.h>
#include "mlrc_ukernels.h"
#include "choose.h"
#include "activation.h"

const mlrc_f32_conv_variant mlrc_f32_conv_variants[] = {
#if defined(__x86_64__)
    {"f32_conv_indirect_6x32_avx512", MLRC_CPU_X86_AVX512, mlrc_f32_conv_indirect_suits,
     mlrc_f32_conv_indirect_quantize_suits, 6, mlrc_f32_conv_indirect_6x32_avx512},
    {"f32_conv_indirect_6x16_avx2", MLRC_CPU_X86_AVX2, mlrc_f32_conv_indirect_suits,
     mlrc_f32_conv_indirect_quantize_suits, 6, mlrc_f32_conv_indirect_6x16_avx2},
#endif
    {NULL, 0, NULL, NULL, 0, NULL}, /* terminator: ISO C wants a non-empty array on every architecture */
};
const int32_t mlrc_f32_conv_variant_count =
    (int32_t)(sizeof mlrc_f32_conv_variants / sizeof mlrc_f32_conv_variants[0]) - 1;

size_t mlrc_f32_conv_scratch_floats(const mlrc_conv_geometry *g) {
    if (mlrc_conv_is_pointwise(g)) return 0;
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

static int32_t first_direct(const mlrc_conv_geometry *g, uint32_t features) {
    MLRC_FIRST_SUITED(mlrc_f32_conv_variants, mlrc_f32_conv_variant_count, features, g, -1)
}

void mlrc_f32_conv_plan(const mlrc_conv_geometry *g, int32_t quantize, int32_t threads, mlrc_kernel_plan *plan) {
    const uint32_t features = mlrc_cpu_enabled();
    mlrc_kernel_plan p = {MLRC_OP_F32_CONV,
                          MLRC_CONV_IM2COL,
                          -1,
                          mlrc_f32_gemm_choose(features),
                          -1,
                          threads < 1 ? 1 : threads,
                          mlrc_f32_conv_scratch_floats(g) * sizeof(float)};
    if (quantize) p.quantize = mlrc_q8_quantize_choose(features);
    if (mlrc_conv_is_pointwise(g)) {
        p.arrangement = MLRC_CONV_GEMM, p.scratch_bytes = 0;
    } else {
        const int32_t d = first_direct(g, features);
        if (d >= 0) {
            const mlrc_f32_conv_variant *v = &mlrc_f32_conv_variants[d];
            p.arrangement = MLRC_CONV_DIRECT, p.variant = d, p.gemm = -1, p.scratch_bytes = 0;
            /* quantized in place: no separate quantize */
            if (quantize && v->suits_quantize && v->suits_quantize(g, features)) p.quantize = -1;
        }
    }
    *plan = p;
}

/* A direct row over every pixel block, contiguous ranges of blocks across the threads. */
static void direct(const mlrc_f32_conv_variant *v, const mlrc_conv_geometry *g, const float *input,
                   const float *weights, const float *bias, float *output, int32_t act, float inv_scale, int32_t zero,
                   uint8_t *q, int32_t threads) {
    const int32_t pixels = g->out_h * g->out_w, blocks = (pixels + v->block_pixels - 1) / v->block_pixels;
    int nt = mlrc_threads_for(threads, blocks);
    if (nt <= 1) {
        v->run(g, input, weights, bias, output, act, inv_scale, zero, q, 0, blocks);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        v->run(g, input, weights, bias, output, act, inv_scale, zero, q, (int32_t)((int64_t)blocks * t / T),
               (int32_t)((int64_t)blocks * (t + 1) / T));
    }
}

static void im2col_gemm(const mlrc_f32_gemm_variant *gemm, const mlrc_conv_geometry *g, const float *input,
                        const float *weights, const float *bias, float *output, float *scratch, int32_t act,
                        int32_t threads) {
    const int32_t M = g->out_h * g->out_w;
    const int32_t cin_g = g->in_c / g->groups, cout_g = g->out_c / g->groups;
    const int32_t K = g->kernel_h * g->kernel_w * cin_g;
    for (int32_t group = 0; group < g->groups; group++) {
        im2col_group(g, input, group, scratch, threads);
        gemm->run(M, cout_g, K, scratch, K, weights + (size_t)group * K * cout_g, cout_g,
                  bias ? bias + (size_t)group * cout_g : NULL, output + (size_t)group * cout_g, g->out_c, act, threads);
    }
}

int mlrc_f32_conv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const float *input,
                      const float *weights, const float *bias, float *output, float *scratch, int32_t act,
                      int32_t threads) {
    if (plan->scratch_bytes && !scratch) return MLRC_KERNEL_ERR_SCRATCH;
    if (plan->arrangement == MLRC_CONV_DIRECT) {
        direct(&mlrc_f32_conv_variants[plan->variant], g, input, weights, bias, output, act, 0, 0, NULL, threads);
    } else if (plan->arrangement == MLRC_CONV_GEMM) {
        mlrc_f32_gemm_variants[plan->gemm].run(g->out_h * g->out_w, g->out_c, g->in_c, input, g->in_c, weights,
                                               g->out_c, bias, output, g->out_c, act, threads);
    } else {
        im2col_gemm(&mlrc_f32_gemm_variants[plan->gemm], g, input, weights, bias, output, scratch, act, threads);
    }
    return MLRC_KERNEL_OK;
}

int mlrc_f32_conv_quantize_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const float *input,
                               const float *weights, const float *bias, float *output, float *scratch, int32_t act,
                               float inv_scale, int32_t zero, uint8_t *q, int32_t threads) {
    if (plan->arrangement == MLRC_CONV_DIRECT && plan->quantize < 0) {
        direct(&mlrc_f32_conv_variants[plan->variant], g, input, weights, bias, NULL, act, inv_scale, zero, q, threads);
        return MLRC_KERNEL_OK;
    }
    const int status = mlrc_f32_conv_run(plan, g, input, weights, bias, output, scratch, act, threads);
    if (status != MLRC_KERNEL_OK) return status;
    const mlrc_kernel_plan quant = {MLRC_OP_Q8_QUANTIZE, 0, plan->quantize, -1, -1, plan->threads, 0};
    return mlrc_q8_quantize_run(&quant, (size_t)g->out_h * g->out_w * g->out_c, output, inv_scale, zero, q, threads);
}

void mlrc_f32_conv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                   float *output, float *scratch, int32_t act, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_f32_conv_plan(g, 0, threads, &plan);
    mlrc_f32_conv_run(&plan, g, input, weights, bias, output, scratch, act, threads);
}

void mlrc_f32_conv_quantize(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                            float *output, float *scratch, int32_t act, float inv_scale, int32_t zero, uint8_t *q,
                            int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_f32_conv_plan(g, 1, threads, &plan);
    mlrc_f32_conv_quantize_run(&plan, g, input, weights, bias, output, scratch, act, inv_scale, zero, q, threads);
}
