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

typedef void (*xnn_dwconv_fn)(size_t channels, size_t output_width, const int8_t **input, const void *weights,
                              int8_t *output, intptr_t input_stride, size_t output_increment, size_t input_offset,
                              size_t input_pixel_stride, const int8_t *zero, const void *params);
void xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_3p16c__neonv8_mla8_ld128(size_t, size_t, const int8_t **, const void *,
                                                                      int8_t *, intptr_t, size_t, size_t, size_t,
                                                                      const int8_t *, const void *);
void xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_9p16c__neonv8_mla8_ld64(size_t, size_t, const int8_t **, const void *,
                                                                     int8_t *, intptr_t, size_t, size_t, size_t,
                                                                     const int8_t *, const void *);
void xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_25p16c__neonv8_mla8_ld64(size_t, size_t, const int8_t **, const void *,
                                                                      int8_t *, intptr_t, size_t, size_t, size_t,
                                                                      const int8_t *, const void *);

typedef void (*xnn_f32_gemm_fn)(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride, const float *w,
                                float *c, size_t cm_stride, size_t cn_stride, const void *params);
void xnn_f32_gemm_minmax_ukernel_4x8__asm_aarch64_neonfma_cortex_a75_prfm(size_t, size_t, size_t, const float *, size_t,
                                                                          const float *, float *, size_t, size_t,
                                                                          const void *);
void xnn_f32_gemm_minmax_ukernel_6x8__asm_aarch64_neonfma_cortex_a75_prfm(size_t, size_t, size_t, const float *, size_t,
                                                                          const float *, float *, size_t, size_t,
                                                                          const void *);

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

/* A stride-1 "same" depthwise layer, one call per output row as XNNPACK's operator makes them; the indirection
 * buffer (a pointer per tap and output pixel, padding at a zero row) is built beforehand, as XNNPACK builds it when
 * the operator is set up. */
static int dwconv(xnn_dwconv_fn fn, int taps, int H, int W, int C, int kh, int kw) {
    if (kh * kw != taps) return fprintf(stderr, "this kernel takes %d taps\n", taps), 2;
    const size_t groups = (size_t)(C + 15) / 16, group_bytes = 16 * 4 + (size_t)taps * 16 + 16 * 4;
    uint8_t *w = filled(groups * group_bytes + 256);
    for (size_t b = 0; b < groups; b++) {
        int32_t *bias = (int32_t *)(w + b * group_bytes);
        float *scale = (float *)(w + b * group_bytes + 64 + (size_t)taps * 16);
        for (int j = 0; j < 16; j++) bias[j] %= 4096, scale[j] = 1e-3f;
    }
    const int8_t *x = filled((size_t)H * W * C + 64);
    int8_t *zero = calloc((size_t)C + 64, 1), *y = aligned_alloc(64, (size_t)H * W * C + 64);
    const int8_t **ind = malloc((size_t)H * W * taps * sizeof(*ind));
    for (int oy = 0; oy < H; oy++)
        for (int ox = 0; ox < W; ox++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++) {
                    const int iy = oy + ky - kh / 2, ix = ox + kx - kw / 2;
                    ind[((size_t)oy * W + ox) * taps + ky * kw + kx] =
                        iy >= 0 && iy < H && ix >= 0 && ix < W ? x + ((size_t)iy * W + ix) * C : zero;
                }
    const struct {
        float scale;
        int16_t zero;
        int8_t lo, hi;
    } params = {1e-3f, 3, -128, 127};
    for (int pass = 0; pass < 2; pass++) {
        if (pass) mlrc_model_begin();
        for (int oy = 0; oy < H; oy++)
            fn((size_t)C, (size_t)W, ind + (size_t)oy * W * taps, w, y + (size_t)oy * W * C,
               (intptr_t)(taps * sizeof(*ind)), 0, 0, 0, zero, &params);
        if (pass) mlrc_model_end();
    }
    printf("%d\n", y[H * W * C / 2]);
    return 0;
}

/* fp32 GEMM: per 8 columns, 8 biases then K x 8 weights; one call per block of mr rows. */
static int f32gemm(xnn_f32_gemm_fn fn, int mr, int M, int N, int K) {
    const size_t blocks = (size_t)(N + 7) / 8;
    float *w = aligned_alloc(64, blocks * (8 + (size_t)K * 8) * 4 + 64), *A = aligned_alloc(64, (size_t)M * K * 4 + 64);
    float *C = aligned_alloc(64, (size_t)M * N * 4 + 64);
    for (size_t i = 0; i < blocks * (8 + (size_t)K * 8); i++) w[i] = 0.01f * (float)(i % 50);
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = 0.02f * (float)(i % 40);
    const float params[2] = {-1e30f, 1e30f};
    for (int pass = 0; pass < 2; pass++) {
        if (pass) mlrc_model_begin();
        for (int m = 0; m < M; m += mr)
            fn(M - m < mr ? (size_t)(M - m) : (size_t)mr, (size_t)N, (size_t)K * 4, A + (size_t)m * K, (size_t)K * 4, w,
               C + (size_t)m * N, (size_t)N * 4, 8 * 4, params);
        if (pass) mlrc_model_end();
    }
    printf("%g\n", C[M * N / 2]);
    return 0;
}

int extra_call(int argc, char **argv) {
    if (argc >= 5 && !strcmp(argv[1], "xnn_f32_gemm_4x8"))
        return f32gemm(xnn_f32_gemm_minmax_ukernel_4x8__asm_aarch64_neonfma_cortex_a75_prfm, 4, atoi(argv[2]),
                       atoi(argv[3]), atoi(argv[4]));
    if (argc >= 5 && !strcmp(argv[1], "xnn_f32_gemm_6x8"))
        return f32gemm(xnn_f32_gemm_minmax_ukernel_6x8__asm_aarch64_neonfma_cortex_a75_prfm, 6, atoi(argv[2]),
                       atoi(argv[3]), atoi(argv[4]));
    if (argc >= 7 && !strncmp(argv[1], "xnn_dw", 6)) {
        const int H = atoi(argv[2]), W = atoi(argv[3]), C = atoi(argv[4]), kh = atoi(argv[5]), kw = atoi(argv[6]);
        if (!strcmp(argv[1], "xnn_dw_3p16c"))
            return dwconv(xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_3p16c__neonv8_mla8_ld128, 3, H, W, C, kh, kw);
        if (!strcmp(argv[1], "xnn_dw_9p16c"))
            return dwconv(xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_9p16c__neonv8_mla8_ld64, 9, H, W, C, kh, kw);
        if (!strcmp(argv[1], "xnn_dw_25p16c"))
            return dwconv(xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_25p16c__neonv8_mla8_ld64, 25, H, W, C, kh, kw);
    }
    if (argc >= 5 && !strcmp(argv[1], "xnn_gemm_2x8c8_mlal"))
        return gemm(xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_2x8c8__asm_aarch64_neon_mlal_prfm, 2, 8, 8, atoi(argv[2]),
                    atoi(argv[3]), atoi(argv[4]));
    if (argc >= 5 && !strcmp(argv[1], "xnn_gemm_4x16c4_dot"))
        return gemm(xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_4x16c4__asm_aarch64_neondot_ld128, 4, 16, 4, atoi(argv[2]),
                    atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "unknown call %s\n", argv[1]);
    return 2;
}
