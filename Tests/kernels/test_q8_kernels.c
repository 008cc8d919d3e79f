/* int8 kernel tests: every optimized int8 kernel (on a CPU with VNNI or dotprod, both the dot-product kernels
 * and the plain SIMD ones) against its reference, bit for bit (uint8 outputs, and float
 * outputs whose activation is exact), over odd channel counts (1, 3, 7, 17, 33, ...), maps from 1x1 to 57x57,
 * strides 1 and 2 and every padding case; the reference GEMM against a plain triple loop on unpacked weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlrc_kernels.h"
#include "test_support.h"

static unsigned long long state = 987654321;

static uint32_t next(void) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(state >> 33);
}

static uint8_t *bytes_u8(size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)next();
    return p;
}

/* Full-range int8 weights, -128 included: the kernels must not rely on a reduced range. */
/* int8 weights as the format stores them: [-127, 127] (the ARM kernels sum two 8-bit products in int16). */
static int8_t *bytes_s8(size_t n) {
    int8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) p[i] = (int8_t)((int32_t)(next() % 255) - 127);
    return p;
}

/* The same weights kept inside the pair bound of the rows that sum pairs in int16 (quantize's 7-bit form: each
 * halved, so |w| <= 64); extremes: a same-signed +-64 pair at every k = 2j, 2j + 1 of each [K][N] column, what
 * 255-valued activations turn into the largest pair sums allowed (+-32640). */
static int8_t *pair_bounded(const int8_t *w, int32_t K, int32_t N, int extremes) {
    int8_t *p = malloc((size_t)K * N ? (size_t)K * N : 1);
    for (int32_t k = 0; k < K; k++)
        for (int32_t n = 0; n < N; n++) {
            const size_t i = (size_t)k * N + n;
            p[i] = extremes ? (int8_t)((k / 2 + n) % 2 ? -64 : 64) : (int8_t)(w[i] / 2);
        }
    return p;
}

static int32_t *ints(size_t n, int32_t range) {
    int32_t *p = malloc((n ? n : 1) * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) p[i] = (int32_t)(next() % (2 * range + 1)) - range;
    return p;
}

/* Per-channel scales that spread the outputs over the uint8 range (and past it, to exercise the clamp). */
static float *scales(size_t n, int32_t k) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (0.5f + (float)(next() % 1000) / 1000.0f) / (40.0f * sqrtf((float)k) + 1.0f);
    return p;
}

static void expect(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s\n", what);
    }
}

static int same_floats(const float *a, const float *b, size_t n, float tol) {
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= tol * fmaxf(1.0f, fabsf(a[i])))) return 0;
    return 1;
}

/* The output stages a test runs: u8 plain, u8 with ReLU6-like clamp, u8 through a table, f32 with each act. */
typedef struct stage_case {
    mlrc_q8_output out;
    const char *name;
} stage_case;

static uint8_t gelu_lut[256];

static int stage_cases(stage_case *cases) {
    mlrc_q8_make_lut(MLRC_ACT_GELU, 0.05f, 131, 0.04f, 20, gelu_lut);
    int n = 0;
    cases[n++] = (stage_case){{MLRC_Q8_OUT_U8, 128, 0, 255, 0, NULL}, "u8"};
    cases[n++] = (stage_case){{MLRC_Q8_OUT_U8, 3, 3, 200, 0, NULL}, "u8 clamp"};
    cases[n++] = (stage_case){{MLRC_Q8_OUT_U8, 131, 0, 255, 0, gelu_lut}, "u8 lut"};
    for (int act = 0; act < MLRC_ACT_COUNT; act++)
        cases[n++] = (stage_case){{MLRC_Q8_OUT_F32, 0, 0, 0, act, NULL}, "f32"};
    return n;
}

/* Compares two outputs of a stage: exact for uint8 and for float stages whose activation is exact. */
static int same_output(const mlrc_q8_output *out, const void *a, const void *b, size_t n) {
    if (out->kind == MLRC_Q8_OUT_U8) return memcmp(a, b, n) == 0;
    const int exact = out->act == MLRC_ACT_NONE || out->act == MLRC_ACT_RELU || out->act == MLRC_ACT_RELU6;
    return same_floats(a, b, n, exact ? 0.0f : 2e-5f);
}

