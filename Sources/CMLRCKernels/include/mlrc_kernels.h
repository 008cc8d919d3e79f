/* mlrc kernels: the operators, the plain C entry points the Swift runtime (and a C program) calls.
 *
 * Layout: activations are NHWC with batch 1 (a tensor is H x W x C, channels contiguous),
 * so pointwise convolutions are GEMMs and per-pixel ops walk contiguous memory.
 * An operator arranges the work (im2col or tap pointers, tiling, threads) and runs a micro-kernel chosen from
 * its op's table (mlrc_ukernels.h) by the features enabled (mlrc_cpu.h). The ops with tables have a plan:
 * mlrc_*_plan chooses once (a session does it per node when it is created), mlrc_*_run runs the choice; the
 * plain entry points choose on every call. Operators know nothing of graphs. */
#ifndef MLRC_KERNELS_H
#define MLRC_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "mlrc_cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlrc_activation {
    MLRC_ACT_NONE = 0,
    MLRC_ACT_RELU = 1,
    MLRC_ACT_RELU6 = 2,
    MLRC_ACT_GELU = 3, /* exact: x * 0.5 * (1 + erf(x / sqrt 2)) */
    MLRC_ACT_SIGMOID = 4,
    MLRC_ACT_HARDSWISH = 5,   /* x * relu6(x + 3) / 6 (MobileNetV3) */
    MLRC_ACT_HARDSIGMOID = 6, /* relu6(x + 3) / 6 (the squeeze-and-excitation gate of MobileNetV3, GhostNet) */
    MLRC_ACT_SILU = 7,        /* x * sigmoid(x) (EfficientNet) */
    MLRC_ACT_COUNT = 8
} mlrc_activation;

/* ---- plans: a kernel chosen once, run many times ---- */

/* What the _run functions return. */
enum { MLRC_KERNEL_OK = 0, MLRC_KERNEL_ERR_SCRATCH = -1 /* the plan needs scratch and none was given */ };

/* The ops whose kernels come from a table (mlrc_ukernels.h). */
typedef enum mlrc_op {
    MLRC_OP_F32_GEMM = 0,
    MLRC_OP_F32_CONV = 1,
    MLRC_OP_F32_DWCONV = 2,
    MLRC_OP_Q8_GEMM = 3,
    MLRC_OP_Q8_CONV = 4,
    MLRC_OP_Q8_DWCONV = 5,
    MLRC_OP_Q8_MAXPOOL = 6,
    MLRC_OP_Q8_QUANTIZE = 7,
    MLRC_OP_Q8_ADD = 8,
    MLRC_OP_LAYERNORM = 9,
    MLRC_OP_COUNT = 10
} mlrc_op;

/* How a convolution is arranged. */
enum {
    MLRC_CONV_GEMM = 0,   /* 1x1, stride 1, no padding, ungrouped: one GEMM on the input itself */
    MLRC_CONV_IM2COL = 1, /* rows gathered into scratch, then the GEMM */
    MLRC_CONV_DIRECT = 2  /* a convolution variant reads the input itself (tap pointers) */
};

typedef struct mlrc_kernel_plan {
    int32_t op;           /* MLRC_OP_* */
    int32_t arrangement;  /* convolutions: MLRC_CONV_*; 0 otherwise */
    int32_t variant;      /* the row of the op's table (convolutions arranged DIRECT: of the conv table; else -1) */
    int32_t gemm;         /* convolutions arranged as GEMMs: the row of the GEMM table; else -1 */
    int32_t quantize;     /* fused quantizes done apart (f32 conv + quantize, add + quantize): the quantize row */
    int32_t threads;      /* the thread count scratch_bytes is for; run with at most this many */
    size_t scratch_bytes; /* what run needs (0: nothing) */
} mlrc_kernel_plan;

/* A row's name ("q8_gemm_6x32c4_avx512vnni"), or NULL out of range. */
const char *mlrc_op_variant_name(int32_t op, int32_t variant);
/* The rows of an op's table. */
int32_t mlrc_op_variant_count(int32_t op);
/* The features a row needs (MLRC_CPU_* bits). */
uint32_t mlrc_op_variant_requires(int32_t op, int32_t variant);
/* What a plan runs, e.g. "q8_conv_im2col+q8_gemm_6x8c4_avx2", into buf (always terminated); returns buf. */
const char *mlrc_kernel_plan_name(const mlrc_kernel_plan *plan, char *buf, size_t size);

/* Convolution geometry, shared by the conv, depthwise and pooling kernels.
 * Padding may be asymmetric (TensorFlow "same"); bottom/right padding is implied by out_h/out_w. */
