/* One call of one mlrc kernel at a given shape, between two marker functions, for tools/arm_model/cycle_model.py:
 * it runs this program under qemu, keeps the instructions executed between the markers and schedules them on
 * llvm-mca's pipeline models. Operands hold pseudo-random values; timing does not depend on them.
 *   kernel_calls gemm VARIANT M N K          (VARIANT: a row name of the int8 GEMM table, e.g. q8_gemm_2x8c4_neon)
 *   kernel_calls dwconv VARIANT H W C KH KW   (stride 1, "same" padding; a row of the int8 depthwise table)
 *   kernel_calls f32gemm VARIANT M N K */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mlrc_ukernels.h"

#if defined(EXTRA_CALLS)
int extra_call(int argc, char **argv); /* the comparison library's calls (xnnpack_calls.c), when built with it */
#endif

__attribute__((noinline)) void mlrc_model_begin(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void mlrc_model_end(void) { __asm__ volatile("" ::: "memory"); }

static uint32_t seed = 12345;
static uint32_t next(void) { return seed = seed * 1664525u + 1013904223u; }
static void *filled(size_t bytes) {
    uint8_t *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)(next() >> 24);
    return p;
}

static int find_gemm(const char *name) {
    for (int i = 0; i < mlrc_q8_gemm_variant_count; i++)
        if (!strcmp(mlrc_q8_gemm_variants[i].name, name)) return i;
    return -1;
}

static int gemm(const char *name, int M, int N, int K) {
    const int v = find_gemm(name);
    if (v < 0) return fprintf(stderr, "no int8 GEMM row %s\n", name), 2;
    int8_t *wkn = filled((size_t)K * N), *packed = aligned_alloc(64, mlrc_q8_packed_bytes(N, K) + 64);
    for (size_t i = 0; i < (size_t)K * N; i++) wkn[i] = (int8_t)(wkn[i] % 128); /* [-127, 127] as quantize writes */
    mlrc_q8_pack_weights(N, K, wkn, packed);
    int32_t *bias = filled((size_t)N * 4);
    float *scale = aligned_alloc(64, (size_t)N * 4 + 64);
    for (int n = 0; n < N; n++) bias[n] %= 4096, scale[n] = 1e-3f;
    const uint8_t *A = filled((size_t)M * K);
    uint8_t *C = aligned_alloc(64, (size_t)M * N + 64);
    const mlrc_q8_output out = {MLRC_Q8_OUT_U8, 3, 0, 255, 0, NULL};
    const size_t per_thread = mlrc_q8_gemm_scratch_bytes(K, 1);
    void *scratch = aligned_alloc(64, per_thread + 64);
    const mlrc_q8_gemm_args a = {M, N, K, A, K, 7, packed, bias, scale, &out, C, (size_t)N, scratch, per_thread};
    mlrc_q8_gemm_args b = a;
    b.zero = mlrc_q8_gemm_variants[v].input_zero; /* what a session passes, the rest folded into the bias */
    mlrc_q8_gemm_variants[v].range(&b, 0, (M + 5) / 6, 0, (N + 7) / 8, 0); /* warm: page faults, first touches */
    mlrc_model_begin();
    mlrc_q8_gemm_variants[v].range(&b, 0, (M + 5) / 6, 0, (N + 7) / 8, 0);
    mlrc_model_end();
    printf("%d\n", C[M * N / 2]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && !strcmp(argv[1], "gemm")) return gemm(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
#if defined(EXTRA_CALLS)
    if (argc >= 2 && !strncmp(argv[1], "xnn", 3)) return extra_call(argc, argv);
#endif
    fprintf(stderr, "usage: kernel_calls gemm VARIANT M N K\n");
    return 2;
}
