/*
 * Unit tests of the image container (common/image*.c, common/crc32c.c): checksum, round trips
 * with and without compression, every kind of corruption and truncation detected and named,
 * crash safety of the temporary-file protocol, and full-disk / file-size-limit failures.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "log.h"

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

#define PS 4096u

enum { SEC_A = 1, SEC_PAGES = 2, SEC_B = 3, SEC_UNKNOWN = 999 };

static char tdir[64];

static void setup_dir(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/check_image.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void teardown_dir(void)
{
	remove_dir(tdir);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Silences the library's error lines while a loop provokes thousands of them. */
static void quiet(int on)
{
	static int devnull = -1;

	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY);
	log_set_fd(on ? devnull : STDERR_FILENO);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd();

		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

static void fill_text(uint8_t *p, size_t n)
{
	size_t i = 0;
	unsigned line = 0;

	while (i < n) {
		char buf[80];
		int k = snprintf(buf, sizeof(buf), "line %u of some rather compressible text\n",
				 line++ % 1000);

		for (int j = 0; j < k && i < n; j++)
			p[i++] = (uint8_t)buf[j];
	}
}

static uint8_t *alloc_data(size_t n, int kind)
{
	uint8_t *p = malloc(n);

	ck_assert_ptr_nonnull(p);
	if (kind == 0)
		memset(p, 0, n);
	else if (kind == 1)
		fill_random(p, n);
	else
		fill_text(p, n);
	return p;
}

static char *path_of(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", tdir, name);
	return p;
}

static struct image_opts opts_for(int compress, uint32_t chunk)
{
	struct image_opts o = IMAGE_OPTS_INIT;

	o.compress = compress;
	o.chunk_size = chunk;
	o.prog = "testprog";
	o.uniquepid = "abcdef-1234-5678";
	o.compid = "abcdef-99-1";
	o.hostname = "testhost";
	o.threads = 2;
	return o;
}

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

/* ---- corruption ------------------------------------------------------------------------ */

