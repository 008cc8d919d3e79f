/* What the CPU can do, read once, and the ISA level the kernels may use.
 *
 * Every kernel variant names the features it needs (MLRC_CPU_* bits); a variant is chosen only where all of them
 * are enabled. Enabled = what the CPU has, restricted by the ISA level in force: the MLRC_ISA environment variable
 * (read once, at the first question) or mlrc_kernels_set_isa. Levels only take features away, so forcing a level
 * the CPU lacks gives what the CPU has. Sessions resolve their kernels when they are created: set the level
 * before creating them. */
#ifndef MLRC_CPU_H
#define MLRC_CPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    MLRC_CPU_SSE42 = 1u << 0,
    MLRC_CPU_AVX2 = 1u << 1,
    MLRC_CPU_FMA = 1u << 2,
    MLRC_CPU_AVX512F = 1u << 3,
    MLRC_CPU_AVX512BW = 1u << 4,
    MLRC_CPU_AVX512VL = 1u << 5,
    MLRC_CPU_AVX512DQ = 1u << 6,
    MLRC_CPU_AVX512VBMI = 1u << 7,
    MLRC_CPU_AVX512VNNI = 1u << 8,
    MLRC_CPU_AVXVNNI = 1u << 9, /* VEX-encoded 256-bit vpdpbusd (Alder Lake, N100 class, Zen 5) */
    MLRC_CPU_NEON = 1u << 16,   /* AArch64 Advanced SIMD: architectural, always present there */
    MLRC_CPU_DOTPROD = 1u << 17,
    MLRC_CPU_I8MM = 1u << 18,
    MLRC_CPU_CRC32 = 1u << 19,
    MLRC_CPU_FEATURE_BITS = 20
};

/* Feature sets the kernels use together. */
#define MLRC_CPU_X86_AVX2 (MLRC_CPU_AVX2 | MLRC_CPU_FMA)
#define MLRC_CPU_X86_AVX512 (MLRC_CPU_X86_AVX2 | MLRC_CPU_AVX512F | MLRC_CPU_AVX512BW | MLRC_CPU_AVX512VL)

/* ISA levels: each is a set of features (see mlrc_isa_features). AUTO: everything the CPU has. */
typedef enum mlrc_isa {
    MLRC_ISA_AUTO = 0,
    MLRC_ISA_REFERENCE = 1,    /* no SIMD: the portable reference kernels */
    MLRC_ISA_AVX2 = 2,         /* AVX2 + FMA (Zen 2/3, Intel client cores up to Comet Lake) */
    MLRC_ISA_NEON = 3,         /* AArch64 NEON without dotprod (Cortex-A72, Raspberry Pi 4) */
    MLRC_ISA_NEON_DOTPROD = 4, /* NEON + dotprod (Cortex-A76, Raspberry Pi 5, RK3588) */
    MLRC_ISA_AVX512 = 5,       /* AVX-512 F/BW/VL/DQ/VBMI + AVX512-VNNI and AVX-VNNI: every x86 feature */
    MLRC_ISA_AVXVNNI = 6,      /* AVX2 + FMA + AVX-VNNI, no AVX-512 (Intel N100 class, Alder Lake) */
    MLRC_ISA_COUNT = 7
} mlrc_isa;

/* The features this CPU has (detected once). */
uint32_t mlrc_cpu_detected(void);
/* The features kernels may use now: detected & the level in force. */
uint32_t mlrc_cpu_enabled(void);
/* Forces a level (MLRC_ISA_AUTO lifts it); returns the level now in force, or -1 for an unknown value. */
int mlrc_kernels_set_isa(int isa);
/* The level in force: the last set, else MLRC_ISA from the environment, else AUTO. */
int mlrc_kernels_active_isa(void);
/* A level's features (before intersecting with the CPU's). */
uint32_t mlrc_isa_features(int isa);
/* "auto", "ref", "avx2", "avxvnni", "avx512", "neon", "dotprod"; NULL for an unknown value. */
const char *mlrc_isa_name(int isa);
/* The level of a name (as mlrc_isa_name writes it; "reference" too), or -1. */
int mlrc_isa_from_name(const char *name);
/* Names of the features in `features`, space-separated, into buf (always terminated); returns buf. */
const char *mlrc_cpu_feature_names(uint32_t features, char *buf, size_t size);
/* One feature's name ("avx512_vnni"), or NULL where `feature` is not a single known bit. */
const char *mlrc_cpu_feature_name(uint32_t feature);
int mlrc_max_threads(void);

#ifdef __cplusplus
}
#endif
#endif
