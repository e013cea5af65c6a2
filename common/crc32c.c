/*
 * CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), the image checksum.
 *
 * Why CRC-32C: x86_64 computes it in hardware (SSE4.2 crc32 instruction), so checksumming
 * 1 GiB costs well under 0.1 s, a small fraction of writing it to tmpfs; it detects every burst
 * error up to 32 bits and every odd number of flipped bits; it is the checksum of iSCSI, ext4
 * and btrfs metadata, so an independent reader finds an implementation everywhere; and CRCs
 * combine: crc(A||B) follows from crc(A), crc(B) and len(B). That last property lets chunk
 * checksums computed on several threads add up to section and whole-file checksums without a
 * second pass over the data.
 *
 * The hardware path runs three independent crc32 streams over thirds of a block (the
 * instruction has a 3-cycle latency but issues every cycle) and joins them with a precomputed
 * "shift by one third" table. Without SSE4.2 a slicing-by-8 table does the work.
 */
#include "image.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define POLY 0x82f63b78u

/* Bytes per stream in the three-way hardware loop; a block is 3 * LANE. */
#define LANE 4096

static uint32_t sw_table[8][256];
/* shift_tab[k][b]: the register state b << (8k) advanced over LANE zero bytes. */
static uint32_t shift_tab[4][256];
static int have_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/*
 * Multiply a and b modulo the polynomial, in the reflected representation where bit 31 is x^0.
 */
static uint32_t gf2_mul(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
	}
	return p;
}

/* x^(8n) modulo the polynomial: the operator "append n zero bytes" on a register state. */
static uint32_t x_pow_8n(uint64_t n)
{
	uint32_t x2k = 1u << 30;	/* x^1 */
	uint32_t p = 1u << 31;		/* x^0 */

	/* x^(8n) = prod over the set bits k of 8n of x^(2^k); start at x^8 = x^(2^3). */
	for (int i = 0; i < 3; i++)
		x2k = gf2_mul(x2k, x2k);
	while (n) {
		if (n & 1)
			p = gf2_mul(x2k, p);
		n >>= 1;
		x2k = gf2_mul(x2k, x2k);
	}
	return p;
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	/*
	 * With the pre- and post-inversion of the standard CRC, the inversions of A's tail and
	 * B's head cancel, leaving crc(A||B) = crc(A) * x^(8 len_b) + crc(B).
	 */
	if (len_b == 0)
		return crc_a;
	return gf2_mul(x_pow_8n(len_b), crc_a) ^ crc_b;
}

static uint32_t sw_update(uint32_t r, const uint8_t *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		r = (r >> 8) ^ sw_table[0][(r ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		v ^= r;
		r = sw_table[7][v & 0xff] ^ sw_table[6][(v >> 8) & 0xff] ^
		    sw_table[5][(v >> 16) & 0xff] ^ sw_table[4][(v >> 24) & 0xff] ^
		    sw_table[3][(v >> 32) & 0xff] ^ sw_table[2][(v >> 40) & 0xff] ^
		    sw_table[1][(v >> 48) & 0xff] ^ sw_table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		r = (r >> 8) ^ sw_table[0][(r ^ *p++) & 0xff];
	return r;
}

static inline uint32_t shift_lane(uint32_t r)
{
	return shift_tab[0][r & 0xff] ^ shift_tab[1][(r >> 8) & 0xff] ^
	       shift_tab[2][(r >> 16) & 0xff] ^ shift_tab[3][r >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t hw_update(uint32_t r, const uint8_t *p,
							    size_t len)
{
	uint64_t r0 = r;

	while (len && ((uintptr_t)p & 7)) {
		r0 = __builtin_ia32_crc32qi((uint32_t)r0, *p++);
		len--;
	}
	while (len >= 3 * LANE) {
		uint64_t r1 = 0, r2 = 0;
		const uint8_t *end = p + LANE;

		/* Register state, not CRC value: zero start, no inversions, so states add. */
		do {
			uint64_t a, b, c;

			memcpy(&a, p, 8);
			memcpy(&b, p + LANE, 8);
			memcpy(&c, p + 2 * LANE, 8);
			r0 = __builtin_ia32_crc32di(r0, a);
			r1 = __builtin_ia32_crc32di(r1, b);
			r2 = __builtin_ia32_crc32di(r2, c);
			p += 8;
		} while (p < end);
		r0 = shift_lane((uint32_t)r0) ^ r1;
		r0 = shift_lane((uint32_t)r0) ^ r2;
		p += 2 * LANE;
		len -= 3 * LANE;
	}
	while (len >= 8) {
		uint64_t a;

		memcpy(&a, p, 8);
		r0 = __builtin_ia32_crc32di(r0, a);
		p += 8;
		len -= 8;
	}
	while (len--)
		r0 = __builtin_ia32_crc32qi((uint32_t)r0, *p++);
	return (uint32_t)r0;
}

static void init_tables(void)
{
	uint32_t basis[32], lane_op;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t r = i;

		for (int k = 0; k < 8; k++)
			r = (r & 1) ? (r >> 1) ^ POLY : r >> 1;
		sw_table[0][i] = r;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			sw_table[t][i] = (sw_table[t - 1][i] >> 8) ^
					 sw_table[0][sw_table[t - 1][i] & 0xff];

	/* Advancing a state over zero bytes is linear: build it from the 32 basis states. */
	lane_op = x_pow_8n(LANE);
	for (int bit = 0; bit < 32; bit++)
		basis[bit] = gf2_mul(lane_op, 1u << bit);
	for (int k = 0; k < 4; k++)
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t v = 0;

			for (int j = 0; j < 8; j++)
				if (b & (1u << j))
					v ^= basis[8 * k + j];
			shift_tab[k][b] = v;
		}
	__builtin_cpu_init();
	have_hw = __builtin_cpu_supports("sse4.2");
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	uint32_t r;

	pthread_once(&crc_once, init_tables);
	r = ~crc;
	r = have_hw ? hw_update(r, buf, len) : sw_update(r, buf, len);
	return ~r;
}

/* For the unit test: force the portable path to compare both. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, init_tables);
	return ~sw_update(~crc, buf, len);
}