static void test_gemm(void) {
    const int shapes[][3] = {{1, 1, 1},
                             {1, 1000, 64},
                             {7, 17, 3},
                             {13, 33, 57},
                             {49, 24, 160},
                             {6, 8, 4},
                             {100, 7, 31},
                             {9, 8, 5},
                             {17, 3, 12},
                             {200, 44, 9},
                             {13, 33, 600},
                             {57, 1, 33},
                             {50, 20, 36},
                             {13, 40, 100},
                             {31, 56, 17},
                             /* narrow K (16, 24, 32, 40) with enough rows for the register-weight pass */
                             {100, 96, 16},
                             {61, 40, 24},
                             {77, 16, 32},
                             {50, 88, 40},
                             {55, 8, 16}};
    stage_case cases[16];
    const int ncases = stage_cases(cases);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        uint8_t *A = bytes_u8((size_t)M * K);
        int8_t *W = bytes_s8((size_t)K * N), *P = malloc(mlrc_q8_packed_bytes(N, K));
        int32_t *bias = ints((size_t)N, 3000);
        float *scale = scales((size_t)N, K);
        const int32_t zero = (int32_t)(next() % 256);
        if (s % 5 == 4) { /* the extremes: |a - 128| = 128 against |w| = 127 in every pair the int16 sums see */
            for (size_t i = 0; i < (size_t)K * N; i++) W[i] = i % 3 ? -127 : 127;
            memset(A, 0, (size_t)M * K);
        }
        mlrc_q8_pack_weights(N, K, W, P);
        /* the rows with a pair limit run on weights inside it, with 255-valued activations in the extreme case */
        int8_t *W7 = pair_bounded(W, K, N, s % 5 == 3), *P7 = malloc(mlrc_q8_packed_bytes(N, K));
        mlrc_q8_pack_weights(N, K, W7, P7);
        uint8_t *A7 = malloc((size_t)M * K ? (size_t)M * K : 1);
        memcpy(A7, A, (size_t)M * K);
        if (s % 5 == 3) memset(A7, 255, (size_t)M * K);
        expect(mlrc_q8_weight_pair_peak(N, K, P7) <= MLRC_Q8_MADDUBS_PAIR_LIMIT, "halved weights are pair-bounded");
        void *scratch = aligned_alloc(64, (mlrc_q8_gemm_scratch_bytes(K, 2) + 63) / 64 * 64);
        /* The reference against a plain loop over the unpacked weights (checks the packing too). */
        {
            const mlrc_q8_output *out = &cases[0].out;
            uint8_t *ref = malloc((size_t)M * N), *naive = malloc((size_t)M * N);
            mlrc_q8_gemm_ref(M, N, K, A, K, zero, P, bias, scale, out, ref, N, 1);
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    int32_t acc = 0;
                    for (int k = 0; k < K; k++) acc += ((int32_t)A[(size_t)m * K + k] - zero) * W[(size_t)k * N + n];
                    naive[(size_t)m * N + n] = mlrc_q8_requantize_scalar(acc, bias[n], scale[n], out);
                }
            char what[128];
            snprintf(what, sizeof what, "q8 gemm reference vs naive %dx%dx%d", M, N, K);
            expect(memcmp(ref, naive, (size_t)M * N) == 0, what);
            /* the zero point folded into the bias, then zero 0: the same bytes */
            int32_t *folded = malloc((size_t)N * 4);
            mlrc_q8_fold_zero_point(N, K, P, bias, zero, folded);
            mlrc_q8_gemm(M, N, K, A, K, 0, P, folded, scale, out, naive, N, scratch, 2);
            snprintf(what, sizeof what, "q8 gemm with the zero point folded %dx%dx%d", M, N, K);
            expect(memcmp(ref, naive, (size_t)M * N) == 0, what);
            free(ref), free(naive), free(folded);
        }
        const uint8_t *A0 = A;
        const int8_t *P8 = P;
        for (int c = 0; c < ncases; c++)
            for (int threads = 1; threads <= 2; threads++) {
                const mlrc_q8_output *out = &cases[c].out;
                const size_t es = out->kind == MLRC_Q8_OUT_F32 ? 4 : 1, bytes = (size_t)M * N * es;
                void *ref8 = calloc(bytes, 1), *ref7 = calloc(bytes, 1), *opt = calloc(bytes, 1);
                mlrc_q8_gemm_ref(M, N, K, A, K, zero, P, c % 2 ? bias : NULL, scale, out, ref8, N, threads);
                mlrc_q8_gemm_ref(M, N, K, A7, K, zero, P7, c % 2 ? bias : NULL, scale, out, ref7, N, threads);
                for (int32_t r = 0; r < mlrc_q8_gemm_variant_count; r++) { /* every row, through the operator */
                    if (!row_runs(mlrc_q8_gemm_variants[r].requires)) continue;
                    const int bounded = mlrc_q8_gemm_variants[r].pair_limit > 0;
                    const uint8_t *A = bounded ? A7 : A0;
                    const int8_t *P = bounded ? P7 : P8;
                    const void *ref = bounded ? ref7 : ref8;
                    const mlrc_kernel_plan plan = {MLRC_OP_Q8_GEMM, 0, r, -1, -1, 2, 0};
                    memset(opt, 0, bytes);
                    const int status = mlrc_q8_gemm_run(&plan, M, N, K, A, K, zero, P, c % 2 ? bias : NULL, scale, out,
                                                        opt, N, scratch, threads);
                    char what[160];
                    snprintf(what, sizeof what, "%s %dx%dx%d %s act %d threads %d", mlrc_q8_gemm_variants[r].name, M, N,
                             K, cases[c].name, out->act, threads);
                    expect(status == MLRC_KERNEL_OK && same_output(out, ref, opt, (size_t)M * N), what);
                    /* as a session runs it: (zero - input_zero) folded into the bias, the row's input_zero passed */
                    const int32_t z0 = mlrc_q8_gemm_variants[r].input_zero;
                    int32_t *folded = malloc((size_t)N * 4);
                    mlrc_q8_fold_zero_point(N, K, P, c % 2 ? bias : NULL, zero - z0, folded);
                    memset(opt, 0, bytes);
                    mlrc_q8_gemm_run(&plan, M, N, K, A, K, z0, P, folded, scale, out, opt, N, scratch, threads);
                    snprintf(what, sizeof what, "%s %dx%dx%d %s folded to zero %d", mlrc_q8_gemm_variants[r].name, M, N,
                             K, cases[c].name, z0);
                    expect(same_output(out, ref, opt, (size_t)M * N), what);
                    free(folded);
                    if (mlrc_q8_gemm_variants[r].needs_scratch && c == 0 && threads == 1) /* no silent fallback */
                        expect(mlrc_q8_gemm_run(&plan, M, N, K, A, K, zero, P, NULL, scale, out, opt, N, NULL, 1) ==
                                   MLRC_KERNEL_ERR_SCRATCH,
                               "a GEMM that needs scratch refuses NULL");
                }
                free(ref8), free(ref7), free(opt);
            }
        free(A), free(W), free(P), free(A7), free(W7), free(P7), free(bias), free(scale), free(scratch);
    }
}

