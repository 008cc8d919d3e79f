/* The LayerNorm operator (fp32 output, or fused with the uint8 quantize): its table and the split of pixels over
 * threads. */
#include <omp.h>
#include "mlrc_ukernels.h"
#include "choose.h"
#include "activation.h"

const mlrc_layernorm_variant mlrc_layernorm_variants[] = {
#if defined(__x86_64__)
    {"layernorm_avx2", MLRC_CPU_X86_AVX2, mlrc_f32_layernorm_rows_avx2, mlrc_q8_layernorm_rows_avx2},
#endif
    {"layernorm_ref", 0, mlrc_f32_layernorm_rows_ref, mlrc_q8_layernorm_rows_ref},
};
const int32_t mlrc_layernorm_variant_count =
    (int32_t)(sizeof mlrc_layernorm_variants / sizeof mlrc_layernorm_variants[0]);

int32_t mlrc_layernorm_choose(uint32_t features) {
    MLRC_FIRST_ENABLED(mlrc_layernorm_variants, mlrc_layernorm_variant_count, features)
}

void mlrc_layernorm_plan(mlrc_kernel_plan *plan) {
    const mlrc_kernel_plan p = {MLRC_OP_LAYERNORM, 0, mlrc_layernorm_choose(mlrc_cpu_enabled()), -1, -1, 1, 0};
    *plan = p;
}

void mlrc_f32_layernorm(int32_t pixels, int32_t channels, const float *input, const float *gamma, const float *beta,
                        float eps, float *output, int32_t threads) {
    const mlrc_layernorm_variant *v = &mlrc_layernorm_variants[mlrc_layernorm_choose(mlrc_cpu_enabled())];
    int nt = mlrc_threads_for(threads, pixels / 16 + 1);
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        v->f32((int32_t)((int64_t)pixels * t / T), (int32_t)((int64_t)pixels * (t + 1) / T), channels, input, gamma,
               beta, eps, output);
    }
}

void mlrc_q8_layernorm_quantize(int32_t pixels, int32_t channels, const float *input, const float *gamma,
                                const float *beta, float eps, float inv_scale, int32_t zero, uint8_t *q,
                                int32_t threads) {
    const mlrc_layernorm_variant *v = &mlrc_layernorm_variants[mlrc_layernorm_choose(mlrc_cpu_enabled())];
    int nt = mlrc_threads_for(threads, pixels / 16 + 1);
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        v->q8((int32_t)((int64_t)pixels * t / T), (int32_t)((int64_t)pixels * (t + 1) / T), channels, input, gamma,
              beta, eps, inv_scale, zero, q);
    }
}
