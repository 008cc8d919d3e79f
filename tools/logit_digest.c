/* Prints a digest of each model's logits on one preprocessed input: a check that a change to the kernels or the
 * runtime left every output bit as it was. Run it before and after, at each ISA level (MLRC_ISA) and thread count,
 * and compare the lines.
 *
 *   gcc -O2 -Iinclude tools/logit_digest.c -o digest -L.build/release -lmlrc -Wl,-rpath,$PWD/.build/release
 *   MLRC_ISA=avx2 ./digest INPUT.f16 THREADS MODEL.mlrc...
 *
 * INPUT.f16: float16 NCHW, as Tests/Fixtures/inputs holds them. Output: one line per model, the FNV-1a hash of the
 * logits' bytes, then the top-1 class and its logit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mlrc.h"
#include "../Tests/capi/half_float.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s INPUT.f16 THREADS MODEL...\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    static uint16_t half[3 * 512 * 512];
    const size_t n = fread(half, 2, sizeof half / 2, f);
    fclose(f);
    float *input = malloc(n * sizeof(float));
    if (!input) return 1;
    for (size_t i = 0; i < n; i++) input[i] = half_to_float(half[i]);
    const int threads = atoi(argv[2]);
    int failures = 0;
    for (int m = 3; m < argc; m++) {
        mlrc_model *model = NULL;
        mlrc_session *session = NULL;
        if (mlrc_model_open(argv[m], &model) != MLRC_OK || mlrc_session_create(model, threads, &session) != MLRC_OK) {
            printf("%s: error %s\n", argv[m], mlrc_last_error());
            mlrc_model_close(model);
            failures++;
            continue;
        }
        int32_t c = 0, h = 0, w = 0;
        mlrc_model_input_shape(model, &c, &h, &w);
        const int32_t classes = mlrc_model_num_classes(model);
        float *logits = malloc((size_t)classes * sizeof(float));
        const size_t count = (size_t)c * h * w;
        if (!logits || count > n || mlrc_run(session, input, count, logits, (size_t)classes) != MLRC_OK) {
            printf("%s: error %s\n", argv[m], count > n ? "input too small" : mlrc_session_error(session));
            failures++;
        } else {
            uint64_t hash = 1469598103934665603ull;
            const unsigned char *b = (const unsigned char *)logits;
            for (size_t i = 0; i < (size_t)classes * sizeof(float); i++) hash = (hash ^ b[i]) * 1099511628211ull;
            int best = 0;
            for (int i = 1; i < classes; i++)
                if (logits[i] > logits[best]) best = i;
            printf("%s: %016llx top1 %d %.6g\n", argv[m], (unsigned long long)hash, best, logits[best]);
        }
        free(logits);
        mlrc_session_destroy(session);
        mlrc_model_close(model);
    }
    free(input);
    return failures ? 1 : 0;
}
