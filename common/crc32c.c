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
 * The hardware path and the arithmetic that combines CRCs are nolibc/crc32c.h's, shared with
 * the parasite (whose chunk checksums the container takes as its own): three independent
 * crc32 streams over thirds of a block (the instruction has a 3-cycle latency but issues
 * every cycle), joined here with a precomputed "shift by one third" table, cheaper than the
 * parasite's multiplication. Without SSE4.2 a slicing-by-8 table does the work.
 */
#include "image.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "nolibc/crc32c.h"


/* Bytes per stream in the three-way hardware loop; a block is 3 * LANE. */
#define LANE 4096

static uint32_t sw_table[8][256];
/* shift_tab[k][b]: the register state b << (8k) advanced over LANE zero bytes. */
static uint32_t shift_tab[4][256];
static int have_hw;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	return nl_crc32c_combine(crc_a, crc_b, len_b);
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

/* The join of the hardware loop: a state advanced over LANE zero bytes, by table. */
static uint32_t shift_lane(const void *ctx, uint32_t r)
{
	(void)ctx;
	return shift_tab[0][r & 0xff] ^ shift_tab[1][(r >> 8) & 0xff] ^
	       shift_tab[2][(r >> 16) & 0xff] ^ shift_tab[3][r >> 24];
}

static uint32_t hw_update(uint32_t r, const uint8_t *p, size_t len)
{
	return nl_crc32c_hw_update(r, p, len, LANE, shift_lane, NULL);
}

static void init_tables(void)
{
	uint32_t basis[32], lane_op;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t r = i;

		for (int k = 0; k < 8; k++)
			r = (r & 1) ? (r >> 1) ^ NL_CRC32C_POLY : r >> 1;
		sw_table[0][i] = r;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			sw_table[t][i] = (sw_table[t - 1][i] >> 8) ^
					 sw_table[0][sw_table[t - 1][i] & 0xff];

	/* Advancing a state over zero bytes is linear: build it from the 32 basis states. */
	lane_op = nl_crc32c_x8n(LANE);
	for (int bit = 0; bit < 32; bit++)
		basis[bit] = nl_crc32c_mul(lane_op, 1u << bit);
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
