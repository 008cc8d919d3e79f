/* mlrc: int8/fp32 inference for lightweight image-classification CNNs.
 *
 * Threading: an mlrc_model is immutable once open and may be shared by any number of threads.
 * An mlrc_session holds one thread's scratch memory: use each session from one thread at a time
 * (sessions of one model may run concurrently, each with its own thread count); a call on a session another
 * thread is using returns MLRC_ERR_ARGUMENT instead of running. A session keeps its model alive: closing the
 * model while sessions exist is safe, and the model's labels stay valid until the last of them is destroyed.
 * No function aborts or traps on bad input: each returns a status; mlrc_session_error gives detail
 * for session calls, mlrc_last_error for the calling thread's last failed call of any kind.
 *
 * Images: baseline and progressive JPEGs, colour or grayscale, decode; CMYK/YCCK JPEGs get MLRC_ERR_IMAGE.
 * libjpeg's warnings about corrupt or truncated data are errors here (MLRC_ERR_IMAGE), not a gray-padded
 * image. Images smaller than 16x16 or larger than the pixel limit (64 Mi pixels by default, see
 * mlrc_set_max_image_pixels) are refused before any pixel buffer is allocated, and so are progressive JPEGs of
 * more than 64 scans (real encoders write a few dozen at most; each costs a pass over the image), fewer above
 * 4 Mpixels (in proportion, down to 16 scans at 16 Mpixels and more): MLRC_ERR_IMAGE.
 * Models: mlrc_model_open maps the file read-only and checks its CRC-32 and structure; do not truncate
 * or rewrite a model file while it is open (use mlrc_model_open_memory for files that may change). */
#ifndef MLRC_H
#define MLRC_H

#include <stddef.h>
#include <stdint.h>

/* The one version number of the library, the tools, the file's ABI (SONAME libmlrc.so.MAJOR) and the packages.
 * mlrc_version() returns MLRC_VERSION of the library actually loaded. */
#define MLRC_VERSION_MAJOR 0
#define MLRC_VERSION_MINOR 1
#define MLRC_VERSION_PATCH 0
#define MLRC_VERSION "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlrc_status {
    MLRC_OK = 0,
    MLRC_ERR_ARGUMENT = 1, /* null pointer, wrong count, k or threads out of range */
    MLRC_ERR_IO = 2,       /* file missing or unreadable */
    MLRC_ERR_FORMAT = 3,   /* not an mlrc model, truncated, checksum mismatch */
    MLRC_ERR_VERSION = 4,  /* a format version this library does not read */
    MLRC_ERR_IMAGE = 5,    /* image undecodable, unsupported or over the size limit */
    MLRC_ERR_MEMORY = 6,   /* allocation failed */
    MLRC_ERR_INTERNAL = 7
} mlrc_status;

typedef struct mlrc_model mlrc_model;     /* immutable once open; shared freely across threads */
typedef struct mlrc_session mlrc_session; /* scratch memory for one thread at a time */

typedef struct mlrc_prediction {
    int32_t index;
    float probability; /* softmax over all classes */
    const char *label; /* owned by the model: valid until the model is closed and its sessions destroyed */
} mlrc_prediction;

const char *mlrc_version(void);
const char *mlrc_status_string(mlrc_status status); /* never NULL, also for unknown values */

mlrc_status mlrc_model_open(const char *path, mlrc_model **out_model);
mlrc_status mlrc_model_open_memory(const void *data, size_t size, mlrc_model **out_model); /* copies data */
void mlrc_model_close(mlrc_model *model);                                                  /* NULL is a no-op */
int32_t mlrc_model_num_classes(const mlrc_model *model);                                   /* 0 for NULL */
const char *mlrc_model_label(const mlrc_model *model, int32_t index);                      /* NULL when out of range */
mlrc_status mlrc_model_input_shape(const mlrc_model *model, int32_t *channels, int32_t *height, int32_t *width);

mlrc_status mlrc_session_create(const mlrc_model *model, int32_t num_threads,
                                mlrc_session **out_session); /* 0 = all cores, <0 = ARGUMENT */
void mlrc_session_destroy(mlrc_session *session);            /* NULL is a no-op */
const char *mlrc_session_error(const mlrc_session *session); /* detail of the last failure, "" if none */

/* input: one preprocessed image, float32 NCHW, input_count = C*H*W; logits: logits_count = num_classes */
mlrc_status mlrc_run(mlrc_session *session, const float *input, size_t input_count, float *logits, size_t logits_count);
/* resize/crop/normalize as the model file says, then the top k (1..num_classes) predictions, best first */
mlrc_status mlrc_classify_rgb(mlrc_session *session, const uint8_t *rgb, int32_t width, int32_t height,
                              int32_t row_stride, mlrc_prediction *top, int32_t k);
mlrc_status mlrc_classify_jpeg(mlrc_session *session, const void *jpeg, size_t size, mlrc_prediction *top, int32_t k);

/* Additions beyond the core API. */
/* The calling thread's last error message from any mlrc call ("" if none); valid until its next mlrc call. */
const char *mlrc_last_error(void);
/* The model's architecture name as quantize recognised it (e.g. "mlrc_convnext_atto"); "" for NULL. */
const char *mlrc_model_architecture(const mlrc_model *model);
/* What mlrc_classify_* do to a photo before the network, as one JSON object, e.g. {"resize": 256, "crop": true,
 * "height": 224, "width": 224, "interpolation": "bilinear", "mean": [0.485, 0.456, 0.406], "std": [...]}: the
 * shorter side resized to "resize" then the centre height x width crop ("crop": false, "resize": null: the whole
 * photo resized to height x width), RGB scaled to [0, 1], then (v - mean) / std. "" for NULL. Owned by the model. */
const char *mlrc_model_preprocessing(const mlrc_model *model);
/* Images with more pixels than this are refused before decoding allocates (default 64 Mi pixels). Process-wide. */
void mlrc_set_max_image_pixels(uint64_t max_pixels);
/* The kernels' ISA level for sessions created after the call (a session keeps the kernels it chose): "auto" (the
 * default: everything the CPU has), "ref" (the portable reference kernels), "avx2", "avxvnni" (AVX2 + AVX-VNNI, no
 * AVX-512), "avx512" on x86; "neon", "dotprod" on AArch64. A level asks for features, the CPU may have fewer: the
 * kernels use what both allow. The MLRC_ISA environment variable sets the level before the first call. Process-wide;
 * MLRC_ERR_ARGUMENT for NULL or an unknown name. */
mlrc_status mlrc_set_isa(const char *level);
/* The level in force and the CPU features it lets the kernels use, e.g. "avx2 (sse4.2 avx2 fma)"; never NULL. */
const char *mlrc_isa_level(void);

#ifdef __cplusplus
}
#endif
#endif
