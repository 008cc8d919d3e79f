/* The scalar definition of every activation; all kernels (reference and SIMD) match it. */
#ifndef MLRC_ACTIVATION_H
#define MLRC_ACTIVATION_H
#include <math.h>
#include "mlrc_kernels.h"

/* relu6(x + 3) / 6 as a multiply, the way PyTorch computes it (x * (1/6) rounds like the SIMD kernels). */
static inline float mlrc_hardsigmoid_scalar(float x) {
    const float t = x + 3.0f;
    return (t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t)) * (1.0f / 6.0f);
}

static inline float mlrc_act_scalar(float x, int32_t act) {
    switch (act) {
    case MLRC_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case MLRC_ACT_RELU6: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case MLRC_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case MLRC_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case MLRC_ACT_HARDSWISH: return x * mlrc_hardsigmoid_scalar(x);
    case MLRC_ACT_HARDSIGMOID: return mlrc_hardsigmoid_scalar(x);
    case MLRC_ACT_SILU: return x / (1.0f + expf(-x));
    default: return x;
    }
}

/* OpenMP thread count for a loop of `work` independent items: never more threads than items. */
static inline int mlrc_threads_for(int32_t threads, int64_t work) {
    if (threads < 1) threads = 1;
    if (work < threads) threads = work < 1 ? 1 : (int)work;
    return threads;
}
#endif