typedef struct mlrc_conv_geometry {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t groups;
} mlrc_conv_geometry;

/* 1x1, stride 1, no padding, ungrouped: a GEMM on the NHWC input itself (MLRC_CONV_GEMM in both dtypes). */
static inline int mlrc_conv_is_pointwise(const mlrc_conv_geometry *g) {
    return g->kernel_h == 1 && g->kernel_w == 1 && g->stride_h == 1 && g->stride_w == 1 && g->pad_top == 0 &&
           g->pad_left == 0 && g->groups == 1 && g->in_h == g->out_h && g->in_w == g->out_w;
}

/* C[m][n] = act(sum_k A[m][k] * B[k][n] + bias[n]); bias may be NULL. Row strides lda, ldb, ldc. */
void mlrc_f32_gemm(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                   const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);

/* General (optionally grouped) convolution by im2col + GEMM.
 * weights: [groups][kernel_h * kernel_w * in_c/groups][out_c/groups], the K index ordered (ky, kx, ci).
 * scratch: mlrc_f32_conv_scratch_floats(g) floats (0 for 1x1 stride-1 ungrouped convs). */
size_t mlrc_f32_conv_scratch_floats(const mlrc_conv_geometry *g);
void mlrc_f32_conv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                   float *output, float *scratch, int32_t act, int32_t threads);
/* The convolution's kernel chosen once: quantize != 0 for mlrc_f32_conv_quantize_run. scratch_bytes counts bytes
 * (at least mlrc_f32_conv_scratch_floats(g) floats where the plan gathers rows). */
void mlrc_f32_conv_plan(const mlrc_conv_geometry *g, int32_t quantize, int32_t threads, mlrc_kernel_plan *plan);
int mlrc_f32_conv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const float *input,
                      const float *weights, const float *bias, float *output, float *scratch, int32_t act,
                      int32_t threads);
int mlrc_f32_conv_quantize_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const float *input,
                               const float *weights, const float *bias, float *output, float *scratch, int32_t act,
                               float inv_scale, int32_t zero, uint8_t *q, int32_t threads);

/* mlrc_f32_conv then mlrc_q8_quantize of its output into q: the same bytes. Where the kernel can, each block of
 * pixels is quantized while in cache and `output` is not written (it must still hold the conv's output size:
 * the other paths compute the floats there first). */
void mlrc_f32_conv_quantize(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                            float *output, float *scratch, int32_t act, float inv_scale, int32_t zero, uint8_t *q,
                            int32_t threads);
/* Depthwise convolution (k_h x k_w, including strips k x 1 and 1 x k). weights: [kernel_h][kernel_w][C]. */
void mlrc_f32_dwconv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                     float *output, int32_t act, int32_t threads);
void mlrc_f32_dwconv_plan(const mlrc_conv_geometry *g, int32_t threads, mlrc_kernel_plan *plan);
int mlrc_f32_dwconv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const float *input,
                        const float *weights, const float *bias, float *output, int32_t act, int32_t threads);
/* LayerNorm over the channels of each pixel; gamma/beta may be NULL (no affine). */
/* The row LayerNorm runs here (fp32 and fused with the quantize alike), for the profile's kernel names. */
void mlrc_layernorm_plan(mlrc_kernel_plan *plan);
void mlrc_f32_layernorm(int32_t pixels, int32_t channels, const float *input, const float *gamma, const float *beta,
                        float eps, float *output, int32_t threads);

/* out = act(a + b), element-wise over count floats. */
void mlrc_f32_add(size_t count, const float *a, const float *b, float *out, int32_t act, int32_t threads);
/* A planar [channels][pixels] tensor (PyTorch's NCHW at batch 1) to interleaved [pixels][channels]. */
void mlrc_f32_nchw_to_nhwc(int32_t channels, size_t pixels, const float *src, float *dst, int32_t threads);
/* mlrc_f32_add then mlrc_q8_quantize of its result into q, in one pass: the same floats in out (NULL: the
 * sum is not stored) and the same bytes in q. */
void mlrc_f32_add_quantize(size_t count, const float *a, const float *b, float *out, int32_t act, float inv_scale,
                           int32_t zero, uint8_t *q, int32_t threads);
/* With the quantize block chosen once (plan from mlrc_q8_quantize_plan). */
int mlrc_f32_add_quantize_run(const mlrc_kernel_plan *plan, size_t count, const float *a, const float *b, float *out,
                              int32_t act, float inv_scale, int32_t zero, uint8_t *q, int32_t threads);
