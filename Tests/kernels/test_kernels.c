/* Kernel tests in plain C, no Swift: every row of every kernel table (mlrc_ukernels.h) that this CPU can run,
 * against its reference, over odd shapes, strides, paddings, groups and every activation; the rows it cannot run
 * are listed as skipped with the features they lack.
 * Built natively by `make test` and cross-compiled for AArch64 by `make check-aarch64`, which runs it
 * under qemu-aarch64. Prints "N passed, M failed". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

int passed, failed;
static unsigned long long seed = 12345;

static float rnd(void) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((long)((seed >> 33) % 2001) - 1000) / 1000.0f;
}

static float *randoms(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = rnd();
    return p;
}

/* max |a - b| / max(1, |a|) */
static float compare(const float *ref, const float *opt, size_t n) {
    float worst = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(ref[i] - opt[i]) / fmaxf(1.0f, fabsf(ref[i]));
        if (!(d <= worst)) worst = d; /* NaN counts as worst */
    }
    return worst;
}

static void check(float err, const char *what) {
    if (err < 2e-5f) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s: error %g\n", what, err);
    }
}

static void test_gemm(void) {
    const int shapes[][3] = {{1, 1, 1},    {1, 1000, 64}, {7, 17, 3},    {13, 33, 57}, {49, 24, 160}, {6, 16, 8},
                             {100, 7, 31}, {9, 8, 5},     {17, 300, 12}, {200, 44, 9}, {13, 33, 600}, {50, 24, 1030}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int act = 0; act < MLRC_ACT_COUNT; act++)
            for (int threads = 1; threads <= 2; threads++) {
                const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                float *A = randoms((size_t)M * K), *B = randoms((size_t)K * N), *bias = randoms((size_t)N);
                float *ref = calloc((size_t)M * N, 4), *opt = calloc((size_t)M * N, 4);
                mlrc_f32_gemm_ref(M, N, K, A, K, B, N, act % 2 ? bias : NULL, ref, N, act, threads);
                for (int32_t r = 0; r < mlrc_f32_gemm_variant_count; r++) {
                    if (!row_runs(mlrc_f32_gemm_variants[r].requires)) continue;
                    memset(opt, 0, (size_t)M * N * 4);
                    mlrc_f32_gemm_variants[r].run(M, N, K, A, K, B, N, act % 2 ? bias : NULL, opt, N, act, threads);
                    char what[128];
                    snprintf(what, sizeof what, "%s %dx%dx%d act %d threads %d", mlrc_f32_gemm_variants[r].name, M, N,
                             K, act, threads);
                    check(compare(ref, opt, (size_t)M * N), what);
                }
                free(A), free(B), free(bias), free(ref), free(opt);
            }
}

