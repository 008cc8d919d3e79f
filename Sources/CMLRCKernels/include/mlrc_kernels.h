/* mlrc kernels: plain C entry points the Swift runtime calls.
 *
 * Layout: activations are NHWC with batch 1 (a tensor is H x W x C, channels contiguous),
 * so pointwise convolutions are GEMMs and per-pixel ops walk contiguous memory.
 * Every op has a portable reference (ref/) and, where it pays, an ISA variant (x86/, arm/)
 * chosen at run time by the dispatching entry point below. Kernels know nothing of graphs. */
#ifndef MLRC_KERNELS_H
#define MLRC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mlrc_activation {
    MLRC_ACT_NONE = 0,
    MLRC_ACT_RELU = 1,
    MLRC_ACT_RELU6 = 2,
    MLRC_ACT_GELU = 3,    /* exact: x * 0.5 * (1 + erf(x / sqrt 2)) */
    MLRC_ACT_SIGMOID = 4,
    MLRC_ACT_COUNT = 5
} mlrc_activation;

/* Which implementation the dispatchers use. AUTO picks the best the CPU supports. */
typedef enum mlrc_isa {
    MLRC_ISA_AUTO = 0,
    MLRC_ISA_REFERENCE = 1,
    MLRC_ISA_AVX2 = 2,
    MLRC_ISA_NEON = 3, /* AArch64: Advanced SIMD is architectural, always present */
    MLRC_ISA_NEON_DOTPROD = 4, /* AArch64 with the dot-product extension (HWCAP_ASIMDDP): sdot int8 kernels */
    MLRC_ISA_AVX2_VNNI = 5     /* x86 AVX2 plus VNNI (AVX512-VNNI or AVX-VNNI): vpdpbusd int8 GEMM */
} mlrc_isa;

/* Forces an implementation (tests compare reference vs optimized); returns the one now in use. */
int mlrc_kernels_set_isa(int isa);
int mlrc_kernels_active_isa(void);
int mlrc_cpu_has_avx2_fma(void);
int mlrc_cpu_has_neon(void);
int mlrc_cpu_has_dotprod(void);
int mlrc_cpu_has_avx512vnni(void);
int mlrc_cpu_has_avxvnni(void);
int mlrc_cpu_has_avx512bw(void);
/* Name of an ISA value ("reference", "avx2", "avx2+vnni", "neon", "neon+dotprod"). */
const char *mlrc_isa_name(int isa);
int mlrc_max_threads(void);

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

/* C[m][n] = act(sum_k A[m][k] * B[k][n] + bias[n]); bias may be NULL. Row strides lda, ldb, ldc. */
void mlrc_f32_gemm(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                   const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);
void mlrc_f32_gemm_ref(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                       const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);
void mlrc_f32_gemm_avx2(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                        const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);
void mlrc_f32_gemm_neon(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                        const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads);

/* General (optionally grouped) convolution by im2col + GEMM.
 * weights: [groups][kernel_h * kernel_w * in_c/groups][out_c/groups], the K index ordered (ky, kx, ci).
 * scratch: mlrc_f32_conv_scratch_floats(g) floats (0 for 1x1 stride-1 ungrouped convs). */
size_t mlrc_f32_conv_scratch_floats(const mlrc_conv_geometry *g);
void mlrc_f32_conv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                   float *output, float *scratch, int32_t act, int32_t threads);

/* The AVX2 im2col-free convolution behind mlrc_f32_conv (same weight layout); for kernels of at most 64 taps. */
int mlrc_f32_conv_indirect_supported(const mlrc_conv_geometry *g);
void mlrc_f32_conv_indirect_avx2(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                 const float *bias, float *output, int32_t act, int32_t threads);
/* mlrc_f32_conv then mlrc_q8_quantize of its output into q: the same bytes. Where the kernel can, each block of
 * pixels is quantized while in cache and `output` is not written (it must still hold the conv's output size:
 * the other paths compute the floats there first). */
void mlrc_f32_conv_quantize(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                            float *output, float *scratch, int32_t act, float inv_scale, int32_t zero, uint8_t *q,
                            int32_t threads);
