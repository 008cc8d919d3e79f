/* mlrc micro-kernels and the tables the operators choose them from.
 *
 * The layer below the operators (mlrc_kernels.h): each function here is one implementation of one op for one
 * ISA, named dtype_op[_tile]_isa (q8_gemm_6x32c4_avx512vnni: int8 GEMM, 6 rows x 32 columns, K in quads,
 * AVX512-VNNI). The portable reference (_ref) defines each family's results; optimized int8 variants equal it bit
 * for bit, fp32 variants to rounding. A micro-kernel never asks the CPU what it has: the operator picks it from its
 * op's table (the first row whose features are enabled and whose shape predicate accepts the call), once per graph
 * node when a session is created. Tests walk the same tables (every row the CPU can run, against the reference).
 *
 * Rows are thread-free: each computes a range (row blocks x column panels, output rows x channel units, pixel
 * blocks, elements) on the calling thread and the operator splits the work over threads. Only the fp32 GEMM rows
 * still take a thread count and split their own loops. */
#ifndef MLRC_UKERNELS_H
#define MLRC_UKERNELS_H

#include "mlrc_cpu.h"
#include "mlrc_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tables ---- */

/* A shape predicate: whether a variant takes this call (features: those enabled, for shape-dependent needs). */
typedef int (*mlrc_conv_suits_fn)(const mlrc_conv_geometry *g, uint32_t features);

/* int8 GEMM: the call's arguments, and a variant's range function over row blocks [rb0, rb1) (6 rows each) x
 * column panels [nb0, nb1) (8 columns each), run on one thread (`thread` indexes its share of the scratch). */
typedef struct mlrc_q8_gemm_args {
    int32_t M, N, K;
    const uint8_t *A;
    int32_t lda, zero;
    const int8_t *B;
    const int32_t *bias;
    const float *scale;
    const mlrc_q8_output *out;
    void *C;
    size_t row_bytes; /* ldc in bytes */
    void *scratch;    /* this call's scratch; thread t owns per_thread bytes at t * per_thread */
    size_t per_thread;
} mlrc_q8_gemm_args;
typedef void (*mlrc_q8_gemm_range_fn)(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                      int thread);

typedef struct mlrc_q8_gemm_variant {
    const char *name;
    uint32_t requires;     /* MLRC_CPU_* bits */
    int32_t panel_step;    /* a column split's boundaries are multiples of this many panels */
    int32_t needs_scratch; /* mlrc_q8_gemm_scratch_bytes(K, threads): activation rows widened per thread */
    mlrc_q8_gemm_range_fn range;
    /* The input zero point the row is fastest with: a session folds (model zero - input_zero) * column sums into
     * the bias once and passes this one (0 for the x86 rows; 128 where activations are flipped to int8). */
    int32_t input_zero;
    /* 0: exact on any weights; else only on weights whose mlrc_q8_weight_pair_peak is at most this (the rows that
     * sum uint8 x int8 pairs in int16), and the plans choose the row only then. */
    int32_t pair_limit;
} mlrc_q8_gemm_variant;

typedef void (*mlrc_f32_gemm_fn)(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B,
                                 int32_t ldb, const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);
typedef struct mlrc_f32_gemm_variant {
    const char *name;
    uint32_t requires;
    mlrc_f32_gemm_fn run;
} mlrc_f32_gemm_variant;

/* fp32 convolution read through per-pixel tap pointers (no im2col): blocks [b0, b1) of block_pixels output pixels
 * (in raster order). q: NULL, or where the fused quantize writes (then `output` is not written). */
typedef void (*mlrc_f32_conv_fn)(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                 const float *bias, float *output, int32_t act, float inv_scale, int32_t zero,
                                 uint8_t *q, int32_t b0, int32_t b1);
typedef struct mlrc_f32_conv_variant {
    const char *name;
    uint32_t requires;
    mlrc_conv_suits_fn suits;          /* NULL: every shape */
    mlrc_conv_suits_fn suits_quantize; /* shapes it can also quantize in place; NULL: none */
    int32_t block_pixels;
    mlrc_f32_conv_fn run;
} mlrc_f32_conv_variant;

/* Depthwise rows: output rows [oy0, oy1) x channel units [u0, u1) on the calling thread. A unit is unit_channels
 * channels (the last may be partial); a row with unit_channels 0 takes every channel as one unit (u0 = 0, u1 = 1). */
