/* How an operator spreads rows x units of work over threads: contiguous ranges of rows, or of units (channel
 * chunks) where that loads the threads more evenly (a 7-row map split 4:3 leaves a thread idle an eighth of the
 * time; 18 channel chunks split 9:9 do not). Every thread's share is computed, never scheduled, so a share is the
 * same on every run. */
#ifndef MLRC_OPERATORS_PARALLEL_H
#define MLRC_OPERATORS_PARALLEL_H
#include <omp.h>
#include <stdint.h>
#include "activation.h"

typedef struct mlrc_split {
    int32_t threads;  /* threads to start (1: run on the caller) */
    int32_t by_units; /* split the units, each thread taking every row */
} mlrc_split;

static inline mlrc_split mlrc_split_rows_or_units(int32_t threads, int32_t rows, int32_t units) {
    const int32_t T = threads < 1 ? 1 : threads;
    const int64_t row_load = (int64_t)(rows + T - 1) / T * units, unit_load = (int64_t)(units + T - 1) / T * rows;
    mlrc_split s;
    s.by_units = T > 1 && unit_load < row_load;
    s.threads = mlrc_threads_for(T, s.by_units ? units : rows);
    return s;
}

/* Thread t of n: rows [*r0, *r1) x units [*u0, *u1) (possibly empty). */
static inline void mlrc_split_share(const mlrc_split *s, int32_t rows, int32_t units, int t, int n, int32_t *r0,
                                    int32_t *r1, int32_t *u0, int32_t *u1) {
    if (s->by_units) {
        *r0 = 0, *r1 = rows;
        *u0 = (int32_t)((int64_t)units * t / n), *u1 = (int32_t)((int64_t)units * (t + 1) / n);
    } else {
        *r0 = (int32_t)((int64_t)rows * t / n), *r1 = (int32_t)((int64_t)rows * (t + 1) / n);
        *u0 = 0, *u1 = units;
    }
}
#endif
