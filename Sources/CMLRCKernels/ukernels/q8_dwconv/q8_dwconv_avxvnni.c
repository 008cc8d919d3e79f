/* int8 depthwise convolution with AVX-VNNI: the 256-bit, VEX-encoded vpdpbusd of CPUs that have VNNI but no
 * AVX-512 (Intel N100-class mini-PCs, Alder Lake and later client cores). The design of q8_dwconv_vnni.c on 256-bit
 * registers: four kernel rows per channel lane, 32-channel chunks whose column vectors come from one 32-byte load
 * per window row and two rounds of in-lane unpacks (lane 4L + j = channel 16L + 4k + j), the output stage's packs
 * restoring channel order, two output rows per column pass at stride 1, the zero point folded into the bias.
 * Without AVX-512 there are no byte-masked loads: padding rows and columns take a zero-point vector instead of a
 * load, and the channels past the last full chunk go through the AVX2 kernel's row function. */
#if defined(__x86_64__)
#include "x86/q8_output_avx2.h"
#include "q8_dwconv_rows.h"
#include "mlrc_ukernels.h"

#define VX_TARGET __attribute__((target("avx2,fma,avxvnni")))

enum { VX_MAX_KH = 8, VX_MAX_KW = 8, VX_MAX_STRIDE = 4, VX_SEG_COLS = 64, VX_CHUNK = 32 };

int mlrc_q8_dwconv_32c4_avxvnni_suits(const mlrc_conv_geometry *g, uint32_t features) {
    (void)features;
    return g->kernel_h <= VX_MAX_KH && g->kernel_w <= VX_MAX_KW && g->stride_w <= VX_MAX_STRIDE && g->in_c >= VX_CHUNK;
}

/* Rows r0..r3 of 32 channels to x[k], lane 4L + j = the four rows' bytes of channel 16L + 4k + j. */
VX_TARGET static inline void interleave4(__m256i r0, __m256i r1, __m256i r2, __m256i r3, __m256i x[4]) {
    const __m256i a = _mm256_unpacklo_epi8(r0, r1), b = _mm256_unpackhi_epi8(r0, r1);
    const __m256i c = _mm256_unpacklo_epi8(r2, r3), d = _mm256_unpackhi_epi8(r2, r3);
    x[0] = _mm256_unpacklo_epi16(a, c);
    x[1] = _mm256_unpackhi_epi16(a, c);
    x[2] = _mm256_unpacklo_epi16(b, d);
    x[3] = _mm256_unpackhi_epi16(b, d);
}

/* Four rows at p[r] + off, rows not inside taking `fill` (nothing read), interleaved. */
VX_TARGET static inline void load4(const uint8_t *const p[4], size_t off, const int inside[4], __m256i fill,
                                   __m256i x[4]) {
    __m256i r[4];
    for (int i = 0; i < 4; i++) r[i] = inside[i] ? _mm256_loadu_si256((const __m256i *)(p[i] + off)) : fill;
    interleave4(r[0], r[1], r[2], r[3], x);
}

typedef struct vx_stage {
    __m256 scale[4], lo, hi;
    __m256i zero16;
    int32_t kind, act;
    const uint8_t *lut;
} vx_stage;

/* One pixel's 32 channels from acc[k] (+ bias already): the same float operations as q8_requantize.h. */
VX_TARGET static inline void store_pixel(const vx_stage *st, const __m256i acc[4], void *dst) {
    if (st->kind == MLRC_Q8_OUT_F32) {
        __m256 f[4];
        for (int k = 0; k < 4; k++) f[k] = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[k]), st->scale[k]);
        /* 128-bit lane L of f[k] holds channels 16L + 4k..4k+3 */
        float *o = (float *)dst;
        _mm256_storeu_ps(o, mlrc_avx2_activate(_mm256_permute2f128_ps(f[0], f[1], 0x20), st->act));
        _mm256_storeu_ps(o + 8, mlrc_avx2_activate(_mm256_permute2f128_ps(f[2], f[3], 0x20), st->act));
        _mm256_storeu_ps(o + 16, mlrc_avx2_activate(_mm256_permute2f128_ps(f[0], f[1], 0x31), st->act));
        _mm256_storeu_ps(o + 24, mlrc_avx2_activate(_mm256_permute2f128_ps(f[2], f[3], 0x31), st->act));
        return;
    }
    __m256i q[4];
    for (int k = 0; k < 4; k++) {
        const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[k]), st->scale[k]);
        q[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, st->lo), st->hi));
    }
    const __m256i w01 = _mm256_add_epi16(_mm256_packs_epi32(q[0], q[1]), st->zero16);
    const __m256i w23 = _mm256_add_epi16(_mm256_packs_epi32(q[2], q[3]), st->zero16);
    const __m256i bytes = _mm256_packus_epi16(w01, w23); /* lane L: channels 16L..16L+15 in order */
    if (st->lut) {
        uint8_t tmp[32];
        _mm256_storeu_si256((__m256i *)tmp, bytes);
        for (int j = 0; j < 32; j++) ((uint8_t *)dst)[j] = st->lut[tmp[j]];
        return;
    }
    _mm256_storeu_si256((__m256i *)dst, bytes);
}