typedef void (*mlrc_f32_dwconv_fn)(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                   const float *bias, float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0,
                                   int32_t u1);
typedef struct mlrc_f32_dwconv_variant {
    const char *name;
    uint32_t requires;
    mlrc_conv_suits_fn suits;
    int32_t unit_channels;
    mlrc_f32_dwconv_fn run;
} mlrc_f32_dwconv_variant;

/* int8 convolution that reads the input itself (no im2col + GEMM): prepare fills scratch (scratch_bytes(g)) once
 * per call on one thread, then run computes blocks [b0, b1) of block_pixels output pixels from it. */
typedef void (*mlrc_q8_conv_prepare_fn)(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                        const int8_t *weights, const int32_t *bias, void *scratch);
typedef void (*mlrc_q8_conv_fn)(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                const int8_t *weights, const int32_t *bias, const float *scale,
                                const mlrc_q8_output *out, void *output, void *scratch, int32_t b0, int32_t b1);
typedef struct mlrc_q8_conv_variant {
    const char *name;
    uint32_t requires;
    mlrc_conv_suits_fn suits;
    size_t (*scratch_bytes)(const mlrc_conv_geometry *g);
    int32_t block_pixels;
    mlrc_q8_conv_prepare_fn prepare;
    mlrc_q8_conv_fn run;
    int32_t pair_limit; /* as in mlrc_q8_gemm_variant */
} mlrc_q8_conv_variant;

typedef void (*mlrc_q8_dwconv_fn)(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                  const int8_t *weights, const int32_t *bias, const float *scale,
                                  const mlrc_q8_output *out, void *output, int32_t oy0, int32_t oy1, int32_t u0,
                                  int32_t u1, void *scratch);
typedef struct mlrc_q8_dwconv_variant {
    const char *name;
    uint32_t requires;
    mlrc_conv_suits_fn suits;
    int32_t unit_channels;
    size_t (*scratch_bytes)(const mlrc_conv_geometry *g); /* per thread (64-byte aligned); NULL: none */
    mlrc_q8_dwconv_fn run;
} mlrc_q8_dwconv_variant;

/* Output rows [oy0, oy1). */
typedef void (*mlrc_q8_maxpool_fn)(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t oy0,
                                   int32_t oy1);
typedef struct mlrc_q8_maxpool_variant {
    const char *name;
    uint32_t requires;
    mlrc_q8_maxpool_fn run;
} mlrc_q8_maxpool_variant;

/* LayerNorm over pixels [p0, p1), fp32 output or quantized to uint8 in the same pass. */
typedef void (*mlrc_f32_layernorm_rows_fn)(int32_t p0, int32_t p1, int32_t channels, const float *input,
                                           const float *gamma, const float *beta, float eps, float *output);
typedef void (*mlrc_q8_layernorm_rows_fn)(int32_t p0, int32_t p1, int32_t channels, const float *input,
                                          const float *gamma, const float *beta, float eps, float inv_scale,
                                          int32_t zero, uint8_t *q);
typedef struct mlrc_layernorm_variant {
    const char *name;
    uint32_t requires;
    mlrc_f32_layernorm_rows_fn f32;
    mlrc_q8_layernorm_rows_fn q8;
} mlrc_layernorm_variant;

/* One thread's block of the quantize (kernels that quantize their own output call the chosen row too). */
typedef void (*mlrc_q8_quantize_block_fn)(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q);
typedef struct mlrc_q8_quantize_variant {
    const char *name;
    uint32_t requires;
    mlrc_q8_quantize_block_fn block;
} mlrc_q8_quantize_variant;

/* Elements [i0, i1). */
typedef void (*mlrc_q8_add_fn)(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b,
                               int32_t zb, float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out);
typedef struct mlrc_q8_add_variant {
    const char *name;
    uint32_t requires;
    mlrc_q8_add_fn run;
} mlrc_q8_add_variant;

/* The tables, best first; the last row of each is the reference, which needs nothing and takes every shape.
 * Rows for another architecture are not compiled in. */