/* out[p][c] = act(x[p][c] * scale[c] + shift[c]) (a BatchNorm that could not be folded). */
void mlrc_f32_channel_affine(int32_t pixels, int32_t channels, const float *x, const float *scale, const float *shift,
                             float *out, int32_t act, int32_t threads);
/* Applies an activation in place. */
void mlrc_f32_activation(size_t count, float *x, int32_t act, int32_t threads);
/* Copies a [pixels][src_c] tensor into channels [offset, offset + src_c) of a [pixels][dst_c] one. */
void mlrc_f32_copy_channels(int32_t pixels, const float *src, int32_t src_c, float *dst, int32_t dst_c, int32_t offset,
                            int32_t threads);
/* Channels [offset, offset + count) of a [pixels][src_c] tensor as a [pixels][count] one (a channel split). */
void mlrc_f32_slice_channels(int32_t pixels, const float *src, int32_t src_c, int32_t offset, int32_t count,
                             float *dst, int32_t threads);
/* ShuffleNet's channel shuffle: channels viewed as [groups][C / groups], transposed to [C / groups][groups]. */
void mlrc_f32_channel_shuffle(int32_t pixels, int32_t channels, int32_t groups, const float *x, float *out,
                              int32_t threads);
/* out[p][c] = x[p][c] * gate[c]: the multiply of squeeze-and-excitation (gate is a 1 x 1 x C value). */
void mlrc_f32_channel_scale(int32_t pixels, int32_t channels, const float *x, const float *gate, float *out,
                            int32_t threads);

/* Max / average pooling with the geometry's window; average counts padded cells when count_pad != 0. */
void mlrc_f32_maxpool(const mlrc_conv_geometry *g, const float *input, float *output, int32_t threads);
void mlrc_f32_avgpool(const mlrc_conv_geometry *g, const float *input, float *output, int32_t count_pad,
                      int32_t threads);
/* Mean over all pixels: output[c]. */
void mlrc_f32_global_avgpool(int32_t pixels, int32_t channels, const float *input, float *output);
/* Efficient Channel Attention: y = x * sigmoid(conv1d_k(mean_pixels(x))) across channels (zero padding k/2). */
void mlrc_f32_eca(int32_t pixels, int32_t channels, const float *input, const float *kernel, int32_t k, float *output,
                  float *scratch_2c, int32_t threads);

/* ---------------------------------------------------------------------------------------------------------
 * int8. Activations are uint8 with a zero point (real = scale * (q - zero)); weights are int8, symmetric, one
 * scale per output channel; products accumulate exactly in int32. An output stage turns the accumulator acc
 * of output channel c into the stored value:
 *     v = (float)(acc + bias[c]) * scale[c]                        (one rounding: a single multiply)
 *   U8:  q = round_half_even(clamp(v, lo - zero, hi - zero)) + zero, then q = lut[q] when lut != NULL
 *   F32: act(v)
 * The U8 stage is integer-exact and ordered the same way in every variant, so optimized int8 kernels equal
 * their reference bit for bit; ReLU/ReLU6 are folded into [lo, hi], other activations into the 256-entry lut. */
enum { MLRC_Q8_OUT_U8 = 0, MLRC_Q8_OUT_F32 = 1 };

typedef struct mlrc_q8_output {
    int32_t kind;       /* MLRC_Q8_OUT_U8 or MLRC_Q8_OUT_F32 */
    int32_t zero;       /* U8: zero point of the requantized value (the lut's input) */
    int32_t lo, hi;     /* U8: clamp range, 0 <= lo <= hi <= 255 */
    int32_t act;        /* F32: activation applied to v */
    const uint8_t *lut; /* U8: optional 256-entry table applied last */
} mlrc_q8_output;

/* The U8 output stage on one value (the definition every variant matches). */
uint8_t mlrc_q8_requantize_scalar(int32_t acc, int32_t bias, float scale, const mlrc_q8_output *out);

/* Packed GEMM weights: quads of 4 consecutive k for 8 consecutive n, [ceil(N/8)][ceil(K/4)][8][4] int8, zero
 * padded; element (k, n) sits at ((n / 8) * ceil(K/4) + k / 4) * 32 + (n % 8) * 4 + k % 4. The quad layout
 * feeds vpmaddwd pairs on AVX2 and sdot lanes on ARM. `w_kn` is [K][N]. */
size_t mlrc_q8_packed_bytes(int32_t N, int32_t K);
void mlrc_q8_pack_weights(int32_t N, int32_t K, const int8_t *w_kn, int8_t *packed);