/* A small valid image: record, page section with zlib and raw chunks, record. */
static void write_small(const char *name, int compress)
{
	struct image_opts o = opts_for(compress, 4 * PS);
	struct image_writer *w;
	uint8_t *text = alloc_data(8 * PS, 2), *rand = alloc_data(4 * PS, 1);

	ck_assert_int_eq(image_create(tdir, name, &o, &w), 0);
	ck_assert_int_eq(image_add_record(w, SEC_A, "first record", 12), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0x400000, text, 8 * PS), 0);
	ck_assert_int_eq(image_add_pages(w, 0x800000, rand, 4 * PS), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_add_record(w, SEC_B, "second", 6), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	free(text);
	free(rand);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void spit(const char *path, const void *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	close(fd);
}

/* Opens bad.dmtcp as it is now; returns the error and the message. */
static int open_bad(const char **msg)
{
	struct image_reader *r;
	int ret;

	quiet(1);
	ret = image_open(path_of("bad.dmtcp"), &r);
	quiet(0);
	if (!ret)
		image_close(r);
	*msg = image_last_error();
	return ret;
}

/* Opens a copy of img with the given bytes; returns the error and the message. */
static int open_variant(const uint8_t *img, size_t len, const char **msg)
{
	struct image_reader *r;
	int ret;

	spit(path_of("bad.dmtcp"), img, len);
	quiet(1);
	ret = image_open(path_of("bad.dmtcp"), &r);
	quiet(0);
	if (!ret)
		image_close(r);
	*msg = image_last_error();
	return ret;
}

static void expect_error(const uint8_t *img, size_t len, const char *want)
{
	const char *msg;
	int ret = open_variant(img, len, &msg);

	ck_assert_msg(ret < 0, "image accepted, expected \"%s\"", want);
	ck_assert_msg(strstr(msg, want) != NULL, "got \"%s\", expected \"%s\"", msg, want);
	ck_assert_msg(strstr(msg, "bad.dmtcp") != NULL, "message does not name the file: %s",
		      msg);
}

/* Finds section i's header offset by walking the (valid) image. */
static uint64_t sec_off(const uint8_t *img, int i)
{
	uint64_t off = 512;

	while (i--) {
		uint64_t len;

		memcpy(&len, img + off + 16, 8);
		off += 32 + len;
	}
	return off;
}

START_TEST(test_corrupt_named)
{
	size_t len;
	uint8_t *img, *b;
	uint64_t off;

	write_small("good.dmtcp", 1);
	img = slurp(path_of("good.dmtcp"), &len);
	b = malloc(len);

	/* header: a string byte */
	memcpy(b, img, len);
	b[70] ^= 0x01;
	expect_error(b, len, "header checksum mismatch");
	/* record section payload */
	memcpy(b, img, len);
	b[sec_off(img, 0) + 32 + 3] ^= 0x40;
	expect_error(b, len, "section 0 (type 1) checksum mismatch");
	/* section header */
	memcpy(b, img, len);
	b[sec_off(img, 2) + 4] ^= 0x02;
	expect_error(b, len, "section 2 (type 1): header checksum mismatch");
	/* chunk data: first chunk (zlib), then chunk 2 (random -> raw) */
	off = sec_off(img, 1) + 32;
	memcpy(b, img, len);
	b[off + 10] ^= 0x10;
	expect_error(b, len, "chunk 0 of page section 1 (type 2): checksum mismatch");
	{
		struct image_reader *r;
		const struct image_section *s;
		uint64_t pos;

		ck_assert_int_eq(image_open(path_of("good.dmtcp"), &r), 0);
		s = image_find_section(r, SEC_PAGES, NULL);
		ck_assert_uint_eq(s->nchunks, 3);
		ck_assert_uint_eq(s->zlib_chunks, 2);
		pos = s->stored_bytes - 4 * PS + 100; /* inside the last (raw) chunk */
		image_close(r);
		memcpy(b, img, len);
		b[off + pos] ^= 0x80;
		expect_error(b, len, "chunk 2 of page section 1 (type 2): checksum mismatch");
	}
	/* page index table (a run's address) */
	memcpy(b, img, len);
	b[sec_off(img, 2) - 32 - 3 * 16 - 2 * 16 + 1] ^= 0x01;
	expect_error(b, len, "section 1 (type 2) checksum mismatch");
	/* footer: an index entry, then the tail */
	memcpy(b, img, len);
	b[len - 32 - 10] ^= 0x04;
	expect_error(b, len, "section index checksum mismatch");
	memcpy(b, img, len);
	b[len - 32 + 17] ^= 0x04;
	expect_error(b, len, "footer checksum mismatch");
	memcpy(b, img, len);
	b[len - 1] ^= 0x04;
	expect_error(b, len, "footer checksum mismatch");
	free(b);
	free(img);
}
END_TEST

/* Every single-bit flip anywhere in a small image is caught. */
START_TEST(test_corrupt_every_byte)
{
	size_t len;
	uint8_t *img;
	const char *msg;

	int fd;

	write_small("good.dmtcp", _i);
	img = slurp(path_of("good.dmtcp"), &len);
	spit(path_of("bad.dmtcp"), img, len);
	fd = open(path_of("bad.dmtcp"), O_WRONLY);
	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < len; i++) {
		uint8_t bad = img[i] ^ (uint8_t)(1u << (i % 8));

		ck_assert_int_eq(pwrite(fd, &bad, 1, (off_t)i), 1);
		ck_assert_msg(open_bad(&msg) < 0, "flip at %zu not detected", i);
		ck_assert_int_eq(pwrite(fd, &img[i], 1, (off_t)i), 1);
	}
	close(fd);
	ck_assert_int_eq(open_bad(&msg), 0);
	free(img);
}
END_TEST

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * Recomputes every checksum of an image from its (possibly doctored) structure, the way a
 * buggy or malicious writer would, so that only the structural checks can catch the change.
 */