/* The indirect convolution writing only q (see mlrc_f32_conv_quantize); for at most 512 output channels. */
int mlrc_f32_conv_indirect_quantize_supported(const mlrc_conv_geometry *g);
void mlrc_f32_conv_indirect_avx2_quantize(const mlrc_conv_geometry *g, const float *input, const float *weights,
                                          const float *bias, int32_t act, float inv_scale, int32_t zero, uint8_t *q,
                                          int32_t threads);
/* The portable path of mlrc_f32_conv: im2col into scratch, then the dispatched GEMM. */
void mlrc_f32_conv_im2col(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, float *scratch, int32_t act, int32_t threads);

/* Depthwise convolution (k_h x k_w, including strips k x 1 and 1 x k). weights: [kernel_h][kernel_w][C]. */
void mlrc_f32_dwconv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                     float *output, int32_t act, int32_t threads);
void mlrc_f32_dwconv_ref(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                         float *output, int32_t act, int32_t threads);
/* One output row of the reference, channels [c0, c1): the channel tail of the SIMD variants. */
void mlrc_f32_dwconv_ref_row(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                             float *output, int32_t act, int32_t oy, int32_t c0, int32_t c1);
void mlrc_f32_dwconv_avx2(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, int32_t act, int32_t threads);
void mlrc_f32_dwconv_neon(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                          float *output, int32_t act, int32_t threads);
/* AVX-512 variant for 64 channels or more (four FMA chains per pixel); used at the VNNI level where the CPU has it. */
int mlrc_f32_dwconv_avx512_suits(const mlrc_conv_geometry *g);
void mlrc_f32_dwconv_avx512(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                            float *output, int32_t act, int32_t threads);

/* LayerNorm over the channels of each pixel; gamma/beta may be NULL (no affine). */
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
/* out[p][c] = act(x[p][c] * scale[c] + shift[c]) (a BatchNorm that could not be folded). */
void mlrc_f32_channel_affine(int32_t pixels, int32_t channels, const float *x, const float *scale, const float *shift,
                             float *out, int32_t act, int32_t threads);
/* Applies an activation in place. */
void mlrc_f32_activation(size_t count, float *x, int32_t act, int32_t threads);
/* Copies a [pixels][src_c] tensor into channels [offset, offset + src_c) of a [pixels][dst_c] one. */
void mlrc_f32_copy_channels(int32_t pixels, const float *src, int32_t src_c, float *dst, int32_t dst_c,
                            int32_t offset, int32_t threads);

/* Max / average pooling with the geometry's window; average counts padded cells when count_pad != 0. */
void mlrc_f32_maxpool(const mlrc_conv_geometry *g, const float *input, float *output, int32_t threads);
void mlrc_f32_avgpool(const mlrc_conv_geometry *g, const float *input, float *output, int32_t count_pad,
                      int32_t threads);
/* Mean over all pixels: output[c]. */
void mlrc_f32_global_avgpool(int32_t pixels, int32_t channels, const float *input, float *output);
/* Efficient Channel Attention: y = x * sigmoid(conv1d_k(mean_pixels(x))) across channels (zero padding k/2). */
void mlrc_f32_eca(int32_t pixels, int32_t channels, const float *input, const float *kernel, int32_t k,
                  float *output, float *scratch_2c, int32_t threads);

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
 * bytes, 64-byte aligned (NULL is allowed for the reference). */
size_t mlrc_q8_gemm_scratch_bytes(int32_t K, int32_t threads);
void mlrc_q8_gemm(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero, const int8_t *B,
                  const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C, int32_t ldc,
                  void *scratch, int32_t threads);
void mlrc_q8_gemm_ref(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero,
                      const int8_t *B, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                      int32_t ldc, void *scratch, int32_t threads);
void mlrc_q8_gemm_avx2(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero,
                       const int8_t *B, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                       int32_t ldc, void *scratch, int32_t threads);
/* VNNI: needs no scratch (activations are used in place). */
void mlrc_q8_gemm_vnni(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero,
                       const int8_t *B, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                       int32_t ldc, int32_t threads);
/* One encoding explicitly (tests): 512 = AVX512-VNNI (zmm tiles), 257 = AVX512-VNNI on ymm only, 256 = AVX-VNNI;
 * the CPU must have it. */
