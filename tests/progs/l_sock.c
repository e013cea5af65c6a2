/*
 * l_sock: makes one socket of each kind the tracer records, then waits (checking every 10 ms)
 * until DIR/stop exists:
 *   a TCP listener bound to 127.0.0.1 (port printed), a client connected to it, the
 *   accepted end, a unix socketpair, and a unix datagram socket bound to DIR/sock.
 * Also what must leave no record: a socketpair that fails while its sv[] holds the
 * listener's and the client's fds, and a socketpair closed again, one of its numbers reused
 * by /dev/null.
 * Prints "READY <port> <listen-fd> <client-fd> <accepted-fd> <pair0> <pair1> <unix-fd>
 * <devnull-fd> <closed-fd>".
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(sa);
	char stop[4096];
	struct stat st;
	int l, c, a, sv[2], u, bad[2], gone[2], nul;

	if (argc != 2) {
		fprintf(stderr, "usage: l_sock DIR\n");
		return 2;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 8) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0) {
		perror("listener");
		return 2;
	}
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		return 2;
	}
	a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	if (a < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("accept/socketpair");
		return 2;
	}
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/sock", argv[1]);
	u = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (u < 0 || bind(u, (struct sockaddr *)&un, sizeof(un)) < 0) {
		perror("unix bind");
		return 2;
	}
	bad[0] = l;
	bad[1] = c;
	if (socketpair(AF_INET, SOCK_STREAM, 0, bad) == 0) {
		fprintf(stderr, "socketpair(AF_INET) succeeded\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, gone) < 0) {
		perror("socketpair");
		return 2;
	}
	close(gone[0]);
	close(gone[1]);
	nul = open("/dev/null", O_RDONLY);
	if (nul != gone[0]) {
		fprintf(stderr, "/dev/null got fd %d, not %d\n", nul, gone[0]);
		return 2;
	}
	printf("READY %d %d %d %d %d %d %d %d %d\n", ntohs(sa.sin_port), l, c, a, sv[0], sv[1], u,
	       nul, gone[1]);
	fflush(stdout);
	snprintf(stop, sizeof(stop), "%s/stop", argv[1]);
	while (stat(stop, &st) != 0)
		nanosleep(&ts, NULL);
	return 0;
}
