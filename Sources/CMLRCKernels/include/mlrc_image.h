/* mlrc: image preprocessing (resize, centre crop, normalise) into a model's input. */
#ifndef MLRC_IMAGE_H
#define MLRC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Resize filters, as PIL's (which torchvision's Resize uses on PIL images). */
enum { MLRC_RESIZE_BILINEAR = 0, MLRC_RESIZE_BICUBIC = 1 };

/* Resizes an 8-bit RGB image with a filter that widens when downscaling (antialiased, as PIL does): triangle
 * (bilinear) or Keys cubic with a = -0.5 (bicubic), then writes the center crop_h x crop_w window, normalized
 * ((v/255 - mean) / std), as float NHWC. resize_h/resize_w: the resized image's size (equal to the crop: the
 * whole image). Returns 0, or -1 when memory runs out. */
int mlrc_preprocess_rgb(const uint8_t *rgb, int32_t width, int32_t height, int32_t row_stride, int32_t resize_w,
                        int32_t resize_h, int32_t crop_w, int32_t crop_h, const float mean[3], const float std[3],
                        int32_t filter, float *output_nhwc);
#ifdef __cplusplus
}
#endif
#endif
