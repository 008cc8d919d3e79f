/* Times mlrc_run on one model: load time, then median and min latency over repeated runs, and the
 * process's peak RSS. One model per process, so peak RSS is this model's alone.
 *   bench_mlrc MODEL THREADS [RUNS]  ->  one JSON line */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mlrc.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL THREADS [RUNS]\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]), runs = argc > 3 ? atoi(argv[3]) : 30;
    if (runs < 1) runs = 1;
    double t0 = now_ms();
    mlrc_model *model = NULL;
    mlrc_session *session = NULL;
    if (mlrc_model_open(argv[1], &model) != MLRC_OK || mlrc_session_create(model, threads, &session) != MLRC_OK) {
        fprintf(stderr, "bench_mlrc: %s: %s\n", argv[1], mlrc_last_error());
        return 1;
    }
    int32_t c, h, w;
    mlrc_model_input_shape(model, &c, &h, &w);
    size_t n = (size_t)c * h * w, classes = (size_t)mlrc_model_num_classes(model);
    float *x = malloc(n * sizeof(float)), *y = malloc(classes * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    mlrc_run(session, x, n, y, classes);
    double load = now_ms() - t0; /* open + session + first inference */
    double *t = malloc(sizeof(double) * (size_t)runs);
    for (int i = 0; i < runs; i++) {
        double s = now_ms();
        mlrc_run(session, x, n, y, classes);
        t[i] = now_ms() - s;
    }
    qsort(t, (size_t)runs, sizeof(double), cmp);
    /* VmHWM, not getrusage: ru_maxrss survives exec, so it would include the parent's (Python's) memory. */
    double peak_kb = 0;
    FILE *st = fopen("/proc/self/status", "r");
    char line[256];
    while (st && fgets(line, sizeof line, st))
        if (strncmp(line, "VmHWM:", 6) == 0) peak_kb = atof(line + 6);
    if (st) fclose(st);
    printf(
        "{\"model\":\"%s\",\"threads\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,\"load_ms\":%.2f,\"peak_rss_mb\":%.1f,"
        "\"isa\":\"%s\"}\n",
        argv[1], threads, t[runs / 2], t[0], load, peak_kb / 1024.0, mlrc_isa_level());
    free(t);
    free(x);
    free(y);
    mlrc_session_destroy(session);
    mlrc_model_close(model);
    return 0;
}
