/* The int8 output stage in scalar form (see mlrc_q8_output in mlrc_kernels.h). Every int8 kernel, reference or
 * SIMD, performs exactly these float operations in this order, so their uint8 results agree bit for bit:
 * one multiply (exact IEEE rounding everywhere), a clamp, then rounding half to even (what cvtps2dq and
 * fcvtns do in the default rounding mode). */
#ifndef MLRC_Q8_REQUANTIZE_H
#define MLRC_Q8_REQUANTIZE_H
#include <math.h>
#include "mlrc_kernels.h"
#include "activation.h"

/* Rows of activations an optimized GEMM packs per chunk (widened to int16), and the most any kernel packs at
 * once (a whole small map, so that its weights stream through once): the latter sizes the per-thread scratch. */
#define MLRC_Q8_CHUNK_ROWS 24
#define MLRC_Q8_PACK_ROWS 60

/* acc + bias wrapping like the SIMD adds (never reached by validated models, but defined behaviour). */
static inline int32_t mlrc_q8_wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* Round half to even by adding and removing 1.5 * 2^23: exact for |v| < 2^22 (v is clamped to +-255 first) in
 * the default rounding mode, the same result as cvtps2dq / fcvtns and nearbyintf, and it vectorizes. */
static inline int32_t mlrc_q8_round_clamp(float v, int32_t zero, int32_t lo, int32_t hi) {
    const float vlo = (float)(lo - zero), vhi = (float)(hi - zero), magic = 12582912.0f;
    v = v < vlo ? vlo : v;
    v = v > vhi ? vhi : v;
    return (int32_t)((v + magic) - magic) + zero; /* no -ffast-math anywhere: this is never folded to v */
}

static inline uint8_t mlrc_q8_stage_u8(int32_t acc, int32_t bias, float scale, const mlrc_q8_output *out) {
    const float v = (float)mlrc_q8_wrap_add(acc, bias) * scale;
    const int32_t q = mlrc_q8_round_clamp(v, out->zero, out->lo, out->hi);
    return out->lut ? out->lut[q] : (uint8_t)q;
}

static inline float mlrc_q8_stage_f32(int32_t acc, int32_t bias, float scale, const mlrc_q8_output *out) {
    return mlrc_act_scalar((float)mlrc_q8_wrap_add(acc, bias) * scale, out->act);
}

/* Stores channel values [n0, n0 + count) of one output row from int32 accumulators. */
static inline void mlrc_q8_store_row(const int32_t *acc, int32_t n0, int32_t count, const int32_t *bias,
                                     const float *scale, const mlrc_q8_output *out, void *row) {
    if (out->kind == MLRC_Q8_OUT_F32) {
        float *y = (float *)row;
        for (int32_t i = 0; i < count; i++)
            y[n0 + i] = mlrc_q8_stage_f32(acc[i], bias ? bias[n0 + i] : 0, scale[n0 + i], out);
    } else {
        uint8_t *y = (uint8_t *)row;
        for (int32_t i = 0; i < count; i++)
            y[n0 + i] = mlrc_q8_stage_u8(acc[i], bias ? bias[n0 + i] : 0, scale[n0 + i], out);
    }
}
#endif
