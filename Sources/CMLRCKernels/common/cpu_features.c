/* The one place that asks the CPU what it has (cpuid on x86, the auxiliary vector on AArch64 Linux) and that
 * holds the ISA level in force. Kernels never ask: the operators choose them from these bits. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "mlrc_cpu.h"
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#endif

static uint32_t detect(void) {
    uint32_t f = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) f |= MLRC_CPU_SSE42;
    if (__builtin_cpu_supports("avx2")) f |= MLRC_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= MLRC_CPU_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= MLRC_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= MLRC_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) f |= MLRC_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512dq")) f |= MLRC_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512vbmi")) f |= MLRC_CPU_AVX512VBMI;
    if (__builtin_cpu_supports("avx512vnni")) f |= MLRC_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avxvnni")) f |= MLRC_CPU_AVXVNNI;
#elif defined(__aarch64__)
    f |= MLRC_CPU_NEON;
#if defined(__linux__)
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    if (hw & HWCAP_ASIMDDP) f |= MLRC_CPU_DOTPROD;
    if (hw & HWCAP_CRC32) f |= MLRC_CPU_CRC32;
    if (hw2 & HWCAP2_I8MM) f |= MLRC_CPU_I8MM;
#endif
#endif
    return f;
}

/* Both are process-wide and read lock-free: the features once detected (any thread may be first; all find the same
 * bits), the level set by the environment or the API (-1: not read yet). */
static int level = -1;
static uint32_t detected_bits;
static int detected_done;

uint32_t mlrc_cpu_detected(void) {
    if (!__atomic_load_n(&detected_done, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&detected_bits, detect(), __ATOMIC_RELAXED);
        __atomic_store_n(&detected_done, 1, __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&detected_bits, __ATOMIC_RELAXED);
}

static const char *const level_names[MLRC_ISA_COUNT] = {"auto", "ref", "avx2", "neon", "dotprod", "avx512", "avxvnni"};

uint32_t mlrc_isa_features(int isa) {
    switch (isa) {
    case MLRC_ISA_REFERENCE: return 0;
    case MLRC_ISA_AVX2: return MLRC_CPU_SSE42 | MLRC_CPU_X86_AVX2;
    case MLRC_ISA_AVXVNNI: return MLRC_CPU_SSE42 | MLRC_CPU_X86_AVX2 | MLRC_CPU_AVXVNNI;
    case MLRC_ISA_AVX512:
        return MLRC_CPU_SSE42 | MLRC_CPU_X86_AVX512 | MLRC_CPU_AVX512DQ | MLRC_CPU_AVX512VBMI | MLRC_CPU_AVX512VNNI |
               MLRC_CPU_AVXVNNI;
    case MLRC_ISA_NEON: return MLRC_CPU_NEON | MLRC_CPU_CRC32;
    case MLRC_ISA_NEON_DOTPROD: return MLRC_CPU_NEON | MLRC_CPU_CRC32 | MLRC_CPU_DOTPROD | MLRC_CPU_I8MM;
    default: return ~0u;
    }
}

const char *mlrc_isa_name(int isa) { return isa >= 0 && isa < MLRC_ISA_COUNT ? level_names[isa] : NULL; }

int mlrc_isa_from_name(const char *name) {
    if (!name) return -1;
    if (strcmp(name, "reference") == 0) return MLRC_ISA_REFERENCE;
    for (int i = 0; i < MLRC_ISA_COUNT; i++)
        if (strcmp(name, level_names[i]) == 0) return i;
    return -1;
}

int mlrc_kernels_active_isa(void) {
    int now = __atomic_load_n(&level, __ATOMIC_ACQUIRE);
    if (now < 0) {
        /* An unknown MLRC_ISA value is ignored: the kernels run at AUTO (mlrc-infer --profile shows the level). */
        const char *env = getenv("MLRC_ISA");
        const int named = env && *env ? mlrc_isa_from_name(env) : -1;
        int unset = -1;
        now = named >= 0 ? named : MLRC_ISA_AUTO;
        /* an mlrc_kernels_set_isa that came first wins */
        if (!__atomic_compare_exchange_n(&level, &unset, now, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) now = unset;
    }
    return now;
}

int mlrc_kernels_set_isa(int isa) {
    if (isa < 0 || isa >= MLRC_ISA_COUNT) return -1;
    __atomic_store_n(&level, isa, __ATOMIC_RELEASE);
    return isa;
}

uint32_t mlrc_cpu_enabled(void) { return mlrc_cpu_detected() & mlrc_isa_features(mlrc_kernels_active_isa()); }

static const char *const feature_names[MLRC_CPU_FEATURE_BITS] = {
    "sse4.2", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vbmi", "avx512_vnni", "avx_vnni",
    NULL,     NULL,   NULL,  NULL,      NULL,       NULL,       "neon",     "dotprod",    "i8mm",        "crc32"};

const char *mlrc_cpu_feature_name(uint32_t feature) {
    for (int b = 0; b < MLRC_CPU_FEATURE_BITS; b++)
        if (feature == 1u << b) return feature_names[b];
    return NULL;
}

const char *mlrc_cpu_feature_names(uint32_t features, char *buf, size_t size) {
    if (!buf || size == 0) return buf;
    size_t used = 0;
    buf[0] = 0;
    for (int b = 0; b < MLRC_CPU_FEATURE_BITS; b++) {
        const char *name = feature_names[b];
        if (!(features & (1u << b)) || !name) continue;
        const size_t n = strlen(name) + (used ? 1 : 0);
        if (used + n + 1 > size) break;
        if (used) buf[used++] = ' ';
        memcpy(buf + used, name, strlen(name) + 1);
        used += strlen(name);
    }
    return buf;
}

int mlrc_max_threads(void) { return omp_get_num_procs(); }
