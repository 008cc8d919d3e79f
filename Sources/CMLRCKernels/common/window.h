/* The taps of a kernel window that fall inside the input, shared by the reference windowed kernels
 * (depthwise conv, max and average pooling): padding cells are simply skipped. */
#ifndef MLRC_WINDOW_H
#define MLRC_WINDOW_H
#include "mlrc_kernels.h"

typedef struct mlrc_window {
    int32_t iy0, ix0;     /* input coordinates of tap (0, 0), possibly negative */
    int32_t ky_lo, ky_hi; /* valid kernel rows [ky_lo, ky_hi) */
    int32_t kx_lo, kx_hi; /* valid kernel columns [kx_lo, kx_hi) */
} mlrc_window;

static inline mlrc_window mlrc_window_at(const mlrc_conv_geometry *g, int32_t oy, int32_t ox) {
    mlrc_window w;
    w.iy0 = oy * g->stride_h - g->pad_top;
    w.ix0 = ox * g->stride_w - g->pad_left;
    w.ky_lo = w.iy0 < 0 ? -w.iy0 : 0;
    w.ky_hi = g->in_h - w.iy0 < g->kernel_h ? g->in_h - w.iy0 : g->kernel_h;
    w.kx_lo = w.ix0 < 0 ? -w.ix0 : 0;
    w.kx_hi = g->in_w - w.ix0 < g->kernel_w ? g->in_w - w.ix0 : g->kernel_w;
    return w;
}
#endif
