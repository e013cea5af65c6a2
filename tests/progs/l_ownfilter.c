/*
 * l_ownfilter: a program with a seccomp sandbox of its own, which a checkpoint must refuse
 * (a restart could not install it again).
 *
 *   l_ownfilter DIR
 *
 * Sets no_new_privs and installs a filter that fails getpriority with EPERM (everything else
 * allowed), checks that it works and prints READY; then every 10 ms rewrites DIR/count with a
 * counter, until DIR/stop exists. Ends with PASS when the filter still holds, FAIL otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int sandboxed(void)
{
	errno = 0;
	return getpriority(PRIO_PROCESS, 0) == -1 && errno == EPERM;
}

int main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char path[4096], stop[4096], buf[32];
	unsigned long n = 0;
	struct stat st;
	int fd, len;

	if (argc != 2) {
		fprintf(stderr, "usage: l_ownfilter DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("seccomp");
		return 2;
	}
	if (!sandboxed()) {
		printf("FAIL the filter does not hold\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/count", argv[1]);
	snprintf(stop, sizeof(stop), "%s/stop", argv[1]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	printf("READY\n");
	while (stat(stop, &st) != 0) {
		n++;
		len = snprintf(buf, sizeof(buf), "%20lu\n", n);
		if (pwrite(fd, buf, (size_t)len, 0) != len) {
			perror("pwrite");
			return 2;
		}
		nanosleep(&ts, NULL);
	}
	printf("%s\n", sandboxed() ? "PASS" : "FAIL the filter was lifted");
	return sandboxed() ? 0 : 1;
}
