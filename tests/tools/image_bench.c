/*
 * image_bench: raw throughput of the image container against same-run baselines.
 *
 *   build/tests/tools/image_bench [-d DIR] [-m MIB] [-r RUNS]
 *
 * Writes MIB (default 1024) MiB of page data from memory into DIR (default /dev/shm) through
 * the image writer: random data with compression off and on (from memory, and through a pipe
 * filled by vmsplice as the parasite would), compressible data with compression on; and reads
 * each image back (validation + decompression into memory). Each
 * figure is the median of RUNS (default 3) runs, next to a `dd` of the same byte count into
 * the same directory and a `cp` of the image, both spawned in the same run. Figures only;
 * this is a benchmark, not a test.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "log.h"

#define MAX_RUNS 15

extern char **environ;

static const char *dir = "/dev/shm";
static size_t nbytes;
static int runs = 3;
static uint8_t *src, *dst;
static char img_path[4096], tmp_path[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * Runs argv, returns its wall time; dies if it fails. posix_spawn (vfork underneath) so the
 * baseline does not pay for copying this process's 2 GiB of page tables, as fork() would.
 */
static double spawn(const char *const argv[])
{
	double t0 = now();
	pid_t pid;
	int st, ret;

	/* posix_spawnp's prototype predates const; it does not modify the strings. */
	ret = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
	if (ret)
		die("cannot run %s: %s", argv[0], strerror(ret));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		die("%s failed (status 0x%x)", argv[0], st);
	return now() - t0;
}

static void fill_random(uint8_t *p, size_t n)
{
	uint64_t s = 0x243f6a8885a308d3ull;

	for (size_t i = 0; i + 8 <= n; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(p + i, &s, 8);
	}
}

/* Text-like data: compresses about 5-10x at zlib level 1, like typical heap contents. */
static void fill_compressible(uint8_t *p, size_t n)
{
	uint64_t s = 0x13198a2e03707344ull;
	size_t i = 0;

	while (i < n) {
		char line[96];
		int k;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		k = snprintf(line, sizeof(line), "record %llu: value=%llu status=%s\n",
			     (unsigned long long)(s % 100000), (unsigned long long)(s >> 50),
			     (s & 1) ? "ok" : "pending");
		for (int j = 0; j < k && i < n; j++)
			p[i++] = (uint8_t)line[j];
	}
}

static double time_write(int compress, uint64_t *size)
{
	struct image_opts o = IMAGE_OPTS_INIT;
	struct image_writer *w;
	double t0;
	int ret;

	o.compress = compress;
	o.prog = "image_bench";
	unlink(img_path);
	t0 = now();
	ret = image_create(dir, "image_bench.dmtcp", &o, &w);
	if (!ret)
		ret = image_begin_pages(w, 1);
	if (!ret)
		ret = image_add_pages(w, 0x7f0000000000ull, src, nbytes);
	if (!ret)
		ret = image_end_section(w);
	if (!ret)
		ret = image_finish(w);
	if (!ret)
		ret = image_commit(w);
	if (ret)
		die("writing %s failed: %s", img_path, strerror(-ret));
	*size = image_writer_size(w);
	image_discard(w);
	return now() - t0;
}

/* The parasite's path: the target's memory vmspliced into a pipe, the writer reading it. */
static void *vmsplice_thread(void *arg)
{
	int fd = *(int *)arg;
	size_t off = 0;

	while (off < nbytes) {
		struct iovec iov = { src + off, nbytes - off };
		ssize_t n = vmsplice(fd, &iov, 1, 0);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	return NULL;
}

static double time_write_pipe(int compress, uint64_t *size)
{
	struct image_opts o = IMAGE_OPTS_INIT;
	struct image_writer *w;
	pthread_t thr;
	int pfd[2], ret;
	double t0;

	o.compress = compress;
	o.prog = "image_bench";
	unlink(img_path);
	if (pipe(pfd) < 0)
		die("pipe: %s", strerror(errno));
	fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20); /* best effort: fewer wake-ups */
	t0 = now();
	if (pthread_create(&thr, NULL, vmsplice_thread, &pfd[1]))
		die("pthread_create failed");
	ret = image_create(dir, "image_bench.dmtcp", &o, &w);
	if (!ret)
		ret = image_begin_pages(w, 1);
	if (!ret)
		ret = image_add_pages_fd(w, 0x7f0000000000ull, pfd[0], nbytes);
	if (!ret)
		ret = image_end_section(w);
	if (!ret)
		ret = image_finish(w);
	if (!ret)
		ret = image_commit(w);
	if (ret)
		die("writing %s from a pipe failed: %s", img_path, strerror(-ret));
	pthread_join(thr, NULL);
	close(pfd[0]);
	*size = image_writer_size(w);
	image_discard(w);
	return now() - t0;
}

static void *dest_fn(void *arg, const struct image_section *s, uint32_t run)
{
	(void)arg;
	(void)s;
	return run == 0 ? dst : NULL;
}

static double time_read(void)
{
	struct image_reader *r;
	const struct image_section *s;
	double t0 = now();

	if (image_open(img_path, &r))
		die("reading %s failed", img_path);
	s = image_find_section(r, 1, NULL);
	if (!s || s->nruns != 1 || image_read_pages(r, s, dest_fn, NULL))
		die("reading pages of %s failed", img_path);
	image_close(r);
	return now() - t0;
}

static double time_dd(void)
{
	char of[4200], count[32];
	const char *argv[] = { "dd", "if=/dev/zero", of, "bs=1M", count, "conv=fsync", "status=none",
			       NULL };

	snprintf(of, sizeof(of), "of=%s", tmp_path);
	snprintf(count, sizeof(count), "count=%zu", nbytes >> 20);
	/* The same state as for our writes: neither file exists. */
	unlink(tmp_path);
	unlink(img_path);
	return spawn(argv);
}

