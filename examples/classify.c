/* Classify JPEG files with an mlrc model and print each one's top 5. Every call is checked.
 *   cc classify.c $(pkg-config --cflags --libs mlrc) -o classify && ./classify MODEL.mlrc IMAGE.jpg... */
#include <mlrc.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads a whole file; NULL with a message on failure. */
static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    unsigned char *data = NULL;
    size_t used = 0, capacity = 0;
    for (;;) {
        if (used == capacity) {
            capacity = capacity ? 2 * capacity : 1 << 16;
            unsigned char *grown = realloc(data, capacity);
            if (!grown) {
                fprintf(stderr, "%s: out of memory\n", path);
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        size_t n = fread(data + used, 1, capacity - used, f);
        used += n;
        if (n == 0) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "%s: read error\n", path);
        free(data);
        return NULL;
    }
    *size = used;
    return data;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.mlrc IMAGE.jpg...\n", argv[0]);
        return 2;
    }
    mlrc_model *model;
    if (mlrc_model_open(argv[1], &model) != MLRC_OK) {
        fprintf(stderr, "%s\n", mlrc_last_error());
        return 1;
    }
    mlrc_session *session;
    if (mlrc_session_create(model, 0, &session) != MLRC_OK) { /* 0 threads: all cores */
        fprintf(stderr, "%s\n", mlrc_last_error());
        mlrc_model_close(model);
        return 1;
    }
    int failures = 0;
    for (int i = 2; i < argc; i++) {
        size_t size;
        unsigned char *jpeg = read_file(argv[i], &size);
        if (!jpeg) {
            failures++;
            continue;
        }
        mlrc_prediction top[5];
        int k = mlrc_model_num_classes(model) < 5 ? mlrc_model_num_classes(model) : 5;
        mlrc_status status = mlrc_classify_jpeg(session, jpeg, size, top, k);
        free(jpeg);
        if (status != MLRC_OK) {
            fprintf(stderr, "%s: %s: %s\n", argv[i], mlrc_status_string(status), mlrc_session_error(session));
            failures++;
            continue;
        }
        printf("%s\n", argv[i]);
        for (int j = 0; j < k; j++)
            printf("  %5.1f%%  %4d  %s\n", 100 * top[j].probability, top[j].index, top[j].label);
    }
    mlrc_session_destroy(session);
    mlrc_model_close(model);
    return failures ? 1 : 0;
}
