/* Shared by the kernel test files: the pass/fail counters main() prints, and geometry(). */
#ifndef MLRC_TEST_SUPPORT_H
#define MLRC_TEST_SUPPORT_H
#include "mlrc_kernels.h"

extern int passed, failed;

/* A convolution geometry from the input size, channels, groups, kernel, stride and the four paddings. */
static inline mlrc_conv_geometry geometry(int h, int w, int cin, int cout, int groups, int kh, int kw, int s, int pt,
                                          int pl, int pb, int pr) {
    mlrc_conv_geometry g = {h, w, cin, (h + pt + pb - kh) / s + 1, (w + pl + pr - kw) / s + 1, cout, kh, kw, s, s, pt, pl,
                            groups};
    return g;
}
void test_q8_kernels(void);
#endif
