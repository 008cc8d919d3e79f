/* The int8 depthwise operator: its table (each row still splits its own rows over threads). */
#include "mlrc_ukernels.h"

const mlrc_q8_dwconv_variant mlrc_q8_dwconv_variants[] = {
#if defined(__x86_64__)
    {"q8_dwconv_64c4_avx512vnni", MLRC_CPU_X86_AVX512 | MLRC_CPU_AVX512DQ | MLRC_CPU_AVX512VNNI,
     mlrc_q8_dwconv_64c4_avx512vnni_suits, mlrc_q8_dwconv_64c4_avx512vnni},
    {"q8_dwconv_32c4_avxvnni", MLRC_CPU_X86_AVX2 | MLRC_CPU_AVXVNNI, mlrc_q8_dwconv_32c4_avxvnni_suits,
     mlrc_q8_dwconv_32c4_avxvnni},
    {"q8_dwconv_32c_avx512", MLRC_CPU_X86_AVX512, NULL, mlrc_q8_dwconv_32c_avx512},
    {"q8_dwconv_16c_avx2", MLRC_CPU_X86_AVX2, NULL, mlrc_q8_dwconv_16c_avx2},
#endif
#if defined(__aarch64__)
    {"q8_dwconv_8c_neon", MLRC_CPU_NEON, NULL, mlrc_q8_dwconv_8c_neon},
#endif
    {"q8_dwconv_ref", 0, NULL, mlrc_q8_dwconv_ref},
};
const int32_t mlrc_q8_dwconv_variant_count =
    (int32_t)(sizeof mlrc_q8_dwconv_variants / sizeof mlrc_q8_dwconv_variants[0]);

void mlrc_q8_dwconv_plan(const mlrc_conv_geometry *g, int32_t threads, mlrc_kernel_plan *plan) {
    const uint32_t features = mlrc_cpu_enabled();
    int32_t chosen = mlrc_q8_dwconv_variant_count - 1;
    for (int32_t i = 0; i < mlrc_q8_dwconv_variant_count; i++) {
        const mlrc_q8_dwconv_variant *v = &mlrc_q8_dwconv_variants[i];
        if (!mlrc_variant_missing(v->requires, features) && (!v->suits || v->suits(g, features))) {
            chosen = i;
            break;
        }
    }
    const mlrc_kernel_plan p = {MLRC_OP_Q8_DWCONV, 0, chosen, -1, -1, threads < 1 ? 1 : threads, 0};
    *plan = p;
}

int mlrc_q8_dwconv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const uint8_t *input,
                       int32_t in_zero, const int8_t *weights, const int32_t *bias, const float *scale,
                       const mlrc_q8_output *out, void *output, int32_t threads) {
    mlrc_q8_dwconv_variants[plan->variant].run(g, input, in_zero, weights, bias, scale, out, output, threads);
    return MLRC_KERNEL_OK;
}

void mlrc_q8_dwconv(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                    const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_q8_dwconv_plan(g, threads, &plan);
    mlrc_q8_dwconv_run(&plan, g, input, in_zero, weights, bias, scale, out, output, threads);
}