static void test_dwconv(void) {
    /* h, w, c, kh, kw, stride, pad top/left/bottom/right */
    const int shapes[][10] = {
        {1, 1, 1, 1, 1, 1, 0, 0, 0, 0},    {7, 9, 17, 3, 3, 1, 1, 1, 1, 1},   {57, 57, 33, 7, 7, 1, 3, 3, 3, 3},
        {14, 14, 3, 3, 1, 1, 1, 0, 1, 0},  {14, 14, 33, 1, 3, 1, 0, 1, 0, 1}, {15, 16, 7, 3, 3, 2, 0, 0, 1, 1},
        {28, 28, 24, 5, 5, 2, 1, 1, 2, 2}, {3, 3, 8, 3, 3, 1, 1, 1, 1, 1},    {17, 5, 12, 7, 1, 1, 3, 0, 3, 0},
        {33, 33, 1, 3, 3, 2, 1, 1, 1, 1},  {7, 7, 200, 5, 5, 1, 2, 2, 2, 2},  {9, 11, 130, 3, 3, 2, 1, 1, 1, 1},
        {12, 12, 64, 3, 1, 1, 1, 0, 1, 0}, {8, 10, 16, 5, 5, 2, 2, 2, 2, 2},  {2, 2, 9, 3, 3, 1, 1, 1, 1, 1},
        {7, 6, 24, 5, 5, 1, 2, 2, 2, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int act = 0; act < MLRC_ACT_COUNT; act++) {
            const int *v = shapes[s];
            mlrc_conv_geometry g = geometry(v[0], v[1], v[2], v[2], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
            const size_t out = (size_t)g.out_h * g.out_w * g.out_c;
            float *x = randoms((size_t)v[0] * v[1] * v[2]), *wt = randoms((size_t)v[3] * v[4] * v[2]),
                  *bias = randoms((size_t)v[2]);
            float *ref = calloc(out, 4), *opt = calloc(out, 4);
            mlrc_f32_dwconv_ref(&g, x, wt, act % 2 ? bias : NULL, ref, act, 0, g.out_h, 0, 1);
            for (int32_t r = 0; r < mlrc_f32_dwconv_variant_count; r++) { /* every row, through the operator */
                const mlrc_f32_dwconv_variant *vr = &mlrc_f32_dwconv_variants[r];
                if (!row_runs(vr->requires) || (vr->suits && !vr->suits(&g, mlrc_cpu_detected()))) continue;
                const mlrc_kernel_plan plan = {MLRC_OP_F32_DWCONV, 0, r, -1, -1, 2, 0};
                memset(opt, 0, out * 4);
                mlrc_f32_dwconv_run(&plan, &g, x, wt, act % 2 ? bias : NULL, opt, act, 2);
                char what[128];
                snprintf(what, sizeof what, "%s %dx%dx%d k%dx%d s%d act %d", vr->name, v[0], v[1], v[2], v[3], v[4],
                         v[5], act);
                check(compare(ref, opt, out), what);
            }
            free(x), free(wt), free(bias), free(ref), free(opt);
        }
}

/* Conv shape s of test_support.h with random input, weights and bias. */
typedef struct conv_case {
    mlrc_conv_geometry g;
    int act;
    size_t out;
    float *x, *wt, *bias, *scratch;
} conv_case;

static conv_case conv_case_make(size_t s) {
    const int *v = conv_shapes[s];
    conv_case c;
    c.g = geometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]);
    c.act = (int)(s % MLRC_ACT_COUNT);
    c.out = (size_t)c.g.out_h * c.g.out_w * c.g.out_c;
    c.x = randoms((size_t)v[0] * v[1] * v[2]);
    c.wt = randoms((size_t)v[5] * v[6] * (v[2] / v[4]) * v[3]);
    c.bias = randoms((size_t)v[3]);
    c.scratch = calloc(mlrc_f32_conv_scratch_floats(&c.g) + 1, 4);
    return c;
}

static void conv_case_free(conv_case *c) { free(c->x), free(c->wt), free(c->bias), free(c->scratch); }

static void test_conv(void) {
    for (size_t s = 0; s < CONV_SHAPES; s++) {
        const int *v = conv_shapes[s];
        conv_case cc = conv_case_make(s);
        const int act = cc.act;
        float *ref = calloc(cc.out, 4), *opt = calloc(cc.out, 4);
        const int isa = mlrc_kernels_active_isa();
        mlrc_kernels_set_isa(MLRC_ISA_REFERENCE);
        mlrc_kernel_plan plan;
        mlrc_f32_conv_plan(&cc.g, 0, 2, &plan);
        mlrc_f32_conv_run(&plan, &cc.g, cc.x, cc.wt, cc.bias, ref, cc.scratch, act, 2);
        mlrc_kernels_set_isa(isa);
        /* every GEMM row under the plan's arrangement (pointwise or im2col), then every direct row */
        for (int32_t r = 0; r < mlrc_f32_gemm_variant_count; r++) {
            if (!row_runs(mlrc_f32_gemm_variants[r].requires)) continue;
            mlrc_kernel_plan p = plan;
            p.gemm = r;
            memset(opt, 0, cc.out * 4);
            mlrc_f32_conv_run(&p, &cc.g, cc.x, cc.wt, cc.bias, opt, cc.scratch, act, 2);
            char what[160];
            snprintf(what, sizeof what, "conv (%s) %dx%dx%d->%d g%d k%dx%d s%d act %d", mlrc_f32_gemm_variants[r].name,
                     v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], act);
            check(compare(ref, opt, cc.out), what);
        }
        for (int32_t r = 0; r < mlrc_f32_conv_variant_count; r++) {
            const mlrc_f32_conv_variant *vr = &mlrc_f32_conv_variants[r];
            if (!row_runs(vr->requires) || !vr->suits(&cc.g, mlrc_cpu_detected())) continue;
            memset(opt, 0, cc.out * 4);
            const mlrc_kernel_plan p = {MLRC_OP_F32_CONV, MLRC_CONV_DIRECT, r, -1, -1, 2, 0};
            mlrc_f32_conv_run(&p, &cc.g, cc.x, cc.wt, cc.bias, opt, NULL, act, 2);
            char what[160];
            snprintf(what, sizeof what, "%s %dx%dx%d->%d g%d k%dx%d s%d act %d", vr->name, v[0], v[1], v[2], v[3], v[4],
                     v[5], v[6], v[7], act);
            check(compare(ref, opt, cc.out), what);
        }
        free(ref), free(opt), conv_case_free(&cc);
    }
}

