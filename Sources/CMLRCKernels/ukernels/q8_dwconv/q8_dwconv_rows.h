/* Scalar helpers shared by the two vpdpbusd depthwise kernels (q8_dwconv_vnni.c on 512-bit registers,
 * q8_dwconv_avxvnni.c on 256-bit ones): the lane order of the interleaved column vectors, the window rows a
 * column vector reads, the weight rows of a row group, the kernel-shape dispatch. */
#ifndef MLRC_Q8_DWCONV_ROWS_H
#define MLRC_Q8_DWCONV_ROWS_H
#include <stddef.h>
#include "mlrc_kernels.h"

/* The chunk channel of lane i of vector k: after the byte and word unpacks, lane 4L + j of vector k holds channel
 * 16L + 4k + j (L: the 128-bit lane). */
static inline int32_t lane_channel(int32_t k, int32_t i) { return 16 * (i / 4) + 4 * k + i % 4; }

/* Whether output rows oy and oy + 1 are done together. */
static inline int pair_here(int pairs, int32_t oy, int32_t oy1) { return pairs && oy + 1 < oy1; }

/* The input rows of a window starting at row iy0, four per row group (+ channel offset c), and which of them are
 * read: not padding rows, nor rows past k_h (past k_h + 1 for a pair of output rows); those point at the input's
 * start and get an empty mask. */
static inline void window_rows(const mlrc_conv_geometry *g, const uint8_t *input, int32_t iy0, int32_t nv, int pair,
                               int32_t c, const uint8_t *p[2][4], int inside[2][4]) {
    for (int32_t v = 0; v < nv; v++)
        for (int r = 0; r < 4; r++) {
            const int32_t iy = iy0 + 4 * v + r;
            inside[v][r] = 4 * v + r < g->kernel_h + pair && iy >= 0 && iy < g->in_h;
            p[v][r] = input + (inside[v][r] ? (size_t)iy * g->in_w * g->in_c : 0) + c;
        }
}

/* The weight rows of row group v (kernel rows 4v + r - shift, + channel offset c) and which exist (the others
 * get an empty mask: zero weights). */
static inline void kernel_rows(const mlrc_conv_geometry *g, const int8_t *weights, int32_t v, int32_t shift, int32_t c,
                               const uint8_t *p[4], int inside[4]) {
    for (int r = 0; r < 4; r++) {
        const int32_t ky = 4 * v + r - shift;
        inside[r] = ky >= 0 && ky < g->kernel_h;
        p[r] = (const uint8_t *)weights + (inside[r] ? (size_t)ky * g->kernel_w * g->in_c : 0) + c;
    }
}

/* RUN(s, kw, nv, pair) with constants for the common kernel shapes (3x3, 5x5, 7x7, 1-wide strips), so the
 * compiler unrolls their loops and keeps the weights in registers; other shapes run the generic loop. */
#define DW_SHAPES(RUN, s, kw, nv, pair)                                                                                \
    do {                                                                                                               \
        if ((kw) == 3 && (nv) == 1)                                                                                    \
            (pair) ? RUN(s, 3, 1, 1) : RUN(s, 3, 1, 0);                                                                \
        else if ((kw) == 5 && (nv) == 2)                                                                               \
            (pair) ? RUN(s, 5, 2, 1) : RUN(s, 5, 2, 0);                                                                \
        else if ((kw) == 7 && (nv) == 2)                                                                               \
            (pair) ? RUN(s, 7, 2, 1) : RUN(s, 7, 2, 0);                                                                \
        else if ((kw) == 1 && (nv) == 1)                                                                               \
            (pair) ? RUN(s, 1, 1, 1) : RUN(s, 1, 1, 0);                                                                \
        else                                                                                                           \
            RUN(s, kw, nv, pair);                                                                                      \
    } while (0)
#endif
