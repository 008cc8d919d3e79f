/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, as iSCSI/ext4/SSE4.2), the model file checksum.
 * x86 CPUs with SSE4.2 compute it in hardware (~8 bytes a cycle), so checking a model at open costs little;
 * elsewhere a slicing-by-8 table does. */
#include "mlrc_crc32c.h"
#include "mlrc_cpu.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static uint32_t table[8][256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

/* Two threads building the table at once write identical values: harmless. */
uint32_t mlrc_crc32c_portable(uint32_t crc, const void *data, size_t size) {
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) build_table();
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (size >= 8) {
        const uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        crc = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
              table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
        p += 8;
        size -= 8;
    }
    while (size--) crc = table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t size) {
    const uint8_t *p = (const uint8_t *)data;
    uint64_t c = ~crc;
    while (size && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        size--;
    }
    while (size >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        size -= 8;
    }
    while (size--) c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#endif

uint32_t mlrc_crc32c(uint32_t crc, const void *data, size_t size) {
#if defined(__x86_64__)
    /* what the CPU has, not the ISA level: every path gives the same checksum */
    if (mlrc_cpu_detected() & MLRC_CPU_SSE42) return crc32c_sse42(crc, data, size);
#endif
    return mlrc_crc32c_portable(crc, data, size);
}