extern const mlrc_q8_gemm_variant mlrc_q8_gemm_variants[];
extern const int32_t mlrc_q8_gemm_variant_count;
extern const mlrc_f32_gemm_variant mlrc_f32_gemm_variants[];
extern const int32_t mlrc_f32_gemm_variant_count;
extern const mlrc_f32_conv_variant mlrc_f32_conv_variants[]; /* no reference row: im2col + GEMM is the fallback */
extern const int32_t mlrc_f32_conv_variant_count;
extern const mlrc_f32_dwconv_variant mlrc_f32_dwconv_variants[];
extern const int32_t mlrc_f32_dwconv_variant_count;
extern const mlrc_q8_conv_variant mlrc_q8_conv_variants[]; /* no reference row: im2col + GEMM is the fallback */
extern const int32_t mlrc_q8_conv_variant_count;
extern const mlrc_q8_dwconv_variant mlrc_q8_dwconv_variants[];
extern const int32_t mlrc_q8_dwconv_variant_count;
extern const mlrc_q8_maxpool_variant mlrc_q8_maxpool_variants[];
extern const int32_t mlrc_q8_maxpool_variant_count;
extern const mlrc_layernorm_variant mlrc_layernorm_variants[];
extern const int32_t mlrc_layernorm_variant_count;
int32_t mlrc_layernorm_choose(uint32_t features);
extern const mlrc_q8_quantize_variant mlrc_q8_quantize_variants[];
extern const int32_t mlrc_q8_quantize_variant_count;
extern const mlrc_q8_add_variant mlrc_q8_add_variants[];
extern const int32_t mlrc_q8_add_variant_count;

/* The first row a plan takes where the features are `features` (what the operators use to compose plans). */
int32_t mlrc_f32_gemm_choose(uint32_t features);
int32_t mlrc_q8_quantize_choose(uint32_t features);

/* The features a row needs that `features` lacks (0: it can run). */
static inline uint32_t mlrc_variant_missing(uint32_t requires, uint32_t features) { return requires & ~features; }

/* ---- int8 GEMM (packed weights: mlrc_q8_pack_weights) ---- */
void mlrc_q8_gemm_range_ref(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1, int t);
void mlrc_q8_gemm_range_6x8c4_avx2(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                   int t);
void mlrc_q8_gemm_range_6x16c4_avx2_maddubs(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0,
                                           int32_t nb1, int t);
void mlrc_q8_gemm_range_6x16c4_avxvnni(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                       int t);
void mlrc_q8_gemm_range_6x16c4_avx512vnni(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0,
                                          int32_t nb1, int t);
void mlrc_q8_gemm_range_6x32c4_avx512vnni(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0,
                                          int32_t nb1, int t);
void mlrc_q8_gemm_range_2x8c4_neon(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                   int t);
void mlrc_q8_gemm_range_4x16c4_dotprod(const mlrc_q8_gemm_args *a, int32_t rb0, int32_t rb1, int32_t nb0, int32_t nb1,
                                       int t);
/* The plain reference GEMM (one loop over rows): what the kernel tests compare every row of the table with. */
void mlrc_q8_gemm_ref(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero, const int8_t *B,
                      const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C, int32_t ldc,
                      int32_t threads);

/* ---- int8 convolution through tap pointers (in_c / groups a multiple of 4, at most 64 taps) ----
 * The quad-dot rows (VNNI, and AVX2 vpmaddubsw on pair-bounded weights) read the input in place; their scratch
 * holds per-panel biases and a row of zero-point bytes for padding taps. */
size_t mlrc_q8_conv_indirect_vnni_scratch_bytes(const mlrc_conv_geometry *g);
void mlrc_q8_conv_indirect_prepare_6x16c4_avx512vnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                                     const int8_t *weights, const int32_t *bias, void *scratch);
void mlrc_q8_conv_indirect_6x16c4_avx512vnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                             const int8_t *weights, const int32_t *bias, const float *scale,
                                             const mlrc_q8_output *out, void *output, void *scratch, int32_t b0,
                                             int32_t b1);
void mlrc_q8_conv_indirect_prepare_6x16c4_avxvnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                                  const int8_t *weights, const int32_t *bias, void *scratch);
void mlrc_q8_conv_indirect_prepare_6x16c4_avx2_maddubs(const mlrc_conv_geometry *g, const uint8_t *input,
                                                       int32_t in_zero, const int8_t *weights, const int32_t *bias,
                                                       void *scratch);
