/*
 * Unit tests of the image container (common/image*.c, common/crc32c.c), part 1: checksum,
 * round trips with and without compression (records, page runs of random, zero and
 * compressible data, many chunks, fed from memory and from fds), compression decisions, API
 * misuse, and image_show(). Damage and failure handling: check_image_damage.c.
 */
#include "image_testlib.h"
#include "nolibc/crc32c.h"

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* ---- checksum -------------------------------------------------------------------------- */

START_TEST(test_crc32c)
{
	size_t n = 200000;
	uint8_t *b = alloc_data(n, 1);

	ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(crc32c(0, NULL, 0), 0);
	for (size_t off = 0; off < 16; off += 3)
		for (size_t len = 0; len < n - 16; len += 7919) {
			uint32_t all = crc32c(0, b + off, len);
			size_t cut = len / 3;

			ck_assert_uint_eq(all, crc32c_sw(0, b + off, len));
			ck_assert_uint_eq(all, crc32c(crc32c(0, b + off, cut), b + off + cut,
						      len - cut));
			ck_assert_uint_eq(all, crc32c_combine(crc32c(0, b + off, cut),
							      crc32c(0, b + off + cut, len - cut),
							      len - cut));
		}
	free(b);
}
END_TEST

/*
 * nolibc/crc32c.h, which the parasite checksums page chunks with, against the container's
 * crc32c() and its portable path: on random data at every alignment, lengths around the block
 * sizes of the parasite's lanes (16 KiB), the container's (4 KiB) and tiny lanes that join
 * every few bytes, chained as the parasite chains pieces, and combined.
 */
START_TEST(test_crc32c_shared)
{
	static const uint64_t lanes[] = { 8, 40, 4096, 16384 };
	size_t lens[256], nlens = 0, n = 3 * 3 * 16384 + 64;
	uint8_t *b = alloc_data(n + 8, 1);
	int hw = __builtin_cpu_supports("sse4.2");
	uint32_t seed = 12345;

	ck_assert_uint_eq(nl_crc32c_x8n(0), 1u << 31); /* x^0: append nothing */
	ck_assert_uint_eq(nl_crc32c_mul(1u << 31, 0x12345678u), 0x12345678u);
	ck_assert_uint_eq(nl_crc32c_combine(0xabcdef01u, 0, 0), 0xabcdef01u);
	for (size_t len = 0; len <= 64; len++)
		lens[nlens++] = len;
	for (size_t i = 0; i < sizeof(lanes) / sizeof(lanes[0]); i++)
		for (uint64_t k = 1; k <= 3 && 3 * k * lanes[i] + 9 <= n; k++)
			for (int d = -9; d <= 9; d += 3)
				lens[nlens++] = (size_t)((int64_t)(3 * k * lanes[i]) + d);
	while (nlens < sizeof(lens) / sizeof(lens[0])) {
		seed = seed * 1103515245u + 12345u;
		lens[nlens++] = (seed >> 8) % (n + 1);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t i = 0; i < nlens; i++) {
			const uint8_t *p = b + off;
			size_t len = lens[i], cut = len * 2 / 5;
			uint32_t want = crc32c_sw(0, p, len);

			ck_assert_uint_eq(crc32c(0, p, len), want);
			ck_assert_uint_eq(nl_crc32c_combine(crc32c_sw(0, p, cut),
							    crc32c_sw(0, p + cut, len - cut),
							    len - cut),
					  want);
			if (!hw)
				continue;
			for (size_t l = 0; l < sizeof(lanes) / sizeof(lanes[0]); l++) {
				uint32_t op = nl_crc32c_x8n(lanes[l]), head;

				ck_assert_uint_eq(~nl_crc32c_hw_update(~0u, p, len, lanes[l],
								       nl_crc32c_join_mul, &op),
						  want);
				head = ~nl_crc32c_hw_update(~0u, p, cut, lanes[l],
							    nl_crc32c_join_mul, &op);
				ck_assert_uint_eq(~nl_crc32c_hw_update(~head, p + cut, len - cut,
								       lanes[l], nl_crc32c_join_mul,
								       &op),
						  want);
			}
		}
	free(b);
}
END_TEST

/* ---- round trips ----------------------------------------------------------------------- */

struct feeder {
	int fd;
	const uint8_t *buf;
	size_t len;
};

