/*
 * A process with a lot of memory, for checkpoint failure tests and benchmarks.
 *
 *   ckpt_bigmem DIR MAP_MIB TOUCH_MIB [fork] [tick] [zeros] [text]
 *
 * Maps MAP_MIB MiB of private anonymous memory and writes TOUCH_MIB MiB of it with
 * incompressible pseudo-random bytes (or, with "text", compressible text; with "zeros", pages
 * written with zeros), then writes DIR/facts ("pid N", and "child N" with "fork", whose child
 * is a small process that just waits) and waits. SIGUSR1 writes GROW_MIB more MiB at the end of
 * the touched part and then writes DIR/grown. With "tick" the main thread wakes every
 * millisecond and keeps its longest gap between two ticks; SIGUSR2 writes it to DIR/maxgap
 * (microseconds) and resets it.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB	 (1ull << 20)
#define GROW_MIB 32

static volatile sig_atomic_t grow_req, gap_req;
static uint64_t rng = 88172645463325252ull;

static void on_sig(int sig)
{
	if (sig == SIGUSR1)
		grow_req = 1;
	else
		gap_req = 1;
}

static void fill(uint8_t *p, size_t len, int mode)
{
	size_t i;
	static const char text[] = "the quick brown fox jumps over the lazy dog 0123456789\n";

	if (mode == 1) { /* zeros: written, so present, but all zero */
		for (i = 0; i < len; i += 4096)
			p[i] = 0;
		return;
	}
	if (mode == 2) {
		for (i = 0; i < len; i++)
			p[i] = (uint8_t)text[i % (sizeof(text) - 1)];
		return;
	}
	for (i = 0; i + 8 <= len; i += 8) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		memcpy(p + i, &rng, 8);
	}
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char tmp[600], path[600];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(tmp);
		exit(2);
	}
	rename(tmp, path);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	uint64_t map_mib, touch_mib, touched, last, gap, maxgap = 0;
	int i, do_fork = 0, tick = 0, mode = 0;
	char buf[256];
	pid_t child = 0;
	uint8_t *mem;
	struct timespec ms = { 0, 1000000 };

	if (argc < 4) {
		fprintf(stderr, "usage: ckpt_bigmem DIR MAP_MIB TOUCH_MIB [fork] [tick] [zeros] [text]\n");
		return 2;
	}
	map_mib = strtoull(argv[2], NULL, 10);
	touch_mib = strtoull(argv[3], NULL, 10);
	for (i = 4; i < argc; i++) {
		do_fork |= !strcmp(argv[i], "fork");
		tick |= !strcmp(argv[i], "tick");
		if (!strcmp(argv[i], "zeros"))
			mode = 1;
		if (!strcmp(argv[i], "text"))
			mode = 2;
	}
	if (touch_mib + GROW_MIB > map_mib)
		map_mib = touch_mib + GROW_MIB;
	mem = mmap(NULL, map_mib * MIB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	fill(mem, touch_mib * MIB, mode);
	touched = touch_mib;
	signal(SIGUSR1, on_sig);
	signal(SIGUSR2, on_sig);
	if (do_fork) {
		child = fork();
		if (child == 0) {
			/* the child's copy of the big area would be stored too: drop it */
			munmap(mem, map_mib * MIB);
			for (;;)
				pause();
		}
	}
	if (child)
		snprintf(buf, sizeof(buf), "pid %d\nchild %d\naddr %p\n", getpid(), child, (void *)mem);
	else
		snprintf(buf, sizeof(buf), "pid %d\naddr %p\n", getpid(), (void *)mem);
	write_file(argv[1], "facts", buf);
	last = now_us();
	for (;;) {
		if (tick)
			nanosleep(&ms, NULL);
		else
			pause();
		if (tick) {
			uint64_t t = now_us();

			gap = t - last;
			last = t;
			if (gap > maxgap)
				maxgap = gap;
		}
		if (grow_req) {
			grow_req = 0;
			fill(mem + touched * MIB, GROW_MIB * MIB, mode);
			touched += GROW_MIB;
			write_file(argv[1], "grown", "grown\n");
		}
		if (gap_req) {
			gap_req = 0;
			snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)maxgap);
			write_file(argv[1], "maxgap", buf);
			maxgap = 0;
			last = now_us();
		}
	}
}
