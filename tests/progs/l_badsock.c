/*
 * l_badsock DIR: a program that holds, on demand, a socket no checkpoint can save: a netlink
 * socket of the kernel's device events (NETLINK_KOBJECT_UEVENT; unprivileged).
 *
 * Counts every 10 ms into DIR/count. When DIR/open appears it opens the socket and prints
 * OPENED; when DIR/close appears it closes it and prints CLOSED; it ends with PASS when DIR/stop
 * appears. A count that stops moving, a sleep cut short or a socket that changes under it is
 * a failure (FAIL ...).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

static char dir[4096];

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
	int cfd, sfd = -1, closed = 0;

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
		if (nanosleep(&ts, NULL))
			printf("FAIL nanosleep: %s\n", strerror(errno));
	}
	printf("PASS\n");
	return 0;
}