static void *feed_thread(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0;

	while (off < f->len) {
		ssize_t n = write(f->fd, f->buf + off, f->len - off > 70000 ? 70000 : f->len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(f->fd);
	return NULL;
}

static void *dest_of(void *arg, const struct image_section *s, uint32_t run)
{
	uint8_t **bufs = arg;

	(void)s;
	return bufs[run];
}

/*
 * Writes: record A (two appends), unknown-type record, pages: random run, zero run adjacent
 * (merged), text run elsewhere fed through a pipe, random run fed from a file; record B.
 * Reads everything back both ways and compares.
 */
static void round_trip(int compress, uint32_t chunk, size_t unit)
{
	struct image_opts o = opts_for(compress, chunk);
	struct image_writer *w;
	struct image_reader *r;
	const struct image_section *s;
	uint8_t *rnd1 = alloc_data(unit * 3, 1), *zero = alloc_data(unit, 0);
	uint8_t *text = alloc_data(unit * 2 + PS, 2), *rnd2 = alloc_data(unit, 1);
	const char rec1[] = "hello ", rec2[] = "records";
	uint8_t big_rec[300000];
	int pfd[2], ffd;
	pthread_t thr;
	struct feeder fe;
	size_t len;
	const void *data;

	fill_random(big_rec, sizeof(big_rec));
	ck_assert_int_eq(image_create(tdir, "ckpt_rt.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_section(w, SEC_A), 0);
	ck_assert_int_eq(image_append(w, rec1, strlen(rec1)), 0);
	ck_assert_int_eq(image_append(w, rec2, strlen(rec2)), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_add_record(w, SEC_UNKNOWN, big_rec, sizeof(big_rec)), 0);
	ck_assert_int_eq(image_add_record(w, SEC_B, NULL, 0), 0);

	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0x10000000, rnd1, unit * 3), 0);
	ck_assert_int_eq(image_add_pages(w, 0x10000000 + unit * 3, zero, unit), 0); /* merges */
	ck_assert_int_eq(pipe(pfd), 0);
	fe = (struct feeder){ .fd = pfd[1], .buf = text, .len = unit * 2 + PS };
	ck_assert_int_eq(pthread_create(&thr, NULL, feed_thread, &fe), 0);
	ck_assert_int_eq(image_add_pages_fd(w, 0x7f0000000000, pfd[0], unit * 2 + PS), 0);
	pthread_join(thr, NULL);
	close(pfd[0]);
	ffd = open(path_of("feed"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(ffd, 0);
	ck_assert_int_eq(write(ffd, rnd2, unit), (ssize_t)unit);
	ck_assert_int_eq(lseek(ffd, 0, SEEK_SET), 0);
	ck_assert_int_eq(image_add_pages_fd(w, 0x20000000, ffd, unit), 0);
	close(ffd);
	unlink(path_of("feed"));
	ck_assert_int_eq(image_end_section(w), 0);
	/* A second page section, tiny. */
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0x1000, text, PS), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(access(path_of("ckpt_rt.dmtcp"), F_OK), -1);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	ck_assert_int_eq(count_files(tdir), 1);

	ck_assert_int_eq(image_open(path_of("ckpt_rt.dmtcp"), &r), 0);
	ck_assert_str_eq(image_get_info(r)->prog, "testprog");
	ck_assert_str_eq(image_get_info(r)->uniquepid, "abcdef-1234-5678");
	ck_assert_str_eq(image_get_info(r)->compid, "abcdef-99-1");
	ck_assert_str_eq(image_get_info(r)->hostname, "testhost");
	ck_assert_uint_eq(image_get_info(r)->arch, 62);
	ck_assert_uint_eq(image_get_info(r)->flags, compress ? IMAGE_F_COMPRESS : 0);
	ck_assert_uint_eq(image_nsections(r), 5);

	s = image_find_section(r, SEC_A, NULL);
	ck_assert_ptr_nonnull(s);
	data = image_record_data(r, s, &len);
	ck_assert_uint_eq(len, strlen(rec1) + strlen(rec2));
	ck_assert_int_eq(memcmp(data, "hello records", len), 0);
	ck_assert_ptr_null(image_find_section(r, SEC_A, s));
	s = image_find_section(r, SEC_UNKNOWN, NULL);
	data = image_record_data(r, s, &len);
	ck_assert_uint_eq(len, sizeof(big_rec));
	ck_assert_int_eq(memcmp(data, big_rec, len), 0);
	s = image_find_section(r, SEC_B, NULL);
	ck_assert_ptr_nonnull(image_record_data(r, s, &len));
	ck_assert_uint_eq(len, 0);

	s = image_find_section(r, SEC_PAGES, NULL);
	ck_assert_uint_eq(s->kind, IMAGE_KIND_PAGES);
	ck_assert_ptr_null(image_record_data(r, s, &len));
	ck_assert_uint_eq(s->nruns, 3);
	ck_assert_uint_eq(s->runs[0].vaddr, 0x10000000);
	ck_assert_uint_eq(s->runs[0].npages, unit * 4 / PS);
	ck_assert_uint_eq(s->runs[1].vaddr, 0x7f0000000000);
	ck_assert_uint_eq(s->runs[1].npages, (unit * 2 + PS) / PS);
	ck_assert_uint_eq(s->runs[2].vaddr, 0x20000000);
	ck_assert_uint_eq(s->raw_bytes, unit * 7 + PS);
	ck_assert_uint_eq(s->nchunks, (s->raw_bytes + chunk - 1) / chunk);
	if (compress) {
		/* Zero and text chunks shrink; random ones are stored raw. */
		ck_assert_uint_gt(s->zlib_chunks, 0);
		ck_assert_uint_lt(s->zlib_chunks, s->nchunks);
		ck_assert_uint_lt(s->stored_bytes, s->raw_bytes);
	} else {
		ck_assert_uint_eq(s->zlib_chunks, 0);
		ck_assert_uint_eq(s->stored_bytes, s->raw_bytes);
	}
	{
		uint8_t *out[3] = { malloc(unit * 4), malloc(unit * 2 + PS), malloc(unit) };
		uint8_t *one = malloc(unit * 2 + PS);

		ck_assert_int_eq(image_read_pages(r, s, dest_of, out), 0);
		ck_assert_int_eq(memcmp(out[0], rnd1, unit * 3), 0);
		ck_assert_int_eq(memcmp(out[0] + unit * 3, zero, unit), 0);
		ck_assert_int_eq(memcmp(out[1], text, unit * 2 + PS), 0);
		ck_assert_int_eq(memcmp(out[2], rnd2, unit), 0);
		/* One run alone, into a fresh buffer. */
		memset(one, 0xaa, unit * 2 + PS);
		ck_assert_int_eq(image_read_run(r, s, 1, one), 0);
		ck_assert_int_eq(memcmp(one, text, unit * 2 + PS), 0);
		memset(out[2], 0, unit);
		ck_assert_int_eq(image_read_run(r, s, 2, out[2]), 0);
		ck_assert_int_eq(memcmp(out[2], rnd2, unit), 0);
		quiet(1);
		ck_assert_int_eq(image_read_run(r, s, 3, one), -EINVAL);
		quiet(0);
		for (int i = 0; i < 3; i++)
			free(out[i]);
		free(one);
	}
	s = image_find_section(r, SEC_PAGES, s);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nruns, 1);
	{
		uint8_t page[PS];

		ck_assert_int_eq(image_read_run(r, s, 0, page), 0);
		ck_assert_int_eq(memcmp(page, text, PS), 0);
	}
	image_close(r);
	free(rnd1);
	free(zero);
	free(text);
	free(rnd2);
}

START_TEST(test_round_trip_raw_small_chunks)
{
	round_trip(0, 16 * PS, 40 * PS); /* many chunks, runs straddling chunk boundaries */
}
END_TEST

START_TEST(test_round_trip_zlib_small_chunks)
{
	round_trip(1, 16 * PS, 40 * PS);
}
END_TEST

START_TEST(test_round_trip_raw_default_chunks)
{
	round_trip(0, IMAGE_DEFAULT_CHUNK, 1536 * PS); /* 6 MiB units, 42 MiB of pages */
}
END_TEST

START_TEST(test_round_trip_zlib_default_chunks)
{
	round_trip(1, IMAGE_DEFAULT_CHUNK, 1536 * PS);
}
END_TEST

/* Returns a destination for even runs only: odd runs are skipped by the reader. */
static void *even_dest(void *arg, const struct image_section *s, uint32_t run)
{
	(void)s;
	return run % 2 ? NULL : (uint8_t *)arg + (size_t)run * PS;
}

/* Many one-page runs with holes between them: chunks span many runs, runs split chunks. */
START_TEST(test_scattered_runs)
{
	struct image_opts o = opts_for(_i, 16 * PS);
	struct image_writer *w;
	struct image_reader *r;
	const struct image_section *s;
	uint32_t n = 2000;
	uint8_t *data = alloc_data((size_t)n * PS, 2), *out = calloc(n, PS), page[PS];

	fill_random(data + 100 * PS, 300 * PS);
	ck_assert_int_eq(image_create(tdir, "sc.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(image_add_pages(w, 0x100000000ull + 2ull * i * PS,
						 data + (size_t)i * PS, PS), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);

	ck_assert_int_eq(image_open(path_of("sc.dmtcp"), &r), 0);
	s = image_find_section(r, SEC_PAGES, NULL);
	ck_assert_uint_eq(s->nruns, n);
	ck_assert_uint_eq(s->nchunks, n / 16);
	ck_assert_uint_eq(s->runs[n - 1].vaddr, 0x100000000ull + 2ull * (n - 1) * PS);
	for (uint32_t i = 0; i < n; i += 7) {
		ck_assert_int_eq(image_read_run(r, s, i, page), 0);
		ck_assert_int_eq(memcmp(page, data + (size_t)i * PS, PS), 0);
	}
	ck_assert_int_eq(image_read_pages(r, s, even_dest, out), 0);
	for (uint32_t i = 0; i < n; i++) {
		static const uint8_t zero[PS];

		if (i % 2) /* skipped: untouched */
			ck_assert_int_eq(memcmp(out + (size_t)i * PS, zero, PS), 0);
		else
			ck_assert_int_eq(memcmp(out + (size_t)i * PS, data + (size_t)i * PS, PS), 0);
	}
	image_close(r);
	free(data);
	free(out);
}
END_TEST

/*
 * How chunks are stored: random bytes (flat histogram) raw; random bytes over 160 symbols
 * (histogram not flat, but deflate gains < 1/8) raw after the deflate trial; text and zeros
 * compressed. Each kind in its own page section, 4 chunks of 256 KiB each.
 */
START_TEST(test_compress_decisions)
{
	struct image_opts o = opts_for(1, 64 * PS);
	struct image_writer *w;
	struct image_reader *r;
	size_t n = 256 * PS;
	uint8_t *d[4] = { alloc_data(n, 1), alloc_data(n, 1), alloc_data(n, 2), alloc_data(n, 0) };
	uint32_t want_zlib[4] = { 0, 0, 4, 4 };

	for (size_t i = 0; i < n; i++)
		d[1][i] %= 160;
	ck_assert_int_eq(image_create(tdir, "cd.dmtcp", &o, &w), 0);
	for (int k = 0; k < 4; k++) {
		ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
		ck_assert_int_eq(image_add_pages(w, 0x10000000, d[k], n), 0);
		ck_assert_int_eq(image_end_section(w), 0);
	}
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	ck_assert_int_eq(image_open(path_of("cd.dmtcp"), &r), 0);
	for (uint32_t k = 0; k < 4; k++) {
		const struct image_section *s = image_get_section(r, k);
		uint8_t *out = malloc(n);

		ck_assert_uint_eq(s->nchunks, 4);
		ck_assert_msg(s->zlib_chunks == want_zlib[k], "kind %u: %u zlib chunks", k,
			      s->zlib_chunks);
		ck_assert_int_eq(image_read_run(r, s, 0, out), 0);
		ck_assert_int_eq(memcmp(out, d[k], n), 0);
		free(out);
		free(d[k]);
	}
	ck_assert_uint_lt(image_get_section(r, 3)->stored_bytes, n / 100);
	image_close(r);
}
END_TEST

START_TEST(test_empty_image)
{
	struct image_opts o = opts_for(1, 0);
	struct image_writer *w;
	struct image_reader *r;

	ck_assert_int_eq(image_create(tdir, "e.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	ck_assert_int_eq(image_open(path_of("e.dmtcp"), &r), 0);
	ck_assert_uint_eq(image_nsections(r), 1);
	ck_assert_uint_eq(image_get_section(r, 0)->nruns, 0);
	ck_assert_uint_eq(image_get_section(r, 0)->nchunks, 0);
	image_close(r);
}
END_TEST

START_TEST(test_gzip_env)
{
	struct image_opts o = IMAGE_OPTS_INIT; /* compress = -1: from the environment */
	struct image_writer *w;
	struct image_info info;

	unsetenv("DMTCP_GZIP");
	ck_assert_int_eq(image_gzip_from_env(), 1);
	setenv("DMTCP_GZIP", "0", 1);
	ck_assert_int_eq(image_gzip_from_env(), 0);
	ck_assert_int_eq(image_create(tdir, "env.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	ck_assert_int_eq(image_peek(path_of("env.dmtcp"), &info), 0);
	ck_assert_uint_eq(info.flags & IMAGE_F_COMPRESS, 0);
	setenv("DMTCP_GZIP", "1", 1);
	ck_assert_int_eq(image_gzip_from_env(), 1);
}
END_TEST

START_TEST(test_misuse)
{
	struct image_opts o = opts_for(0, 0);
	struct image_writer *w;
	uint8_t page[PS] = { 0 };

	quiet(1);
	ck_assert_int_eq(image_create(tdir, "a/b", &o, &w), -EINVAL);
	ck_assert_int_eq(image_create("/nonexistent/dir", "x", &o, &w), -ENOENT);
	o.uniquepid = "0123456789012345678901234567890123456789012345678901234567890123456789";
	ck_assert_int_eq(image_create(tdir, "x", &o, &w), -ENAMETOOLONG);
	o = opts_for(0, 1000);
	ck_assert_int_eq(image_create(tdir, "x", &o, &w), -EINVAL);
	o = opts_for(0, 0);
	ck_assert_int_eq(image_create(tdir, "x", &o, &w), 0);
	ck_assert_int_eq(image_append(w, "a", 1), -EINVAL);
	ck_assert_int_eq(image_end_section(w), -EINVAL);
	ck_assert_int_eq(image_commit(w), -EINVAL);
	ck_assert_int_eq(image_begin_section(w, 1), 0);
	ck_assert_int_eq(image_add_pages(w, 0, page, PS), -EINVAL);
	ck_assert_int_eq(image_begin_section(w, 1), -EINVAL);
	ck_assert_int_eq(image_finish(w), -EINVAL);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_begin_pages(w, 2), 0);
	ck_assert_int_eq(image_add_pages(w, 100, page, PS), -EINVAL);
	ck_assert_int_eq(image_add_pages(w, 0, page, 100), -EINVAL);
	ck_assert_int_eq(image_append(w, "a", 1), -EINVAL);
	ck_assert_int_eq(image_end_section(w), 0);
	image_discard(w); /* never finished: the temp file goes */
	quiet(0);
	ck_assert_int_eq(count_files(tdir), 0);
}
END_TEST

/* A relative directory is resolved once, at image_create: a later chdir changes nothing. */
START_TEST(test_relative_dir)
{
	struct image_opts o = opts_for(0, 0);
	struct image_writer *w;
	struct image_reader *r;

	ck_assert_int_eq(chdir(tdir), 0);
	ck_assert_int_eq(image_create(NULL, "rel.dmtcp", &o, &w), 0);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(image_add_record(w, SEC_A, "x", 1), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	ck_assert_str_eq(image_writer_final_path(w), "./rel.dmtcp");
	image_discard(w);
	ck_assert_int_eq(access("/rel.dmtcp", F_OK), -1);
	ck_assert_int_eq(image_open(path_of("rel.dmtcp"), &r), 0);
	image_close(r);
	ck_assert_int_eq(count_files(tdir), 1);
}
END_TEST

START_TEST(test_fd_short)
{
	struct image_opts o = opts_for(_i, 0);
	struct image_writer *w;
	int pfd[2];
	uint8_t page[PS] = { 1 };

	ck_assert_int_eq(image_create(tdir, "short.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(write(pfd[1], page, PS), PS);
	close(pfd[1]);
	quiet(1);
	ck_assert_int_eq(image_add_pages_fd(w, 0, pfd[0], 2 * PS), -EIO);
	/* Poisoned: everything after fails the same way and nothing is committed. */
	ck_assert_int_eq(image_end_section(w), -EIO);
	ck_assert_int_eq(image_finish(w), -EIO);
	ck_assert_int_eq(image_commit(w), -EIO);
	quiet(0);
	image_discard(w);
	close(pfd[0]);
	ck_assert_int_eq(count_files(tdir), 0);
}
END_TEST

/* ---- show ------------------------------------------------------------------------------ */

static int hook_calls;

static const char *hook_name(uint32_t type, void *arg)
{
	(void)arg;
	return type == SEC_A ? "first" : type == SEC_PAGES ? "pages" : NULL;
}

static void hook_print(FILE *f, const struct image_section *s, const void *data, size_t len,
		       void *arg)
{
	(void)arg;
	hook_calls++;
	fprintf(f, "    record %u: %.*s\n", s->type, (int)len, (const char *)data);
}

START_TEST(test_show)
{
	struct image_show_hooks hooks = { hook_name, hook_print, NULL };
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	size_t len;
	uint8_t *img;

	write_small("good.dmtcp", 1);
	f = open_memstream(&out, &outlen);
	ck_assert_int_eq(image_show(f, path_of("good.dmtcp"), &hooks,
				    IMAGE_SHOW_RUNS | IMAGE_SHOW_CHUNKS), 0);
	fclose(f);
	ck_assert_int_eq(hook_calls, 2);
	ck_assert_ptr_nonnull(strstr(out, "program:    testprog"));
	ck_assert_ptr_nonnull(strstr(out, "x86_64"));
	ck_assert_ptr_nonnull(strstr(out, "section 0: type 1 (first), record"));
	ck_assert_ptr_nonnull(strstr(out, "record 1: first record"));
	ck_assert_ptr_nonnull(strstr(out, "2 runs, 12 pages"));
	ck_assert_ptr_nonnull(strstr(out, "3 chunks: 2 zlib, 1 raw"));
	ck_assert_ptr_nonnull(strstr(out, "run 1: 0x000000800000-0x000000804000 4 pages"));
	ck_assert_ptr_nonnull(strstr(out, "chunk 2: none, 16384 -> 16384 bytes"));
	ck_assert_ptr_nonnull(strstr(out, "validation: OK"));
	free(out);

	img = slurp(path_of("good.dmtcp"), &len);
	img[len - 50] ^= 1;
	spit(path_of("bad.dmtcp"), img, len);
	free(img);
	out = NULL;
	f = open_memstream(&out, &outlen);
	quiet(1);
	ck_assert_int_lt(image_show(f, path_of("bad.dmtcp"), NULL, 0), 0);
	quiet(0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "program:    testprog"));
	ck_assert_ptr_nonnull(strstr(out, "validation: FAILED: "));
	ck_assert_ptr_nonnull(strstr(out, "section index checksum mismatch"));
	free(out);
}
END_TEST

START_TEST(test_set_nprocs)
{
	struct image_opts o = opts_for(1, 16 * PS);
	struct image_writer *w;
	struct image_reader *r;
	uint8_t page[PS];

	memset(page, 0x5a, sizeof(page));
	o.ckpt_id = 0x1234567800000009ull;
	ck_assert_int_eq(image_create(tdir, "set.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, 0x4000), 0);
	ck_assert_int_eq(image_add_pages(w, 0x10000, page, PS), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	quiet(1);
	ck_assert_int_eq(image_set_nprocs(w, 3), -EINVAL); /* not finished yet */
	quiet(0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_set_nprocs(w, 3), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	/* image_open checks every checksum: the rewritten header and footer must agree. */
	ck_assert_int_eq(image_open(path_of("set.dmtcp"), &r), 0);
	ck_assert_uint_eq(image_get_info(r)->nprocs, 3);
	ck_assert_uint_eq(image_get_info(r)->ckpt_id, 0x1234567800000009ull);
	{
		const struct image_section *sec = image_find_section(r, 0x4000, NULL);
		uint8_t back[PS];

		ck_assert_ptr_nonnull(sec);
		ck_assert_int_eq(image_read_run(r, sec, 0, back), 0);
		ck_assert_mem_eq(back, page, PS);
	}
	image_close(r);
}
END_TEST

static Suite *image_suite(void)
{
	Suite *s = suite_create("image");

	ADD(s, test_crc32c);
	ADD(s, test_crc32c_shared);
	ADD(s, test_round_trip_raw_small_chunks);
	ADD(s, test_round_trip_zlib_small_chunks);
	ADD(s, test_round_trip_raw_default_chunks);
	ADD(s, test_round_trip_zlib_default_chunks);
	ADD_LOOP(s, test_scattered_runs, 2);
	ADD(s, test_compress_decisions);
	ADD(s, test_empty_image);
	ADD(s, test_gzip_env);
	ADD(s, test_set_nprocs);
	ADD(s, test_misuse);
	ADD(s, test_relative_dir);
	ADD_LOOP(s, test_fd_short, 2);
	ADD(s, test_show);
	return s;
}

int main(void)
{
	return run_suite("check_image", image_suite());
}
