/*
 * One input of the image targets, end to end (fuzz.h: fuzz_image_run()).
 *
 * The input becomes an image file, then goes through what touches an image file:
 *   1. image_open() and every reader call: sections by index and by type, record bytes, the
 *      page data of every section both at once (image_read_pages, on all cores for big ones)
 *      and run by run (image_read_run) into scratch memory, which must agree;
 *   2. ckpt_show() into /dev/null, as `dmtcp_restart --show` does;
 *   3. the loader of dmtcp_restart: restart_load_images() (ckpt_load: container, content
 *      decoders, cross-checks; then the restart's own checks) and restart_build_tree().
 * Oracles: a refusal is a negative errno whose message names the file (image_last_error()
 * and the log), and the three agree: what the container refuses --show refuses, and what
 * --show refuses the restart refuses.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ckpt_show.h"
#include "image.h"
#include "restart/restart_images.h"

/* Page data read into scratch memory per section at most (mapped lazily, see read_pages). */
#define SCRATCH_MAX (256ull << 20)
/* Up to this much, every run is also read on its own and compared. */
#define COMPARE_MAX (16ull << 20)

static void expect_named(const char *what, int rc, const char *path)
{
	const char *log = fuzz_log_text();

	if (rc >= 0)
		fuzz_fail("%s: refusal with a non-negative code %d", what, rc);
	if (log && !strstr(log, path))
		fuzz_fail("%s refused the image (%s) without naming it; the log says:\n%s", what,
			  strerror(-rc), log);
}

struct scratch {
	uint8_t *base;
	const uint64_t *run_off;
};

static void *run_dest(void *arg, const struct image_section *s, uint32_t run)
{
	const struct scratch *sc = arg;

	(void)s;
	return sc->base + sc->run_off[run];
}

static void *map_scratch(uint64_t len)
{
	/* Lazily backed: an image may say a lot, only the bytes that really land cost memory. */
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A valid page section's data, all at once and run by run; both ways must agree. */
static void read_pages(struct image_reader *r, const struct image_section *s, const char *path)
{
	uint32_t ps = image_get_info(r)->page_size;
	uint64_t *run_off, total = 0;
	struct scratch all, one;
	int rc, rc_runs = 0;

	if (s->raw_bytes > SCRATCH_MAX)
		return;
	run_off = calloc((size_t)s->nruns + 1, sizeof(*run_off));
	if (!run_off)
		fuzz_fail("out of memory for %u runs", s->nruns);
	for (uint32_t i = 0; i < s->nruns; i++) {
		run_off[i] = total;
		total += s->runs[i].npages * ps;
	}
	if (total != s->raw_bytes)
		fuzz_fail("section %u: runs cover %llu bytes, the reader says %llu", s->index,
			  (unsigned long long)total, (unsigned long long)s->raw_bytes);
	all.base = map_scratch(total);
	one.base = map_scratch(total);
	if (!all.base || !one.base)
		fuzz_fail("cannot map %llu bytes of scratch memory", (unsigned long long)total);
	all.run_off = one.run_off = run_off;
	fuzz_log_reset();
	rc = image_read_pages(r, s, run_dest, &all);
	if (rc)
		expect_named("image_read_pages", rc, path);
	if (total <= COMPARE_MAX) {
		for (uint32_t i = 0; i < s->nruns && !rc_runs; i++) {
			fuzz_log_reset();
			rc_runs = image_read_run(r, s, i, one.base + run_off[i]);
			if (rc_runs)
				expect_named("image_read_run", rc_runs, path);
		}
		if (!rc != !rc_runs)
			fuzz_fail("section %u: image_read_pages says %d, image_read_run %d", s->index,
				  rc, rc_runs);
		if (!rc && memcmp(all.base, one.base, total))
			fuzz_fail("section %u: image_read_pages and image_read_run disagree",
				  s->index);
	}
	munmap(all.base, total ? total : 1);
	munmap(one.base, total ? total : 1);
	free(run_off);
}

static void walk_image(struct image_reader *r, const char *path)
{
	uint32_t n = image_nsections(r);
	struct image_info info;

	if (n != image_get_info(r)->nsections)
		fuzz_fail("%u sections open, the header says %u", n, image_get_info(r)->nsections);
	if (image_peek(path, &info))
		fuzz_fail("image_peek refuses an image image_open took");
	for (uint32_t i = 0; i < n; i++) {
		const struct image_section *s = image_get_section(r, i);
		const struct image_section *t;

		if (!s || s->index != i)
			fuzz_fail("section %u is missing or numbered %u", i, s ? s->index : 0);
		t = image_find_section(r, s->type, i ? image_get_section(r, i - 1) : NULL);
		if (t != s)
			fuzz_fail("image_find_section does not find section %u", i);
		if (s->kind == IMAGE_KIND_RECORD) {
			size_t len;
			const uint8_t *d = image_record_data(r, s, &len);

			if (len != s->length || (len && !d))
				fuzz_fail("section %u: record of %zu bytes, length %llu", i, len,
					  (unsigned long long)s->length);
			/* Every byte is read: a payload outside the mapping would fault here. */
			if (len && crc32c(0, d, len) != s->crc)
				fuzz_fail("section %u: record bytes do not match their checksum", i);
		} else {
			read_pages(r, s, path);
		}
	}
	if (image_get_section(r, n))
		fuzz_fail("a section past the last one");
}

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_capture();
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		fuzz_fail("cannot open /dev/null");
	return 0;
}

void fuzz_image_run(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file_put(data, size);
	char *paths[1] = { (char *)path };
	struct image_reader *r;
	struct restart_set set;
	int rc_open, rc_show, rc_load;

	if (!devnull)
		LLVMFuzzerInitialize(NULL, NULL);
	fuzz_log_reset();
	rc_open = image_open(path, &r);
	if (rc_open) {
		expect_named("image_open", rc_open, path);
		if (strncmp(image_last_error(), path, strlen(path)))
			fuzz_fail("image_last_error() does not start with the file name: %s",
				  image_last_error());
	} else {
		walk_image(r, path);
		image_close(r);
	}

	fuzz_log_reset();
	rc_show = ckpt_show(devnull, path, IMAGE_SHOW_RUNS | IMAGE_SHOW_CHUNKS);
	if (rc_show)
		expect_named("ckpt_show", rc_show, path);
	if (rc_open && !rc_show)
		fuzz_fail("--show accepts an image the container refuses");

	fuzz_log_reset();
	rc_load = restart_load_images(&set, paths, 1, 0);
	if (rc_load) {
		expect_named("restart_load_images", rc_load, path);
	} else {
		if (rc_show)
			fuzz_fail("the restart loader accepts an image --show refuses");
		if (restart_build_tree(&set))
			fuzz_fail("restart_build_tree fails on a loaded image");
		restart_set_free(&set);
		fuzz_accepted++;
	}
}
