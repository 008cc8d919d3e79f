/* The int8 GEMM kernel against this core's register-only limits, per layer shape.
 *
 *   bench_kernels [ISA] [THREADS] [DWCONV_ROW]
 *     ISA: avx2 (default on x86), avxvnni, avx512, neon, dotprod, ref, auto; DWCONV_ROW: a depthwise table row to
 *     time instead of the one the plan picks (e.g. q8_dwconv_16c_avx2)
 *
 * First the register-only peaks of one core (x86: independent chains of the instructions an int8 GEMM is made
 * of, no loads, long enough that the clock has ramped up), then mlrc_q8_gemm (the operator the runtime calls for
 * 1x1 convolutions: the chosen micro-kernel, its packing, output stage and threading) on the pointwise shapes of
 * EfficientNet-Lite0, MobileNetV2, ConvNeXt-atto and ResNet-50, best of several timed repeats, in G MAC/s and as a
 * share of the exact-int16 peak (vpmaddwd + vpaddd: the work per 16 products of an exact 8-bit GEMM on AVX2),
 * that peak measured again right before and after each shape: on a shared machine whose speed drifts, a shape is
 * compared with what the core could do at that moment, not with its best minute.
 * Prints a markdown table. Timing only: correctness is the kernel tests' job. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlrc_cpu.h"
#include "mlrc_kernels.h"
#include "mlrc_ukernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
/* A loop body of independent instruction groups over register operands (ymm14, ymm15: bytes of 1, or zeros for
 * the float loop, whose products of tiny values would otherwise go subnormal), run `iters` times per call. */
#define ONES "vpcmpeqd %%ymm14, %%ymm14, %%ymm14\n\tvpabsb %%ymm14, %%ymm14\n\tvmovdqa %%ymm14, %%ymm15\n\t"
#define ZEROS "vpxor %%ymm14, %%ymm14, %%ymm14\n\tvpxor %%ymm15, %%ymm15, %%ymm15\n\t"
#define LOOP(name, isa, init, body, macs_per_iter)                                                                     \
    __attribute__((target(isa), noinline)) static double name(long iters) {                                            \
        __asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\t" init ::: "xmm0", "xmm14", "xmm15");                        \
        for (long i = 0; i < iters; i++)                                                                               \
            __asm__ volatile(body ::                                                                                   \
                                 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",     \
                                   "xmm10", "xmm11");                                                                  \
        return (double)(macs_per_iter);                                                                                \
    }

/* vpmaddwd alone: 8 independent products of 16 int16 pairs. */
LOOP(madd_only, "avx2", ONES,
     "vpmaddwd %%ymm14, %%ymm15, %%ymm0\n\tvpmaddwd %%ymm14, %%ymm15, %%ymm1\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm2\n\tvpmaddwd %%ymm14, %%ymm15, %%ymm3\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm4\n\tvpmaddwd %%ymm14, %%ymm15, %%ymm5\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm6\n\tvpmaddwd %%ymm14, %%ymm15, %%ymm7\n\t",
     8 * 16)
/* vpmaddwd + vpaddd into 8 accumulators: what an exact int16 GEMM issues per 16 products. */
LOOP(madd_add, "avx2", ONES,
     "vpmaddwd %%ymm14, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm0, %%ymm0\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm9\n\tvpaddd %%ymm9, %%ymm1, %%ymm1\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm10\n\tvpaddd %%ymm10, %%ymm2, %%ymm2\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm11\n\tvpaddd %%ymm11, %%ymm3, %%ymm3\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm4, %%ymm4\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm9\n\tvpaddd %%ymm9, %%ymm5, %%ymm5\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm10\n\tvpaddd %%ymm10, %%ymm6, %%ymm6\n\t"
     "vpmaddwd %%ymm14, %%ymm15, %%ymm11\n\tvpaddd %%ymm11, %%ymm7, %%ymm7\n\t",
     8 * 16)
/* vpmaddubsw + vpmaddwd(1) + vpaddd per 32 products (exact only for 7-bit weights). */
LOOP(maddubs_add, "avx2", ONES,
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm8\n\tvpmaddwd %%ymm8, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm0, %%ymm0\n\t"
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm9\n\tvpmaddwd %%ymm9, %%ymm15, %%ymm9\n\tvpaddd %%ymm9, %%ymm1, %%ymm1\n\t"
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm10\n\tvpmaddwd %%ymm10, %%ymm15, %%ymm10\n\tvpaddd %%ymm10, %%ymm2, %%ymm2\n\t"
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm11\n\tvpmaddwd %%ymm11, %%ymm15, %%ymm11\n\tvpaddd %%ymm11, %%ymm3, %%ymm3\n\t"
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm8\n\tvpmaddwd %%ymm8, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm4, %%ymm4\n\t"
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm9\n\tvpmaddwd %%ymm9, %%ymm15, %%ymm9\n\tvpaddd %%ymm9, %%ymm5, %%ymm5\n\t",
     6 * 32)
