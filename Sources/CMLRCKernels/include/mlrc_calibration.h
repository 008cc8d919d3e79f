/* mlrc: the calibration and fidelity loops quantize runs (not used at inference). */
#ifndef MLRC_CALIBRATION_H
#define MLRC_CALIBRATION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calibration and fidelity loops for quantize (not used at inference). */
/* Running min/max and per-channel sums and sums of squares of an NHWC tensor of `pixels` x `channels`. */
void mlrc_calib_range(const float *x, size_t pixels, int32_t channels, float *min_io, float *max_io,
                      double *channel_sums, double *channel_squares);
/* Adds each value to bin floor((x - lo) * inv_width), clamped to [0, bins). */
void mlrc_calib_histogram(const float *x, size_t count, float lo, float inv_width, int32_t bins, double *histogram);
/* signal += sum ref^2, noise += sum (ref - x)^2; the uint8 form dequantizes q first. */
void mlrc_noise_f32(const float *ref, const float *x, size_t count, double *signal, double *noise);
void mlrc_noise_u8(const float *ref, const uint8_t *q, float scale, int32_t zero, size_t count, double *signal,
                   double *noise);
/* sums[c] += sum over pixels of (x - ref) in channel c of an NHWC tensor (the uint8 form dequantizes q first):
 * the mean error an int8 layer adds to each output channel (empirical bias correction). */
void mlrc_channel_error_f32(const float *ref, const float *x, size_t pixels, int32_t channels, double *sums);
void mlrc_channel_error_u8(const float *ref, const uint8_t *q, float scale, int32_t zero, size_t pixels,
                           int32_t channels, double *sums);
/* q = clamp(round(x / scale) + zero, 0, 255) (how fidelity measurement feeds a layer reference data). */
void mlrc_quantize_ref_u8(const float *x, size_t count, float scale, int32_t zero, uint8_t *q);
/* Symmetric per-channel int8 weights in quantize's layouts (co_g, k: see ref/q8_calibration.c); each channel's
 * step is the ratio (to its absolute maximum / 127) with the least squared error; errors: channels * nratios
 * doubles. pair_limit > 0: every pair of rows k = 2j, 2j + 1 of a channel is kept inside the pair bound
 * (mlrc_q8_weight_pair_peak <= pair_limit; MLRC_Q8_MADDUBS_PAIR_LIMIT for the AVX2 rows that sum pairs in int16),
 * and the errors are those of the bounded codes (ratios above 1, coarser steps, can then win). energy: NULL, or
 * each input channel's variance on the calibration images (nenergy of them; cin_g per group: what a weight's
 * rounding error weighs once bias correction takes back its mean): the errors are then weighted by the variance
 * of the input row each weight reads, and a pair moved inside the bound takes its error where that is least. */
void mlrc_quantize_weights(const float *w, size_t count, int32_t co_g, int32_t k, int32_t channels, const float *ratios,
                           int32_t nratios, int32_t pair_limit, int32_t cin_g, const double *energy, int32_t nenergy,
                           float *scales, double *errors, int8_t *out);
/* An order of the C input channels of a general convolution's weights w ([taps][C][N], N output channels) that
 * pairs them (perm[2j], perm[2j + 1]) so that few same-signed pairs of codes cross the pair bound `limit`
 * (mlrc_q8_weight_pair_peak), for reordering the channels the layer reads: greedy, at most about 5e8 code
 * comparisons. Returns what moving the crossing pairs inside the bound would cost in that order (squared float
 * error at the plain steps), and in the given order in identity_cost. */
double mlrc_pair_channels(const float *w, int32_t taps, int32_t C, int32_t N, int32_t limit, int32_t *perm,
                          double *identity_cost);
/* shift[c] += sum over channel c's weights of (dequantized - original) * mean of the input channel they read. */
void mlrc_weight_mean_shift(const float *w, const int8_t *q, const float *scales, size_t count, int32_t co_g, int32_t k,
                            int32_t cin_g, int depthwise, const float *means, int32_t nmeans, double *shift);
#ifdef __cplusplus
}
#endif
#endif
