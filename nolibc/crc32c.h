/*
 * CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), written once for both
 * sides of the checksum contract: the image container (common/crc32c.c) and the parasite,
 * whose chunk checksums the container stores as its own (parasite/parasite.c), so the two
 * must agree bit for bit. Header-only and freestanding: usable in the blob.
 *
 * It holds the GF(2) arithmetic (multiplication modulo the polynomial, x^(8n), combining two
 * CRCs) and the hardware update on the CPU's crc32 instruction (arch crc32c-insn.h; the caller
 * checks that the CPU has it). The portable table-driven update lives in common/crc32c.c.
 *
 * State and value: a CRC value is the register state inverted on the way in and out
 * (crc = ~update(~crc0, data)). The update works on states, which are linear in the data:
 * update(s, A||B) = shift(update(s, A), |B|) ^ update(0, B), where shift(s, n), the state s
 * advanced over n zero bytes, is s * x^(8n) modulo the polynomial.
 */
#ifndef DMTCP_NOLIBC_CRC32C_H
#define DMTCP_NOLIBC_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#include "crc32c-insn.h"

#define NL_CRC32C_POLY 0x82f63b78u

/* a * b modulo the polynomial, in the reflected representation where bit 31 is x^0. */
static inline uint32_t nl_crc32c_mul(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = (b & 1) ? (b >> 1) ^ NL_CRC32C_POLY : b >> 1;
	}
	return p;
}

/* x^(8n) modulo the polynomial: the operator "append n zero bytes" on a register state. */
static inline uint32_t nl_crc32c_x8n(uint64_t n)
{
	uint32_t x2k = 1u << 30; /* x^1 */
	uint32_t p = 1u << 31;	 /* x^0 */

	/* x^(8n) = product over the set bits k of 8n of x^(2^k); start at x^8 = x^(2^3). */
	for (int i = 0; i < 3; i++)
		x2k = nl_crc32c_mul(x2k, x2k);
	for (; n; n >>= 1) {
		if (n & 1)
			p = nl_crc32c_mul(x2k, p);
		x2k = nl_crc32c_mul(x2k, x2k);
	}
	return p;
}

/*
 * crc(A||B) from crc(A), crc(B) and len(B). With the inversions of the standard CRC, those
 * of A's end and B's start cancel, leaving crc(A) * x^(8 len_b) + crc(B).
 */
static inline uint32_t nl_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	if (len_b == 0)
		return crc_a;
	return nl_crc32c_mul(nl_crc32c_x8n(len_b), crc_a) ^ crc_b;
}

/*
 * The join of the three-lane update: a state advanced over one lane of zero bytes. Each side
 * brings its own (the container a table lookup, the blob a multiplication: it has no room
 * for tables); ctx is the join's own data.
 */
typedef uint32_t (*nl_crc32c_join_fn)(const void *ctx, uint32_t state);

/* A join by multiplication: ctx points at the uint32_t nl_crc32c_x8n(lane). */
static inline uint32_t nl_crc32c_join_mul(const void *ctx, uint32_t state)
{
	return nl_crc32c_mul(*(const uint32_t *)ctx, state);
}

/* An unaligned 8-byte load that is also legal for any type the buffer holds. */
typedef uint64_t __attribute__((may_alias, aligned(1))) nl_crc32c_u64_unaligned;

/*
 * The register state advanced over p[0..len) with the crc32 instruction. Its latency is three
 * cycles but it issues every cycle, so blocks of 3 * lane bytes are run as three independent
 * streams over their thirds (the second and third from state 0) and joined with
 * join(ctx, s) = shift(s, lane). lane must be a non-zero multiple of 8. Always inlined, so
 * that lane and join are constants in each caller's loop.
 */
static inline __attribute__((always_inline)) uint32_t
nl_crc32c_hw_update(uint32_t state, const uint8_t *p, uint64_t len, uint64_t lane,
		    nl_crc32c_join_fn join, const void *ctx)
{
	uint64_t s0 = state;

	while (len && ((uintptr_t)p & 7)) {
		s0 = arch_crc32c_u8((uint32_t)s0, *p++);
		len--;
	}
	while (len >= 3 * lane) {
		const uint8_t *end = p + lane;
		uint64_t s1 = 0, s2 = 0;

		do {
			s0 = arch_crc32c_u64(s0, *(const nl_crc32c_u64_unaligned *)p);
			s1 = arch_crc32c_u64(s1, *(const nl_crc32c_u64_unaligned *)(p + lane));
			s2 = arch_crc32c_u64(s2, *(const nl_crc32c_u64_unaligned *)(p + 2 * lane));
			p += 8;
		} while (p < end);
		s0 = join(ctx, (uint32_t)s0) ^ (uint32_t)s1;
		s0 = join(ctx, (uint32_t)s0) ^ (uint32_t)s2;
		p += 2 * lane;
		len -= 3 * lane;
	}
	for (; len >= 8; p += 8, len -= 8)
		s0 = arch_crc32c_u64(s0, *(const nl_crc32c_u64_unaligned *)p);
	while (len--)
		s0 = arch_crc32c_u8((uint32_t)s0, *p++);
	return (uint32_t)s0;
}

#endif
