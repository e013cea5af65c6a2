/*
 * Restart test program: TCP connections of every kind and state, with data always in flight,
 * its own oracle.
 *
 *   rs_tcp READYFILE LIMIT          (environment: RS_TCP_EXTERNAL_PORT)
 *
 * Holds listeners on 127.0.0.1, on ::1 and on [::] (IPv4 clients reach that one as
 * v4-mapped addresses), each with a connection whose two ends keep K records in flight each
 * way (every step sends one each way and reads the oldest each way, checking number, length
 * and bytes); a forked child connected to the IPv4 listener that echoes records back, K in
 * flight; a half-closed connection (data, then SHUT_WR), a connection whose other end closed
 * with data unread, and a connection left waiting on the listener: these three are read only
 * at the end (the data, then end of file; the waiting one accepted then). TCP_NODELAY,
 * SO_KEEPALIVE with TCP_KEEPIDLE, SO_REUSEADDR and O_NONBLOCK are checked every step.
 * A bulk connection is kept full: every step writes (non-blocking) until the kernel takes no
 * more and reads 16 KiB, so the sender always has bytes its peer's full window holds back; the
 * bytes follow a pattern of their position, checked as they are read.
 * With RS_TCP_EXTERNAL_PORT, a connection to a server on 127.0.0.1:RS_TCP_EXTERNAL_PORT outside the
 * computation, which sent 10 bytes ("0123456789") this program reads only at the end: after a
 * restart the connection comes back closed by its peer, so those bytes, then end of file
 * ("external: closed after restart"); without a restart the server is still there
 * ("external: open").
 * Prints "count N" after each step, PASS at LIMIT.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock_records.h"

static int listener(int family, const char *ip, int v6only, struct sockaddr_storage *a,
		    socklen_t *al)
{
	int fd = socket(family, SOCK_STREAM, 0), one = 1;

	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)a;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
		*al = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)a;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
		*al = sizeof(*s6);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)))
			FAIL("IPV6_V6ONLY: %m");
	}
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)a, *al) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)a, al))
		FAIL("listener on %s: %m", ip);
	return fd;
}

/* A client of family to (connect to address to, but on IPv4 127.0.0.1 when to4). */
static int client(int family, const struct sockaddr_storage *to, socklen_t tl)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)to, tl))
		FAIL("connect: %m");
	return fd;
}

static int accept_one(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		FAIL("accept: %m");
	return fd;
}


