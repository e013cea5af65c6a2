/*
 * Restart test program: unix sockets of every kind and state, with data always in flight,
 * its own oracle.
 *
 *   rs_socks READYFILE LIMIT
 *
 * Holds (names next to READYFILE, abstract names made unique by its pid):
 *   stream, seqpacket and datagram socketpairs with K records queued in each direction at
 *     every moment: each step sends one record each way and reads the oldest one each way,
 *     checking its sequence number, length and bytes (boundaries for seqpacket/datagram);
 *   a stream pair to a forked child that echoes each record back: K records always in
 *     flight to and from it;
 *   a listener bound to a path, a client connected through it and the accepted end, with
 *     records in flight both ways, and a second client whose connection waits to be accepted
 *     until the end; an abstract listener that every 10th step gets a new
 *     connection, accepted and answered;
 *   a bound datagram socket that an unbound one sends to (step by step, one queued);
 *   a half-closed stream pair (data, then SHUT_WR) and a pair whose writer closed with data
 *     unread: both read only at the end (the data, then end of file);
 *   options: O_NONBLOCK on one end, SO_RCVTIMEO on another, SO_SNDBUF on a third, checked
 *     every step.
 * Prints "count N" after each step, PASS at LIMIT.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sock_records.h"

static void pair(int type, int sv[2], const char *what)
{
	if (socketpair(AF_UNIX, type, 0, sv))
		FAIL("socketpair %s: %m", what);
}

static socklen_t sun_of(struct sockaddr_un *a, const char *path, int abstract)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abstract) {
		snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "%s", path);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	}
	if (strlen(path) >= sizeof(a->sun_path))
		FAIL("path too long for a unix socket: %s", path);
	memcpy(a->sun_path, path, strlen(path) + 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

/* A datagram from an unbound socket to the bound server. */
static void dg_send(int fd, const struct sockaddr_un *to, socklen_t tl, uint32_t seq)
{
	uint8_t b[512];
	size_t n = rec_len(5, seq);

	rec_make(b, 5, seq);
	if (sendto(fd, b, n, 0, (const struct sockaddr *)to, tl) != (ssize_t)n)
		FAIL("datagram server: sendto: %m");
}


