/*
 * Launch test program: children made with CLONE_UNTRACED stay under control.
 *
 *   l_untraced
 *
 * Makes a child with clone(CLONE_UNTRACED | SIGCHLD) and another with clone3 and the same
 * flag. Each child calls socketpair(), one of the calls the seccomp filter traps: were the
 * child untraced, the trap would fail it with ENOSYS. Each child exits 0 if its socketpair
 * worked and its tracer is the launcher's (TracerPid in /proc/self/status is non-zero), else 1.
 * Prints "PASS" when both children passed, "FAIL ..." otherwise.
 */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_UNTRACED
#define CLONE_UNTRACED 0x00800000
#endif

static int child_check(void)
{
	char buf[4096], *s;
	int sv[2], fd;
	ssize_t n;
	FILE *f;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		dprintf(2, "child: socketpair: %s\n", strerror(errno));
		return 1;
	}
	f = fopen("/proc/self/status", "r");
	if (!f)
		return 1;
	fd = fileno(f);
	n = read(fd, buf, sizeof(buf) - 1);
	fclose(f);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	s = strstr(buf, "\nTracerPid:");
	if (!s || atoi(s + 11) == 0) {
		dprintf(2, "child: not traced\n");
		return 1;
	}
	return 0;
}

static int reap(pid_t pid, const char *how)
{
	int st;

	if (pid < 0) {
		printf("FAIL %s: %s\n", how, strerror(errno));
		return 1;
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		printf("FAIL %s child: status %#x\n", how, st);
		return 1;
	}
	return 0;
}

int main(void)
{
	struct clone_args ca;
	long pid;
	int bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* raw clone: the child returns here on the parent's stack copy, like fork */
	pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0)
		_exit(child_check());
	bad |= reap((pid_t)pid, "clone");

	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_UNTRACED;
	ca.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(child_check());
	if (pid < 0 && errno == ENOSYS) {
		printf("SKIP clone3 not available\n");
	} else {
		bad |= reap((pid_t)pid, "clone3");
		/* the program's struct is the program's: the flag may be gone, nothing else */
		if (ca.exit_signal != SIGCHLD || (ca.flags & ~(uint64_t)CLONE_UNTRACED))
			printf("FAIL clone_args changed beyond the flag\n"), bad = 1;
	}
	if (!bad)
		printf("PASS\n");
	return bad;
}
