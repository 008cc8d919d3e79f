/* Run-time choice between the reference kernels and the ISA variants this CPU supports. */
#include <omp.h>
#include "mlrc_kernels.h"
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif
#include "activation.h"

static int forced_isa = MLRC_ISA_AUTO;

int mlrc_cpu_has_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int mlrc_cpu_has_neon(void) {
#if defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

int mlrc_cpu_has_dotprod(void) {
#if defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
    return 0;
#endif
}

/* Plain NEON and NEON + dotprod share the fp32 kernels; so do AVX2 and AVX2 + VNNI. */
#if defined(__aarch64__)
static int is_neon(int isa) { return isa == MLRC_ISA_NEON || isa == MLRC_ISA_NEON_DOTPROD; }
#endif
static int is_avx2(int isa) { return isa == MLRC_ISA_AVX2 || isa == MLRC_ISA_AVX2_VNNI; }

#if !defined(__x86_64__)
int mlrc_cpu_has_avx512vnni(void) { return 0; }
int mlrc_cpu_has_avxvnni(void) { return 0; }
int mlrc_cpu_has_avx512bw(void) { return 0; }
#endif
static int has_vnni(void) { return mlrc_cpu_has_avx512vnni() || mlrc_cpu_has_avxvnni(); }

const char *mlrc_isa_name(int isa) {
    switch (isa) {
    case MLRC_ISA_REFERENCE: return "reference";
    case MLRC_ISA_AVX2: return "avx2";
    case MLRC_ISA_NEON: return "neon";
    case MLRC_ISA_NEON_DOTPROD: return "neon+dotprod";
    case MLRC_ISA_AVX2_VNNI: return "avx2+vnni";
    default: return "auto";
    }
}

int mlrc_kernels_set_isa(int isa) {
    if (isa == MLRC_ISA_AVX2 && !mlrc_cpu_has_avx2_fma()) isa = MLRC_ISA_REFERENCE;
    if (isa == MLRC_ISA_NEON && !mlrc_cpu_has_neon()) isa = MLRC_ISA_REFERENCE;
    if (isa == MLRC_ISA_NEON_DOTPROD && !mlrc_cpu_has_dotprod()) isa = mlrc_cpu_has_neon() ? MLRC_ISA_NEON : MLRC_ISA_REFERENCE;
    if (isa == MLRC_ISA_AVX2_VNNI && !has_vnni()) isa = mlrc_cpu_has_avx2_fma() ? MLRC_ISA_AVX2 : MLRC_ISA_REFERENCE;
    if (isa < MLRC_ISA_AUTO || isa > MLRC_ISA_AVX2_VNNI) isa = MLRC_ISA_AUTO;
    forced_isa = isa;
    return mlrc_kernels_active_isa();
}

int mlrc_kernels_active_isa(void) {
    if (forced_isa != MLRC_ISA_AUTO) return forced_isa;
    static int detected = -1;
    if (detected < 0)
        detected = mlrc_cpu_has_avx2_fma() && has_vnni() ? MLRC_ISA_AVX2_VNNI
                   : mlrc_cpu_has_avx2_fma() ? MLRC_ISA_AVX2
                   : mlrc_cpu_has_dotprod()  ? MLRC_ISA_NEON_DOTPROD
                   : mlrc_cpu_has_neon()     ? MLRC_ISA_NEON
                                             : MLRC_ISA_REFERENCE;
    return detected;
}

int mlrc_max_threads(void) { return omp_get_num_procs(); }


void mlrc_f32_gemm(int32_t M, int32_t N, int32_t K, const float *A, int32_t lda, const float *B, int32_t ldb,
                   const float *bias, float *C, int32_t ldc, int32_t act, int32_t threads) {
#if defined(__x86_64__)
    if (is_avx2(mlrc_kernels_active_isa())) {
        mlrc_f32_gemm_avx2(M, N, K, A, lda, B, ldb, bias, C, ldc, act, threads);
        return;
    }
#endif
#if defined(__aarch64__)
    if (is_neon(mlrc_kernels_active_isa())) {
        mlrc_f32_gemm_neon(M, N, K, A, lda, B, ldb, bias, C, ldc, act, threads);
        return;
    }
#endif
    mlrc_f32_gemm_ref(M, N, K, A, lda, B, ldb, bias, C, ldc, act, threads);
}

void mlrc_f32_dwconv(const mlrc_conv_geometry *g, const float *input, const float *weights, const float *bias,
                     float *output, int32_t act, int32_t threads) {
#if defined(__x86_64__)
    if (mlrc_kernels_active_isa() == MLRC_ISA_AVX2_VNNI && mlrc_cpu_has_avx512bw() && mlrc_f32_dwconv_avx512_suits(g)) {
        mlrc_f32_dwconv_avx512(g, input, weights, bias, output, act, threads);
        return;
    }
    if (is_avx2(mlrc_kernels_active_isa())) {
        mlrc_f32_dwconv_avx2(g, input, weights, bias, output, act, threads);
        return;
    }
#endif
#if defined(__aarch64__)
    if (is_neon(mlrc_kernels_active_isa())) {
        mlrc_f32_dwconv_neon(g, input, weights, bias, output, act, threads);
        return;
    }
#endif
    mlrc_f32_dwconv_ref(g, input, weights, bias, output, act, threads);
}

/* ---- int8 ---- */

void mlrc_q8_gemm(int32_t M, int32_t N, int32_t K, const uint8_t *A, int32_t lda, int32_t a_zero, const int8_t *B,
                  const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *C, int32_t ldc,
                  void *scratch, int32_t threads) {
#if defined(__x86_64__)
    if (mlrc_kernels_active_isa() == MLRC_ISA_AVX2_VNNI) {
        mlrc_q8_gemm_vnni(M, N, K, A, lda, a_zero, B, bias, scale, out, C, ldc, threads);
        return;
    }
    if (is_avx2(mlrc_kernels_active_isa()) && scratch) {
        mlrc_q8_gemm_avx2(M, N, K, A, lda, a_zero, B, bias, scale, out, C, ldc, scratch, threads);
        return;
    }
#endif
#if defined(__aarch64__)
    if (mlrc_kernels_active_isa() == MLRC_ISA_NEON_DOTPROD && scratch) {
        mlrc_q8_gemm_dotprod(M, N, K, A, lda, a_zero, B, bias, scale, out, C, ldc, scratch, threads);
        return;
    }
    if (is_neon(mlrc_kernels_active_isa()) && scratch) {
        mlrc_q8_gemm_neon(M, N, K, A, lda, a_zero, B, bias, scale, out, C, ldc, scratch, threads);
        return;
    }
#endif
    mlrc_q8_gemm_ref(M, N, K, A, lda, a_zero, B, bias, scale, out, C, ldc, scratch, threads);
}

void mlrc_q8_dwconv(const mlrc_conv_geometry *g, const uint8_t *input, int32_t in_zero, const int8_t *weights,
                    const int32_t *bias, const float *scale, const mlrc_q8_output *out, void *output, int32_t threads) {
#if defined(__x86_64__)
    if (mlrc_kernels_active_isa() == MLRC_ISA_AVX2_VNNI && mlrc_q8_dwconv_vnni_supported(g)) {
        mlrc_q8_dwconv_vnni(g, input, in_zero, weights, bias, scale, out, output, threads);
        return;
    }
    if (mlrc_kernels_active_isa() == MLRC_ISA_AVX2_VNNI && mlrc_q8_dwconv_avxvnni_supported(g)) {
        mlrc_q8_dwconv_avxvnni(g, input, in_zero, weights, bias, scale, out, output, threads);
        return;
    }
    if (is_avx2(mlrc_kernels_active_isa())) {
        mlrc_q8_dwconv_avx2(g, input, in_zero, weights, bias, scale, out, output, threads);
        return;
    }
#endif
#if defined(__aarch64__)
    if (is_neon(mlrc_kernels_active_isa())) {
        mlrc_q8_dwconv_neon(g, input, in_zero, weights, bias, scale, out, output, threads);
        return;
    }
#endif
    mlrc_q8_dwconv_ref(g, input, in_zero, weights, bias, scale, out, output, threads);
}

void mlrc_q8_maxpool(const mlrc_conv_geometry *g, const uint8_t *input, uint8_t *output, int32_t threads) {
#if defined(__x86_64__)
    if (is_avx2(mlrc_kernels_active_isa())) {
        mlrc_q8_maxpool_avx2(g, input, output, threads);
        return;
    }
#endif
    mlrc_q8_maxpool_ref(g, input, output, threads);
}

/* Blocks of 4096 values across the threads, each through the ISA's block kernel. */
void mlrc_q8_quantize(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q, int32_t threads) {
    const size_t blocks = (count + 4095) / 4096;
    int nt = mlrc_threads_for(threads, (int64_t)(count / 4096));
#pragma omp parallel for schedule(static) num_threads(nt)
    for (size_t b = 0; b < blocks; b++) {
        const size_t i0 = b * 4096, n = count - i0 < 4096 ? count - i0 : 4096;
        mlrc_q8_quantize_block(n, x + i0, inv_scale, zero, q + i0);
    }
}

void mlrc_q8_quantize_block(size_t count, const float *x, float inv_scale, int32_t zero, uint8_t *q) {
#if defined(__x86_64__)
    if (is_avx2(mlrc_kernels_active_isa())) {
        mlrc_q8_quantize_block_avx2(count, x, inv_scale, zero, q);
        return;
    }
#endif
#if defined(__aarch64__)
    if (is_neon(mlrc_kernels_active_isa())) {
        mlrc_q8_quantize_block_neon(count, x, inv_scale, zero, q);
        return;
    }
#endif
    mlrc_q8_quantize_block_ref(count, x, inv_scale, zero, q);
}

void mlrc_q8_add(size_t count, const uint8_t *a, int32_t za, float ma, const uint8_t *b, int32_t zb, float mb,
                 int32_t zero_out, int32_t lo, int32_t hi, uint8_t *out, int32_t threads) {
#if defined(__x86_64__)
    if (is_avx2(mlrc_kernels_active_isa())) {
        mlrc_q8_add_avx2(count, a, za, ma, b, zb, mb, zero_out, lo, hi, out, threads);
        return;
    }
#endif
#if defined(__aarch64__)
    if (is_neon(mlrc_kernels_active_isa())) {
        mlrc_q8_add_neon(count, a, za, ma, b, zb, mb, zero_out, lo, hi, out, threads);
        return;
    }
#endif
    mlrc_q8_add_ref(count, a, za, ma, b, zb, mb, zero_out, lo, hi, out, threads);
}