int main(int argc, char **argv)
{
	struct flow fl[4];
	int sv[2], kid_fd, lst, pend, abst, cli, acc, dsrv, dcli, half[2], orphan[2], nfl = 0;
	uint32_t kid_sent = 0, kid_got = 0, dg_sent = 0, dg_got = 0;
	struct sockaddr_un la, aa, da;
	socklen_t lal, aal, dal;
	char dir[4096], tmp[4096], path[4200], abname[64];
	long limit, n;
	pid_t kid;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(tmp, sizeof(tmp), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));

	pair(SOCK_STREAM, sv, "stream");
	fl[nfl++] = (struct flow){ "stream pair", sv[0], sv[1], 1, 0, 0, 0, 0 };
	pair(SOCK_SEQPACKET, sv, "seqpacket");
	fl[nfl++] = (struct flow){ "seqpacket pair", sv[0], sv[1], 0, 0, 0, 0, 0 };
	pair(SOCK_DGRAM, sv, "dgram");
	fl[nfl++] = (struct flow){ "datagram pair", sv[0], sv[1], 0, 0, 0, 0, 0 };

	/* listener on a path, a client through it, the accepted end */
	snprintf(path, sizeof(path), "%s/rs_socks.listen", dir);
	unlink(path);
	lal = sun_of(&la, path, 0);
	lst = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lst < 0 || bind(lst, (struct sockaddr *)&la, lal) || listen(lst, 5))
		FAIL("listener %s: %m", path);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	if (cli < 0 || connect(cli, (struct sockaddr *)&la, lal))
		FAIL("connect to %s: %m", path);
	acc = accept(lst, NULL, NULL);
	if (acc < 0)
		FAIL("accept: %m");
	fl[nfl++] = (struct flow){ "listener connection", cli, acc, 1, 0, 0, 0, 0 };
	/* a connection left waiting on the listener until the end */
	pend = socket(AF_UNIX, SOCK_STREAM, 0);
	if (pend < 0 || connect(pend, (struct sockaddr *)&la, lal))
		FAIL("pending connection to %s: %m", path);

	snprintf(abname, sizeof(abname), "rs_socks.%d", (int)getpid());
	aal = sun_of(&aa, abname, 1);
	abst = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (abst < 0 || bind(abst, (struct sockaddr *)&aa, aal) || listen(abst, 3))
		FAIL("abstract listener: %m");

	snprintf(path, sizeof(path), "%s/rs_socks.dgram", dir);
	unlink(path);
	dal = sun_of(&da, path, 0);
	dsrv = socket(AF_UNIX, SOCK_DGRAM, 0);
	dcli = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (dsrv < 0 || dcli < 0 || bind(dsrv, (struct sockaddr *)&da, dal))
		FAIL("datagram server: %m");

	pair(SOCK_STREAM, half, "half-closed");
	if (send(half[1], "half-closed tail", 16, 0) != 16 || shutdown(half[1], SHUT_WR))
		FAIL("half-closed: %m");
	pair(SOCK_STREAM, orphan, "orphan");
	if (send(orphan[1], "orphaned bytes", 14, 0) != 14)
		FAIL("orphan: %m");
	close(orphan[1]);

	/* options */
	{
		struct timeval tv = { 1, 500000 };
		int sz = 50000;

		fcntl(fl[0].a, F_SETFL, O_NONBLOCK);
		if (setsockopt(fl[0].b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
		    setsockopt(fl[1].a, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)))
			FAIL("setsockopt: %m");
	}

	pair(SOCK_STREAM, sv, "child");
	kid = fork();
	if (kid < 0)
		FAIL("fork: %m");
	if (kid == 0) {
		close(sv[0]);
		echo_child(sv[1]);
	}
	close(sv[1]);
	kid_fd = sv[0];

	for (int i = 0; i < nfl; i++)
		flow_fill(&fl[i]);
	while (kid_sent < K)
		rec_send(kid_fd, 3, kid_sent++, "child pair");
	dg_send(dcli, &da, dal, dg_sent++);

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		struct timeval tv;
		socklen_t l = sizeof(tv);
		int sz = 0;

		for (int i = 0; i < nfl; i++)
			flow_step(&fl[i]);
		rec_send(kid_fd, 3, kid_sent++, "child pair");
		rec_expect(kid_fd, 1, 4, kid_got++, "child pair");

		/* one datagram always queued on the bound server */
		dg_send(dcli, &da, dal, dg_sent++);
		rec_expect(dsrv, 0, 5, dg_got++, "datagram server");

		if (n % 10 == 0) {
			int c = socket(AF_UNIX, SOCK_SEQPACKET, 0), s2;

			if (c < 0 || connect(c, (struct sockaddr *)&aa, aal))
				FAIL("connect to the abstract listener: %m");
			s2 = accept(abst, NULL, NULL);
			if (s2 < 0)
				FAIL("abstract listener: accept: %m");
			rec_send(c, 6, (uint32_t)n, "abstract connection");
			rec_expect(s2, 0, 6, (uint32_t)n, "abstract connection");
			close(c);
			close(s2);
		}
		if (!(fcntl(fl[0].a, F_GETFL) & O_NONBLOCK))
			FAIL("O_NONBLOCK lost");
		if (getsockopt(fl[0].b, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) || tv.tv_sec != 1 ||
		    tv.tv_usec != 500000)
			FAIL("SO_RCVTIMEO is %ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
		l = sizeof(sz);
		if (getsockopt(fl[1].a, SOL_SOCKET, SO_SNDBUF, &sz, &l) || sz != 100000)
			FAIL("SO_SNDBUF is %d, not 100000", sz);
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}

	/* the end: what waited in the half-closed and orphaned pairs, then end of file */
	{
		char b[64];
		ssize_t r;

		r = recv(half[0], b, sizeof(b), 0);
		if (r != 16 || memcmp(b, "half-closed tail", 16))
			FAIL("half-closed pair: %zd bytes", r);
		if (recv(half[0], b, sizeof(b), 0) != 0)
			FAIL("half-closed pair: no end of file");
		if (send(half[1], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
			FAIL("half-closed pair: a send on the shut side did not fail with EPIPE");
		if (send(half[0], "back", 4, MSG_NOSIGNAL) != 4 || recv(half[1], b, 4, 0) != 4)
			FAIL("half-closed pair: the other direction is shut too: %m");
		r = recv(orphan[0], b, sizeof(b), 0);
		if (r != 14 || memcmp(b, "orphaned bytes", 14))
			FAIL("orphaned pair: %zd bytes", r);
		if (recv(orphan[0], b, sizeof(b), 0) != 0)
			FAIL("orphaned pair: no end of file");
		r = accept(lst, NULL, NULL);
		if (r < 0 || send(pend, "waited", 6, 0) != 6 || recv((int)r, b, sizeof(b), 0) != 6 ||
		    memcmp(b, "waited", 6))
			FAIL("the connection waiting on the listener: %m");
	}
	echo_child_end(kid_fd, kid, &kid_got, kid_sent, "child pair");
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
