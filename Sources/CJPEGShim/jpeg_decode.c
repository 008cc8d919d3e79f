/* libjpeg behind a setjmp error manager. libjpeg's default error_exit calls exit(), which would kill
 * the host program; here it longjmps back and the message is returned. Warnings are counted, and any
 * warning about corrupt data fails the decode (libjpeg-turbo would otherwise pad a broken image with gray). */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "mlrc_jpeg.h"

typedef struct shim_error {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    int warnings;
    char message[JMSG_LENGTH_MAX];
} shim_error;

/* A progressive JPEG may repeat a scan any number of times, and each costs a pass over the whole image: a small
 * file can keep a decoder busy for minutes. Real encoders write a few dozen scans at most (libjpeg's default
 * progression: 10 for colour), so MLRC_JPEG_MAX_SCANS are allowed up to 4 Mpixels and proportionally fewer above,
 * down to 16: the work stays under about 64 full passes over a 4-Mpixel image. */
static int scan_limit(uint64_t pixels) {
    const uint64_t budget = (uint64_t)MLRC_JPEG_MAX_SCANS << 22; /* scans x pixels */
    const uint64_t limit = pixels ? budget / pixels : MLRC_JPEG_MAX_SCANS;
    return limit > MLRC_JPEG_MAX_SCANS ? MLRC_JPEG_MAX_SCANS : limit < 16 ? 16 : (int)limit;
}

typedef struct shim_progress {
    struct jpeg_progress_mgr mgr;
    shim_error *err;
    int max_scans;
} shim_progress;

/* Called between input passes: stops at the scan limit, and at the first corrupt-data warning (the decode fails
 * then anyway; stopping here spares the remaining scans). */
static void shim_progress_monitor(j_common_ptr cinfo) {
    const shim_progress *p = (const shim_progress *)cinfo->progress;
    const struct jpeg_decompress_struct *d = (const struct jpeg_decompress_struct *)cinfo;
    if (p->err->warnings) longjmp(p->err->jump, 2);
    if (d->input_scan_number > p->max_scans) {
        snprintf(p->err->message, sizeof p->err->message, "more than %d progressive scans for its size", p->max_scans);
        longjmp(p->err->jump, 1);
    }
}

static void shim_error_exit(j_common_ptr cinfo) {
    shim_error *err = (shim_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void shim_emit_message(j_common_ptr cinfo, int level) {
    shim_error *err = (shim_error *)cinfo->err;
    if (level < 0) { /* a warning: keep the first one's text */
        if (err->warnings++ == 0) (*cinfo->err->format_message)(cinfo, err->message);
    }
}

static void shim_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void set_error(char *error, size_t error_size, const char *prefix, const char *detail) {
    if (error && error_size) snprintf(error, error_size, "%s%s", prefix, detail);
}

static void shim_init(struct jpeg_decompress_struct *cinfo, shim_error *err) {
    memset(err, 0, sizeof(*err));
    cinfo->err = jpeg_std_error(&err->mgr);
    err->mgr.error_exit = shim_error_exit;
    err->mgr.emit_message = shim_emit_message;
    err->mgr.output_message = shim_output_message;
}

int mlrc_jpeg_probe(const void *data, size_t size, int32_t *width, int32_t *height, int32_t *components, char *error,
                    size_t error_size) {
    if (!data || size < 4 || size > (size_t)0x7fffffff) {
        set_error(error, error_size, "not a JPEG: ", size < 4 ? "too short" : "too large");
        return 1;
    }
    struct jpeg_decompress_struct cinfo;
    shim_error err;
    shim_init(&cinfo, &err);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        set_error(error, error_size, "JPEG header: ", err.message);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    *width = (int32_t)cinfo.image_width;
    *height = (int32_t)cinfo.image_height;
    *components = cinfo.num_components;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int mlrc_jpeg_decode(const void *data, size_t size, uint64_t max_pixels, mlrc_jpeg_image *out, char *error,
                     size_t error_size) {
    if (!out) return 1;
    out->rgb = NULL;
    out->width = out->height = 0;
    if (!data || size < 4 || size > (size_t)0x7fffffff) {
        set_error(error, error_size, "not a JPEG: ", size < 4 ? "too short" : "too large");
        return 1;
    }
    struct jpeg_decompress_struct cinfo;
    shim_error err;
    uint8_t *volatile pixels = NULL;
    shim_init(&cinfo, &err);
    const int jumped = setjmp(err.jump);
    if (jumped) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        set_error(error, error_size, jumped == 2 ? "corrupt JPEG data: " : "JPEG decode: ", err.message);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    shim_progress progress = {{shim_progress_monitor, 0, 0, 0, 0}, &err, MLRC_JPEG_MAX_SCANS};
    cinfo.progress = &progress.mgr;
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    const uint64_t w = cinfo.image_width, h = cinfo.image_height;
    progress.max_scans = scan_limit(w * h);
    if (w == 0 || h == 0 || w * h > max_pixels) {
        char detail[96];
        snprintf(detail, sizeof detail, "%llux%llu exceeds the limit of %llu pixels", (unsigned long long)w,
                 (unsigned long long)h, (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&cinfo);
        set_error(error, error_size, "JPEG too large: ", detail);
        return 1;
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo);
        set_error(error, error_size, "unsupported JPEG: ", "CMYK/YCCK colour space");
        return 1;
    }
    cinfo.out_color_space = JCS_RGB; /* grayscale is expanded to RGB by libjpeg-turbo */
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != 3) {
        jpeg_destroy_decompress(&cinfo);
        set_error(error, error_size, "unsupported JPEG: ", "cannot convert to RGB");
        return 1;
    }
    const size_t stride = (size_t)w * 3;
    pixels = malloc(stride * (size_t)h);
    if (!pixels) {
        jpeg_destroy_decompress(&cinfo);
        set_error(error, error_size, "out of memory decoding JPEG", "");
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
        if (err.warnings) break;
    }
    if (err.warnings || cinfo.output_scanline < cinfo.output_height) {
        char message[JMSG_LENGTH_MAX + 1];
        memcpy(message, err.message, sizeof err.message);
        message[JMSG_LENGTH_MAX] = 0;
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        set_error(error, error_size, "corrupt JPEG data: ", message[0] ? message : "incomplete scan");
        return 1;
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (err.warnings) {
        free(pixels);
        set_error(error, error_size, "corrupt JPEG data: ", err.message);
        return 1;
    }
    out->rgb = pixels;
    out->width = (int32_t)w;
    out->height = (int32_t)h;
    return 0;
}

void mlrc_jpeg_free(mlrc_jpeg_image *image) {
    if (!image) return;
    free(image->rgb);
    image->rgb = NULL;
}
