/* The int8 output stage (mlrc_q8_output) on 16 int32 accumulators in a 512-bit register, for the AVX-512 int8
 * kernels: the same float operations as q8_requantize.h in the same order, so the bytes equal the reference's.
 * The per-channel constants are loaded once per channel block (mlrc_q8_stage16), not once per pixel. */
#ifndef MLRC_Q8_OUTPUT_AVX512_H
#define MLRC_Q8_OUTPUT_AVX512_H
#if defined(__x86_64__)
#include <immintrin.h>
#include "x86/f32_vmath_avx2.h"
#include "q8_requantize.h"

#define MLRC_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))

typedef struct mlrc_q8_stage16 {
    __m512 scale, lo, hi; /* lo, hi: the clamp bounds relative to the zero point */
    __m512i zero;
    __mmask16 lanes; /* the channels present (a tail block has fewer than 16) */
    /* mlrc_q8_output's fields, copied: a local copy is not re-read after every store through a char pointer */
    int32_t kind, act;
    const uint8_t *lut;
} mlrc_q8_stage16;

__attribute__((always_inline)) MLRC_AVX512 static inline mlrc_q8_stage16
mlrc_q8_stage16_at(const float *scale, int32_t c, __mmask16 lanes, const mlrc_q8_output *out) {
    mlrc_q8_stage16 st;
    st.scale = _mm512_maskz_loadu_ps(lanes, scale + c);
    st.lo = _mm512_set1_ps((float)(out->lo - out->zero));
    st.hi = _mm512_set1_ps((float)(out->hi - out->zero));
    st.zero = _mm512_set1_epi32(out->zero);
    st.lanes = lanes;
    st.kind = out->kind;
    st.act = out->act;
    st.lut = out->lut;
    return st;
}

/* The requantized value relative to the zero point, in [lo - zero, hi - zero] (U8 output). */
__attribute__((always_inline)) MLRC_AVX512 static inline __m512i mlrc_q8_centered16(const mlrc_q8_stage16 *st,
                                                                                    __m512i acc) {
    const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), st->scale);
    return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, st->lo), st->hi));
}

/* acc already holds acc + bias. dst: the first of the 16 channels' output elements (uint8 or float). */
__attribute__((always_inline)) MLRC_AVX512 static inline void mlrc_q8_store16_avx512(const mlrc_q8_stage16 *st,
                                                                                     __m512i acc, void *dst) {
    if (st->kind == MLRC_Q8_OUT_F32) {
        const __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), st->scale);
        _mm512_mask_storeu_ps(dst, st->lanes, mlrc_avx512_activate(v, st->act));
        return;
    }
    const __m512i q = _mm512_add_epi32(mlrc_q8_centered16(st, acc), st->zero); /* in [lo, hi], inside 0..255 */
    __m128i bytes = _mm512_cvtepi32_epi8(q);
    if (st->lut) {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)tmp, bytes);
        for (int j = 0; j < 16; j++) tmp[j] = st->lut[tmp[j]];
        bytes = _mm_loadu_si128((const __m128i *)tmp);
    }
    _mm_mask_storeu_epi8(dst, st->lanes, bytes);
}

/* 32 consecutive channels of one pixel (two stages, the second's lanes follow the first's): the same results as
 * two mlrc_q8_store16_avx512. For uint8 without a table, both halves are narrowed together: saturating packs to
 * int16 (exact: the values are within +-255), the zero point added there, packs to bytes, one dword permute to
 * undo the packs' per-lane interleave. */
__attribute__((always_inline)) MLRC_AVX512 static inline void
mlrc_q8_store32_avx512(const mlrc_q8_stage16 *s0, const mlrc_q8_stage16 *s1, __m512i a0, __m512i a1, void *dst) {
    if (s0->kind == MLRC_Q8_OUT_F32 || s0->lut) {
        mlrc_q8_store16_avx512(s0, a0, dst);
        if (s1->lanes) mlrc_q8_store16_avx512(s1, a1, (char *)dst + 16 * (s0->kind == MLRC_Q8_OUT_F32 ? 4 : 1));
        return;
    }
    const __m512i w = _mm512_add_epi16(_mm512_packs_epi32(mlrc_q8_centered16(s0, a0), mlrc_q8_centered16(s1, a1)),
                                       _mm512_packs_epi32(s0->zero, s0->zero));
    /* after packus, 128-bit lane L holds dwords [a0 4L..4L+3 | a1 4L..4L+3 | copies]: gather a0's, then a1's */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i bytes = _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w, w));
    _mm256_mask_storeu_epi8(dst, (__mmask32)s0->lanes | ((__mmask32)s1->lanes << 16), _mm512_castsi512_si256(bytes));
}
#endif
#endif
