/*
 * Restart benchmark program: a lot of memory and a heartbeat.
 *
 *   rs_big READYFILE MIB random|text
 *
 * Writes MIB MiB of private anonymous memory with pseudo-random (incompressible) bytes or
 * with text (compressible), writes its pid to READYFILE, then writes one byte to stdout every
 * millisecond: a restart is complete from the outside when stdout grows again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t x = 88172645463325252ull, *w;
	size_t len, i;
	uint8_t *p;
	FILE *f;

	if (argc != 4)
		return 2;
	len = (size_t)atol(argv[2]) << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 2;
	if (!strcmp(argv[3], "random")) {
		for (w = (uint64_t *)p, i = 0; i < len / 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			w[i] = x;
		}
	} else {
		static const char text[] = "the quick brown fox jumps over the lazy dog 0123456789\n";

		for (i = 0; i < len; i++)
			p[i] = (uint8_t)text[i % (sizeof(text) - 1)];
	}
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (;;) {
		struct timespec ts = { 0, 1000 * 1000 };

		if (write(1, "t", 1) != 1)
			return 3;
		nanosleep(&ts, NULL);
	}
}