/* The fused float-to-uint8 kernels against the two passes they replace: the same bytes exactly (and the same
 * floats where the fused add stores them). */
static void check_bytes(const uint8_t *want, const uint8_t *got, size_t n, const char *what) {
    if (memcmp(want, got, n) == 0) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s: bytes differ\n", what);
    }
}

static float quant_inv_scale(const float *x, size_t n) {
    float m = 1e-6f;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(x[i]));
    return 100.0f / m; /* zero point 120: the negative tail clamps at 0 */
}

static void test_fused_quantize(void) {
    for (size_t s = 0; s < CONV_SHAPES; s++) {
        const int *v = conv_shapes[s];
        conv_case cc = conv_case_make(s);
        mlrc_conv_geometry g = cc.g;
        const int act = cc.act;
        const size_t out = cc.out;
        float *y = calloc(out, 4), *y2 = randoms(out);
        uint8_t *want = malloc(out + 1), *got = malloc(out + 1);
        mlrc_f32_conv(&g, cc.x, cc.wt, cc.bias, y, cc.scratch, act, 2);
        const float inv = quant_inv_scale(y, out);
        mlrc_q8_quantize(out, y, inv, 120, want, 2);
        memset(got, 0xAB, out);
        mlrc_f32_conv_quantize(&g, cc.x, cc.wt, cc.bias, y2, cc.scratch, act, inv, 120, got, 2);
        char what[160];
        snprintf(what, sizeof what, "conv+quantize %dx%dx%d->%d g%d k%dx%d s%d act %d", v[0], v[1], v[2], v[3], v[4],
                 v[5], v[6], v[7], act);
        check_bytes(want, got, out, what);
        for (int32_t r = 0; r < mlrc_f32_conv_variant_count; r++) { /* each row that quantizes in place */
            const mlrc_f32_conv_variant *vr = &mlrc_f32_conv_variants[r];
            if (!row_runs(vr->requires) || !vr->suits_quantize || !vr->suits_quantize(&g, mlrc_cpu_detected()))
                continue;
            memset(got, 0xAB, out);
            const mlrc_kernel_plan p = {MLRC_OP_F32_CONV, MLRC_CONV_DIRECT, r, -1, -1, 2, 0};
            mlrc_f32_conv_quantize_run(&p, &g, cc.x, cc.wt, cc.bias, NULL, NULL, act, inv, 120, got, 2);
            snprintf(what, sizeof what, "%s+quantize %dx%dx%d->%d g%d k%dx%d s%d act %d", vr->name, v[0], v[1], v[2],
                     v[3], v[4], v[5], v[6], v[7], act);
            check_bytes(want, got, out, what);
        }
        free(y), free(y2), free(want), free(got), conv_case_free(&cc);
    }
    const size_t counts[] = {1, 17, 1024, 1025, 5000, 9408};
    for (size_t s = 0; s < sizeof counts / sizeof counts[0]; s++)
        for (int act = 0; act < MLRC_ACT_COUNT; act++)
            for (int store = 0; store <= 1; store++) {
                const size_t n = counts[s];
                float *a = randoms(n), *b = randoms(n), *sum = malloc(n * 4), *sum2 = malloc(n * 4);
                uint8_t *want = malloc(n), *got = malloc(n);
                mlrc_f32_add(n, a, b, sum, act, 2);
                const float inv = quant_inv_scale(sum, n);
                mlrc_q8_quantize(n, sum, inv, 120, want, 2);
                mlrc_f32_add_quantize(n, a, b, store ? sum2 : NULL, act, inv, 120, got, 2);
                char what[128];
                snprintf(what, sizeof what, "add+quantize %zu act %d store %d", n, act, store);
                check_bytes(want, got, n, what);
                if (store) check_bytes((const uint8_t *)sum, (const uint8_t *)sum2, n * 4, what);
                free(a), free(b), free(sum), free(sum2), free(want), free(got);
            }
}

