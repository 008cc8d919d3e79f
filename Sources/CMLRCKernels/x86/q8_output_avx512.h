/* The int8 output stage (mlrc_q8_output) on 16 int32 accumulators in a 512-bit register, for the AVX-512 int8
 * kernels: the same float operations as q8_requantize.h in the same order, so the bytes equal the reference's.
 * The per-channel constants are loaded once per channel block (mlrc_q8_stage16), not once per pixel. */
#ifndef MLRC_Q8_OUTPUT_AVX512_H
#define MLRC_Q8_OUTPUT_AVX512_H
#if defined(__x86_64__)
#include <immintrin.h>
#include "f32_vmath_avx2.h"
#include "q8_requantize.h"

#define MLRC_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))

typedef struct mlrc_q8_stage16 {
    __m512 scale, lo, hi;  /* lo, hi: the clamp bounds relative to the zero point */
    __m512i zero;
    __mmask16 lanes;       /* the channels present (a tail block has fewer than 16) */
} mlrc_q8_stage16;

__attribute__((always_inline)) MLRC_AVX512 static inline mlrc_q8_stage16 mlrc_q8_stage16_at(const float *scale, int32_t c, __mmask16 lanes,
                                                          const mlrc_q8_output *out) {
    mlrc_q8_stage16 st;
    st.scale = _mm512_maskz_loadu_ps(lanes, scale + c);
    st.lo = _mm512_set1_ps((float)(out->lo - out->zero));
    st.hi = _mm512_set1_ps((float)(out->hi - out->zero));
    st.zero = _mm512_set1_epi32(out->zero);
    st.lanes = lanes;
    return st;
}

/* acc already holds acc + bias. dst: the first of the 16 channels' output elements (uint8 or float). */
__attribute__((always_inline)) MLRC_AVX512 static inline void mlrc_q8_store16_avx512(const mlrc_q8_stage16 *st, __m512i acc, const mlrc_q8_output *out,
                                                      void *dst) {
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), st->scale);
    if (out->kind == MLRC_Q8_OUT_F32) {
        _mm512_mask_storeu_ps(dst, st->lanes, mlrc_avx512_activate(v, out->act));
        return;
    }
    const __m512 c = _mm512_min_ps(_mm512_max_ps(v, st->lo), st->hi);
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(c), st->zero); /* in [lo, hi], inside 0..255 */
    __m128i bytes = _mm512_cvtepi32_epi8(q);
    if (out->lut) {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)tmp, bytes);
        for (int j = 0; j < 16; j++) tmp[j] = out->lut[tmp[j]];
        bytes = _mm_loadu_si128((const __m128i *)tmp);
    }
    _mm_mask_storeu_epi8(dst, st->lanes, bytes);
}
#endif
#endif