void mlrc_q8_gemm_vnni_encoding(int encoding, int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda,
                                int32_t a_zero, const int8_t *B, const int32_t *bias, const float *scale,
                                const mlrc_q8_output *out, void *C, int32_t ldc, int32_t threads);
void mlrc_q8_gemm_neon(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero,
                       const int8_t *B, const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C,
                       int32_t ldc, void *scratch, int32_t threads);
void mlrc_q8_gemm_dotprod(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero,
                          const int8_t *B, const int32_t *bias, const float *scale, const mlrc_q8_output *out,
                          void *C, int32_t ldc, void *scratch, int32_t threads);

/* General or grouped convolution: weights are per group a packed GEMM matrix (N = out_c/groups,
 * K = kernel_h * kernel_w * in_c/groups ordered (ky, kx, ci)), groups laid end to end. Padding reads as
 * in_zero (real 0). A 1x1 stride-1 ungrouped conv is a GEMM on the input itself; others gather im2col rows
 * into scratch: mlrc_q8_conv_scratch_bytes(g, threads). */
size_t mlrc_q8_conv_scratch_bytes(const mlrc_conv_geometry *g, int32_t threads);
/* Whether mlrc_q8_conv runs g as one GEMM on its input (1x1, stride 1, no padding, ungrouped). For those the
 * input zero point can be folded into the bias once, folded[n] = bias[n] - zero * sum_k W[k][n] (bias may be
 * NULL), and the conv then called with zero 0: the same results, without a pass over the weights per call. */
int mlrc_q8_conv_is_pointwise(const mlrc_conv_geometry *g);
void mlrc_q8_fold_zero_point(int32_t N, int32_t K, const int8_t *packed, const int32_t *bias, int32_t zero,
                             int32_t *folded);
void mlrc_q8_conv(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                  const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, void *scratch,
                  int32_t threads);

/* The VNNI convolution behind mlrc_q8_conv for in_c / groups a multiple of 4 and at most 64 taps: reads the
 * input through per-pixel tap pointers instead of an im2col copy. Scratch: ..._scratch_bytes(g), 32-byte aligned. */
int mlrc_q8_conv_indirect_vnni_supported(const mlrc_conv_geometry *g);
size_t mlrc_q8_conv_indirect_vnni_scratch_bytes(const mlrc_conv_geometry *g);
void mlrc_q8_conv_indirect_vnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                const int8_t *weights, const int32_t *bias, const float *scale,
                                const mlrc_q8_output *out, void *output, void *scratch, int32_t threads);

/* Depthwise convolution, weights [kernel_h][kernel_w][C] int8; padding taps contribute nothing. */
void mlrc_q8_dwconv(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                    const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t threads);
void mlrc_q8_dwconv_ref(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                        const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                        int32_t threads);
/* One output pixel of the reference, channels [c0, c1) (pixel_out: that pixel's output row): the channel tail of
 * the SIMD variants. */
void mlrc_q8_dwconv_ref_pixel(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                              const int8_t *weights, const int32_t *bias, const float *scale, const mlrc_q8_output *out,
                              void *pixel_out, int32_t oy, int32_t ox, int32_t c0, int32_t c1);
void mlrc_q8_dwconv_avx2(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                         const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                         int32_t threads);
/* AVX512-VNNI + VBMI (vpdpbusd over four taps per channel): kernels up to 64 taps on CPUs that have them. */
/* One output row of the AVX2 kernel, channels [c_begin, C) (a multiple of 16): the tail of the AVX-VNNI kernel. */
void mlrc_q8_dwconv_avx2_row(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                             const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                             int32_t oy, int32_t c_begin);
/* AVX-VNNI (256-bit vpdpbusd) for CPUs without AVX-512: 32-channel chunks, the rest through the AVX2 kernel. */
int mlrc_q8_dwconv_avxvnni_supported(const mlrc_conv_geometry *g);
void mlrc_q8_dwconv_avxvnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                            const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                            int32_t threads);
int mlrc_q8_dwconv_vnni_supported(const mlrc_conv_geometry *g);
void mlrc_q8_dwconv_vnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                         const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                         int32_t threads);
void mlrc_q8_dwconv_neon(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                         const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                         int32_t threads);

