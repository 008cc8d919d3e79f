/* This CPU's fp32 multiply-accumulate rate through mlrc's own GEMM kernel (1024^3, best of 5): the roofline
 * that make bench sets each net's achieved rate against. Rows are padded by 16 floats: a 4 KB row stride
 * would alias in the L1 cache and measure that instead.   bench_peak THREADS  ->  {"gmacs": N} */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mlrc_kernels.h"

int main(int argc, char **argv) {
    const int n = 1024, ld = n + 16, threads = argc > 1 ? atoi(argv[1]) : 1;
    float *a = malloc(sizeof(float) * n * ld), *b = malloc(sizeof(float) * n * ld), *c = malloc(sizeof(float) * n * ld);
    for (int i = 0; i < n * ld; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        mlrc_f32_gemm(n, n, n, a, ld, b, ld, NULL, c, ld, 0, threads);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        if (s < best) best = s;
    }
    printf("{\"gmacs\": %.2f}\n", (double)n * n * n / best / 1e9);
    free(a), free(b), free(c);
    return 0;
}
