/*
 * The chunk codec of page sections: decide quickly whether a chunk is worth compressing,
 * compress it with zlib, inflate it back with every size checked.
 *
 * The decision matters for speed: deflating 1 MiB of random bytes at level 1 costs ~10 ms and
 * gains nothing. So a chunk is judged on four 4 KiB samples spread over it: first by their
 * byte histogram (a flat one means random or already compressed data: stored raw, at a cost
 * of ~10 us per MiB), then by deflating the samples; if they do not shrink below
 * SAMPLE_KEEP of their size the chunk is stored raw. A chunk that passes is compressed whole
 * and still stored raw if the result is not smaller. Data whose bytes are uniformly
 * distributed yet repetitive (a random block copied many times) is stored raw: rare in
 * memory, and the price of deciding in microseconds.
 */
#include "image_fmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define SAMPLE_LEN   4096u
#define SAMPLE_COUNT 4u
/* Samples must come out below 7/8 of their size for the chunk to be compressed. */
#define SAMPLE_KEEP_NUM 7u
#define SAMPLE_KEEP_DEN 8u

int image_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > 64 ? 64 : (int)n;
}

int image_zctx_init(struct image_zctx *z, int level)
{
	z_stream *zs = calloc(1, sizeof(*zs));

	z->zs = NULL;
	z->level = level;
	if (!zs)
		return -ENOMEM;
	/* zlib wrapper (windowBits 15): its adler32 re-checks the inflated bytes at restart. */
	if (deflateInit2(zs, level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(zs);
		return -ENOMEM;
	}
	z->zs = zs;
	return 0;
}

void image_zctx_free(struct image_zctx *z)
{
	if (z->zs) {
		deflateEnd(z->zs);
		free(z->zs);
		z->zs = NULL;
	}
}

size_t image_compress_bound(uint32_t raw_len)
{
	return compressBound(raw_len) + 64;
}

/* Deflates in[0..len) into out completely; returns the compressed size or 0 on failure. */
static size_t deflate_all(z_stream *zs, const void *in, size_t len, void *out, size_t cap)
{
	size_t n;

	if (deflateReset(zs) != Z_OK)
		return 0;
	zs->next_in = (Bytef *)in;
	zs->avail_in = (uInt)len;
	zs->next_out = out;
	zs->avail_out = (uInt)cap;
	if (deflate(zs, Z_FINISH) != Z_STREAM_END)
		return 0;
	n = zs->total_out;
	return n;
}

int image_chunk_incompressible(const void *buf, uint32_t len)
{
	const uint8_t *in = buf;
	uint32_t hist[256] = { 0 }, step;
	uint64_t n = (uint64_t)SAMPLE_LEN * SAMPLE_COUNT, sq = 0;

	if (len <= SAMPLE_LEN * SAMPLE_COUNT * 2)
		return 0; /* small: let the deflate trial decide */
	step = (len - SAMPLE_LEN) / (SAMPLE_COUNT - 1);
	for (uint32_t i = 0; i < SAMPLE_COUNT; i++) {
		const uint8_t *p = in + (size_t)i * step;

		for (uint32_t k = 0; k < SAMPLE_LEN; k++)
			hist[p[k]]++;
	}
	for (int b = 0; b < 256; b++)
		sq += (uint64_t)hist[b] * hist[b];
	/*
	 * Collision entropy H2 = -log2(sum (c/n)^2) is a lower bound of the Shannon entropy.
	 * H2 >= 7.5 bits per byte, i.e. sum c^2 * 2^7.5 <= n^2 (2^7.5 ~ 181), means even the
	 * best byte-wise coding gains under 7%: random or already compressed data.
	 */
	return sq * 181 <= n * n;
}

/* Whether samples spread over the chunk shrink enough to make compressing it worthwhile. */
static int trial_pays(z_stream *zs, const uint8_t *in, uint32_t len, uint8_t *out, size_t cap)
{
	size_t in_sum = 0, out_sum = 0;
	uint32_t step;

	if (len <= SAMPLE_LEN * SAMPLE_COUNT * 2)
		return 1; /* small: the trial would cost as much as the real thing */
	/* A flat byte histogram settles it without deflating anything (~10 us per MiB). */
	if (image_chunk_incompressible(in, len))
		return 0;
	step = (len - SAMPLE_LEN) / (SAMPLE_COUNT - 1);
	for (uint32_t i = 0; i < SAMPLE_COUNT; i++) {
		size_t n = deflate_all(zs, in + (size_t)i * step, SAMPLE_LEN, out, cap);

		if (n == 0)
			return 0;
		in_sum += SAMPLE_LEN;
		out_sum += n;
	}
	return out_sum * SAMPLE_KEEP_DEN < in_sum * SAMPLE_KEEP_NUM;
}

void image_compress_chunk(struct image_zctx *z, const void *in, uint32_t len, void *out,
			  size_t out_cap, struct image_chunk_out *res)
{
	size_t n;

	res->comp = IMAGE_COMP_NONE;
	res->stored_len = len;
	res->data = in;
	if (z && z->zs && len && trial_pays(z->zs, in, len, out, out_cap)) {
		n = deflate_all(z->zs, in, len, out, out_cap);
		if (n && n < len) {
			res->comp = IMAGE_COMP_ZLIB;
			res->stored_len = (uint32_t)n;
			res->data = out;
		}
	}
	res->crc = crc32c(0, res->data, res->stored_len);
}

int image_inflate_chunk(const void *src, uint32_t stored_len, void *dst, uint32_t raw_len,
			const char **why)
{
	z_stream zs;
	int ret;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15) != Z_OK) {
		*why = "out of memory for zlib";
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)src;
	zs.avail_in = stored_len;
	zs.next_out = dst;
	zs.avail_out = raw_len;
	ret = inflate(&zs, Z_FINISH);
	if (ret == Z_STREAM_END && zs.total_out == raw_len && zs.avail_in == 0) {
		inflateEnd(&zs);
		return 0;
	}
	if (ret == Z_STREAM_END)
		*why = zs.total_out != raw_len ? "inflates to the wrong size" :
						 "trailing bytes after the zlib stream";
	else if (ret == Z_BUF_ERROR && zs.avail_out == 0)
		*why = "inflates to more bytes than recorded";
	else if (ret == Z_BUF_ERROR)
		*why = "zlib stream is truncated";
	else
		*why = "corrupt zlib stream";
	inflateEnd(&zs);
	return -EINVAL;
}