/* Two vpmaddubsw summed in int16, then vpmaddwd(1) + vpaddd: 64 products (exact only under a weight bound). */
LOOP(maddubs2_add, "avx2", ONES,
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm8\n\tvpmaddubsw %%ymm14, %%ymm15, %%ymm9\n\tvpaddw %%ymm8, %%ymm9, %%ymm8\n\t"
     "vpmaddwd %%ymm8, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm0, %%ymm0\n\t"
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm10\n\tvpmaddubsw %%ymm14, %%ymm15, %%ymm11\n\tvpaddw %%ymm10, %%ymm11, "
     "%%ymm10\n\t"
     "vpmaddwd %%ymm10, %%ymm15, %%ymm10\n\tvpaddd %%ymm10, %%ymm1, %%ymm1\n\t"
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm8\n\tvpmaddubsw %%ymm14, %%ymm15, %%ymm9\n\tvpaddw %%ymm8, %%ymm9, %%ymm8\n\t"
     "vpmaddwd %%ymm8, %%ymm15, %%ymm8\n\tvpaddd %%ymm8, %%ymm2, %%ymm2\n\t"
     "vpmaddubsw %%ymm14, %%ymm15, %%ymm10\n\tvpmaddubsw %%ymm14, %%ymm15, %%ymm11\n\tvpaddw %%ymm10, %%ymm11, "
     "%%ymm10\n\t"
     "vpmaddwd %%ymm10, %%ymm15, %%ymm10\n\tvpaddd %%ymm10, %%ymm3, %%ymm3\n\t",
     4 * 64)
/* vfmadd231ps into 10 accumulators: the fp32 peak. */
LOOP(fma_f32, "avx2,fma", ZEROS,
     "vfmadd231ps %%ymm14, %%ymm15, %%ymm0\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm1\n\t"
     "vfmadd231ps %%ymm14, %%ymm15, %%ymm2\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm3\n\t"
     "vfmadd231ps %%ymm14, %%ymm15, %%ymm4\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm5\n\t"
     "vfmadd231ps %%ymm14, %%ymm15, %%ymm6\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm7\n\t"
     "vfmadd231ps %%ymm14, %%ymm15, %%ymm8\n\tvfmadd231ps %%ymm14, %%ymm15, %%ymm9\n\t",
     10 * 8)
/* vpdpbusd (AVX-VNNI) into 8 accumulators: 32 products each. */
LOOP(dpbusd_vnni, "avx2,avxvnni", ONES,
     "%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm0\n\t%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm1\n\t"
     "%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm2\n\t%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm3\n\t"
     "%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm4\n\t%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm5\n\t"
     "%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm6\n\t%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm7\n\t",
     8 * 32)

/* G MAC/s of one loop: best of `runs` runs of about 50 ms each, after a 200 ms warm-up. */
static double peak_of(double (*loop)(long), int runs) {
    const long iters = 2000000;
    double t0 = now(), macs = 0;
    while (now() - t0 < 0.2) macs = loop(iters);
    double best = 0;
    for (int r = 0; r < runs; r++) {
        const double a = now();
        loop(iters);
        const double s = now() - a, rate = macs * (double)iters / s / 1e9;
        if (rate > best) best = rate;
    }
    return best;
}
static double peak(double (*loop)(long)) { return peak_of(loop, 10); }
/* The exact-int16 peak now (a shorter measurement, taken beside each shape). */
static double peak_now(void) { return peak_of(madd_add, 3); }
#else
static double peak_now(void) { return 0; }
#endif

/* seconds = the time of one `call`: repeats calibrated to take about 20 ms, then the best of 7 timed repeats. */
#define BEST_SECONDS(seconds, call)                                                                                    \
    do {                                                                                                               \
        int reps_ = 1;                                                                                                 \
        for (;;) {                                                                                                     \
            const double a_ = now();                                                                                   \
            for (int r_ = 0; r_ < reps_; r_++) call;                                                                   \
            if (now() - a_ > 0.02 || reps_ > 1 << 20) break;                                                           \
            reps_ *= 2;                                                                                                \
        }                                                                                                              \
        (seconds) = 1e30;                                                                                              \
        for (int t_ = 0; t_ < 7; t_++) {                                                                               \
            const double a_ = now();                                                                                   \
            for (int r_ = 0; r_ < reps_; r_++) call;                                                                   \
            const double e_ = (now() - a_) / reps_;                                                                    \
            if (e_ < (seconds)) (seconds) = e_;                                                                        \
        }                                                                                                              \
    } while (0)

