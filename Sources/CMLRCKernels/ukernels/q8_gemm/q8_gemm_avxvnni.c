/* int8 GEMM micro-kernel with AVX-VNNI: the VEX-encoded 256-bit vpdpbusd of CPUs that have VNNI but no AVX-512
 * (Intel N100-class mini-PCs, Alder Lake and later client cores, Zen 5). The 6 x 16 tile and the indirect
 * convolution of q8_gemm_quad_dot_ymm.h, compiled for that encoding. */
#if defined(__x86_64__)
#include <string.h>
#include "x86/q8_output_avx2.h"
#include "mlrc_ukernels.h"
#include "activation.h"
#include "q8_requantize.h"
#include "window.h"

#define QDOT_TARGET __attribute__((target("avx2,fma,avxvnni")))
#define QDOT _mm256_dpbusd_avx_epi32
#define QDOT_NAME(x) x##_avxvnni
#define QDOT_NAMED_STORES 0
#include "q8_gemm_quad_dot_ymm.h"
#undef QDOT_TARGET
#undef QDOT
#undef QDOT_NAME
#undef QDOT_NAMED_STORES
#else
typedef int mlrc_q8_gemm_avxvnni_unused; /* ISO C wants a declaration in every file */
#endif
