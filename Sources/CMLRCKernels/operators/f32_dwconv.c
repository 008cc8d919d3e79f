/* The fp32 depthwise operator: its table (each row still splits its own rows over threads). */
#include "mlrc_ukernels.h"

const mlrc_f32_dwconv_variant mlrc_f32_dwconv_variants[] = {
#if defined(__x86_64__)
    {"f32_dwconv_64c_avx512", MLRC_CPU_X86_AVX512, mlrc_f32_dwconv_64c_avx512_suits, mlrc_f32_dwconv_64c_avx512},
    {"f32_dwconv_avx2", MLRC_CPU_X86_AVX2, NULL, mlrc_f32_dwconv_avx2},
#endif
#if defined(__aarch64__)
    {"f32_dwconv_neon", MLRC_CPU_NEON, NULL, mlrc_f32_dwconv_neon},
#endif
    {"f32_dwconv_ref", 0, NULL, mlrc_f32_dwconv_ref},
};
const int32_t mlrc_f32_dwconv_variant_count =
    (int32_t)(sizeof mlrc_f32_dwconv_variants / sizeof mlrc_f32_dwconv_variants[0]);

void mlrc_f32_dwconv_plan(const mlrc_conv_geometry *g, int32_t threads, mlrc_kernel_plan *plan) {
    const uint32_t features = mlrc_cpu_enabled();
    int32_t chosen = mlrc_f32_dwconv_variant_count - 1;
    for (int32_t i = 0; i < mlrc_f32_dwconv_variant_count; i++) {
        const mlrc_f32_dwconv_variant *v = &mlrc_f32_dwconv_variants[i];
        if (!mlrc_variant_missing(v->requires, features) && (!v->suits || v->suits(g, features))) {
            chosen = i;
            break;
        }
    }
    const mlrc_kernel_plan p = {MLRC_OP_F32_DWCONV, 0, chosen, -1, -1, threads < 1 ? 1 : threads, 0};
    *plan = p;
}

int mlrc_f32_dwconv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const float *input,
                        const float *weights, const float *bias, float *output, int32_t act, int32_t threads) {
    mlrc_f32_dwconv_variants[plan->variant].run(g, input, weights, bias, output, act, threads);
    return MLRC_KERNEL_OK;
}

void mlrc_f32_dwconv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                     float *output, int32_t act, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_f32_dwconv_plan(g, threads, &plan);
    mlrc_f32_dwconv_run(&plan, g, input, weights, bias, output, act, threads);
}