static void test_dwconv(void) {
    /* h, w, c, kh, kw, stride, pad top/left/bottom/right: 1..57 maps, 1/3/7/17/33..280 channels, strips, every padding */
    const int shapes[][10] = {
        {1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
        {7, 9, 17, 3, 3, 1, 1, 1, 1, 1},
        {57, 57, 33, 7, 7, 1, 3, 3, 3, 3},
        {14, 14, 3, 3, 1, 1, 1, 0, 1, 0},
        {14, 14, 33, 1, 3, 1, 0, 1, 0, 1},
        {15, 16, 7, 3, 3, 2, 0, 0, 1, 1},
        {28, 28, 24, 5, 5, 2, 1, 1, 2, 2},
        {3, 3, 48, 3, 3, 1, 1, 1, 1, 1},
        {17, 5, 12, 7, 1, 1, 3, 0, 3, 0},
        {33, 33, 1, 3, 3, 2, 1, 1, 1, 1},
        {57, 57, 17, 3, 3, 2, 1, 1, 1, 1},
        {7, 7, 64, 7, 7, 1, 3, 3, 3, 3},
        {1, 1, 33, 3, 3, 1, 1, 1, 1, 1},
        {9, 9, 16, 3, 3, 2, 1, 1, 0, 0},
        /* more than one 128-channel chunk, with a tail; 5x5 stride 2; 81 taps (> 64) */
        {10, 9, 280, 5, 5, 1, 2, 2, 2, 2},
        {11, 11, 144, 5, 5, 2, 1, 1, 2, 2},
        {6, 7, 40, 9, 9, 1, 4, 4, 4, 4},
        {5, 5, 130, 3, 3, 1, 0, 0, 0, 0},
        /* horizontal and vertical strips; wide 3x3 with a tail of 8; 4x4 stride 3 (even width, pairs end
                               * on the kernel's edge); 17x17 (past the tap-pair row buffer's limits) */
        {12, 30, 96, 1, 7, 1, 0, 3, 0, 3},
        {30, 12, 96, 7, 1, 1, 3, 0, 3, 0},
        {21, 9, 40, 5, 1, 2, 2, 0, 2, 0},
        {20, 61, 72, 3, 3, 1, 1, 1, 1, 1},
        {13, 14, 48, 4, 4, 3, 1, 2, 2, 1},
        {20, 20, 16, 17, 17, 1, 8, 8, 8, 8}};
    stage_case cases[16];
    const int ncases = stage_cases(cases);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int *v = shapes[s];
        mlrc_conv_geometry g = geometry(v[0], v[1], v[2], v[2], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
        const size_t n = (size_t)g.out_h * g.out_w * g.out_c;
        uint8_t *x = bytes_u8((size_t)v[0] * v[1] * v[2]);
        int8_t *w = bytes_s8((size_t)v[3] * v[4] * v[2]);
        int32_t *bias = ints((size_t)v[2], 2000);
        float *scale = scales((size_t)v[2], v[3] * v[4]);
        const int32_t zero = (int32_t)(next() % 256);
        if (s % 6 == 5) { /* the extremes the int16 tap pairs see: |x - 128| = 128 against |w| = 127 */
            memset(x, 0, (size_t)v[0] * v[1] * v[2]);
            for (size_t i = 0; i < (size_t)v[3] * v[4] * v[2]; i++) w[i] = i % 5 ? -127 : 127;
        }
        for (int c = 0; c < ncases; c++) {
            const mlrc_q8_output *out = &cases[c].out;
            const size_t es = out->kind == MLRC_Q8_OUT_F32 ? 4 : 1;
            void *ref = calloc(n * es, 1), *opt = calloc(n * es, 1);
            mlrc_q8_dwconv_ref(&g, x, zero, w, c % 2 ? bias : NULL, scale, out, ref, 0, g.out_h, 0, 1, NULL);
            for (int32_t r = 0; r < mlrc_q8_dwconv_variant_count; r++) { /* every row, through the operator */
                const mlrc_q8_dwconv_variant *vr = &mlrc_q8_dwconv_variants[r];
                if (!row_runs(vr->requires) || (vr->suits && !vr->suits(&g, mlrc_cpu_detected()))) continue;
                const size_t share = vr->scratch_bytes ? (vr->scratch_bytes(&g) + 63) / 64 * 64 : 0;
                const mlrc_kernel_plan plan = {MLRC_OP_Q8_DWCONV, 0, r, -1, -1, 2, 2 * share};
                void *scratch = share ? aligned_alloc(64, 2 * share) : NULL;
                memset(opt, 0, n * es);
                expect(mlrc_q8_dwconv_run(&plan, &g, x, zero, w, c % 2 ? bias : NULL, scale, out, opt, scratch, 2) ==
                           MLRC_KERNEL_OK,
                       vr->name);
                if (share && c == 0) /* no silent fallback without its scratch */
                    expect(mlrc_q8_dwconv_run(&plan, &g, x, zero, w, NULL, scale, out, opt, NULL, 1) ==
                               MLRC_KERNEL_ERR_SCRATCH,
                           "q8 dwconv without scratch");
                free(scratch);
                char what[160];
                snprintf(what, sizeof what, "%s %dx%dx%d k%dx%d s%d pad %d%d%d%d %s act %d", vr->name, v[0], v[1], v[2],
                         v[3], v[4], v[5], v[6], v[7], v[8], v[9], cases[c].name, out->act);
                expect(same_output(out, ref, opt, n), what);
            }
            free(ref), free(opt);
        }
        free(x), free(w), free(bias), free(scale);
    }
}

static void test_conv(void) {
    stage_case cases[16];
    const int ncases = stage_cases(cases);
    for (size_t s = 0; s < CONV_SHAPES; s++) {
        const int *v = conv_shapes[s];
        mlrc_conv_geometry g = geometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]);
        const int32_t ng = v[3] / v[4], kg = v[5] * v[6] * (v[2] / v[4]);
        const size_t n = (size_t)g.out_h * g.out_w * g.out_c, wbytes = mlrc_q8_packed_bytes(ng, kg);
        uint8_t *x = bytes_u8((size_t)v[0] * v[1] * v[2]);
        int8_t *w = bytes_s8((size_t)kg * ng), *packed = malloc(wbytes * v[4]);
        for (int grp = 0; grp < v[4]; grp++) mlrc_q8_pack_weights(ng, kg, w, packed + grp * wbytes);
        /* the rows with a pair limit: the same convolution on weights inside it */
        int8_t *w7 = pair_bounded(w, kg, ng, 0), *packed7 = malloc(wbytes * v[4]);
        for (int grp = 0; grp < v[4]; grp++) mlrc_q8_pack_weights(ng, kg, w7, packed7 + grp * wbytes);
        expect(mlrc_q8_conv_weight_pair_peak(&g, packed7) <= MLRC_Q8_MADDUBS_PAIR_LIMIT &&
                   mlrc_q8_conv_weight_pair_peak(&g, packed) == mlrc_q8_weight_pair_peak(ng, kg, packed),
               "conv weight pair peak");
        int32_t *bias = ints((size_t)v[3], 3000);
        float *scale = scales((size_t)v[3], kg);
        const int32_t zero = (int32_t)(next() % 256);
        void *scratch = aligned_alloc(64, (mlrc_q8_conv_scratch_bytes(&g, 2) + 63) / 64 * 64);
        const mlrc_q8_output *out = &cases[s % ncases].out;
        const size_t es = out->kind == MLRC_Q8_OUT_F32 ? 4 : 1;
        void *ref8 = calloc(n * es, 1), *ref7 = calloc(n * es, 1), *opt = calloc(n * es, 1);
        const int isa = mlrc_kernels_active_isa();
        mlrc_kernels_set_isa(MLRC_ISA_REFERENCE);
        mlrc_kernel_plan plan;
        mlrc_q8_conv_plan(&g, 2, &plan);
        mlrc_q8_conv_run(&plan, &g, x, zero, packed, bias, scale, out, ref8, scratch, 2);
        mlrc_q8_conv_run(&plan, &g, x, zero, packed7, bias, scale, out, ref7, scratch, 2);
        mlrc_kernels_set_isa(isa);
        for (int32_t r = 0; r < mlrc_q8_gemm_variant_count; r++) { /* the plan's arrangement with every GEMM row */
            if (!row_runs(mlrc_q8_gemm_variants[r].requires)) continue;
            const int bounded = mlrc_q8_gemm_variants[r].pair_limit > 0;
            const void *ref = bounded ? ref7 : ref8;
            mlrc_kernel_plan p = plan;
            p.gemm = r;
            memset(opt, 0, n * es);
            const int status =
                mlrc_q8_conv_run(&p, &g, x, zero, bounded ? packed7 : packed, bias, scale, out, opt, scratch, 2);
            char what[160];
            snprintf(what, sizeof what, "q8 conv (%s) %dx%dx%d->%d g%d k%dx%d s%d %s act %d",
                     mlrc_q8_gemm_variants[r].name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7],
                     cases[s % ncases].name, out->act);
            expect(status == MLRC_KERNEL_OK && same_output(out, ref, opt, n), what);
        }
        for (int32_t r = 0; r < mlrc_q8_conv_variant_count; r++) { /* the direct rows */
            const mlrc_q8_conv_variant *vr = &mlrc_q8_conv_variants[r];
            if (!row_runs(vr->requires) || !vr->suits(&g, mlrc_cpu_detected())) continue;
            memset(opt, 0, n * es);
            const mlrc_kernel_plan p = {MLRC_OP_Q8_CONV, MLRC_CONV_DIRECT, r, -1, -1, 2, vr->scratch_bytes(&g)};
            const void *ref = vr->pair_limit ? ref7 : ref8;
            mlrc_q8_conv_run(&p, &g, x, zero, vr->pair_limit ? packed7 : packed, bias, scale, out, opt, scratch, 2);
            char what[160];
            snprintf(what, sizeof what, "%s %dx%dx%d->%d g%d k%dx%d s%d %s act %d", vr->name, v[0], v[1], v[2], v[3],
                     v[4], v[5], v[6], v[7], cases[s % ncases].name, out->act);
            expect(same_output(out, ref, opt, n), what);
        }
        free(x), free(w), free(packed), free(w7), free(packed7), free(bias), free(scale), free(scratch), free(ref8),
            free(ref7), free(opt);
    }
}