typedef struct vx_segment {
    int32_t ox0, ox1, sw;
    size_t pixel;
    const __m256i *bias;
    const vx_stage *st;
    char *row_out, *row_out2;
    const __m256i (*w)[2][4];
    const __m256i (*w2)[2][4];
    const __m256i *col;
} vx_segment;

__attribute__((always_inline)) VX_TARGET static inline void vx_pixels(const vx_segment *s, const int32_t kw,
                                                                      const int32_t nv, const int pair) {
    const vx_stage st = *s->st;
    const __m256i *col = s->col;
    const int32_t ox0 = s->ox0, ox1 = s->ox1, step = s->sw * nv * 4;
    char *row_out = s->row_out, *row_out2 = s->row_out2;
    for (int32_t ox = ox0; ox < ox1; ox++) {
        const __m256i *cw = col + (size_t)(ox - ox0) * step;
        __m256i acc[4], acc2[4];
        for (int k = 0; k < 4; k++) acc[k] = acc2[k] = s->bias[k];
        for (int32_t kx = 0; kx < kw; kx++)
            for (int32_t v = 0; v < nv; v++)
                for (int k = 0; k < 4; k++) {
                    const __m256i x = cw[(kx * nv + v) * 4 + k];
                    acc[k] = _mm256_dpbusd_avx_epi32(acc[k], x, s->w[kx][v][k]);
                    if (pair) acc2[k] = _mm256_dpbusd_avx_epi32(acc2[k], x, s->w2[kx][v][k]);
                }
        store_pixel(&st, acc, row_out + (size_t)ox * s->pixel);
        if (pair) store_pixel(&st, acc2, row_out2 + (size_t)ox * s->pixel);
    }
}

/* The chunk's weights as column vectors, row 4v + r holding kernel row 4v + r - shift (zero outside the kernel). */
VX_TARGET static void weight_columns(const int8_t *weights, const mlrc_conv_geometry *g, int32_t c0, int32_t shift,
                                     __m256i w[VX_MAX_KW][2][4]) {
    const int32_t kh = g->kernel_h, kw = g->kernel_w, C = g->in_c;
    for (int32_t v = 0; v < (kh + 3) / 4; v++) {
        const uint8_t *p[4];
        int inside[4];
        kernel_rows(g, weights, v, shift, c0, p, inside);
        for (int32_t kx = 0; kx < kw; kx++) load4(p, (size_t)kx * C, inside, _mm256_setzero_si256(), w[kx][v]);
    }
}

