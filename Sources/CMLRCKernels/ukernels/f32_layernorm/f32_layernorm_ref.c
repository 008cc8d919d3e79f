/* Reference LayerNorm rows (fp32, and fused with the uint8 quantize): layernorm_rows.h for the baseline ISA. */
#include "mlrc_ukernels.h"
#include "layernorm_rows.h"

void mlrc_f32_layernorm_rows_ref(int32_t p0, int32_t p1, int32_t channels, const float *input, const float *gamma,
                                 const float *beta, float eps, float *output) {
    mlrc_layernorm_rows_f32(p0, p1, channels, input, gamma, beta, eps, output);
}

void mlrc_q8_layernorm_rows_ref(int32_t p0, int32_t p1, int32_t channels, const float *input, const float *gamma,
                                const float *beta, float eps, float inv_scale, int32_t zero, uint8_t *q) {
    mlrc_layernorm_rows_q8(p0, p1, channels, input, gamma, beta, eps, inv_scale, zero, q);
}