/* The pair peak of known weights, and plans that take a pair-bounded row only for weights inside its limit. */
static void test_pair_bound(void) {
    const int8_t w[8] = {100, -90, 60, 70, -64, -64, 127, -127}; /* [K = 8][N = 1]: pairs (100, -90), (60, 70), ... */
    int8_t packed[64]; /* two quads of one panel */
    mlrc_q8_pack_weights(1, 8, w, packed);
    expect(mlrc_q8_weight_pair_peak(1, 8, packed) == 130, "pair peak of (60, 70) is 130");
    mlrc_q8_pack_weights(1, 4, (const int8_t[]){100, -90, -64, -64}, packed);
    expect(mlrc_q8_weight_pair_peak(1, 4, packed) == 128, "pair peak of (100, -90), (-64, -64) is 128");
    expect(mlrc_q8_weight_pair_peak(1, 4, NULL) == MLRC_Q8_PAIR_PEAK_UNKNOWN, "no weights: unknown peak");
    const int32_t peaks[] = {0, 128, 129, 200, MLRC_Q8_PAIR_PEAK_UNKNOWN};
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++) {
        mlrc_kernel_plan plan;
        mlrc_q8_gemm_plan_for(64, peaks[i], 1, &plan);
        const int32_t limit = mlrc_q8_gemm_variants[plan.variant].pair_limit;
        char what[96];
        snprintf(what, sizeof what, "plan for pair peak %d takes %s", peaks[i], mlrc_q8_gemm_variants[plan.variant].name);
        expect(!limit || peaks[i] <= limit, what);
        const mlrc_conv_geometry g = geometry(14, 14, 32, 32, 1, 3, 3, 1, 1, 1, 1, 1);
        mlrc_q8_conv_plan_for(&g, peaks[i], 1, &plan);
        const int32_t conv_limit = plan.arrangement == MLRC_CONV_DIRECT ? mlrc_q8_conv_variants[plan.variant].pair_limit
                                                                         : mlrc_q8_gemm_variants[plan.gemm].pair_limit;
        expect(!conv_limit || peaks[i] <= conv_limit, "conv plan for a pair peak");
    }
}

