/*
 * Restart test program: counts, and is its own oracle.
 *
 *   rs_counter READYFILE LIMIT
 *
 * Prints "count N" once per step (a 20 ms nanosleep between steps so a checkpoint can land
 * anywhere), keeping a checksum over a heap buffer, a static buffer and its stack that it
 * re-verifies at every step: if a restart brought back any byte wrong, it prints FAIL and
 * exits 1. Writes its pid to READYFILE when counting started. After LIMIT steps it prints
 * PASS with its pid (the same as before the restarts when pids are restored) and exits 0.
 * Every step also reads the clocks through the vdso (clock_gettime, gettimeofday, time) and
 * checks they still work and do not go backwards, which is what a moved or proxied vdso must
 * give.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HEAP_LEN (4u << 20)

static uint8_t g_data[64 << 10];

static uint64_t sum(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

int main(int argc, char **argv)
{
	uint8_t stackbuf[8192];
	uint8_t *heap;
	uint64_t hs, ds, ss;
	long limit, n;
	pid_t pid = getpid();
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	heap = malloc(HEAP_LEN);
	if (!heap)
		return 2;
	for (size_t i = 0; i < HEAP_LEN; i++)
		heap[i] = (uint8_t)(i * 7 + (i >> 12));
	for (size_t i = 0; i < sizeof(g_data); i++)
		g_data[i] = (uint8_t)(i ^ 0x5a);
	for (size_t i = 0; i < sizeof(stackbuf); i++)
		stackbuf[i] = (uint8_t)(i * 13);
	hs = sum(heap, HEAP_LEN);
	ds = sum(g_data, sizeof(g_data));
	ss = sum(stackbuf, sizeof(stackbuf));
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 }, mono;
		static struct timespec last_mono;
		static time_t last_real;
		struct timeval tv;

		if (clock_gettime(CLOCK_MONOTONIC, &mono) || gettimeofday(&tv, NULL) ||
		    time(NULL) < last_real || tv.tv_sec < last_real ||
		    mono.tv_sec < last_mono.tv_sec ||
		    (mono.tv_sec == last_mono.tv_sec && mono.tv_nsec < last_mono.tv_nsec)) {
			printf("FAIL clocks went wrong at count %ld\n", n);
			return 1;
		}
		last_mono = mono;
		last_real = tv.tv_sec;

		/* A changing byte, so each step writes memory a checkpoint must carry. */
		heap[n % HEAP_LEN] ^= 0xff;
		heap[n % HEAP_LEN] ^= 0xff;
		if (sum(heap, HEAP_LEN) != hs || sum(g_data, sizeof(g_data)) != ds ||
		    sum(stackbuf, sizeof(stackbuf)) != ss) {
			printf("FAIL memory changed at count %ld\n", n);
			return 1;
		}
		if (getpid() != pid) {
			printf("FAIL pid %d, was %d\n", (int)getpid(), (int)pid);
			return 1;
		}
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	printf("PASS pid %d\n", (int)pid);
	return 0;
}
