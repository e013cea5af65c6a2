/*
 * The floor of tracing a loop with ptrace at all: a minimal tracer, with none of
 * dmtcp_launch's bookkeeping, that only continues every stop. Whatever dmtcp_launch costs
 * above the matching mode is its own.
 *
 *   b_trace_floor LOOP ITERATIONS MODE [SPIN_US]     prints "LOOP mode M spin S: N us/iter"
 *
 * LOOP: fork (fork + waitpid of a child that _exits at once) or sockpair (socketpair + close
 * both ends).
 * MODE: 0 bare (no tracer); 1 seized with PTRACE_O_TRACEFORK/VFORK/CLONE, no filter; 2 the
 * same plus PTRACE_O_TRACEEXIT; 3 the same as 1 plus a seccomp filter that traps clone and
 * socketpair (SECCOMP_RET_TRACE), as dmtcp_launch's does.
 * SPIN_US: after each stop the tracer polls (waitpid WNOHANG + sched_yield) this long before
 * it sleeps in waitpid; 0 (default) sleeps at once. See DMTCP_TRACER_SPIN_US.
 *
 * Build and run:
 *   gcc -O2 -o /tmp/btf bench/b_trace_floor.c
 *   for m in 0 1 3; do for s in 0 200; do /tmp/btf fork 3000 $m $s; done; done
 *   for m in 0 3; do for s in 0 200; do /tmp/btf sockpair 20000 $m $s; done; done
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int trap_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void loop(int forks, int n)
{
	for (int i = 0; i < n; i++) {
		if (forks) {
			pid_t k = fork();

			if (k == 0)
				_exit(0);
			if (k < 0 || waitpid(k, NULL, 0) != k)
				_exit(3);
		} else {
			int sv[2];

			if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
				_exit(3);
			close(sv[0]);
			close(sv[1]);
		}
	}
}

static pid_t wait_any(int *st, long spin_us)
{
	double end = now() + (double)spin_us * 1e-6;
	pid_t w;

	while (spin_us > 0 && now() < end) {
		w = waitpid(-1, st, __WALL | WNOHANG);
		if (w != 0)
			return w;
		sched_yield();
	}
	return waitpid(-1, st, __WALL);
}

int main(int argc, char **argv)
{
	int n, mode, forks, go[2], st;
	long opts, spin;
	pid_t c;

	if (argc < 4 || argc > 5 || (strcmp(argv[1], "fork") && strcmp(argv[1], "sockpair"))) {
		fprintf(stderr, "usage: b_trace_floor fork|sockpair ITERATIONS MODE [SPIN_US]\n");
		return 2;
	}
	forks = !strcmp(argv[1], "fork");
	n = atoi(argv[2]);
	mode = atoi(argv[3]);
	spin = argc > 4 ? atol(argv[4]) : 0;
	if (pipe(go))
		return 1;
	c = fork();
	if (c == 0) {
		char b;
		double t0;

		if (mode == 3 && trap_filter()) {
			perror("seccomp");
			_exit(1);
		}
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		t0 = now();
		loop(forks, n);
		printf("%s mode %d spin %ld: %.2f us/iter\n", argv[1], mode, spin,
		       (now() - t0) / n * 1e6);
		fflush(stdout);
		_exit(0);
	}
	opts = PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEVFORK |
	       (mode == 2 ? PTRACE_O_TRACEEXIT : 0) | (mode == 3 ? PTRACE_O_TRACESECCOMP : 0);
	if (mode && ptrace(PTRACE_SEIZE, c, 0, opts)) {
		perror("PTRACE_SEIZE");
		return 1;
	}
	if (write(go[1], "x", 1) != 1)
		return 1;
	for (;;) {
		pid_t w = mode ? wait_any(&st, spin) : waitpid(c, &st, 0);
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
