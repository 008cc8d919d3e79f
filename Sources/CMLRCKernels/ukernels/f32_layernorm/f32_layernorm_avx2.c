/* LayerNorm rows for AVX2: layernorm_rows.h compiled for 256-bit registers (the 8-lane sums become one register
 * each, the per-channel loops 8 channels a step), bit for bit the reference's results. */
#if defined(__x86_64__)
#include "x86/avx2_common.h"
#include "mlrc_ukernels.h"
#include "layernorm_rows.h"

MLRC_AVX2 void mlrc_f32_layernorm_rows_avx2(int32_t p0, int32_t p1, int32_t channels, const float *input,
                                            const float *gamma, const float *beta, float eps, float *output) {
    mlrc_layernorm_rows_f32(p0, p1, channels, input, gamma, beta, eps, output);
}

MLRC_AVX2 void mlrc_q8_layernorm_rows_avx2(int32_t p0, int32_t p1, int32_t channels, const float *input,
                                           const float *gamma, const float *beta, float eps, float inv_scale,
                                           int32_t zero, uint8_t *q) {
    mlrc_layernorm_rows_q8(p0, p1, channels, input, gamma, beta, eps, inv_scale, zero, q);
}
#else
typedef int mlrc_f32_layernorm_avx2_unused; /* ISO C wants a declaration in every file */
#endif