/* Full chunks of output rows [oy0, oy1). */
VX_TARGET static void vx_rows(const mlrc_conv_geometry *g, const uint8_t *input, int32_t zero, const int8_t *weights,
                              const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output,
                              int32_t oy0, int32_t oy1) {
    const int32_t C = g->in_c, kh = g->kernel_h, kw = g->kernel_w, sw = g->stride_w, nv = (kh + 3) / 4;
    const int32_t chunks = C / VX_CHUNK;
    const int32_t seg_cols = VX_SEG_COLS / nv, seg_px = (seg_cols - kw) / sw + 1;
    const size_t esize = out->kind == MLRC_Q8_OUT_F32 ? sizeof(float) : 1;
    const __m256i ones = _mm256_set1_epi8(1), zcol = _mm256_set1_epi8((char)zero);
    const int pairs = g->stride_h == 1 && kh < 4 * nv;
    __m256i wq[VX_MAX_KW][2][4], wq2[VX_MAX_KW][2][4], bq[4], col[VX_SEG_COLS * 4];
    for (int32_t ch = 0; ch < chunks; ch++) {
        const int32_t c0 = ch * VX_CHUNK;
        weight_columns(weights, g, c0, 0, wq);
        if (pairs) weight_columns(weights, g, c0, 1, wq2);
        vx_stage st;
        for (int k = 0; k < 4; k++) {
            int32_t b[8];
            float s[8];
            for (int i = 0; i < 8; i++) {
                const int32_t c = c0 + lane_channel(k, i);
                b[i] = bias ? bias[c] : 0;
                s[i] = scale[c];
            }
            __m256i sum = _mm256_setzero_si256();
            for (int32_t kx = 0; kx < kw; kx++)
                for (int32_t v = 0; v < nv; v++) sum = _mm256_dpbusd_avx_epi32(sum, ones, wq[kx][v][k]);
            bq[k] = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)b),
                                     _mm256_mullo_epi32(sum, _mm256_set1_epi32(zero)));
            st.scale[k] = _mm256_loadu_ps(s);
        }
        st.lo = _mm256_set1_ps((float)(out->lo - out->zero));
        st.hi = _mm256_set1_ps((float)(out->hi - out->zero));
        st.zero16 = _mm256_set1_epi16((short)out->zero);
        st.kind = out->kind;
        st.act = out->act;
        st.lut = out->lut;
        for (int32_t oy = oy0; oy < oy1; oy += 1 + pair_here(pairs, oy, oy1)) {
            const int pair = pair_here(pairs, oy, oy1);
            const int32_t iy0 = oy * g->stride_h - g->pad_top;
            char *row_out = (char *)output + ((size_t)oy * g->out_w * C + c0) * esize;
            char *row_out2 = pair ? row_out + (size_t)g->out_w * C * esize : NULL;
            const uint8_t *p[2][4];
            int inside[2][4];
            window_rows(g, input, iy0, nv, pair, c0, p, inside);
            for (int32_t ox0 = 0; ox0 < g->out_w; ox0 += seg_px) {
                const int32_t ox1 = ox0 + seg_px < g->out_w ? ox0 + seg_px : g->out_w;
                const int32_t ix0 = ox0 * sw - g->pad_left, ncol = (ox1 - 1 - ox0) * sw + kw;
                for (int32_t j = 0; j < ncol; j++) {
                    const int32_t ix = ix0 + j;
                    for (int32_t v = 0; v < nv; v++) {
                        __m256i *dst = col + (j * nv + v) * 4;
                        if (ix < 0 || ix >= g->in_w)
                            dst[0] = dst[1] = dst[2] = dst[3] = zcol;
                        else
                            load4(p[v], (size_t)ix * C, inside[v], zcol, dst);
                    }
                }
                const vx_segment sg = {ox0, ox1, sw, (size_t)C * esize, bq, &st, row_out, row_out2, wq, wq2, col};
                DW_SHAPES(vx_pixels, &sg, kw, nv, pair);
            }
        }
    }
}

void mlrc_q8_dwconv_32c4_avxvnni(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero,
                                 const int8_t *weights, const int32_t *bias, const float *scale,
                                 const mlrc_q8_output *out, void *output, int32_t oy0, int32_t oy1, int32_t u0,
                                 int32_t u1, void *scratch) {
    (void)scratch;
    (void)u0, (void)u1;
    const int32_t tail = g->in_c / VX_CHUNK * VX_CHUNK;
    if (oy0 < oy1) vx_rows(g, input, in_zero, weights, bias, scale, out, output, oy0, oy1);
    for (int32_t oy = oy0; tail < g->in_c && oy < oy1; oy++)
        mlrc_q8_dwconv_16c_avx2_row(g, input, in_zero, weights, bias, scale, out, output, oy, tail);
}
#else
typedef int mlrc_q8_dwconv_avxvnni_unused; /* ISO C wants a declaration in every file */
#endif
