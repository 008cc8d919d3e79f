/* Shared by the kernel test files: the pass/fail counters main() prints, and geometry(). */
#ifndef MLRC_TEST_SUPPORT_H
#define MLRC_TEST_SUPPORT_H
#include "mlrc_ukernels.h"

/* Whether a table row can run on this CPU (every variant the CPU has is tested; main lists the others). */
static inline int row_runs(uint32_t requires) { return mlrc_variant_missing(requires, mlrc_cpu_detected()) == 0; }

extern int passed, failed;

/* A convolution geometry from the input size, channels, groups, kernel, stride and the four paddings. */
static inline mlrc_conv_geometry geometry(int h, int w, int cin, int cout, int groups, int kh, int kw, int s, int pt,
                                          int pl, int pb, int pr) {
    mlrc_conv_geometry g = {h,  w,  cin,   (h + pt + pb - kh) / s + 1, (w + pl + pr - kw) / s + 1, cout, kh, kw, s, s,
                            pt, pl, groups};
    return g;
}
void test_q8_kernels(void);
/* Convolution shapes both kernel test files run (fp32 and int8): 1x1 to 57x57, odd channels, groups, strides,
 * asymmetric padding. Each: h, w, cin, cout, groups, kh, kw, stride, pad top/left/bottom/right. */
static const int conv_shapes[][12] = {
    {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},     {9, 7, 3, 17, 1, 3, 3, 2, 1, 1, 1, 1},
    {17, 17, 32, 32, 4, 3, 3, 1, 1, 1, 1, 1}, {15, 15, 44, 44, 4, 3, 3, 1, 1, 1, 1, 1},
    {57, 57, 3, 32, 1, 3, 3, 2, 0, 0, 1, 1},  {33, 33, 8, 33, 1, 4, 4, 4, 0, 0, 0, 0},
    {14, 14, 7, 9, 1, 2, 2, 2, 0, 0, 0, 0},   {5, 11, 6, 6, 3, 1, 7, 1, 0, 3, 0, 3},
    {21, 21, 16, 24, 2, 5, 5, 2, 1, 2, 2, 1}, {3, 3, 400, 100, 4, 3, 3, 1, 1, 1, 1, 1},
    {7, 7, 40, 160, 1, 1, 1, 1, 0, 0, 0, 0},  {28, 28, 17, 33, 1, 1, 1, 2, 0, 0, 0, 0},
    {28, 27, 64, 64, 8, 3, 3, 1, 1, 1, 1, 1}};
#define CONV_SHAPES (sizeof conv_shapes / sizeof conv_shapes[0])
#endif
