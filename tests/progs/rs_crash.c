/*
 * Restart test program that crashes on demand, for the tracer's crash report.
 *
 *   rs_crash READYFILE CRASHFILE
 *
 * Writes its pid to READYFILE, then prints "count N" every 20 ms; once CRASHFILE exists it
 * calls crash_here(), which writes through a null pointer (SIGSEGV, default action). The
 * functions on the way have names a backtrace can show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int *volatile nowhere;

__attribute__((noinline)) static void crash_here(void)
{
	*nowhere = 42;
}

__attribute__((noinline)) static void deeper(int n)
{
	if (n > 0)
		deeper(n - 1);
	else
		crash_here();
	__asm__ volatile("" ::: "memory"); /* not a tail call */
}

int main(int argc, char **argv)
{
	const struct timespec step = { 0, 20 * 1000 * 1000 };
	FILE *f;
	long n;

	if (argc != 3) {
		fprintf(stderr, "usage: rs_crash READYFILE CRASHFILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
		return 2;
	for (n = 1;; n++) {
		printf("count %ld\n", n);
		if (access(argv[2], F_OK) == 0)
			deeper(3);
		nanosleep(&step, NULL);
	}
}