typedef struct shape {
    const char *net;
    int32_t M, K, N;
} shape;

/* Pointwise layers (M = output pixels, K = input channels, N = output channels) at 224x224. */
static const shape SHAPES[] = {
    {"lite0", 12544, 32, 16},    {"lite0", 12544, 16, 96},    {"lite0", 3136, 96, 24},     {"lite0", 3136, 24, 144},
    {"lite0", 3136, 144, 24},    {"lite0", 784, 144, 40},     {"lite0", 784, 40, 240},     {"lite0", 784, 240, 40},
    {"lite0", 196, 240, 80},     {"lite0", 196, 80, 480},     {"lite0", 196, 480, 80},     {"lite0", 196, 480, 112},
    {"lite0", 196, 112, 672},    {"lite0", 196, 672, 112},    {"lite0", 49, 672, 192},     {"lite0", 49, 192, 1152},
    {"lite0", 49, 1152, 192},    {"lite0", 49, 1152, 320},    {"lite0", 49, 320, 1280},    {"mbv2", 12544, 32, 32},
    {"mbv2", 3136, 24, 144},     {"mbv2", 784, 32, 192},      {"mbv2", 196, 64, 384},      {"mbv2", 196, 384, 96},
    {"atto", 3136, 40, 160},     {"atto", 3136, 160, 40},     {"atto", 784, 80, 320},      {"atto", 784, 320, 80},
    {"atto", 196, 160, 640},     {"atto", 196, 640, 160},     {"atto", 49, 320, 1280},     {"atto", 49, 1280, 320},
    {"resnet50", 3136, 64, 256}, {"resnet50", 3136, 256, 64}, {"resnet50", 784, 512, 128}, {"resnet50", 196, 1024, 256},
    {"resnet50", 49, 2048, 512}, {"resnet50", 49, 512, 2048},
};

static uint64_t rng = 88172645463325252ull;
static uint32_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)rng;
}

/* G MAC/s of mlrc_q8_gemm on one shape, best of 7 timed repeats of at least 20 ms each. */
static double gemm_rate(const shape *s, int threads, int bounded, char *kernel, size_t kernel_size) {
    const int32_t M = s->M, K = s->K, N = s->N;
    uint8_t *A = malloc((size_t)M * K), *C = malloc((size_t)M * N);
    int8_t *w = malloc((size_t)K * N), *B = malloc(mlrc_q8_packed_bytes(N, K));
    int32_t *bias = malloc(sizeof(int32_t) * N);
    float *scale = malloc(sizeof(float) * N);
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (uint8_t)next();
    /* bounded: weights in [-64, 64], whose pairs stay within the pair-bounded rows' limit */
    for (size_t i = 0; i < (size_t)K * N; i++) w[i] = (int8_t)(bounded ? next() % 129 - 64 : next() % 255 - 127);
    for (int32_t n = 0; n < N; n++) bias[n] = (int32_t)(next() % 20001) - 10000, scale[n] = 1.0f / (float)(64 * K);
    mlrc_q8_pack_weights(N, K, w, B);
    const mlrc_q8_output out = {MLRC_Q8_OUT_U8, 128, 0, 255, 0, NULL};
    mlrc_kernel_plan plan;
    mlrc_q8_gemm_plan_for(K, mlrc_q8_weight_pair_peak(N, K, B), threads, &plan);
    snprintf(kernel, kernel_size, "%s", mlrc_q8_gemm_variants[plan.variant].name);
    void *scratch = plan.scratch_bytes ? aligned_alloc(64, (plan.scratch_bytes + 63) & ~(size_t)63) : NULL;
    const double macs = (double)M * K * N;
    double best;
    BEST_SECONDS(best, mlrc_q8_gemm_run(&plan, M, N, K, A, K, 3, B, bias, scale, &out, C, N, scratch, threads));
    free(A), free(C), free(w), free(B), free(bias), free(scale), free(scratch);
    return macs / best / 1e9;
}

typedef struct dw_shape {
    const char *net;
    int32_t hw, C, k, stride;
} dw_shape;