static void refresh_checksums(uint8_t *img, size_t len)
{
	uint64_t foot_off, off = 512;
	uint32_t nsec = get32(img + 56), c;
	uint8_t *foot = img + len - 32;

	memcpy(&foot_off, img + 48, 8);
	for (uint32_t i = 0; i < nsec; i++) {
		uint64_t plen;

		memcpy(&plen, img + off + 16, 8);
		c = crc32c(0, img + off + 32, plen);
		put32(img + off + 24, c);
		put32(img + off + 28, crc32c(0, img + off, 28));
		put32(img + foot_off + 32 * i + 24, c);
		off += 32 + plen;
	}
	put32(img + 508, crc32c(0, img, 508));
	put32(foot + 16, crc32c(0, img + foot_off, 32 * (size_t)nsec));
	put32(foot + 20, crc32c(0, img, len - 32));
	put32(foot + 28, crc32c(0, foot, 28));
}

/* Structure errors that checksums cannot catch, because the "writer" checksummed them. */
START_TEST(test_crafted_structure)
{
	size_t len;
	uint8_t *img, *b;
	uint64_t pend, foot_off;

	write_small("good.dmtcp", 1);
	img = slurp(path_of("good.dmtcp"), &len);
	b = malloc(len);
	memcpy(&foot_off, img + 48, 8);
	pend = sec_off(img, 2); /* end of the page section: runs(2) | chunks(3) | pidx */

	memcpy(b, img, len);
	refresh_checksums(b, len);
	ck_assert_int_eq(memcmp(b, img, len), 0); /* the helper reproduces the writer */

	memcpy(b, img, len);
	put32(b + pend - 32 - 48, 3 * PS); /* chunk 0 raw_len */
	refresh_checksums(b, len);
	expect_error(b, len, "chunk 0 of page section 1 (type 2): holds 12288 bytes, chunk size "
		     "is 16384");

	memcpy(b, img, len);
	put32(b + pend - 32 - 48 - 32 + 16, 0x800010); /* run 1 vaddr, unaligned */
	refresh_checksums(b, len);
	expect_error(b, len, "page section 1 (type 2): bad run 1 (0x800010, 4 pages)");

	memcpy(b, img, len);
	put32(b + pend - 32 - 16 + 8, 7); /* chunk 2 comp */
	refresh_checksums(b, len);
	expect_error(b, len, "chunk 2 of page section 1 (type 2): unknown compression 7");

	memcpy(b, img, len);
	put32(b + pend - 32 - 32 + 8, 0); /* chunk 1 (zlib) claimed raw: sizes disagree */
	refresh_checksums(b, len);
	expect_error(b, len, "chunk 1 of page section 1 (type 2): bad stored size");

	memcpy(b, img, len);
	put32(b + pend - 32, 0x12345678); /* pidx magic */
	refresh_checksums(b, len);
	expect_error(b, len, "page section 1 (type 2): bad page index magic 0x12345678");

	memcpy(b, img, len);
	put32(b + pend - 32 + 4, 3); /* pidx nruns */
	refresh_checksums(b, len);
	expect_error(b, len, "index bytes != section length");

	memcpy(b, img, len);
	put32(b + foot_off + 32, 9); /* index entry 1 type */
	refresh_checksums(b, len);
	expect_error(b, len, "section 1: header (type 2, page, ");

	memcpy(b, img, len);
	put32(b + foot_off + 4, 5); /* kind 5 in the index and the section header */
	put32(b + sec_off(img, 0) + 8, 5);
	refresh_checksums(b, len);
	expect_error(b, len, "section 0 (type 1): unknown kind 5");

	memcpy(b, img, len);
	put32(b + 56, 2); /* header: 2 sections */
	refresh_checksums(b, len);
	expect_error(b, len, "does not fit the file size");

	free(b);
	free(img);
}
END_TEST

