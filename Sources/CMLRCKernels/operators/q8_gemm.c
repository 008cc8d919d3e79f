/* The int8 GEMM operator: its table of micro-kernels, and how a call's work spreads over threads (contiguous
 * ranges of 6-row blocks when there are enough rows, else ranges of 8-column panels, e.g. the classifier head). */
#include <omp.h>
#include "mlrc_ukernels.h"
#include "choose.h"
#include "activation.h"

const mlrc_q8_gemm_variant mlrc_q8_gemm_variants[] = {
#if defined(__x86_64__)
    {"q8_gemm_6x32c4_avx512vnni", MLRC_CPU_X86_AVX512 | MLRC_CPU_AVX512VNNI, 4, 0,
     mlrc_q8_gemm_range_6x32c4_avx512vnni},
    {"q8_gemm_6x16c4_avx512vnni", MLRC_CPU_X86_AVX2 | MLRC_CPU_AVX512F | MLRC_CPU_AVX512VL | MLRC_CPU_AVX512VNNI, 2, 0,
     mlrc_q8_gemm_range_6x16c4_avx512vnni},
    {"q8_gemm_6x16c4_avxvnni", MLRC_CPU_X86_AVX2 | MLRC_CPU_AVXVNNI, 2, 0, mlrc_q8_gemm_range_6x16c4_avxvnni},
    {"q8_gemm_6x16c4_avx2_maddubs", MLRC_CPU_X86_AVX2, 2, 0, mlrc_q8_gemm_range_6x16c4_avx2_maddubs, 0,
     MLRC_Q8_MADDUBS_PAIR_LIMIT},
    {"q8_gemm_6x8c4_avx2", MLRC_CPU_X86_AVX2, 1, 1, mlrc_q8_gemm_range_6x8c4_avx2},
#endif
#if defined(__aarch64__)
    {"q8_gemm_4x16c4_dotprod", MLRC_CPU_NEON | MLRC_CPU_DOTPROD, 2, 0, mlrc_q8_gemm_range_4x16c4_dotprod, 128},
    {"q8_gemm_2x8c4_neon", MLRC_CPU_NEON, 1, 0, mlrc_q8_gemm_range_2x8c4_neon, 128},
#endif
    {"q8_gemm_ref", 0, 1, 0, mlrc_q8_gemm_range_ref},
};
const int32_t mlrc_q8_gemm_variant_count = (int32_t)(sizeof mlrc_q8_gemm_variants / sizeof mlrc_q8_gemm_variants[0]);

/* The first row the CPU can run and the weights suit (the last row, the reference, takes everything). */
static int32_t choose(uint32_t features, int32_t pair_peak) {
    for (int32_t i = 0; i < mlrc_q8_gemm_variant_count; i++) {
        const mlrc_q8_gemm_variant *v = &mlrc_q8_gemm_variants[i];
        if (!mlrc_variant_missing(v->requires, features) && mlrc_pair_limit_takes(v->pair_limit, pair_peak)) return i;
    }
    return mlrc_q8_gemm_variant_count - 1;
}

void mlrc_q8_gemm_plan(int32_t K, int32_t threads, mlrc_kernel_plan *plan) {
    mlrc_q8_gemm_plan_for(K, MLRC_Q8_PAIR_PEAK_UNKNOWN, threads, plan);
}

void mlrc_q8_gemm_plan_for(int32_t K, int32_t pair_peak, int32_t threads, mlrc_kernel_plan *plan) {
    const int32_t v = choose(mlrc_cpu_enabled(), pair_peak);
    const mlrc_kernel_plan p = {MLRC_OP_Q8_GEMM,
                                0,
                                v,
                                -1,
                                -1,
                                threads < 1 ? 1 : threads,
                                mlrc_q8_gemm_variants[v].needs_scratch ? mlrc_q8_gemm_scratch_bytes(K, threads) : 0};
    *plan = p;
}

/* panel_step: panels a column split's boundaries are multiples of (a variant that tiles 4 panels at once: 4). */
static void parallel(const mlrc_q8_gemm_args *a, int32_t panel_step, int32_t threads, mlrc_q8_gemm_range_fn range) {
    if (a->M <= 0 || a->N <= 0) return;
    const int32_t row_blocks = (a->M + 5) / 6, col_blocks = (a->N + 7) / 8;
    const int32_t steps = (col_blocks + panel_step - 1) / panel_step;
    if (threads < 1) threads = 1;
    /* Split the rows unless that leaves the threads less evenly loaded than splitting the column steps (a 7x7 map:
     * 9 row blocks load two threads 5 : 4, 6 column steps 3 : 3, and each thread then reads only its share of
     * the weights). */
    const int64_t row_load = ((int64_t)row_blocks + threads - 1) / threads * steps; /* the busiest thread's work */
    const int64_t col_load = ((int64_t)steps + threads - 1) / threads * row_blocks;
    const int split_rows = threads == 1 || row_load <= col_load;
    int nt = mlrc_threads_for(threads, split_rows ? row_blocks : steps);
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        if (split_rows) {
            const int32_t b0 = (int32_t)((int64_t)row_blocks * t / T),
                          b1 = (int32_t)((int64_t)row_blocks * (t + 1) / T);
            if (b0 < b1) range(a, b0, b1, 0, col_blocks, t);
        } else {
            const int32_t c0 = (int32_t)((int64_t)steps * t / T) * panel_step;
            int32_t c1 = (int32_t)((int64_t)steps * (t + 1) / T) * panel_step;
            c1 = c1 < col_blocks ? c1 : col_blocks;
            if (c0 < c1) range(a, 0, row_blocks, c0, c1, t);
        }
    }
}

int mlrc_q8_gemm_run(const mlrc_kernel_plan *plan, int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda,
                     int32_t a_zero, const int8_t *B, const int32_t *bias, const float *scale,
                     const mlrc_q8_output *out, void *C, int32_t ldc, void *scratch, int32_t threads) {
    const mlrc_q8_gemm_variant *v = &mlrc_q8_gemm_variants[plan->variant];
    if (v->needs_scratch && !scratch) return MLRC_KERNEL_ERR_SCRATCH;
    const mlrc_q8_gemm_args a = {M,       N,
                                 K,       A,
                                 lda,     a_zero,
                                 B,       bias,
                                 scale,   out,
                                 C,       (size_t)ldc * (out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1),
                                 scratch, v->needs_scratch ? mlrc_q8_gemm_scratch_bytes(K, 1) : 0};
    parallel(&a, v->panel_step, threads, v->range);
    return MLRC_KERNEL_OK;
}

int mlrc_q8_gemm(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero, const int8_t *B,
                 const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C, int32_t ldc,
                 void *scratch, int32_t threads) {
    mlrc_kernel_plan plan; /* one pass over the weights: a pair-bounded row may take them */
    mlrc_q8_gemm_plan_for(K, mlrc_q8_weight_pair_peak(N, K, B), threads, &plan);
    return mlrc_q8_gemm_run(&plan, M, N, K, A, lda, a_zero, B, bias, scale, out, C, ldc, scratch, threads);
}