void mlrc_q8_conv_indirect_6x16c4_avx2_maddubs(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                               const int8_t *weights, const int32_t *bias, const float *scale,
                                               const mlrc_q8_output *out, void *output, void *scratch, int32_t b0,
                                               int32_t b1);
/* AVX2 (vpmaddwd): the input widened once to int16 (x - zero) in scratch, then 6 x 8 tiles over tap pointers
 * into that copy (padding taps point at a row of zeros). */
size_t mlrc_q8_conv_indirect_avx2_scratch_bytes(const mlrc_conv_geometry *g);
void mlrc_q8_conv_indirect_prepare_6x8c4_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                              const int8_t *weights, const int32_t *bias, void *scratch);
void mlrc_q8_conv_indirect_6x8c4_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                      const int8_t *weights, const int32_t *bias, const float *scale,
                                      const mlrc_q8_output *out, void *output, void *scratch, int32_t b0, int32_t b1);
void mlrc_q8_conv_indirect_6x16c4_avxvnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                          const int8_t *weights, const int32_t *bias, const float *scale,
                                          const mlrc_q8_output *out, void *output, void *scratch, int32_t b0,
                                          int32_t b1);

/* ---- fp32 GEMM ---- */
void mlrc_f32_gemm_ref(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                       const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);
void mlrc_f32_gemm_6x16_avx2(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                             const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);
void mlrc_f32_gemm_8x8_neon(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                            const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);

/* ---- fp32 convolution through tap pointers (at most 64 taps; quantizing in place for at most 512 channels) ---- */
int mlrc_f32_conv_indirect_suits(const mlrc_conv_geometry *g, uint32_t features);
int mlrc_f32_conv_indirect_quantize_suits(const mlrc_conv_geometry *g, uint32_t features);
/* 6 x 16 FMA tiles; the _avx512 entry adds 32-column zmm tiles and row tiles without pointer tables. */
void mlrc_f32_conv_indirect_6x16_avx2(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                      const float *bias, float *output, int32_t act, float inv_scale, int32_t zero,
                                      uint8_t *q, int32_t b0, int32_t b1);
void mlrc_f32_conv_indirect_6x32_avx512(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                        const float *bias, float *output, int32_t act, float inv_scale, int32_t zero,
                                        uint8_t *q, int32_t b0, int32_t b1);

/* ---- fp32 depthwise (weights [kernel_h][kernel_w][C]) ---- */
void mlrc_f32_dwconv_ref(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                         float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0, int32_t u1);
/* One output row of the reference, channels [c0, c1): the channel tail of the SIMD variants. */
void mlrc_f32_dwconv_ref_row(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                             float *output, int32_t act, int32_t oy, int32_t c0, int32_t c1);
void mlrc_f32_dwconv_avx2(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0, int32_t u1);
void mlrc_f32_dwconv_neon(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0, int32_t u1);
/* Kernels of at most 64 taps. */
int mlrc_f32_dwconv_avx2_suits(const mlrc_conv_geometry *g, uint32_t features);
int mlrc_f32_dwconv_neon_suits(const mlrc_conv_geometry *g, uint32_t features);
/* 64 channels or more: four FMA chains per pixel, units of 64 channels. */
int mlrc_f32_dwconv_64c_avx512_suits(const mlrc_conv_geometry *g, uint32_t features);
void mlrc_f32_dwconv_64c_avx512(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                const float *bias, float *output, int32_t act, int32_t oy0, int32_t oy1, int32_t u0,
                                int32_t u1);

/* ---- int8 depthwise (weights [kernel_h][kernel_w][C] int8; padding taps contribute nothing) ---- */
void mlrc_q8_dwconv_ref(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                        const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t oy0,
                        int32_t oy1, int32_t u0, int32_t u1, void *scratch);
/* One output pixel of the reference, channels [c0, c1) (pixel_out: that pixel's output row): the channel tail of
 * the SIMD variants. */
void mlrc_q8_dwconv_ref_pixel(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                              const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *pixel_out,
                              int32_t oy, int32_t ox, int32_t c0, int32_t c1);
/* Horizontal tap pairs from int16 row buffers in scratch (mlrc_q8_dwconv_16c2_avx2_scratch bytes per thread),
 * kernels 2..16 wide and up to 16 high. */