/* q = round_half_even(clamp(x * inv_scale, -zero, 255 - zero)) + zero. */
void mlrc_q8_quantize(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q, int32_t threads);
void mlrc_q8_quantize_ref(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q, int32_t threads);
/* The same on one thread, no OpenMP: mlrc_q8_quantize's per-block step, and that of kernels that quantize their
 * own output. */
void mlrc_q8_quantize_block(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q);
void mlrc_q8_quantize_block_ref(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q);
void mlrc_q8_quantize_block_avx2(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q);
void mlrc_q8_quantize_block_neon(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q);
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
void mlrc_q8_add_ref(size_t count, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb, float mb,
                     int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out, int32_t threads);
void mlrc_q8_add_avx2(size_t count, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                      float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out, int32_t threads);
void mlrc_q8_add_neon(size_t count, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb,
                      float mb, int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out, int32_t threads);
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
void mlrc_q8_maxpool_ref(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t threads);
void mlrc_q8_maxpool_avx2(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t threads);
/* Average pooling of uint8 values (window as the geometry, padding cells not counted): the window sum in
 * int32, then the U8 stage with scale = in_scale / (count * out_scale) and zero = out zero. */
void mlrc_q8_avgpool(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, float scale_ratio,
                     int32_t out_zero, uint8_t *output, int32_t threads);
/* Mean over all pixels of uint8 values, dequantized: output[c] = scale * (mean(q) - zero). */
void mlrc_q8_global_avgpool(int32_t pixels, int32_t channels, const uint8_t *input, int32_t zero, float scale,
                            float *output);

/* Calibration and fidelity loops for quantize (not used at inference). */
/* Running min/max and per-channel sums of an NHWC tensor of `pixels` x `channels`. */
void mlrc_calib_range(const float *x, size_t pixels, int32_t channels, float *min_io, float *max_io,
                      double *channel_sums);
/* Adds each value to bin floor((x - lo) * inv_width), clamped to [0, bins). */
void mlrc_calib_histogram(const float *x, size_t count, float lo, float inv_width, int32_t bins, double *histogram);
/* signal += sum ref^2, noise += sum (ref - x)^2; the uint8 form dequantizes q first. */
void mlrc_noise_f32(const float *ref, const float *x, size_t count, double *signal, double *noise);
void mlrc_noise_u8(const float *ref, const uint8_t *q, float scale, int32_t zero, size_t count, double *signal,
                   double *noise);
/* q = clamp(round(x / scale) + zero, 0, 255) (how fidelity measurement feeds a layer reference data). */
void mlrc_quantize_ref_u8(const float *x, size_t count, float scale, int32_t zero, uint8_t *q);
/* Symmetric per-channel int8 weights in quantize's layouts (co_g, k: see ref/q8_calibration.c); each channel's
 * clip is the ratio (of its absolute maximum) with the least squared error; errors: channels * nratios doubles. */
void mlrc_quantize_weights(const float *w, size_t count, int32_t co_g, int32_t k, int32_t channels,
                           const float *ratios, int32_t nratios, float *scales, double *errors, int8_t *out);
/* shift[c] += sum over channel c's weights of (dequantized - original) * mean of the input channel they read. */
void mlrc_weight_mean_shift(const float *w, const int8_t *q, const float *scales, size_t count, int32_t co_g,
                            int32_t k, int32_t cin_g, int depthwise, const float *means, int32_t nmeans,
                            double *shift);

/* CRC-32C (Castagnoli), continuing from crc (start with 0); hardware-accelerated where the CPU has it. */
uint32_t mlrc_crc32c(uint32_t crc, const void *data, size_t size);
uint32_t mlrc_crc32c_portable(uint32_t crc, const void *data, size_t size);

/* Resizes an 8-bit RGB image with a triangle (bilinear) filter that widens when downscaling (antialiased,
 * as PIL does), then writes the center crop_h x crop_w window, normalized ((v/255 - mean) / std), as float
 * NHWC. resize_h/resize_w: the resized image's size. Returns 0, or -1 when memory runs out. */
int mlrc_preprocess_rgb(const uint8_t *rgb, int32_t width, int32_t height, int32_t row_stride, int32_t resize_w,
                        int32_t resize_h, int32_t crop_w, int32_t crop_h, const float mean[3], const float std[3],
                        float *output_nhwc);

#ifdef __cplusplus
}
#endif
#endif
