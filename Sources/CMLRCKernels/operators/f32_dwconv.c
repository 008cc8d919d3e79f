/* The fp32 depthwise operator: its table, and the split of rows or channel units over threads. */
#include "mlrc_ukernels.h"
#include "choose.h"
#include "parallel.h"

const mlrc_f32_dwconv_variant mlrc_f32_dwconv_variants[] = {
#if defined(__x86_64__)
    {"f32_dwconv_64c_avx512", MLRC_CPU_X86_AVX512, mlrc_f32_dwconv_64c_avx512_suits, 64, mlrc_f32_dwconv_64c_avx512},
    {"f32_dwconv_8c_avx2", MLRC_CPU_X86_AVX2, mlrc_f32_dwconv_avx2_suits, 0, mlrc_f32_dwconv_avx2},
#endif
#if defined(__aarch64__)
    {"f32_dwconv_4c_neon", MLRC_CPU_NEON, mlrc_f32_dwconv_neon_suits, 0, mlrc_f32_dwconv_neon},
#endif
    {"f32_dwconv_ref", 0, NULL, 0, mlrc_f32_dwconv_ref},
};
const int32_t mlrc_f32_dwconv_variant_count =
    (int32_t)(sizeof mlrc_f32_dwconv_variants / sizeof mlrc_f32_dwconv_variants[0]);

static int32_t choose(const mlrc_conv_geometry *g, uint32_t features) {
    MLRC_FIRST_SUITED(mlrc_f32_dwconv_variants, mlrc_f32_dwconv_variant_count, features, g,
                      mlrc_f32_dwconv_variant_count - 1)
}

void mlrc_f32_dwconv_plan(const mlrc_conv_geometry *g, int32_t threads, mlrc_kernel_plan *plan) {
    const mlrc_kernel_plan p = {MLRC_OP_F32_DWCONV,        0, choose(g, mlrc_cpu_enabled()), -1, -1,
                                threads < 1 ? 1 : threads, 0};
    *plan = p;
}

int mlrc_f32_dwconv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const float *input,
                        const float *weights, const float *bias, float *output, int32_t act, int32_t threads) {
    const mlrc_f32_dwconv_variant *v = &mlrc_f32_dwconv_variants[plan->variant];
    const int32_t units = v->unit_channels ? (g->in_c + v->unit_channels - 1) / v->unit_channels : 1;
    const mlrc_split split = mlrc_split_rows_or_units(threads, g->out_h, units);
    if (split.threads <= 1) {
        v->run(g, input, weights, bias, output, act, 0, g->out_h, 0, units);
        return MLRC_KERNEL_OK;
    }
#pragma omp parallel num_threads(split.threads)
    {
        int32_t r0, r1, u0, u1;
        mlrc_split_share(&split, g->out_h, units, omp_get_thread_num(), omp_get_num_threads(), &r0, &r1, &u0, &u1);
        if (r0 < r1 && u0 < u1) v->run(g, input, weights, bias, output, act, r0, r1, u0, u1);
    }
    return MLRC_KERNEL_OK;
}

void mlrc_f32_dwconv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                     float *output, int32_t act, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_f32_dwconv_plan(g, threads, &plan);
    mlrc_f32_dwconv_run(&plan, g, input, weights, bias, output, act, threads);
}
