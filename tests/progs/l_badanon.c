/*
 * l_badanon DIR KIND...: a program that holds, on demand, an anonymous-inode fd no checkpoint
 * can save yet, one KIND at a time: "inotify-deleted" (an inotify instance watching a file
 * of DIR that was deleted since, kept alive by an fd of it: no path names it any more),
 * "userfaultfd" (UFFD_USER_MODE_ONLY, so that it works unprivileged), "fanotify", "io_uring",
 * "pidfd-outside" (a pidfd of pid 1, which is not the computation's), "pidfd-dead" (a pidfd of
 * a child that ended and was reaped), "epoll-stale" (an epoll set watching a pipe
 * through an fd that was closed since: the watch lives on with the pipe's other fd, but no fd
 * number reaches it any more), "epoll-replaced" (the same, and then another file opened at that
 * fd number), "mqueue" (a POSIX message queue: no anonymous inode, but a regular file in
 * name only, which a restart could not reopen), "sysvshm" (a System V shared memory segment
 * attached and already removed; its fd is /dev/null, a token, and closing it detaches it),
 * "lease" (a read lease, F_SETLEASE, on a file it made in DIR, opened read-only; not an
 * anonymous inode, but refused the same way).
 *
 * Counts every 10 ms into DIR/count. When DIR/openI appears it makes the fd of the I-th KIND
 * (from 1) and prints "OPENED I FD", or "SKIP I reason" when this system does not let it; when
 * DIR/closeI appears it closes it and prints "CLOSED I"; it ends with PASS when DIR/stop
 * appears. A sleep cut short or an fd that changed under it is a failure (FAIL ...).
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static char dir[4096];
static void *sysv_at; /* the attached segment of "sysvshm" */
static int aux_fd = -1; /* closed with the fd: the deleted file of "inotify-deleted" */

static int exists(const char *name, int i)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s%d", dir, name, i);
	return stat(p, &st) == 0;
}

static int make(const char *kind)
{
	if (!strcmp(kind, "inotify-deleted")) {
		int fd = inotify_init1(IN_CLOEXEC);
		char p[4200];

		snprintf(p, sizeof(p), "%s/watched-deleted", dir);
		aux_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || aux_fd < 0 || inotify_add_watch(fd, p, IN_MODIFY) < 0 || unlink(p))
			return -1;
		return fd;
	}
	if (!strcmp(kind, "userfaultfd"))
		return (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (!strcmp(kind, "fanotify"))
		return (int)syscall(SYS_fanotify_init, 0, O_RDONLY);
	if (!strcmp(kind, "io_uring")) {
		unsigned char params[120] = { 0 }; /* struct io_uring_params */

		return (int)syscall(SYS_io_uring_setup, 4, params);
	}
	if (!strcmp(kind, "epoll-stale") || !strcmp(kind, "epoll-replaced")) {
		struct epoll_event ev = { .events = EPOLLIN };
		int pp[2], ep = epoll_create1(EPOLL_CLOEXEC);

		if (ep < 0 || pipe(pp) || epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev) ||
		    dup(pp[0]) < 0 || close(pp[0]))
			return -1;
		if (kind[6] == 'r' && open("/dev/null", O_RDONLY) != pp[0])
			return -1;
		return ep;
	}
	if (!strcmp(kind, "mqueue")) {
		char name[64];
		int q;

		snprintf(name, sizeof(name), "/l_badanon-%d", (int)getpid());
		q = (int)mq_open(name, O_CREAT | O_RDWR | O_CLOEXEC, 0600, NULL);
		if (q >= 0)
			mq_unlink(name); /* it lives on with the fd */
		return q;
	}
	if (!strcmp(kind, "sysvshm")) {
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);

		if (id < 0 || (sysv_at = shmat(id, NULL, 0)) == (void *)-1 ||
		    shmctl(id, IPC_RMID, NULL))
			return -1;
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (!strcmp(kind, "lease")) {
		char p[4200];
		int fd;

		snprintf(p, sizeof(p), "%s/leased", dir);
		fd = open(p, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0 && fcntl(fd, F_SETLEASE, F_RDLCK)) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}
	if (!strcmp(kind, "pidfd-outside"))
		return (int)syscall(SYS_pidfd_open, 1, 0);
	if (!strcmp(kind, "pidfd-dead")) {
		pid_t c = fork();
		int fd;

		if (c == 0)
			_exit(0);
		/* a zombie until reaped: the pidfd is of it, then of no process */
		fd = c < 0 ? -1 : (int)syscall(SYS_pidfd_open, c, 0);
		if (c > 0 && waitpid(c, NULL, 0) != c)
			return -1;
		return fd;
	}
	errno = EINVAL;
	return -1;
}

int main(int argc, char **argv)
{
	char p[4200], link[64], was[64];
	unsigned long n = 0;
	int cfd, fd = -1, cur = 1;

	if (argc < 3)
		return 2;
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(p, sizeof(p), "%s/count", dir);
	cfd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (cfd < 0)
		return 2;
	printf("READY %d\n", (int)getpid());
	while (!exists("stop", 0)) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		char buf[32];
		int len = snprintf(buf, sizeof(buf), "%20lu\n", ++n);

		if (pwrite(cfd, buf, (size_t)len, 0) != len)
			printf("FAIL pwrite: %s\n", strerror(errno));
		if (fd < 0 && cur < argc - 1 && exists("open", cur)) {
			fd = make(argv[cur + 1]);
			if (fd < 0) {
				printf("SKIP %d %s: %s\n", cur, argv[cur + 1], strerror(errno));
				cur++;
			} else {
				snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
				memset(was, 0, sizeof(was));
				if (readlink(p, was, sizeof(was) - 1) < 0)
					printf("FAIL readlink %s: %s\n", p, strerror(errno));
				printf("OPENED %d %d\n", cur, fd);
			}
		}
		if (fd >= 0 && exists("close", cur)) {
			memset(link, 0, sizeof(link));
			if (readlink(p, link, sizeof(link) - 1) < 0 || strcmp(link, was))
				printf("FAIL fd %d changed: %s, was %s\n", fd, link, was);
			close(fd);
			fd = -1;
			if (aux_fd >= 0)
				close(aux_fd);
			aux_fd = -1;
			if (sysv_at && shmdt(sysv_at) == 0)
				sysv_at = NULL;
			printf("CLOSED %d\n", cur++);
		}
		if (nanosleep(&ts, NULL))
			printf("FAIL nanosleep: %s\n", strerror(errno));
	}
	printf("PASS\n");
	return 0;
}
