/*
 * l_badsock DIR: a program that holds, on demand, a socket no checkpoint can save: a netlink
 * socket of the kernel's device events (NETLINK_KOBJECT_UEVENT; unprivileged).
 *
 * Counts every 10 ms into DIR/count. When DIR/open appears it opens the socket and prints
 * OPENED; when DIR/close appears it closes it and prints CLOSED; it ends with PASS when DIR/stop
 * appears. A count that stops moving, a sleep cut short or a socket that changes under it is
 * a failure (FAIL ...).
 *
 * Then, when DIR/nested appears, it holds a unix socket that has in flight (SCM_RIGHTS) a unix
 * socket with a pipe in flight itself, which no checkpoint can save either, and prints
 * NESTED with the receiving socket's fd; when DIR/unnest appears it reads that message,
 * checks and closes what came, and prints UNNESTED.
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

static char dir[4096];

static void send_fd(int via, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { "m", 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);

	memset(&ctl, 0, sizeof(ctl));
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(via, &mh, 0) != 1)
		printf("FAIL sendmsg: %s\n", strerror(errno));
}

/* The one-byte message on via and the fd it carries (-1 if none). */
static int recv_fd(int via)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char c;
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *h;
	int fd = -1;

	if (recvmsg(via, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) != 1)
		return -1;
	h = CMSG_FIRSTHDR(&mh);
	if (h && h->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

/* A socket pair whose receiving end, o[1], carries a socket that carries a pipe's read end. */
static void make_nested(int o[2])
{
	int in[2], pp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, o) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) || pipe2(pp, O_CLOEXEC)) {
		printf("FAIL socketpair/pipe: %s\n", strerror(errno));
		exit(1);
	}
	send_fd(in[0], pp[0]);
	send_fd(o[0], in[1]);
	close(in[0]);
	close(in[1]);
	close(pp[0]);
	close(pp[1]);
}

/* The nested message read back: a socket with the pipe's read end on it. */
static void check_nested(int o[2])
{
	int s = recv_fd(o[1]), p = s >= 0 ? recv_fd(s) : -1;
	char c;

	if (s < 0 || p < 0 || read(p, &c, 1) != 0)
		printf("FAIL the nested fds did not come back whole\n");
	if (s >= 0)
		close(s);
	if (p >= 0)
		close(p);
	close(o[0]);
	close(o[1]);
}

static int exists(const char *name)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

int main(int argc, char **argv)
{
	char p[4200];
	unsigned long n = 0;
	int cfd, sfd = -1, closed = 0, nest[2] = { -1, -1 }, nested = 0;

	if (argc != 2)
		return 2;
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(p, sizeof(p), "%s/count", dir);
	cfd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (cfd < 0)
		return 2;
	printf("READY %d\n", (int)getpid());
	while (!exists("stop")) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		char buf[32];
		int len = snprintf(buf, sizeof(buf), "%20lu\n", ++n);

		if (pwrite(cfd, buf, (size_t)len, 0) != len)
			printf("FAIL pwrite: %s\n", strerror(errno));
		if (sfd < 0 && !closed && exists("open")) {
			sfd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
			if (sfd < 0) {
				printf("SKIP netlink uevent socket: %s\n", strerror(errno));
				closed = 1;
			} else {
				printf("OPENED %d\n", sfd);
			}
		}
		if (sfd >= 0 && exists("close")) {
			int t = 0;
			socklen_t l = sizeof(t);

			if (getsockopt(sfd, SOL_SOCKET, SO_DOMAIN, &t, &l) || t != AF_NETLINK)
				printf("FAIL the socket changed: family %d\n", t);
			close(sfd);
			sfd = -1;
			closed = 1;
			printf("CLOSED\n");
		}
		if (closed && !nested && exists("nested")) {
			make_nested(nest);
			nested = 1;
			printf("NESTED %d\n", nest[1]);
		}
		if (nested == 1 && exists("unnest")) {
			check_nested(nest);
			nested = 2;
			printf("UNNESTED\n");
		}
		if (nanosleep(&ts, NULL))
			printf("FAIL nanosleep: %s\n", strerror(errno));
	}
	printf("PASS\n");
	return 0;
}