/* C = output_stage(sum_k (A[m][k] - a_zero) * B[k][n]); A uint8 rows of stride lda, B packed as above,
 * C uint8 or float (out->kind) with row stride ldc elements. scratch: mlrc_q8_gemm_scratch_bytes(K, threads)
 * bytes, 64-byte aligned, for the variants that widen rows (the plan says; NULL otherwise). Returns
 * MLRC_KERNEL_ERR_SCRATCH, writing nothing, when the chosen kernel needs scratch and it is NULL. */
size_t mlrc_q8_gemm_scratch_bytes(int32_t K, int32_t threads);
/* How large the weights' pairs get: over every column n and every pair of rows k = 2j, 2j + 1, the larger of the
 * pair's positive magnitudes added up and its negative ones (w = (100, -90) gives 100, (60, 70) gives 130).
 * Kernels that sum uint8 x int8 pairs in int16 (AVX2 vpmaddubsw) are exact when it is at most
 * MLRC_Q8_MADDUBS_PAIR_LIMIT: 255 * 128 = 32640 fits int16. A grouped convolution's weights (groups packed end to
 * end): mlrc_q8_conv_weight_pair_peak. */
enum { MLRC_Q8_MADDUBS_PAIR_LIMIT = 128, MLRC_Q8_PAIR_PEAK_UNKNOWN = 255 };
int32_t mlrc_q8_weight_pair_peak(int32_t N, int32_t K, const int8_t *packed);
/* Plans: pair_peak is the weights' mlrc_q8_weight_pair_peak (MLRC_Q8_PAIR_PEAK_UNKNOWN: never a pair-bounded row);
 * mlrc_q8_gemm_plan takes it as unknown. */
void mlrc_q8_gemm_plan_for(int32_t K, int32_t pair_peak, int32_t threads, mlrc_kernel_plan *plan);
void mlrc_q8_gemm_plan(int32_t K, int32_t threads, mlrc_kernel_plan *plan);
int mlrc_q8_gemm_run(const mlrc_kernel_plan *plan, int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda,
                     int32_t a_zero, const int8_t *B, const int32_t *bias, const float *scale,
                     const mlrc_q8_output *out, void *C, int32_t ldc, void *scratch, int32_t threads);
int mlrc_q8_gemm(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero, const int8_t *B,
                 const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C, int32_t ldc,
                 void *scratch, int32_t threads);

/* General or grouped convolution: weights are per group a packed GEMM matrix (N = out_c/groups,
 * K = kernel_h * kernel_w * in_c/groups ordered (ky, kx, ci)), groups laid end to end. Padding reads as
 * in_zero (real 0). A 1x1 stride-1 ungrouped conv is a GEMM on the input itself; others gather im2col rows
 * into scratch: mlrc_q8_conv_scratch_bytes(g, threads). */
size_t mlrc_q8_conv_scratch_bytes(const mlrc_conv_geometry *g, int32_t threads);
/* For the convolutions a plan arranges as one GEMM on the input (MLRC_CONV_GEMM) the input zero point can be
 * folded into the bias once, folded[n] = bias[n] - zero * sum_k W[k][n] (bias may be NULL), and the conv then
 * run with zero 0: the same results, without a pass over the weights per call. */
void mlrc_q8_fold_zero_point(int32_t N, int32_t K, const int8_t *packed, const int32_t *bias, int32_t zero,
                             int32_t *folded);
/* The input zero point the plan's GEMM kernel runs fastest with (0 on x86, 128 on ARM, where activations are
 * flipped to int8), or -1 when the plan is not one GEMM on the input. Fold (zero - this) with
 * mlrc_q8_fold_zero_point and run with this zero point. */
int32_t mlrc_q8_conv_gemm_input_zero(const mlrc_kernel_plan *plan);
int mlrc_q8_conv(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                 const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, void *scratch,
                 int32_t threads);
/* The arrangement and kernels chosen once; plan->scratch_bytes is what run needs at `threads`. pair_peak: the
 * weights' mlrc_q8_conv_weight_pair_peak; mlrc_q8_conv_plan takes it as unknown. */
int32_t mlrc_q8_conv_weight_pair_peak(const mlrc_conv_geometry *g, const int8_t *packed);
void mlrc_q8_conv_plan_for(const mlrc_conv_geometry *g, int32_t pair_peak, int32_t threads, mlrc_kernel_plan *plan);
void mlrc_q8_conv_plan(const mlrc_conv_geometry *g, int32_t threads, mlrc_kernel_plan *plan);
int mlrc_q8_conv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                     const int8_t *weights, const int32_t *bias, const float *scale, const mlrc_q8_output *out,
                     void *output, void *scratch, int32_t threads);