static void test_elementwise(void) {
    const size_t counts[] = {1, 15, 16, 17, 4095, 4096, 10007, 100003};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        const size_t n = counts[i];
        float *x = malloc(n * sizeof(float));
        for (size_t j = 0; j < n; j++) x[j] = ((float)(next() % 20001) - 10000.0f) / 1000.0f;
        x[0] = 1.5f; /* a tie: rounds half to even */
        uint8_t *ref = malloc(n), *opt = malloc(n);
        mlrc_q8_quantize_block_ref(n, x, 1.0f / 0.05f, 77, ref);
        char what[96];
        for (int32_t r = 0; r < mlrc_q8_quantize_variant_count; r++) {
            if (!row_runs(mlrc_q8_quantize_variants[r].requires)) continue;
            const mlrc_kernel_plan plan = {MLRC_OP_Q8_QUANTIZE, 0, r, -1, -1, 2, 0};
            memset(opt, 0, n);
            mlrc_q8_quantize_run(&plan, n, x, 1.0f / 0.05f, 77, opt, 2);
            snprintf(what, sizeof what, "%s %zu", mlrc_q8_quantize_variants[r].name, n);
            expect(memcmp(ref, opt, n) == 0 && ref[0] == 107, what);
        }
        uint8_t *a = bytes_u8(n), *b = bytes_u8(n);
        mlrc_q8_add_ref(0, n, a, 120, 0.7f, b, 9, 0.45f, 100, 100, 255, ref);
        for (int32_t r = 0; r < mlrc_q8_add_variant_count; r++) {
            if (!row_runs(mlrc_q8_add_variants[r].requires)) continue;
            memset(opt, 0, n);
            const mlrc_kernel_plan plan = {MLRC_OP_Q8_ADD, 0, r, -1, -1, 2, 0};
            mlrc_q8_add_run(&plan, n, a, 120, 0.7f, b, 9, 0.45f, 100, 100, 255, opt, 2);
            snprintf(what, sizeof what, "%s %zu", mlrc_q8_add_variants[r].name, n);
            expect(memcmp(ref, opt, n) == 0, what);
        }
        free(x), free(ref), free(opt), free(a), free(b);
    }
    /* Table activation: identity table, and ReLU through make_lut matches clamping at the zero point. */
    uint8_t lut[256], x[256], y[256];
    for (int i = 0; i < 256; i++) x[i] = (uint8_t)i;
    mlrc_q8_make_lut(MLRC_ACT_RELU, 0.1f, 50, 0.1f, 50, lut);
    mlrc_q8_lut(256, x, lut, y, 1);
    int ok = 1;
    for (int i = 0; i < 256; i++) ok &= y[i] == (i < 50 ? 50 : i);
    expect(ok, "q8 lut relu");
    /* Average pooling of a constant map is that constant (padding not counted). */
    mlrc_conv_geometry g = geometry(9, 9, 5, 5, 5, 3, 3, 2, 1, 1, 1, 1);
    uint8_t in[9 * 9 * 5], pooled[5 * 5 * 5];
    memset(in, 90, sizeof in);
    mlrc_q8_avgpool(&g, in, 10, 1.0f, 10, pooled, 2);
    ok = 1;
    for (size_t i = 0; i < sizeof pooled; i++) ok &= pooled[i] == 90;
    expect(ok, "q8 avgpool constant");
    /* Max pooling of codes equals the fp32 max pool of the dequantized values (it is exact), every padding. */
    {
        const int shapes[][6] = {
            {9, 9, 16, 3, 1, 1}, {57, 57, 17, 3, 2, 1}, {8, 8, 64, 2, 2, 0}, {5, 7, 70, 3, 1, 0}, {6, 6, 51, 3, 2, 1}};
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            const int *v = shapes[k];
            mlrc_conv_geometry pg = geometry(v[0], v[1], v[2], v[2], v[2], v[3], v[3], v[4], v[5], v[5], v[5], v[5]);
            const size_t nin = (size_t)v[0] * v[1] * v[2], nout = (size_t)pg.out_h * pg.out_w * v[2];
            uint8_t *q = bytes_u8(nin), *qo = malloc(nout), *expect_q = malloc(nout);
            float *f = malloc(nin * 4), *fo = malloc(nout * 4);
            mlrc_q8_dequantize(nin, q, 0.1f, 17, f, 1);
            mlrc_f32_maxpool(&pg, f, fo, 1);
            mlrc_q8_quantize_block_ref(nout, fo, 10.0f, 17, expect_q);
            for (int32_t r = 0; r < mlrc_q8_maxpool_variant_count; r++) {
                if (!row_runs(mlrc_q8_maxpool_variants[r].requires)) continue;
                memset(qo, 0, nout);
                const mlrc_kernel_plan plan = {MLRC_OP_Q8_MAXPOOL, 0, r, -1, -1, 2, 0};
                mlrc_q8_maxpool_run(&plan, &pg, q, qo, 2);
                char what[96];
                snprintf(what, sizeof what, "%s %dx%dx%d k%d s%d p%d", mlrc_q8_maxpool_variants[r].name, v[0], v[1],
                         v[2], v[3], v[4], v[5]);
                expect(memcmp(qo, expect_q, nout) == 0, what);
            }
            free(q), free(qo), free(expect_q), free(f), free(fo);
        }
    }
    /* A uint8 tensor dequantized into a channel slice of a wider float tensor. */
    {
        uint8_t src[3 * 5];
        float dst[3 * 8];
        for (int i = 0; i < 15; i++) src[i] = (uint8_t)(i * 17);
        for (int i = 0; i < 24; i++) dst[i] = -1.0f;
        mlrc_q8_dequantize_channels(3, src, 5, 0.5f, 3, dst, 8, 2, 1);
        int ok2 = 1;
        for (int p = 0; p < 3; p++)
            for (int c = 0; c < 8; c++) {
                const float want = c >= 2 && c < 7 ? (float)((int)src[p * 5 + c - 2] - 3) * 0.5f : -1.0f;
                ok2 &= dst[p * 8 + c] == want;
            }
        expect(ok2, "q8 dequantize into channels");
    }
    float mean[5];
    mlrc_q8_global_avgpool(81, 5, in, 10, 0.5f, mean);
    expect(fabsf(mean[0] - 40.0f) < 1e-5f && fabsf(mean[4] - 40.0f) < 1e-5f, "q8 global avgpool");
}

void test_q8_kernels(void) {
    test_gemm();
    test_dwconv();
    test_conv();
    test_pair_bound();
    test_elementwise();
}
