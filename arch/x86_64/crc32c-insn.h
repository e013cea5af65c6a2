/*
 * The x86_64 crc32 instruction (SSE4.2), which computes CRC-32C: one step of the register
 * state over 8 bytes or 1 byte. Freestanding (inline assembly, no target attribute needed);
 * the caller checks CPUID before using it. See nolibc/crc32c.h.
 */
#ifndef DMTCP_ARCH_CRC32C_INSN_H
#define DMTCP_ARCH_CRC32C_INSN_H

#include <stdint.h>

static inline uint64_t arch_crc32c_u64(uint64_t state, uint64_t v)
{
	__asm__("crc32q %1, %0" : "+r"(state) : "rm"(v));
	return state;
}

static inline uint32_t arch_crc32c_u8(uint32_t state, uint8_t v)
{
	__asm__("crc32b %1, %0" : "+r"(state) : "rm"(v));
	return state;
}

#endif
