/* A libjpeg shim that never exits the process: errors come back as a status and a message. */
#ifndef MLRC_JPEG_H
#define MLRC_JPEG_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlrc_jpeg_image {
    uint8_t *rgb; /* width * height * 3 bytes, rows packed; free with mlrc_jpeg_free */
    int32_t width, height;
} mlrc_jpeg_image;

/* Progressive JPEGs with more scans than this are refused (each scan is a pass over the whole image); above
 * 4 Mpixels the limit shrinks in proportion, to 16 at 16 Mpixels and more. */
#define MLRC_JPEG_MAX_SCANS 64

/* Decodes a baseline or progressive JPEG (RGB/YCbCr or grayscale) into 8-bit RGB.
 * Refuses images over max_pixels before allocating and progressive ones of more than MLRC_JPEG_MAX_SCANS
 * scans, and treats libjpeg's corrupt-data warnings
 * (truncated file, bad Huffman code...) as errors rather than returning a padded image.
 * Returns 0 on success; otherwise non-zero with a message in error (error_size bytes). */
int mlrc_jpeg_decode(const void *data, size_t size, uint64_t max_pixels, mlrc_jpeg_image *out, char *error,
                     size_t error_size);
/* Reads only the header: dimensions and component count. Same return convention. */
int mlrc_jpeg_probe(const void *data, size_t size, int32_t *width, int32_t *height, int32_t *components, char *error,
                    size_t error_size);
void mlrc_jpeg_free(mlrc_jpeg_image *image);

#ifdef __cplusplus
}
#endif
#endif