/* EfficientNet-Lite0's depthwise layers (input map, channels, kernel, stride; padding k / 2). */
static const dw_shape DW_SHAPES[] = {
    {"lite0", 112, 32, 3, 1}, {"lite0", 112, 96, 3, 2}, {"lite0", 56, 144, 3, 1}, {"lite0", 56, 144, 5, 2},
    {"lite0", 28, 240, 5, 1}, {"lite0", 28, 240, 3, 2}, {"lite0", 14, 480, 3, 1}, {"lite0", 14, 480, 5, 1},
    {"lite0", 14, 672, 5, 1}, {"lite0", 14, 672, 5, 2}, {"lite0", 7, 1152, 5, 1}, {"lite0", 7, 1152, 3, 1},
};

/* G MAC/s of mlrc_q8_dwconv_run on one shape, best of 7 timed repeats of at least 20 ms each. */
static const char *forced_dw; /* a row of mlrc_q8_dwconv_variants to time instead of the plan's choice */

static double dw_rate(const dw_shape *s, int threads, char *kernel, size_t kernel_size) {
    const int32_t pad = s->k / 2, out = (s->hw + 2 * pad - s->k) / s->stride + 1;
    const mlrc_conv_geometry g = {s->hw, s->hw, s->C, out, out, s->C, s->k, s->k, s->stride, s->stride, pad, pad, s->C};
    uint8_t *x = malloc((size_t)s->hw * s->hw * s->C), *y = malloc((size_t)out * out * s->C);
    int8_t *w = malloc((size_t)s->k * s->k * s->C);
    int32_t *bias = malloc(sizeof(int32_t) * s->C);
    float *scale = malloc(sizeof(float) * s->C);
    for (size_t i = 0; i < (size_t)s->hw * s->hw * s->C; i++) x[i] = (uint8_t)next();
    for (size_t i = 0; i < (size_t)s->k * s->k * s->C; i++) w[i] = (int8_t)(next() % 255 - 127);
    for (int32_t c = 0; c < s->C; c++) bias[c] = (int32_t)(next() % 2001) - 1000, scale[c] = 1.0f / 4096;
    const mlrc_q8_output o = {MLRC_Q8_OUT_U8, 128, 0, 255, 0, NULL};
    mlrc_kernel_plan plan;
    mlrc_q8_dwconv_plan(&g, threads, &plan);
    for (int32_t r = 0; forced_dw && r < mlrc_q8_dwconv_variant_count; r++)
        if (!strcmp(mlrc_q8_dwconv_variants[r].name, forced_dw)) {
            const mlrc_q8_dwconv_variant *v = &mlrc_q8_dwconv_variants[r];
            plan.variant = r;
            plan.scratch_bytes = v->scratch_bytes ? ((v->scratch_bytes(&g) + 63) & ~(size_t)63) * threads : 0;
        }
    snprintf(kernel, kernel_size, "%s", mlrc_q8_dwconv_variants[plan.variant].name);
    void *scratch = plan.scratch_bytes ? aligned_alloc(64, (plan.scratch_bytes + 63) & ~(size_t)63) : NULL;
    double best;
    BEST_SECONDS(best, mlrc_q8_dwconv_run(&plan, &g, x, 7, w, bias, scale, &o, y, scratch, threads));
    free(x), free(y), free(w), free(bias), free(scale), free(scratch);
    return (double)out * out * s->C * s->k * s->k / best / 1e9;
}

int main(int argc, char **argv) {
#if defined(__x86_64__)
    const char *isa_name = argc > 1 ? argv[1] : "avx2";
#else
    const char *isa_name = argc > 1 ? argv[1] : "auto";
#endif
    const int threads = argc > 2 ? atoi(argv[2]) : 1;
    forced_dw = argc > 3 ? argv[3] : NULL;
    const int isa = mlrc_isa_from_name(isa_name);
    if (isa < 0 || mlrc_kernels_set_isa(isa) < 0) {
        fprintf(stderr, "bench_kernels: unknown ISA level '%s'\n", isa_name);
        return 2;
    }
    char features[256];
    mlrc_cpu_feature_names(mlrc_cpu_enabled(), features, sizeof features);
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
                snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
                model[strcspn(model, "\n")] = 0;
                break;
            }
        fclose(f);
    }
    printf("CPU: %s; ISA level %s (kernels may use: %s); %d thread(s)\n\n", model, mlrc_isa_name(isa), features,
           threads);
    double ref_peak = 0;