START_TEST(test_truncate_every_offset)
{
	size_t len;
	uint8_t *img;
	const char *msg;
	char want[128];

	write_small("good.dmtcp", 1);
	img = slurp(path_of("good.dmtcp"), &len);
	spit(path_of("bad.dmtcp"), img, len);
	for (size_t cut = len - 1; cut + 1 > 0; cut--) {
		ck_assert_int_eq(truncate(path_of("bad.dmtcp"), (off_t)cut), 0);
		ck_assert_msg(open_bad(&msg) < 0, "truncation at %zu accepted", cut);
		if (cut == 0)
			snprintf(want, sizeof(want), "empty file");
		else if (cut < 512)
			snprintf(want, sizeof(want), "truncated: file ends at %zu", cut);
		else
			snprintf(want, sizeof(want), "truncated: file ends at %zu, footer expected "
				 "at %zu", cut, len - 32 - 3 * 32);
		ck_assert_msg(strstr(msg, want), "cut %zu: got \"%s\", expected \"%s\"", cut, msg,
			      want);
	}
	free(img);
}
END_TEST

START_TEST(test_truncate_large_sampled)
{
	struct image_opts o = opts_for(1, 0);
	struct image_writer *w;
	size_t n = 8u << 20, len;
	uint8_t *data = alloc_data(n, 2), *img, *noise = alloc_data(n / 4, 1);
	const char *msg;

	memcpy(data + n / 2, noise, n / 4);
	free(noise);
	ck_assert_int_eq(image_create(tdir, "big.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0x1000000, data, n), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	img = slurp(path_of("big.dmtcp"), &len);
	spit(path_of("bad.dmtcp"), img, len);
	for (size_t cut = len - 1; cut > 0; cut = cut > 4099 ? cut - 4099 - cut % 7 : cut / 2) {
		ck_assert_int_eq(truncate(path_of("bad.dmtcp"), (off_t)cut), 0);
		ck_assert_msg(open_bad(&msg) < 0, "truncation at %zu accepted", cut);
		ck_assert_msg(strstr(msg, "truncated: file ends at"), "cut %zu: %s", cut, msg);
	}
	/* trailing bytes are no better */
	img = realloc(img, len + 1);
	img[len] = 0;
	ck_assert_int_lt(open_variant(img, len + 1, &msg), 0);
	ck_assert_ptr_nonnull(strstr(msg, "unexpected bytes after the footer"));
	free(img);
	free(data);
}
END_TEST

/* Rewrites the header checksum after a deliberate change, so only the change is "wrong". */
static void fix_hdr_crc(uint8_t *img)
{
	uint32_t c = crc32c(0, img, 508);

	memcpy(img + 508, &c, 4);
}

START_TEST(test_foreign_headers)
{
	size_t len;
	uint8_t *img, *b;
	uint32_t v;
	struct image_info info;

	write_small("good.dmtcp", 0);
	img = slurp(path_of("good.dmtcp"), &len);
	b = malloc(len);

	memcpy(b, img, len);
	memcpy(b, "ELF\x7f", 4);
	expect_error(b, len, "bad magic: not a dmtcp image");
	expect_error((const uint8_t *)"#!/bin/sh\necho hi\n", 19, "bad magic: not a dmtcp image");
	expect_error(b, 0, "empty file (0 bytes): not a dmtcp image");

	memcpy(b, img, len);
	v = 2;
	memcpy(b + 8, &v, 4);
	fix_hdr_crc(b);
	expect_error(b, len, "unsupported image format version 2");

	memcpy(b, img, len);
	v = 183;
	memcpy(b + 16, &v, 4);
	fix_hdr_crc(b);
	expect_error(b, len, "image is for aarch64, this is x86_64");

	memcpy(b, img, len);
	v = 65536;
	memcpy(b + 24, &v, 4);
	fix_hdr_crc(b);
	expect_error(b, len, "image has page size 65536");

	/* peek reads the header alone */
	ck_assert_int_eq(image_peek(path_of("good.dmtcp"), &info), 0);
	ck_assert_str_eq(info.prog, "testprog");
	ck_assert_uint_eq(info.file_size, len);
	quiet(1);
	ck_assert_int_eq(image_peek(path_of("bad.dmtcp"), &info), -EINVAL);
	ck_assert_int_eq(image_peek(tdir, &info), -EINVAL);
	ck_assert_int_eq(image_peek(path_of("missing"), &info), -ENOENT);
	quiet(0);
	free(b);
	free(img);
}
END_TEST

/* ---- crash safety ---------------------------------------------------------------------- */

/*
 * A child writes a new image of the same name and stops mid-way (after finish when
 * 'finished'), tells us, and is SIGKILLed. The previous image must be intact and valid.
 */
static void killed_writer(int finished, int with_old)
{
	struct image_reader *r;
	size_t len, len2;
	uint8_t *before = NULL, *after;
	int rdy[2];
	pid_t pid;
	char c;

	unlink(path_of("ckpt.dmtcp"));
	if (with_old) {
		write_small("ckpt.dmtcp", 1);
		before = slurp(path_of("ckpt.dmtcp"), &len);
	}
	ck_assert_int_eq(pipe(rdy), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct image_opts o = opts_for(1, 0);
		struct image_writer *w;
		uint8_t *data = alloc_data(4u << 20, 2);

		close(rdy[0]);
		if (image_create(tdir, "ckpt.dmtcp", &o, &w) ||
		    image_begin_pages(w, SEC_PAGES) ||
		    image_add_pages(w, 0x10000, data, 4u << 20) ||
		    (finished && (image_end_section(w) || image_finish(w))))
			_exit(1);
		if (write(rdy[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(rdy[1]);
	ck_assert_int_eq(read(rdy[0], &c, 1), 1); /* bounded: the child exits on any error */
	close(rdy[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	if (with_old) {
		after = slurp(path_of("ckpt.dmtcp"), &len2);
		ck_assert_uint_eq(len, len2);
		ck_assert_int_eq(memcmp(before, after, len), 0);
		ck_assert_int_eq(image_open(path_of("ckpt.dmtcp"), &r), 0);
		image_close(r);
		free(before);
		free(after);
	} else {
		ck_assert_int_eq(access(path_of("ckpt.dmtcp"), F_OK), -1);
	}
	/* The leftover is a dot-file that does not pass for an image. */
	{
		char tmp[256];
		const char *msg;
		int ret;

		snprintf(tmp, sizeof(tmp), "%s/.ckpt.dmtcp.tmp.%d", tdir, (int)pid);
		ck_assert_int_eq(access(tmp, F_OK), 0);
		quiet(1);
		ret = image_open(tmp, &r);
		quiet(0);
		msg = image_last_error();
		if (!finished) {
			ck_assert_int_lt(ret, 0);
			ck_assert_msg(strstr(msg, "incomplete image"), "%s", msg);
		} else {
			/* Complete but never renamed: whole, yet invisible under the real name. */
			ck_assert_int_eq(ret, 0);
			image_close(r);
		}
		unlink(tmp);
	}
}

START_TEST(test_killed_writer)
{
	killed_writer(0, 1);
	killed_writer(0, 0);
	killed_writer(1, 1);
	killed_writer(1, 0);
}
END_TEST

START_TEST(test_discard_after_finish)
{
	struct image_opts o = opts_for(0, 0);
	struct image_writer *w;
	size_t len, len2;
	uint8_t *before, *after, page[PS] = { 7 };

	write_small("ckpt.dmtcp", 1);
	before = slurp(path_of("ckpt.dmtcp"), &len);
	ck_assert_int_eq(image_create(tdir, "ckpt.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0, page, PS), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(count_files(tdir), 2);
	image_discard(w); /* the ABORT barrier: drop the finished temp file */
	ck_assert_int_eq(count_files(tdir), 1);
	after = slurp(path_of("ckpt.dmtcp"), &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_int_eq(memcmp(before, after, len), 0);
	free(before);
	free(after);
}
END_TEST

/* Writes 'mib' MiB of random pages into dir; returns the first error. */
static int write_big(const char *dir, int compress, int mib)
{
	struct image_opts o = opts_for(compress, 0);
	struct image_writer *w;
	size_t n = (size_t)mib << 20;
	uint8_t *data = alloc_data(n, 1);
	int ret;

	ret = image_create(dir, "ckpt.dmtcp", &o, &w);
	if (ret) {
		free(data);
		return ret;
	}
	quiet(1);
	ret = image_begin_pages(w, SEC_PAGES);
	if (!ret)
		ret = image_add_pages(w, 0x100000, data, n);
	if (!ret)
		ret = image_end_section(w);
	if (!ret)
		ret = image_finish(w);
	if (!ret)
		ret = image_commit(w);
	quiet(0);
	image_discard(w);
	free(data);
	return ret;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int map_self_userns(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	if (write_file("/proc/self/setgroups", "deny") < 0 ||
	    write_file("/proc/self/gid_map", map) < 0)
		return -1;
	return 0;
}

START_TEST(test_enospc_tmpfs)
{
	char mnt[256], img[300];
	size_t len, len2;
	uint8_t *before, *after;
	int ret;

	/*
	 * A private mount namespace, so the small tmpfs vanishes with this test process; when
	 * unprivileged, inside an own user namespace that maps our uid to itself.
	 */
	if (unshare(CLONE_NEWNS) < 0 && map_self_userns() < 0)
		ret = -1;
	else
		ret = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (ret < 0) {
		printf("check_image: test_enospc_tmpfs skipped: cannot make a mount namespace "
		       "(%s); test_efbig_rlimit covers the failure path\n", strerror(errno));
		return;
	}
	snprintf(mnt, sizeof(mnt), "%s/mnt", tdir);
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=6m"), 0);
	ck_assert_int_eq(write_big(mnt, 0, 2), 0);
	snprintf(img, sizeof(img), "%s/ckpt.dmtcp", mnt);
	before = slurp(img, &len);
	for (int compress = 0; compress <= 1; compress++) {
		ret = write_big(mnt, compress, 5);
		ck_assert_int_eq(ret, -ENOSPC);
		ck_assert_int_eq(count_files(mnt), 1); /* temp file removed */
		after = slurp(img, &len2);
		ck_assert_uint_eq(len, len2);
		ck_assert_int_eq(memcmp(before, after, len), 0);
		free(after);
	}
	free(before);
	umount(mnt);
}
END_TEST

START_TEST(test_efbig_rlimit)
{
	size_t len, len2;
	uint8_t *before, *after;
	struct rlimit rl = { 3u << 20, 3u << 20 };
	pid_t pid;
	int st;

	ck_assert_int_eq(write_big(tdir, 0, 2), 0);
	before = slurp(path_of("ckpt.dmtcp"), &len);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Without this the kernel kills us with SIGXFSZ instead of failing the write. */
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		_exit(write_big(tdir, _i, 5) == -EFBIG && count_files(tdir) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
	after = slurp(path_of("ckpt.dmtcp"), &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_int_eq(memcmp(before, after, len), 0);
	free(before);
	free(after);
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

/* One test case per test, so CK_RUN_CASE=<test name> runs one alone. */
static void add(Suite *s, const char *name, const TTest *t, int loops)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	if (loops)
		tcase_add_loop_test(tc, t, 0, loops);
	else
		tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

#define ADD(s, t) add(s, #t, t, 0)
#define ADD_LOOP(s, t, n) add(s, #t, t, n)

static Suite *image_suite(void)
{
	Suite *s = suite_create("image");

	ADD(s, test_crc32c);
	ADD(s, test_round_trip_raw_small_chunks);
	ADD(s, test_round_trip_zlib_small_chunks);
	ADD(s, test_round_trip_raw_default_chunks);
	ADD(s, test_round_trip_zlib_default_chunks);
	ADD_LOOP(s, test_scattered_runs, 2);
	ADD(s, test_compress_decisions);
	ADD(s, test_empty_image);
	ADD(s, test_gzip_env);
	ADD(s, test_misuse);
	ADD_LOOP(s, test_fd_short, 2);
	ADD(s, test_corrupt_named);
	ADD_LOOP(s, test_corrupt_every_byte, 2);
	ADD(s, test_crafted_structure);
	ADD(s, test_truncate_every_offset);
	ADD(s, test_truncate_large_sampled);
	ADD(s, test_foreign_headers);
	ADD(s, test_killed_writer);
	ADD(s, test_discard_after_finish);
	ADD(s, test_enospc_tmpfs);
	ADD_LOOP(s, test_efbig_rlimit, 2);
	ADD(s, test_show);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(image_suite());
	int failed;

	log_set_prog("check_image");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
