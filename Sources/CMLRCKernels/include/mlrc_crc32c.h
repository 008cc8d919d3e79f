/* mlrc: CRC-32C, the model file's checksum. */
#ifndef MLRC_CRC32C_H
#define MLRC_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CRC-32C (Castagnoli), continuing from crc (start with 0); hardware-accelerated where the CPU has it. */
uint32_t mlrc_crc32c(uint32_t crc, const void *data, size_t size);
#ifdef __cplusplus
}
#endif
#endif