/* Depthwise convolution, weights [kernel_h][kernel_w][C] int8; padding taps contribute nothing. scratch:
 * plan->scratch_bytes bytes, 64-byte aligned (NULL when 0); run returns MLRC_KERNEL_ERR_SCRATCH, writing nothing,
 * when the plan needs scratch and it is NULL. mlrc_q8_dwconv allocates its own (the reference when it cannot). */
void mlrc_q8_dwconv(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                    const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t threads);
void mlrc_q8_dwconv_plan(const mlrc_conv_geometry *g, int32_t threads, mlrc_kernel_plan *plan);
int mlrc_q8_dwconv_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                       const int8_t *weights, const int32_t *bias, const float *scale, const mlrc_q8_output *out,
                       void *output, void *scratch, int32_t threads);

/* q = round_half_even(clamp(x * inv_scale, -zero, 255 - zero)) + zero. */
void mlrc_q8_quantize(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q, int32_t threads);
void mlrc_q8_quantize_plan(mlrc_kernel_plan *plan);
int mlrc_q8_quantize_run(const mlrc_kernel_plan *plan, size_t count, const float *x, float inv_scale, int32_t zero,
                         uint8_t *q, int32_t threads);
/* mlrc_f32_channel_scale with its output quantized in the same pass (an SE block read only by int8 ops). */
int mlrc_f32_channel_scale_quantize_run(const mlrc_kernel_plan *plan, int32_t pixels, int32_t channels, const float *x,
                                        const float *gate, float inv_scale, int32_t zero, uint8_t *q, int32_t threads);
/* x = scale * (q - zero). */
void mlrc_q8_dequantize(size_t count, const uint8_t *q, float scale, int32_t zero, float *x, int32_t threads);
/* A [pixels][src_c] uint8 tensor dequantized into channels [offset, offset + src_c) of a [pixels][dst_c] float one
 * (a concat whose inputs were written as uint8). */
void mlrc_q8_dequantize_channels(int32_t pixels, const uint8_t *src, int32_t src_c, float scale, int32_t zero,
                                 float *dst, int32_t dst_c, int32_t offset, int32_t threads);
/* Residual add with requantization: v = (a - za) * ma + (b - zb) * mb (ma = scale_a / scale_out, ...), then the
 * U8 stage's clamp to [lo, hi] around zero_out. */
void mlrc_q8_add(size_t count, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb, float mb,
                 int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out, int32_t threads);
void mlrc_q8_add_plan(mlrc_kernel_plan *plan);
int mlrc_q8_add_run(const mlrc_kernel_plan *plan, size_t count, const uint8_t *a, int32_t za, float ma,
                    const uint8_t *b, int32_t zb, float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out,
                    int32_t threads);
/* Element-wise activation on uint8 values through a 256-entry table (any function of one value). */
void mlrc_q8_lut(size_t count, const uint8_t *x, const uint8_t *lut, uint8_t *y, int32_t threads);
/* Builds the table of act for input (scale_in, zero_in) and output (scale_out, zero_out). */
void mlrc_q8_make_lut(int32_t act, float scale_in, int32_t zero_in, float scale_out, int32_t zero_out, uint8_t *lut);
/* LayerNorm over channels in fp32, quantized on the way out (the quantize fused into the norm's pass). */
void mlrc_q8_layernorm_quantize(int32_t pixels, int32_t channels, const float *input, const float *gamma,
                                const float *beta, float eps, float inv_scale, int32_t zero, uint8_t *q,
                                int32_t threads);
/* Max pooling of uint8 values: exact (max commutes with quantization), output quantized as the input. */
void mlrc_q8_maxpool(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t threads);
void mlrc_q8_maxpool_plan(mlrc_kernel_plan *plan);
int mlrc_q8_maxpool_run(const mlrc_kernel_plan *plan, const mlrc_conv_geometry *g, const uint8_t *input,
                        uint8_t *output, int32_t threads);
/* Average pooling of uint8 values (window as the geometry, padding cells not counted): the window sum in
 * int32, then the U8 stage with scale = in_scale / (count * out_scale) and zero = out zero. */
void mlrc_q8_avgpool(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, float scale_ratio,
                     int32_t out_zero, uint8_t *output, int32_t threads);
/* Mean over all pixels of uint8 values, dequantized: output[c] = scale * (mean(q) - zero). */
void mlrc_q8_global_avgpool(int32_t pixels, int32_t channels, const uint8_t *input, int32_t zero, float scale,
                            float *output);

uint32_t mlrc_crc32c_portable(uint32_t crc, const void *data, size_t size);

#ifdef __cplusplus
}
#endif
#endif
