/* XNNPACK's int8 kernels, called as XNNPACK's GEMM driver calls them (one call per block of mr rows, all columns
 * in it), between the same markers as kernel_calls.c: the comparison cycle_model.py --xnnpack prints. Built only
 * from an XNNPACK source checkout given on the command line; weights are packed in the layout each kernel reads
 * (per column block: int32 biases, the int8 weights, float scales), filled with pseudo-random values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mlrc_model_begin(void);
void mlrc_model_end(void);

typedef void (*xnn_gemm_fn)(size_t mr, size_t nc, size_t kc, const int8_t *a, size_t a_stride, const void *w, int8_t *c,
                            size_t cm_stride, size_t cn_stride, const void *params);
void xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_2x8c8__asm_aarch64_neon_mlal_prfm(size_t, size_t, size_t, const int8_t *,
                                                                             size_t, const void *, int8_t *, size_t,
                                                                             size_t, const void *);
void xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_4x16c4__asm_aarch64_neondot_ld128(size_t, size_t, size_t, const int8_t *,
                                                                             size_t, const void *, int8_t *, size_t,
                                                                             size_t, const void *);

static void *filled(size_t bytes) {
    static uint32_t seed = 777;
    uint8_t *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    for (size_t i = 0; i < bytes; i++) p[i] = (uint8_t)((seed = seed * 1664525u + 1013904223u) >> 24);
    return p;
}

static int gemm(xnn_gemm_fn fn, int mr, int nr, int kr, int M, int N, int K) {
    const size_t kc = (size_t)(K + kr - 1) / kr * kr, blocks = (size_t)(N + nr - 1) / nr;
    const size_t block_bytes = (size_t)nr * 4 + (size_t)nr * kc + (size_t)nr * 4;
    uint8_t *w = filled(blocks * block_bytes);
    for (size_t b = 0; b < blocks; b++) { /* sane biases and scales: small ints, 1e-3 */
        int32_t *bias = (int32_t *)(w + b * block_bytes);
        float *scale = (float *)(w + b * block_bytes + (size_t)nr * 4 + (size_t)nr * kc);
        for (int j = 0; j < nr; j++) bias[j] %= 4096, scale[j] = 1e-3f;
    }
    const int8_t *A = filled((size_t)M * kc);
    int8_t *C = aligned_alloc(64, (size_t)M * N + 64);
    const struct {
        int16_t zero;
        int8_t lo, hi;
    } params = {3, -128, 127};
    for (int pass = 0; pass < 2; pass++) { /* the first warms pages, as kernel_calls.c does */
        if (pass) mlrc_model_begin();
        for (int m = 0; m < M; m += mr)
            fn(M - m < mr ? (size_t)(M - m) : (size_t)mr, (size_t)N, (size_t)K, A + (size_t)m * K, (size_t)K, w,
               C + (size_t)m * N, (size_t)N, (size_t)nr, &params);
        if (pass) mlrc_model_end();
    }
    printf("%d\n", C[M * N / 2]);
    return 0;
}

int extra_call(int argc, char **argv) {
    if (argc >= 5 && !strcmp(argv[1], "xnn_gemm_2x8c8_mlal"))
        return gemm(xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_2x8c8__asm_aarch64_neon_mlal_prfm, 2, 8, 8, atoi(argv[2]),
                    atoi(argv[3]), atoi(argv[4]));
    if (argc >= 5 && !strcmp(argv[1], "xnn_gemm_4x16c4_dot"))
        return gemm(xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_4x16c4__asm_aarch64_neondot_ld128, 4, 16, 4, atoi(argv[2]),
                    atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "unknown call %s\n", argv[1]);
    return 2;
}
