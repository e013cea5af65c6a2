/*
 * Helpers shared by the image container's unit tests (check_image.c, check_image_damage.c):
 * a scratch directory per test, deterministic test data, small-image fixtures, file I/O, and
 * registration of one Check test case per test (so CK_RUN_CASE=<test> runs one alone).
 */
#ifndef DMTCP_IMAGE_TESTLIB_H
#define DMTCP_IMAGE_TESTLIB_H

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

#define PS 4096u

enum { SEC_A = 1, SEC_PAGES = 2, SEC_B = 3, SEC_UNKNOWN = 999 };

static char tdir[64];

static inline void setup_dir(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/check_image.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
}

static inline void remove_dir(const char *dir)
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

static inline void teardown_dir(void)
{
	remove_dir(tdir);
}

static inline int count_files(const char *dir)
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
static inline void quiet(int on)
{
	static int devnull = -1;

	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY);
	log_set_fd(on ? devnull : STDERR_FILENO);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static inline void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd();

		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

static inline void fill_text(uint8_t *p, size_t n)
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

static inline uint8_t *alloc_data(size_t n, int kind)
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

static inline char *path_of(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", tdir, name);
	return p;
}

static inline struct image_opts opts_for(int compress, uint32_t chunk)
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

/* A small valid image: record, page section with zlib and raw chunks, record. */
static inline void write_small(const char *name, int compress)
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

static inline uint8_t *slurp(const char *path, size_t *len)
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

static inline void spit(const char *path, const void *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	close(fd);
}


/* One test case per test, so CK_RUN_CASE=<test name> runs one alone. */
static inline void add(Suite *s, const char *name, const TTest *t, int loops)
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

/* Runs a suite; the process exit status says whether every test passed. */
static inline int run_suite(const char *prog, Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	log_set_prog(prog);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