int mlrc_q8_dwconv_16c2_avx2_suits(const mlrc_conv_geometry *g, uint32_t features);
size_t mlrc_q8_dwconv_16c2_avx2_scratch(const mlrc_conv_geometry *g);
void mlrc_q8_dwconv_16c2_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                              const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                              int32_t oy0, int32_t oy1, int32_t u0, int32_t u1, void *scratch);
/* 16-channel blocks on AVX2 (tap pairs through vpmaddwd in the interior); the _avx512 entry takes 32 channels per
 * step in zmm registers first. */
void mlrc_q8_dwconv_16c_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                             const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                             int32_t oy0, int32_t oy1, int32_t u0, int32_t u1, void *scratch);
void mlrc_q8_dwconv_32c_avx512(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                               const int8_t *weights, const int32_t *bias, const float *scale,
                               const mlrc_q8_output *out, void *output, int32_t oy0, int32_t oy1, int32_t u0,
                               int32_t u1, void *scratch);
/* One output row of the 16-channel AVX2 kernel, channels [c_begin, C) (a multiple of 16): the AVX-VNNI tail. */
void mlrc_q8_dwconv_16c_avx2_row(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                 const int8_t *weights, const int32_t *bias, const float *scale,
                                 const mlrc_q8_output *out, void *output, int32_t oy, int32_t c_begin);
/* vpdpbusd over four kernel rows per channel: kernels up to 8 x 8, stride_w up to 4. */
int mlrc_q8_dwconv_32c4_avxvnni_suits(const mlrc_conv_geometry *g, uint32_t features);
void mlrc_q8_dwconv_32c4_avxvnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                 const int8_t *weights, const int32_t *bias, const float *scale,
                                 const mlrc_q8_output *out, void *output, int32_t oy0, int32_t oy1, int32_t u0,
                                 int32_t u1, void *scratch);
int mlrc_q8_dwconv_64c4_avx512vnni_suits(const mlrc_conv_geometry *g, uint32_t features);
void mlrc_q8_dwconv_64c4_avx512vnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                    const int8_t *weights, const int32_t *bias, const float *scale,
                                    const mlrc_q8_output *out, void *output, int32_t oy0, int32_t oy1, int32_t u0,
                                    int32_t u1, void *scratch);
/* Taps in pairs on 8-bit lanes, padding from a zero-point row (mlrc_q8_dwconv_16c2_neon_scratch bytes per thread). */
size_t mlrc_q8_dwconv_16c2_neon_scratch(const mlrc_conv_geometry *g);
void mlrc_q8_dwconv_16c2_neon(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                              const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                              int32_t oy0, int32_t oy1, int32_t u0, int32_t u1, void *scratch);

/* ---- LayerNorm rows (the reference's 8-lane sums; the AVX2 rows compile the same code) ---- */
void mlrc_f32_layernorm_rows_ref(int32_t p0, int32_t p1, int32_t channels, const float *input, const float *gamma,
                                 const float *beta, float eps, float *output);
void mlrc_q8_layernorm_rows_ref(int32_t p0, int32_t p1, int32_t channels, const float *input, const float *gamma,
                                const float *beta, float eps, float inv_scale, int32_t zero, uint8_t *q);
void mlrc_f32_layernorm_rows_avx2(int32_t p0, int32_t p1, int32_t channels, const float *input, const float *gamma,
                                  const float *beta, float eps, float *output);
void mlrc_q8_layernorm_rows_avx2(int32_t p0, int32_t p1, int32_t channels, const float *input, const float *gamma,
                                 const float *beta, float eps, float inv_scale, int32_t zero, uint8_t *q);

/* ---- int8 element-wise and pooling ---- */
void mlrc_q8_quantize_block_ref(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q);
void mlrc_q8_quantize_block_avx2(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q);
void mlrc_q8_quantize_block_neon(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q);
void mlrc_q8_add_ref(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                     float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out);
void mlrc_q8_add_avx2(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                      float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out);
void mlrc_q8_add_neon(size_t i0, size_t i1, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                      float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out);
void mlrc_q8_maxpool_ref(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t oy0, int32_t oy1);
void mlrc_q8_maxpool_avx2(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t oy0, int32_t oy1);

/* ---- fp32 element-wise ---- */
/* act(a + b) over one block on the calling thread (mlrc_f32_add's and the fused add + quantize's step). */
void mlrc_f32_add_block(size_t count, const float *a, const float *b, float *out, int32_t act);

#ifdef __cplusplus
}
#endif
#endif
