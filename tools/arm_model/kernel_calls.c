/* One call of one mlrc kernel at a given shape, between two marker functions, for tools/arm_model/cycle_model.py:
 * it runs this program under qemu, keeps the instructions executed between the markers and schedules them on
 * llvm-mca's pipeline models. Operands hold pseudo-random values; timing does not depend on them.
 *   kernel_calls gemm VARIANT M N K          (VARIANT: a row name of the int8 GEMM table, e.g. q8_gemm_2x8c4_neon)
 *   kernel_calls dwconv VARIANT H W C KH KW [S PT PL PB PR ROWS]   (a row of the int8 depthwise table; stride 1
 *                                             and "same" padding unless given; ROWS: output rows run, 0 all)
 *   kernel_calls f32dwconv VARIANT ...        (the same for a row of the fp32 depthwise table)
 *   kernel_calls f32gemm VARIANT M N K        (a row of the fp32 GEMM table)
 */
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

/* fp32 GEMM (a pointwise fp32 convolution), through the row's own entry point on one thread. */
static int f32gemm(const char *name, int M, int N, int K) {
    int v = -1;
    for (int i = 0; i < mlrc_f32_gemm_variant_count; i++)
        if (!strcmp(mlrc_f32_gemm_variants[i].name, name)) v = i;
    if (v < 0) return fprintf(stderr, "no fp32 GEMM row %s\n", name), 2;
    float *A = aligned_alloc(64, (size_t)M * K * 4 + 64), *B = aligned_alloc(64, (size_t)K * N * 4 + 64);
    float *bias = aligned_alloc(64, (size_t)N * 4 + 64), *C = aligned_alloc(64, (size_t)M * N * 4 + 64);
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(next() % 100) * 0.01f;
    for (size_t i = 0; i < (size_t)K * N; i++) B[i] = (float)(next() % 100) * 0.01f - 0.5f;
    for (int n = 0; n < N; n++) bias[n] = 0.1f;
    mlrc_f32_gemm_variants[v].run(M, N, K, A, K, B, N, bias, C, N, 0, 1);
    mlrc_model_begin();
    mlrc_f32_gemm_variants[v].run(M, N, K, A, K, B, N, bias, C, N, 0, 1);
    mlrc_model_end();
    printf("%g\n", C[M * N / 2]);
    return 0;
}

static int find_dwconv(const char *name) {
    for (int i = 0; i < mlrc_q8_dwconv_variant_count; i++)
        if (!strcmp(mlrc_q8_dwconv_variants[i].name, name)) return i;
    return -1;
}

/* A depthwise layer on an H x W x C map (stride s, padding pt/pl/pb/pr; "same" at stride 1 when not given), its
 * output rows [0, rows) (0: all). */
static int dwconv(int f32, const char *name, int H, int W, int C, int kh, int kw, int s, int pt, int pl, int pb, int pr,
                  int rows) {
    const int OH = (H + pt + pb - kh) / s + 1, OW = (W + pl + pr - kw) / s + 1;
    const mlrc_conv_geometry g = {H, W, C, OH, OW, C, kh, kw, s, s, pt, pl, C};
    const int R = rows > 0 && rows < OH ? rows : OH;
    int8_t *w = filled((size_t)kh * kw * C);
    for (size_t i = 0; i < (size_t)kh * kw * C; i++) w[i] = (int8_t)(w[i] % 128);
    int32_t *bias = filled((size_t)C * 4);
    float *scale = aligned_alloc(64, (size_t)C * 4 + 64), *fw = aligned_alloc(64, (size_t)kh * kw * C * 4 + 64);
    for (int c = 0; c < C; c++) bias[c] %= 4096, scale[c] = 1e-3f;
    for (size_t i = 0; i < (size_t)kh * kw * C; i++) fw[i] = 0.01f * (float)w[i];
    const uint8_t *x = filled((size_t)H * W * C);
    float *fx = aligned_alloc(64, (size_t)H * W * C * 4 + 64), *fy = aligned_alloc(64, (size_t)OH * OW * C * 4 + 64);
    for (size_t i = 0; i < (size_t)H * W * C; i++) fx[i] = 0.01f * (float)x[i];
    uint8_t *y = aligned_alloc(64, (size_t)OH * OW * C + 64);
    if (f32) {
        int v = -1;
        for (int i = 0; i < mlrc_f32_dwconv_variant_count; i++)
            if (!strcmp(mlrc_f32_dwconv_variants[i].name, name)) v = i;
        if (v < 0) return fprintf(stderr, "no fp32 depthwise row %s\n", name), 2;
        const mlrc_f32_dwconv_variant *row = &mlrc_f32_dwconv_variants[v];
        const int32_t units = row->unit_channels ? (C + row->unit_channels - 1) / row->unit_channels : 1;
        row->run(&g, fx, fw, (const float *)scale, fy, 0, 0, R, 0, units);
        mlrc_model_begin();
        row->run(&g, fx, fw, (const float *)scale, fy, 0, 0, R, 0, units);
        mlrc_model_end();
        printf("%g\n", fy[0]);
        return 0;
    }
    const int v = find_dwconv(name);
    if (v < 0) return fprintf(stderr, "no int8 depthwise row %s\n", name), 2;
    const mlrc_q8_dwconv_variant *row = &mlrc_q8_dwconv_variants[v];
    const mlrc_q8_output out = {MLRC_Q8_OUT_U8, 3, 0, 255, 0, NULL};
    void *scratch = row->scratch_bytes ? aligned_alloc(64, (row->scratch_bytes(&g) + 127) & ~(size_t)63) : NULL;
    const int32_t units = row->unit_channels ? (C + row->unit_channels - 1) / row->unit_channels : 1;
    row->run(&g, x, 7, w, bias, scale, &out, y, 0, R, 0, units, scratch); /* warm */
    mlrc_model_begin();
    row->run(&g, x, 7, w, bias, scale, &out, y, 0, R, 0, units, scratch);
    mlrc_model_end();
    printf("%d\n", y[0]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && !strcmp(argv[1], "f32gemm")) return f32gemm(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc >= 8 && (!strcmp(argv[1], "dwconv") || !strcmp(argv[1], "f32dwconv"))) {
        const int kh = atoi(argv[6]), kw = atoi(argv[7]);
        const int s = argc >= 14 ? atoi(argv[8]) : 1, pt = argc >= 14 ? atoi(argv[9]) : kh / 2;
        const int pl = argc >= 14 ? atoi(argv[10]) : kw / 2, pb = argc >= 14 ? atoi(argv[11]) : kh / 2;
        const int pr = argc >= 14 ? atoi(argv[12]) : kw / 2, rows = argc >= 14 ? atoi(argv[13]) : 0;
        return dwconv(argv[1][0] == 'f', argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), kh, kw, s, pt, pl, pb,
                      pr, rows);
    }
    if (argc >= 6 && !strcmp(argv[1], "gemm")) return gemm(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
#if defined(EXTRA_CALLS)
    if (argc >= 2 && !strncmp(argv[1], "xnn", 3)) return extra_call(argc, argv);
#endif
    fprintf(
        stderr,
        "usage: kernel_calls gemm|f32gemm VARIANT M N K | dwconv|f32dwconv VARIANT H W C KH KW [S PT PL PB PR ROWS]\n");
    return 2;
}