static void test_nchw_to_nhwc(void) {
    const int shapes[][2] = {{3, 1}, {3, 50176}, {3, 300}, {1, 7}, {5, 513}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int C = shapes[s][0];
        const size_t P = (size_t)shapes[s][1];
        float *src = randoms(C * P), *dst = malloc(C * P * 4), *want = malloc(C * P * 4);
        for (int c = 0; c < C; c++)
            for (size_t p = 0; p < P; p++) want[p * C + c] = src[c * P + p];
        mlrc_f32_nchw_to_nhwc(C, P, src, dst, 2);
        char what[64];
        snprintf(what, sizeof what, "nchw_to_nhwc %d x %zu", C, P);
        check_bytes((const uint8_t *)want, (const uint8_t *)dst, C * P * 4, what);
        free(src), free(dst), free(want);
    }
}

/* Channel split, shuffle and the squeeze-and-excitation multiply against plain loops, bit for bit; the multiply that
 * quantizes its output with every quantize row this CPU runs against the multiply then the reference quantize. */
static void test_channel_ops(void) {
    const int shapes[][3] = {{1, 1, 1}, {7, 2, 2}, {49, 116, 2}, {3136, 24, 2}, {33, 48, 3}, {5, 1030, 2}, {19, 12, 4}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int P = shapes[s][0], C = shapes[s][1], G = shapes[s][2];
        const size_t n = (size_t)P * C;
        float *x = randoms(n), *gate = randoms(C), *got = malloc(n * 4), *want = malloc(n * 4);
        char what[96];
        const int off = C / 3, cnt = C - off;
        for (int p = 0; p < P; p++)
            for (int c = 0; c < cnt; c++) want[(size_t)p * cnt + c] = x[(size_t)p * C + off + c];
        mlrc_f32_slice_channels(P, x, C, off, cnt, got, 2);
        snprintf(what, sizeof what, "slice_channels %d x %d [%d, %d)", P, C, off, C);
        check_bytes((const uint8_t *)want, (const uint8_t *)got, (size_t)P * cnt * 4, what);
        const int per = C / G;
        for (int p = 0; p < P; p++)
            for (int g = 0; g < G; g++)
                for (int i = 0; i < per; i++) want[(size_t)p * C + i * G + g] = x[(size_t)p * C + g * per + i];
        mlrc_f32_channel_shuffle(P, C, G, x, got, 2);
        snprintf(what, sizeof what, "channel_shuffle %d x %d groups %d", P, C, G);
        check_bytes((const uint8_t *)want, (const uint8_t *)got, n * 4, what);
        for (size_t i = 0; i < n; i++) want[i] = x[i] * gate[i % C];
        mlrc_f32_channel_scale(P, C, x, gate, got, 2);
        snprintf(what, sizeof what, "channel_scale %d x %d", P, C);
        check_bytes((const uint8_t *)want, (const uint8_t *)got, n * 4, what);
        const float inv = quant_inv_scale(want, n);
        uint8_t *qwant = malloc(n), *qgot = malloc(n);
        mlrc_q8_quantize(n, want, inv, 37, qwant, 1);
        for (int32_t r = 0; r < mlrc_q8_quantize_variant_count; r++) {
            if (!row_runs(mlrc_q8_quantize_variants[r].requires)) continue;
            const mlrc_kernel_plan plan = {MLRC_OP_Q8_QUANTIZE, 0, r, -1, -1, 2, 0};
            memset(qgot, 0xAB, n);
            mlrc_f32_channel_scale_quantize_run(&plan, P, C, x, gate, inv, 37, qgot, 2);
            snprintf(what, sizeof what, "channel_scale+%s %d x %d", mlrc_q8_quantize_variants[r].name, P, C);
            check_bytes(qwant, qgot, n, what);
        }
        free(x), free(gate), free(got), free(want), free(qwant), free(qgot);
    }
}

/* Every LayerNorm row against the reference bit for bit (fp32 and quantized), and the reference against a
 * double-precision two-pass LayerNorm. */
