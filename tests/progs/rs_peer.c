/*
 * Restart test program: one of two separately launched programs that talk over a TCP and a
 * unix stream connection, with data always in flight both ways; its own oracle.
 *
 *   rs_peer server READYFILE LIMIT      listens on 127.0.0.1 and on DIR/rs_peer.sock (DIR:
 *                                       READYFILE's directory), writes "PORT n" to
 *                                       DIR/rs_peer.port, accepts one connection on each
 *   rs_peer client READYFILE LIMIT      connects to both (the port from DIR/rs_peer.port)
 *
 * Each side keeps K records in flight towards the other on each connection: every step sends
 * one and reads the oldest one sent by the other side, checking its number, length and bytes.
 * Prints "count N" after each step and PASS at LIMIT. The server's records carry tag 1 (TCP)
 * and 3 (unix), the client's 2 and 4. A third connection, TCP, is kept full by the server: every
 * step it writes (non-blocking) until the kernel takes no more and the client reads 16 KiB, so
 * a checkpoint finds bytes a full window holds back on the server's side; the bytes follow a
 * pattern of their position, checked as they are read.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock_records.h"

int main(int argc, char **argv)
{
	char dir[4096], tmp[4096], path[4200];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	socklen_t al = sizeof(a);
	int server, t, x, bulk, my_t, my_x, bufsz = 131072;
	uint64_t bulk_n = 0;
	uint32_t sent = 0, got = 0;
	long limit, n;
	FILE *f;

	if (argc != 4)
		return 2;
	server = !strcmp(argv[1], "server");
	limit = atol(argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(tmp, sizeof(tmp), "%s", argv[2]);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	snprintf(path, sizeof(path), "%s/rs_peer.sock", dir);
	if (strlen(path) >= sizeof(u.sun_path))
		FAIL("path too long: %s", path);
	memcpy(u.sun_path, path, strlen(path) + 1);
	my_t = server ? 1 : 2;
	my_x = server ? 3 : 4;
	if (server) {
		int lt = socket(AF_INET, SOCK_STREAM, 0), lx = socket(AF_UNIX, SOCK_STREAM, 0);
		char pf[4200], pt[4300];

		unlink(path);
		if (lt < 0 || lx < 0 || bind(lt, (struct sockaddr *)&a, sizeof(a)) || listen(lt, 4) ||
		    getsockname(lt, (struct sockaddr *)&a, &al) ||
		    bind(lx, (struct sockaddr *)&u, sizeof(u)) || listen(lx, 4))
			FAIL("listen: %m");
		snprintf(pf, sizeof(pf), "%s/rs_peer.port", dir);
		snprintf(pt, sizeof(pt), "%s.tmp", pf);
		f = fopen(pt, "w");
		if (!f || fprintf(f, "PORT %d\n", ntohs(a.sin_port)) < 0 || fclose(f) || rename(pt, pf))
			FAIL("port file: %m");
		t = accept(lt, NULL, NULL);
		x = accept(lx, NULL, NULL);
		bulk = accept(lt, NULL, NULL);
		if (t < 0 || x < 0 || bulk < 0)
			FAIL("accept: %m");
		fcntl(bulk, F_SETFL, O_NONBLOCK);
		/* sizes the program sets come back as they were (docs/architecture.md, Sockets) */
		if (setsockopt(bulk, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz)))
			FAIL("SO_SNDBUF: %m");
		close(lt);
		close(lx);
	} else {
		char pf[4200];
		int port = 0;

		snprintf(pf, sizeof(pf), "%s/rs_peer.port", dir);
		f = fopen(pf, "r");
		if (!f || fscanf(f, "PORT %d", &port) != 1)
			FAIL("no port in %s", pf);
		fclose(f);
		a.sin_port = htons((uint16_t)port);
		t = socket(AF_INET, SOCK_STREAM, 0);
		x = socket(AF_UNIX, SOCK_STREAM, 0);
		bulk = socket(AF_INET, SOCK_STREAM, 0);
		if (bulk >= 0 && setsockopt(bulk, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz)))
			FAIL("SO_RCVBUF: %m");
		if (t < 0 || x < 0 || bulk < 0 || connect(t, (struct sockaddr *)&a, sizeof(a)) ||
		    connect(x, (struct sockaddr *)&u, sizeof(u)) ||
		    connect(bulk, (struct sockaddr *)&a, sizeof(a)))
			FAIL("connect: %m");
	}
	for (; sent < K; sent++) {
		rec_send(t, (uint32_t)my_t, sent, "TCP connection");
		rec_send(x, (uint32_t)my_x, sent, "unix connection");
	}
	f = fopen(argv[2], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		rec_send(t, (uint32_t)my_t, sent, "TCP connection");
		rec_send(x, (uint32_t)my_x, sent, "unix connection");
		sent++;
		rec_expect(t, 1, (uint32_t)(server ? 2 : 1), got, "TCP connection");
		rec_expect(x, 1, (uint32_t)(server ? 4 : 3), got, "unix connection");
		got++;
		if (server)
			bulk_fill(bulk, &bulk_n);
		else
			bulk_read(bulk, &bulk_n);
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	/* the other side may stop sooner or later: tell it, then read what it still sends */
	shutdown(t, SHUT_WR);
	shutdown(x, SHUT_WR);
	for (;;) {
		char b[4096];
		ssize_t r = recv(t, b, sizeof(b), 0);

		if (r <= 0)
			break;
	}
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
