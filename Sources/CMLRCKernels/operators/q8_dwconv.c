/* The int8 depthwise operator: its table, the split of rows or channel units over threads, and each thread's
 * share of the scratch. */
#include <stdlib.h>
#include "mlrc_ukernels.h"
#include "choose.h"
#include "parallel.h"

const mlrc_q8_dwconv_variant mlrc_q8_dwconv_variants[] = {
#if defined(__x86_64__)
    {"q8_dwconv_64c4_avx512vnni", MLRC_CPU_X86_AVX512 | MLRC_CPU_AVX512DQ | MLRC_CPU_AVX512VNNI,
     mlrc_q8_dwconv_64c4_avx512vnni_suits, 64, NULL, mlrc_q8_dwconv_64c4_avx512vnni},
    {"q8_dwconv_32c4_avxvnni", MLRC_CPU_X86_AVX2 | MLRC_CPU_AVXVNNI, mlrc_q8_dwconv_32c4_avxvnni_suits, 0, NULL,
     mlrc_q8_dwconv_32c4_avxvnni},
    {"q8_dwconv_32c_avx512", MLRC_CPU_X86_AVX512, NULL, 0, NULL, mlrc_q8_dwconv_32c_avx512},
    {"q8_dwconv_16c2_avx2", MLRC_CPU_X86_AVX2, mlrc_q8_dwconv_16c2_avx2_suits, 16, mlrc_q8_dwconv_16c2_avx2_scratch,
     mlrc_q8_dwconv_16c2_avx2},
    {"q8_dwconv_16c_avx2", MLRC_CPU_X86_AVX2, NULL, 0, NULL, mlrc_q8_dwconv_16c_avx2},
#endif
#if defined(__aarch64__)
    {"q8_dwconv_16c2_neon", MLRC_CPU_NEON, NULL, 16, mlrc_q8_dwconv_16c2_neon_scratch, mlrc_q8_dwconv_16c2_neon},
#endif
    {"q8_dwconv_ref", 0, NULL, 0, NULL, mlrc_q8_dwconv_ref},
};
const int32_t mlrc_q8_dwconv_variant_count =
    (int32_t)(sizeof mlrc_q8_dwconv_variants / sizeof mlrc_q8_dwconv_variants[0]);

static int32_t choose(const mlrc_conv_geometry *g, uint32_t features) {
    MLRC_FIRST_SUITED(mlrc_q8_dwconv_variants, mlrc_q8_dwconv_variant_count, features, g,
                      mlrc_q8_dwconv_variant_count - 1)
}

/* A thread's scratch, rounded to whole cache lines. */
static size_t per_thread(const mlrc_q8_dwconv_variant *v, const mlrc_conv_geometry *g) {
    return v->scratch_bytes ? (v->scratch_bytes(g) + 63) & ~(size_t)63 : 0;
}

void mlrc_q8_dwconv_plan(const mlrc_conv_geometry *g, int32_t threads, mlrc_kernel_plan *plan) {
    const int32_t v = choose(g, mlrc_cpu_enabled()), t = threads < 1 ? 1 : threads;
    const mlrc_kernel_plan p = {
        MLRC_OP_Q8_DWCONV, 0, v, -1, -1, t, per_thread(&mlrc_q8_dwconv_variants[v], g) * (size_t)t};
    *plan = p;
}

int mlrc_q8_dwconv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                       const int8_t *weights, const int32_t *bias, const float *scale, const mlrc_q8_output *out,
                       void *output, void *scratch, int32_t threads) {
    const mlrc_q8_dwconv_variant *v = &mlrc_q8_dwconv_variants[plan->variant];
    const size_t share = per_thread(v, g);
    if (share && !scratch) return MLRC_KERNEL_ERR_SCRATCH;
    if (share && threads > plan->threads) threads = plan->threads; /* the scratch has that many shares */
    const int32_t units = v->unit_channels ? (g->in_c + v->unit_channels - 1) / v->unit_channels : 1;
    const mlrc_split split = mlrc_split_rows_or_units(threads, g->out_h, units);
    if (split.threads <= 1) {
        v->run(g, input, in_zero, weights, bias, scale, out, output, 0, g->out_h, 0, units, scratch);
        return MLRC_KERNEL_OK;
    }
#pragma omp parallel num_threads(split.threads)
    {
        int32_t r0, r1, u0, u1;
        mlrc_split_share(&split, g->out_h, units, omp_get_thread_num(), omp_get_num_threads(), &r0, &r1, &u0, &u1);
        const int t = omp_get_thread_num();
        if (r0 < r1 && u0 < u1)
            v->run(g, input, in_zero, weights, bias, scale, out, output, r0, r1, u0, u1,
                   share ? (char *)scratch + share * (size_t)t : NULL);
    }
    return MLRC_KERNEL_OK;
}

void mlrc_q8_dwconv(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                    const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t threads) {
    mlrc_kernel_plan plan;
    mlrc_q8_dwconv_plan(g, threads, &plan);
    void *scratch = plan.scratch_bytes ? aligned_alloc(64, plan.scratch_bytes) : NULL;
    if (plan.scratch_bytes && !scratch) plan.variant = mlrc_q8_dwconv_variant_count - 1, plan.scratch_bytes = 0;
    mlrc_q8_dwconv_run(&plan, g, input, in_zero, weights, bias, scale, out, output, scratch, threads);
    free(scratch);
}
