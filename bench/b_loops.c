/*
 * b_loops: the loops the runtime-overhead benchmark times, each timed from inside (so process
 * start-up and tracer set-up are not counted). Prints nanoseconds per iteration.
 *
 *   b_loops [--filter=allow|allow-nospec|linear] MODE ITERATIONS
 *
 * MODE:
 *   cheap     getppid + 1-byte pipe write and read + clock_gettime (untrapped syscalls)
 *   compute   arithmetic only, no syscall
 *   fork      fork + waitpid of a child that _exits at once (trapped)
 *   sockpair  socketpair + close both ends (trapped)
 *   forksock  fork + waitpid, then socketpair + close both ends (both trapped families)
 *   tcppp     a 64-byte TCP ping-pong over loopback with a forked child (one round trip
 *             per iteration); set-up (listen, fork, connect) is not timed
 *   tcpbulk   a TCP bulk transfer over loopback to a forked child that reads it all: one
 *             MiB per iteration (64 KiB writes), until the child has read everything
 *
 * --filter installs a seccomp filter first, to measure the floor any filter costs:
 *   allow          one instruction, RET_ALLOW, with SECCOMP_FILTER_FLAG_SPEC_ALLOW
 *   allow-nospec   the same without SPEC_ALLOW (the kernel may enable the SSB mitigation)
 *   linear         15 comparisons in a row before RET_ALLOW (what a linear list of the
 *                  trapped numbers would cost every syscall, against our search tree)
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void install(const char *kind)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_filter linear[17];
	struct sock_fprog prog;
	unsigned long flags = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	int i;

	if (!strcmp(kind, "allow") || !strcmp(kind, "allow-nospec")) {
		prog.len = 1;
		prog.filter = allow;
		if (!strcmp(kind, "allow-nospec"))
			flags = 0;
	} else if (!strcmp(kind, "linear")) {
		/* A = nr; 15 x "if (A == 1000+i) goto allow"; allow */
		linear[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
							 offsetof(struct seccomp_data, nr));
		for (i = 0; i < 15; i++)
			linear[1 + i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
								     1000 + i, 14 - i, 0);
		linear[16] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		prog.len = 17;
		prog.filter = linear;
	} else {
		fprintf(stderr, "b_loops: unknown filter '%s'\n", kind);
		exit(2);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0) {
		fprintf(stderr, "b_loops: cannot install the %s filter: %s\n", kind, strerror(errno));
		exit(2);
	}
}

/* One fork + waitpid of a child that _exits at once; 0, or -1 on failure. */
static int fork_wait(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return pid < 0 || waitpid(pid, NULL, 0) != pid ? -1 : 0;
}

/* One socketpair, both ends closed; 0, or -1 on failure. */
static int pair_close(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

/* A connected loopback TCP pair: *child_fd in the child (returned 0 there), the parent's
 * end returned in the parent with *kid set. */
static int tcp_pair(pid_t *kid, int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al))
		return -1;
	*kid = fork();
	if (*kid < 0)
		return -1;
	if (*kid == 0) {
		close(l);
		*fd = socket(AF_INET, SOCK_STREAM, 0);
		if (*fd < 0 || connect(*fd, (struct sockaddr *)&a, sizeof(a)))
			_exit(3);
		setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return 0;
	}
	*fd = accept(l, NULL, NULL);
	close(l);
	if (*fd < 0)
		return -1;
	setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 1;
}

static int full_io(int fd, char *b, size_t n, int wr)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = wr ? write(fd, b + done, n - done) : read(fd, b + done, n - done);

		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* The child's side: echo 64-byte messages (ping-pong) or read everything (bulk). */
static void tcp_child(int fd, int bulk)
{
	static char b[65536];
	ssize_t r;

	for (;;) {
		if (bulk) {
			r = read(fd, b, sizeof(b));
			if (r <= 0)
				_exit(r ? 3 : 0);
			continue;
		}
		if (full_io(fd, b, 64, 0))
			_exit(0);
		if (full_io(fd, b, 64, 1))
			_exit(3);
	}
}

int main(int argc, char **argv)
{
	volatile unsigned long sink = 0;
	long long t0, t1;
	long i, n;
	int a = 1;
	char c = 'x';
	int p[2];
	struct timespec ts;

	if (argc > 1 && !strncmp(argv[1], "--filter=", 9)) {
		install(argv[1] + 9);
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: b_loops [--filter=KIND] cheap|compute|fork|sockpair|forksock|"
				"tcppp|tcpbulk N\n");
		return 2;
	}
	n = atol(argv[2]);
	if (pipe(p) < 0)
		return 2;
	if (!strcmp(argv[1], "tcppp") || !strcmp(argv[1], "tcpbulk")) {
		static char b[65536];
		int bulk = !strcmp(argv[1], "tcpbulk"), fd, st;
		pid_t kid;

		if (tcp_pair(&kid, &fd) < 0)
			return 3;
		if (!kid)
			tcp_child(fd, bulk);
		memset(b, 'b', sizeof(b));
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			if (bulk) {
				for (int k = 0; k < 16; k++)
					if (full_io(fd, b, sizeof(b), 1))
						return 3;
			} else if (full_io(fd, b, 64, 1) || full_io(fd, b, 64, 0)) {
				return 3;
			}
		}
		shutdown(fd, SHUT_WR);
		if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
			return 3;
		t1 = now_ns();
		printf("%.3f\n", (double)(t1 - t0) / (double)n);
		return 0;
	}
	t0 = now_ns();
	if (!strcmp(argv[1], "cheap")) {
		for (i = 0; i < n; i++) {
			sink += (unsigned long)getppid();
			if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
				return 3;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			sink += (unsigned long)ts.tv_nsec;
		}
	} else if (!strcmp(argv[1], "compute")) {
		unsigned long x = 88172645463325252UL;

		for (i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			a += (int)(x & 3);
		}
		sink = x + (unsigned long)a;
	} else if (!strcmp(argv[1], "fork")) {
		for (i = 0; i < n; i++)
			if (fork_wait() < 0)
				return 3;
	} else if (!strcmp(argv[1], "sockpair")) {
		for (i = 0; i < n; i++)
			if (pair_close() < 0)
				return 3;
	} else if (!strcmp(argv[1], "forksock")) {
		/* both trapped families in one loop, as DMTCP's "fork+socketpair" figure */
		for (i = 0; i < n; i++)
			if (fork_wait() < 0 || pair_close() < 0)
				return 3;
	} else {
		fprintf(stderr, "b_loops: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	t1 = now_ns();
	printf("%.3f\n", (double)(t1 - t0) / (double)n);
	(void)sink;
	return 0;
}
