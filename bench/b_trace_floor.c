/*
 * The floor of following forks with ptrace at all: a fork+wait loop, bare (mode 0) or under a
 * minimal tracer that seizes it with PTRACE_O_TRACEFORK/VFORK/CLONE and only continues every
 * stop (mode 1; mode 2 adds PTRACE_O_TRACEEXIT). No seccomp filter, no coordinator: whatever
 * dmtcp_launch costs above mode 1 is its own.
 *
 *   b_trace_floor ITERATIONS MODE      prints "mode M: N us/iter"
 *
 * Build and run: gcc -O2 -o /tmp/btf bench/b_trace_floor.c && for m in 0 1 2; do /tmp/btf 3000 $m; done
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	int n, mode, go[2], st;
	long opts;
	pid_t c;

	if (argc != 3)
		return 2;
	n = atoi(argv[1]);
	mode = atoi(argv[2]);
	if (pipe(go))
		return 1;
	c = fork();
	if (c == 0) {
		char b;
		double t0;

		if (read(go[0], &b, 1) != 1)
			_exit(1);
		t0 = now();
		for (int i = 0; i < n; i++) {
			pid_t k = fork();

			if (k == 0)
				_exit(0);
			waitpid(k, NULL, 0);
		}
		printf("mode %d: %.2f us/iter\n", mode, (now() - t0) / n * 1e6);
		fflush(stdout);
		_exit(0);
	}
	opts = PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEVFORK |
	       (mode == 2 ? PTRACE_O_TRACEEXIT : 0);
	if (mode && ptrace(PTRACE_SEIZE, c, 0, opts)) {
		perror("PTRACE_SEIZE");
		return 1;
	}
	if (write(go[1], "x", 1) != 1)
		return 1;
	for (;;) {
		pid_t w = waitpid(-1, &st, __WALL);
		int sig = 0;

		if (w < 0)
			break;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (w == c)
				break;
			continue;
		}
		if (WSTOPSIG(st) != SIGTRAP && (st >> 16) == 0)
			sig = WSTOPSIG(st); /* a signal for the tracee: deliver it */
		ptrace(PTRACE_CONT, w, 0, sig);
	}
	return 0;
}