static double time_cp(void)
{
	const char *argv[] = { "cp", img_path, tmp_path, NULL };
	double t;

	unlink(tmp_path);
	t = spawn(argv);
	unlink(tmp_path);
	return t;
}

static void line(const char *what, double t, const char *extra)
{
	printf("%-36s %7.3f s %8.0f MB/s  %s\n", what, t, (double)nbytes / 1e6 / t, extra);
}

int main(int argc, char **argv)
{
	double t[MAX_RUNS], t2[MAX_RUNS], dd, w_pipe, cp_raw, cp_z, w_raw, w_z, w_text, r_raw, r_z, r_text;
	uint64_t sz_raw = 0, sz_z = 0, sz_text = 0;
	size_t mib = 1024;
	char extra[256];
	int c;

	log_set_prog("image_bench");
	while ((c = getopt(argc, argv, "d:m:r:h")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'm':
			mib = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-d DIR] [-m MIB] [-r RUNS]\n", argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (!mib || runs < 1 || runs > MAX_RUNS)
		die("need -m > 0 and -r in 1..%d", MAX_RUNS);
	nbytes = mib << 20;
	snprintf(img_path, sizeof(img_path), "%s/image_bench.dmtcp", dir);
	snprintf(tmp_path, sizeof(tmp_path), "%s/image_bench.baseline", dir);
	src = malloc(nbytes);
	dst = malloc(nbytes);
	if (!src || !dst)
		die("cannot allocate 2 x %zu MiB", mib);
	/* Touch everything first: first-touch faults would otherwise land in the first run. */
	fill_random(src, nbytes);
	memset(dst, 1, nbytes);
	printf("image_bench: %zu MiB into %s, %d CPUs, median of %d runs\n", mib, dir,
	       (int)sysconf(_SC_NPROCESSORS_ONLN), runs);

	/* Interleaved, so that whatever else the machine does weighs on both alike. */
	for (int i = 0; i < runs; i++) {
		t2[i] = time_dd();
		unlink(tmp_path);
		t[i] = time_write(0, &sz_raw);
	}
	dd = median(t2, runs);
	line("dd if=/dev/zero bs=1M conv=fsync", dd, "(baseline)");
	w_raw = median(t, runs);
	snprintf(extra, sizeof(extra), "size %.1f MB, %.2fx dd", (double)sz_raw / 1e6, w_raw / dd);
	line("write random, DMTCP_GZIP=0", w_raw, extra);
	for (int i = 0; i < runs; i++)
		t[i] = time_write_pipe(0, &sz_raw);
	w_pipe = median(t, runs);
	snprintf(extra, sizeof(extra), "%.2fx dd", w_pipe / dd);
	line("  same, vmsplice -> pipe -> writer", w_pipe, extra);
	for (int i = 0; i < runs; i++)
		t[i] = time_cp();
	cp_raw = median(t, runs);
	line("cp of that image", cp_raw, "(baseline)");
	for (int i = 0; i < runs; i++)
		t[i] = time_read();
	r_raw = median(t, runs);
	snprintf(extra, sizeof(extra), "%.2fx cp", r_raw / cp_raw);
	line("open+validate+read it into memory", r_raw, extra);
	if (memcmp(src, dst, nbytes))
		die("read-back differs");

	for (int i = 0; i < runs; i++)
		t[i] = time_write(1, &sz_z);
	w_z = median(t, runs);
	snprintf(extra, sizeof(extra), "size %.1f MB, %.2fx gzip=0, %.2fx dd",
		 (double)sz_z / 1e6, w_z / w_raw, w_z / dd);
	line("write random, DMTCP_GZIP=1", w_z, extra);
	for (int i = 0; i < runs; i++)
		t[i] = time_write_pipe(1, &sz_z);
	w_pipe = median(t, runs);
	snprintf(extra, sizeof(extra), "%.2fx gzip=0", w_pipe / w_raw);
	line("  same, vmsplice -> pipe -> writer", w_pipe, extra);
	for (int i = 0; i < runs; i++)
		t[i] = time_read();
	r_z = median(t, runs);
	snprintf(extra, sizeof(extra), "%.2fx cp", r_z / cp_raw);
	line("open+validate+read it into memory", r_z, extra);

	fill_compressible(src, nbytes);
	for (int i = 0; i < runs; i++)
		t[i] = time_write(1, &sz_text);
	w_text = median(t, runs);
	snprintf(extra, sizeof(extra), "size %.1f MB (%.1f%%), %.2fx dd", (double)sz_text / 1e6,
		 100.0 * (double)sz_text / (double)nbytes, w_text / dd);
	line("write compressible, DMTCP_GZIP=1", w_text, extra);
	for (int i = 0; i < runs; i++)
		t[i] = time_cp();
	cp_z = median(t, runs);
	line("cp of that image", cp_z, "(baseline)");
	for (int i = 0; i < runs; i++)
		t[i] = time_read();
	r_text = median(t, runs);
	snprintf(extra, sizeof(extra), "%.2fx cp of the raw image", r_text / cp_raw);
	line("open+validate+inflate it into memory", r_text, extra);
	if (memcmp(src, dst, nbytes))
		die("read-back differs");

	printf("targets: gzip=0 write <= 1.3x dd: %.2fx; gzip=1 on random <= 1.5x gzip=0: %.2fx\n",
	       w_raw / dd, w_z / w_raw);
	unlink(img_path);
	unlink(tmp_path);
	free(src);
	free(dst);
	return 0;
}