static void test_layernorm(void) {
    const int channels[] = {1, 3, 7, 8, 9, 16, 40, 80, 96, 160, 257, 320, 768};
    for (size_t s = 0; s < sizeof channels / sizeof channels[0]; s++) {
        const int C = channels[s], P = 37;
        float *x = randoms((size_t)P * C), *gamma = randoms((size_t)C), *beta = randoms((size_t)C);
        for (int i = 0; i < P * C; i++) x[i] = x[i] * 3.0f + (float)(i % C) * 0.01f; /* a mean off zero */
        float *ref = malloc(sizeof(float) * P * C), *opt = malloc(sizeof(float) * P * C);
        uint8_t *qref = malloc((size_t)P * C), *qopt = malloc((size_t)P * C);
        for (int affine = 0; affine < 2; affine++) {
            const float *g = affine ? gamma : NULL, *b = affine ? beta : NULL;
            mlrc_f32_layernorm_rows_ref(0, P, C, x, g, b, 1e-6f, ref);
            float worst = 0;
            for (int p = 0; p < P; p++) {
                double mean = 0, var = 0;
                for (int c = 0; c < C; c++) mean += x[p * C + c];
                mean /= C;
                for (int c = 0; c < C; c++) var += (x[p * C + c] - mean) * (x[p * C + c] - mean);
                const double r = 1.0 / sqrt(var / C + 1e-6);
                for (int c = 0; c < C; c++) {
                    const double want = (x[p * C + c] - mean) * r * (g ? g[c] : 1.0) + (b ? b[c] : 0.0);
                    const float d = (float)fabs(want - ref[p * C + c]) / fmaxf(1.0f, (float)fabs(want));
                    if (!(d <= worst)) worst = d;
                }
            }
            char what[96];
            snprintf(what, sizeof what, "layernorm_ref vs double, %d channels%s", C, affine ? ", affine" : "");
            check(worst, what);
            mlrc_q8_layernorm_rows_ref(0, P, C, x, g, b, 1e-6f, 40.0f, 128, qref);
            for (int32_t r = 0; r < mlrc_layernorm_variant_count; r++) {
                const mlrc_layernorm_variant *v = &mlrc_layernorm_variants[r];
                if (!row_runs(v->requires)) continue;
                memset(opt, 0, sizeof(float) * P * C);
                memset(qopt, 0, (size_t)P * C);
                v->f32(0, P, C, x, g, b, 1e-6f, opt);
                v->q8(0, P, C, x, g, b, 1e-6f, 40.0f, 128, qopt);
                snprintf(what, sizeof what, "%s fp32, %d channels%s", v->name, C, affine ? ", affine" : "");
                check_bytes((const uint8_t *)ref, (const uint8_t *)opt, sizeof(float) * P * C, what);
                snprintf(what, sizeof what, "%s quantized, %d channels%s", v->name, C, affine ? ", affine" : "");
                check_bytes(qref, qopt, (size_t)P * C, what);
            }
        }
        free(x), free(gamma), free(beta), free(ref), free(opt), free(qref), free(qopt);
    }
    /* the operator entry points thread over pixels: the same bytes at 1 and 2 threads */
    const int P = 301, C = 40;
    float *x = randoms((size_t)P * C), *a = malloc(sizeof(float) * P * C), *b = malloc(sizeof(float) * P * C);
    mlrc_f32_layernorm(P, C, x, NULL, NULL, 1e-6f, a, 1);
    mlrc_f32_layernorm(P, C, x, NULL, NULL, 1e-6f, b, 2);
    check_bytes((const uint8_t *)a, (const uint8_t *)b, sizeof(float) * P * C, "layernorm 1 vs 2 threads");
    free(x), free(a), free(b);
}

/* Every row of every table: run here, or skipped with the features the CPU lacks. */
static void list_variants(void) {
    char have[256], lacks[256];
    printf("kernel tests: CPU features %s\n", mlrc_cpu_feature_names(mlrc_cpu_detected(), have, sizeof have));
    for (int32_t op = 0; op < MLRC_OP_COUNT; op++)
        for (int32_t r = 0; r < mlrc_op_variant_count(op); r++) {
            const uint32_t missing = mlrc_variant_missing(mlrc_op_variant_requires(op, r), mlrc_cpu_detected());
            if (missing)
                printf("  %s: skipped (CPU lacks %s)\n", mlrc_op_variant_name(op, r),
                       mlrc_cpu_feature_names(missing, lacks, sizeof lacks));
            else
                printf("  %s: run\n", mlrc_op_variant_name(op, r));
        }
}

int main(void) {
    list_variants();
    test_gemm();
    test_dwconv();
    test_conv();
    test_fused_quantize();
    test_nchw_to_nhwc();
    test_layernorm();
    test_channel_ops();
    test_q8_kernels();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