#if defined(__x86_64__)
    const uint32_t cpu = mlrc_cpu_detected();
    if (cpu & MLRC_CPU_X86_AVX2) {
        printf("Register-only peaks of one core (G MAC/s):\n\n| loop | G MAC/s |\n|---|---|\n");
        ref_peak = peak(madd_add);
        printf("| vpmaddwd + vpaddd (exact int16 GEMM step) | %.1f |\n", ref_peak);
        printf("| vpmaddwd alone | %.1f |\n", peak(madd_only));
        printf("| vpmaddubsw + vpmaddwd + vpaddd (7-bit weights) | %.1f |\n", peak(maddubs_add));
        printf("| 2 vpmaddubsw + vpaddw + vpmaddwd + vpaddd (bounded weights) | %.1f |\n", peak(maddubs2_add));
        printf("| vfmadd231ps (fp32) | %.1f |\n", peak(fma_f32));
        if (cpu & MLRC_CPU_AVXVNNI) printf("| vpdpbusd (AVX-VNNI) | %.1f |\n", peak(dpbusd_vnni));
        printf("\n");
    }
#endif
    printf("mlrc_q8_gemm per layer shape (uint8 output, per-channel requantization), on weights of all 8 bits and on\n"
           "weights in [-64, 64] (what quantize keeps inside the pair bound; other rows may take them):\n\n");
    printf("| net | M | K | N | kernel | G MAC/s |%s 7-bit weights: kernel | G MAC/s |%s\n",
           ref_peak > 0 ? " share of the peak |" : "",
           ref_peak > 0 ? " share of the peak | vpmaddwd + vpaddd peak beside them |" : "");
    printf("|---|---|---|---|---|---|%s---|---|%s\n", ref_peak > 0 ? "---|" : "", ref_peak > 0 ? "---|---|" : "");
    double macs_all = 0, secs_all = 0, secs7_all = 0, peak_secs = 0;
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        char kernel[64], kernel7[64];
        const double before = ref_peak > 0 ? peak_now() : 0;
        const double rate = gemm_rate(&SHAPES[i], threads, 0, kernel, sizeof kernel);
        const double rate7 = gemm_rate(&SHAPES[i], threads, 1, kernel7, sizeof kernel7);
        const double after = ref_peak > 0 ? peak_now() : 0, local = before > after ? before : after;
        const double macs = (double)SHAPES[i].M * SHAPES[i].K * SHAPES[i].N;
        macs_all += macs, secs_all += macs / rate, secs7_all += macs / rate7;
        peak_secs += local > 0 ? macs / local : 0;
        printf("| %s | %d | %d | %d | %s | %.1f |", SHAPES[i].net, SHAPES[i].M, SHAPES[i].K, SHAPES[i].N, kernel, rate);
        if (ref_peak > 0) printf(" %.0f%% |", 100.0 * rate / (local * threads));
        printf(" %s | %.1f |", kernel7, rate7);
        if (ref_peak > 0) printf(" %.0f%% | %.1f |", 100.0 * rate7 / (local * threads), local);
        printf("\n");
        fflush(stdout);
    }
    printf("\nAll shapes together: %.1f G MAC/s on 8-bit weights, %.1f on 7-bit weights", macs_all / secs_all,
           macs_all / secs7_all);
    if (ref_peak > 0)
        printf(" (%.0f%% and %.0f%% of the peak beside each shape, x threads)", 100.0 * peak_secs / secs_all / threads,
               100.0 * peak_secs / secs7_all / threads);
    printf("\n\nmlrc_q8_dwconv per layer shape (uint8 output):\n\n| net | map | channels | kernel | stride | kernel | "
           "G MAC/s |\n"
           "|---|---|---|---|---|---|---|\n");
    double dw_macs = 0, dw_secs = 0;
    for (size_t i = 0; i < sizeof DW_SHAPES / sizeof DW_SHAPES[0]; i++) {
        const dw_shape *d = &DW_SHAPES[i];
        char kernel[64];
        const double rate = dw_rate(d, threads, kernel, sizeof kernel);
        const int32_t out = (d->hw + 2 * (d->k / 2) - d->k) / d->stride + 1;
        const double macs = (double)out * out * d->C * d->k * d->k;
        dw_macs += macs, dw_secs += macs / rate;
        printf("| %s | %d | %d | %dx%d | %d | %s | %.1f |\n", d->net, d->hw, d->C, d->k, d->k, d->stride, kernel, rate);
        fflush(stdout);
    }
    printf("\nAll depthwise shapes together: %.1f G MAC/s (%.2f ms per pass)\n", dw_macs / dw_secs, dw_secs * 1e-6);
    return 0;
}
