/* The taps of a kernel window that fall inside the input, shared by the reference windowed kernels
 * (depthwise conv, max and average pooling): padding cells are simply skipped; and the tap-pointer tables of the
 * direct convolutions. */
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

/* dst[ky * kernel_w + kx] = where tap (ky, kx) of output pixel (oy, ox) reads in an NHWC input of in_c elements
 * per pixel starting at base, or pad where the tap falls in the padding. A macro, so that it fills tables of any
 * element type (the uint8 input, its int16 copy, floats). */
#define MLRC_PIXEL_TAPS(dst, g, oy, ox, base, pad)                                                                     \
    for (int32_t tap_ky = 0; tap_ky < (g)->kernel_h; tap_ky++) {                                                       \
        const int32_t tap_iy = (oy) * (g)->stride_h - (g)->pad_top + tap_ky;                                           \
        for (int32_t tap_kx = 0; tap_kx < (g)->kernel_w; tap_kx++) {                                                   \
            const int32_t tap_ix = (ox) * (g)->stride_w - (g)->pad_left + tap_kx;                                      \
            const int tap_inside = tap_iy >= 0 && tap_iy < (g)->in_h && tap_ix >= 0 && tap_ix < (g)->in_w;             \
            (dst)[tap_ky * (g)->kernel_w + tap_kx] =                                                                   \
                tap_inside ? (base) + ((size_t)tap_iy * (g)->in_w + tap_ix) * (g)->in_c : (pad);                       \
        }                                                                                                              \
    }
#endif