static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, level, name, &v, &l))
		FAIL("getsockopt %d/%d: %m", level, name);
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage a4, a6, am;
	socklen_t l4, l6, lm;
	struct flow fl[3];
	int L4, L6, LM, kid_fd, half_c, half_a, orph, pend, ext = -1, one = 1, idle = 77;
	int bulk_w, bulk_r;
	uint64_t bulk_sent = 0, bulk_got = 0;
	uint32_t kid_sent = 0, kid_got = 0;
	long limit, n;
	pid_t kid;
	FILE *f;

	const char *ext_port = getenv("RS_TCP_EXTERNAL_PORT");

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	L4 = listener(AF_INET, "127.0.0.1", 0, &a4, &l4);
	L6 = listener(AF_INET6, "::1", 1, &a6, &l6);
	LM = listener(AF_INET6, "::", 0, &am, &lm);
	{
		struct sockaddr_in *m4 = (struct sockaddr_in *)&am;
		uint16_t port = ((struct sockaddr_in6 *)&am)->sin6_port;
		int c, s;

		c = client(AF_INET, &a4, l4);
		s = accept_one(L4);
		fl[0] = (struct flow){ "IPv4 connection", c, s, 1, 0, 0, 0, 0 };
		c = client(AF_INET6, &a6, l6);
		s = accept_one(L6);
		fl[1] = (struct flow){ "IPv6 connection", c, s, 1, 0, 0, 0, 0 };
		/* an IPv4 client of the [::] listener: the accepted end sees ::ffff:127.0.0.1 */
		memset(&am, 0, sizeof(am));
		m4->sin_family = AF_INET;
		m4->sin_port = port;
		m4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c = client(AF_INET, &am, sizeof(*m4));
		s = accept_one(LM);
		fl[2] = (struct flow){ "v4-mapped connection", c, s, 1, 0, 0, 0, 0 };
	}
	if (setsockopt(fl[0].a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(fl[0].b, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(fl[0].b, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)))
		FAIL("setsockopt: %m");
	fcntl(fl[1].a, F_SETFL, O_NONBLOCK);

	half_c = client(AF_INET, &a4, l4);
	half_a = accept_one(L4);
	if (send(half_c, "half-closed tail", 16, 0) != 16 || shutdown(half_c, SHUT_WR))
		FAIL("half-closed: %m");
	orph = client(AF_INET, &a4, l4);
	{
		int s = accept_one(L4);

		if (send(s, "orphaned bytes", 14, 0) != 14)
			FAIL("orphan: %m");
		close(s);
	}
	pend = client(AF_INET6, &a6, l6); /* left waiting on L6 until the end */
	bulk_w = client(AF_INET, &a4, l4);
	bulk_r = accept_one(L4);
	fcntl(bulk_w, F_SETFL, O_NONBLOCK);
	{
		/* sizes the program sets come back as they were (docs/architecture.md, Sockets) */
		int sz = 131072;

		if (setsockopt(bulk_w, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) ||
		    setsockopt(bulk_r, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)))
			FAIL("bulk buffers: %m");
	}
	if (ext_port && *ext_port) {
		struct sockaddr_in e = { .sin_family = AF_INET,
					 .sin_port = htons((uint16_t)atoi(ext_port)),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		ext = client(AF_INET, (struct sockaddr_storage *)&e, sizeof(e));
	}

	{
		int c = client(AF_INET, &a4, l4);

		kid = fork();
		if (kid < 0)
			FAIL("fork: %m");
		if (kid == 0)
			echo_child(c);
		close(c);
		kid_fd = accept_one(L4);
	}
	for (int i = 0; i < 3; i++)
		flow_fill(&fl[i]);
	while (kid_sent < K)
		rec_send(kid_fd, 3, kid_sent++, "child connection");

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		for (int i = 0; i < 3; i++)
			flow_step(&fl[i]);
		rec_send(kid_fd, 3, kid_sent++, "child connection");
		rec_expect(kid_fd, 1, 4, kid_got++, "child connection");
		bulk_fill(bulk_w, &bulk_sent);
		bulk_read(bulk_r, &bulk_got);
		if (!getint(fl[0].a, IPPROTO_TCP, TCP_NODELAY))
			FAIL("TCP_NODELAY lost");
		if (!getint(fl[0].b, SOL_SOCKET, SO_KEEPALIVE) ||
		    getint(fl[0].b, IPPROTO_TCP, TCP_KEEPIDLE) != 77)
			FAIL("SO_KEEPALIVE/TCP_KEEPIDLE lost");
		if (!getint(L4, SOL_SOCKET, SO_REUSEADDR))
			FAIL("SO_REUSEADDR lost");
		if (!(fcntl(fl[1].a, F_GETFL) & O_NONBLOCK))
			FAIL("O_NONBLOCK lost");
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}

	{
		char b[64];
		ssize_t r;
		int s;

		r = recv(half_a, b, sizeof(b), 0);
		if (r != 16 || memcmp(b, "half-closed tail", 16))
			FAIL("half-closed connection: %zd bytes", r);
		if (recv(half_a, b, sizeof(b), 0) != 0)
			FAIL("half-closed connection: no end of file");
		if (send(half_a, "back", 4, MSG_NOSIGNAL) != 4 || recv(half_c, b, 4, 0) != 4 ||
		    memcmp(b, "back", 4))
			FAIL("half-closed connection: the other direction does not work: %m");
		r = recv(orph, b, sizeof(b), 0);
		if (r != 14 || memcmp(b, "orphaned bytes", 14))
			FAIL("orphaned connection: %zd bytes", r);
		if (recv(orph, b, sizeof(b), 0) != 0)
			FAIL("orphaned connection: no end of file");
		s = accept_one(L6);
		if (send(pend, "waited", 6, MSG_NOSIGNAL) != 6 || recv(s, b, 6, MSG_WAITALL) != 6 ||
		    memcmp(b, "waited", 6))
			FAIL("the connection that waited on the listener: %m");
		if (ext >= 0) {
			r = recv(ext, b, 10, MSG_WAITALL);
			if (r != 10 || memcmp(b, "0123456789", 10))
				FAIL("external connection: %zd bytes", r);
			r = recv(ext, b, sizeof(b), MSG_DONTWAIT);
			if (r == 0)
				printf("external: closed after restart\n");
			else if (r < 0 && errno == EAGAIN)
				printf("external: open\n");
			else
				FAIL("external connection: %zd more bytes (%m)", r);
		}
	}
	echo_child_end(kid_fd, kid, &kid_got, kid_sent, "child connection");
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
