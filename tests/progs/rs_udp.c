/*
 * Restart test program: UDP sockets with datagrams always queued, its own oracle.
 *
 *   rs_udp READYFILE LIMIT
 *
 * Holds a server bound to 127.0.0.1 and one bound to ::1, each with an unconnected client bound
 * to its own address, and a client connect()ed to a second IPv4 server. K datagrams are queued
 * on each server and on each unconnected client at every moment: every step each client sends
 * one to its server and each server answers the oldest one it reads back to its sender; every
 * datagram read is checked for its number, length, bytes and its sender's address (a datagram
 * put back from another address fails). SO_BROADCAST and IP_TTL stay set. It also holds a
 * netlink route socket bound to groups 1 and 5 (RTMGRP_LINK, RTMGRP_IPV4_IFADDR) and joined to
 * group 33 (RTNLGRP_BRVLAN, beyond the bind's 32): its port id and groups must stay, and at the
 * end it must still answer a request (the loopback link). Prints "count N" after each step,
 * PASS at LIMIT.
 */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include "sock_records.h"

static int udp_bound(int family, const char *ip, struct sockaddr_storage *a, socklen_t *al)
{
	int fd = socket(family, SOCK_DGRAM, 0);

	memset(a, 0, sizeof(*a));
	a->ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		inet_pton(AF_INET, ip, &((struct sockaddr_in *)a)->sin_addr);
		*al = sizeof(struct sockaddr_in);
	} else {
		inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)a)->sin6_addr);
		*al = sizeof(struct sockaddr_in6);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)a, *al) || getsockname(fd, (struct sockaddr *)a, al))
		FAIL("UDP socket on %s: %m", ip);
	return fd;
}

static void dg_send(int fd, const struct sockaddr_storage *to, socklen_t tl, uint32_t tag,
		    uint32_t seq, const char *what)
{
	uint8_t b[512];
	size_t n = rec_len(tag, seq);

	rec_make(b, tag, seq);
	if (sendto(fd, b, n, 0, (const struct sockaddr *)to, to ? tl : 0) != (ssize_t)n)
		FAIL("%s: sendto %u: %m", what, seq);
}

/* The next datagram on fd must be (tag, seq) from the address from. */
static void dg_expect(int fd, uint32_t tag, uint32_t seq, const struct sockaddr_storage *from,
		      socklen_t fl, const char *what)
{
	uint8_t want[512], b[1024];
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	size_t n = rec_len(tag, seq);
	ssize_t r = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&got, &gl);

	rec_make(want, tag, seq);
	if (r != (ssize_t)n || memcmp(b, want, n))
		FAIL("%s: datagram %u/%u: %zd bytes, expected %zu, or other bytes (%m)", what, tag,
		     seq, r, n);
	if (gl != fl || memcmp(&got, from, fl))
		FAIL("%s: datagram %u came from another address", what, seq);
}

/* The route socket's port id, and whether it is in groups 1, 5 and 33. */
static void nl_check(int fd, uint32_t portid)
{
	struct sockaddr_nl a;
	socklen_t l = sizeof(a);
	uint32_t g[4] = { 0 };

	if (getsockname(fd, (struct sockaddr *)&a, &l) || a.nl_pid != portid)
		FAIL("netlink port id is %u, not %u", a.nl_pid, portid);
	l = sizeof(g);
	if (getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, g, &l) ||
	    (g[0] & 0x11) != 0x11 || !(g[1] & 1))
		FAIL("netlink groups are %#x %#x", g[0], g[1]);
}

/* Ask the route socket for the loopback link; the answer must come. */
static void nl_ask(int fd)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			 .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 7 },
		  .i = { .ifi_family = AF_UNSPEC, .ifi_index = (int)if_nametoindex("lo") } };
	char b[8192];
	ssize_t r;
	struct nlmsghdr *h = (struct nlmsghdr *)b;

	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		FAIL("netlink request: %m");
	r = recv(fd, b, sizeof(b), 0);
	if (r < (ssize_t)sizeof(*h) || h->nlmsg_seq != 7 || h->nlmsg_type != RTM_NEWLINK)
		FAIL("netlink answer: %zd bytes, type %u", r, r > 0 ? h->nlmsg_type : 0);
}

struct pair {
	const char *name;
	int srv, cli;
	struct sockaddr_storage sa, ca;
	socklen_t sl, cl;
	uint32_t tag, sent, got, rsent, rgot;
};

int main(int argc, char **argv)
{
	struct pair p[2];
	struct sockaddr_storage xa, cca;
	socklen_t xl, ccl = sizeof(cca);
	int x, cc, on = 1, ttl = 33, nl, g33 = 33;
	struct sockaddr_nl nla = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR };
	socklen_t nll = sizeof(nla);
	uint32_t csent = 0, cgot = 0;
	long limit, n;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	p[0] = (struct pair){ .name = "IPv4 UDP", .tag = 1 };
	p[0].srv = udp_bound(AF_INET, "127.0.0.1", &p[0].sa, &p[0].sl);
	p[0].cli = udp_bound(AF_INET, "127.0.0.1", &p[0].ca, &p[0].cl);
	p[1] = (struct pair){ .name = "IPv6 UDP", .tag = 3 };
	p[1].srv = udp_bound(AF_INET6, "::1", &p[1].sa, &p[1].sl);
	p[1].cli = udp_bound(AF_INET6, "::1", &p[1].ca, &p[1].cl);
	x = udp_bound(AF_INET, "127.0.0.1", &xa, &xl);
	cc = socket(AF_INET, SOCK_DGRAM, 0);
	if (cc < 0 || connect(cc, (struct sockaddr *)&xa, xl) ||
	    getsockname(cc, (struct sockaddr *)&cca, &ccl))
		FAIL("connected UDP client: %m");
	nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (nl < 0 || bind(nl, (struct sockaddr *)&nla, sizeof(nla)) ||
	    setsockopt(nl, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g33, sizeof(g33)) ||
	    getsockname(nl, (struct sockaddr *)&nla, &nll))
		FAIL("netlink route socket: %m");
	nl_ask(nl);
	if (setsockopt(p[0].cli, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) ||
	    setsockopt(p[0].srv, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)))
		FAIL("setsockopt: %m");
	for (int i = 0; i < 2; i++)
		for (; p[i].sent < K; p[i].sent++)
			dg_send(p[i].cli, &p[i].sa, p[i].sl, p[i].tag, p[i].sent, p[i].name);
	for (; p[0].rsent < K; p[0].rsent++)
		for (int i = 0; i < 2; i++)
			dg_send(p[i].srv, &p[i].ca, p[i].cl, p[i].tag + 1, p[0].rsent, p[i].name);
	p[1].rsent = p[0].rsent;
	for (; csent < K; csent++)
		dg_send(cc, NULL, 0, 5, csent, "connected UDP client");

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		socklen_t l = sizeof(int);
		int v = 0;

		for (int i = 0; i < 2; i++) {
			struct pair *q = &p[i];

			dg_send(q->cli, &q->sa, q->sl, q->tag, q->sent++, q->name);
			dg_expect(q->srv, q->tag, q->got++, &q->ca, q->cl, q->name);
			dg_send(q->srv, &q->ca, q->cl, q->tag + 1, q->rsent++, q->name);
			dg_expect(q->cli, q->tag + 1, q->rgot++, &q->sa, q->sl, q->name);
		}
		dg_send(cc, NULL, 0, 5, csent++, "connected UDP client");
		dg_expect(x, 5, cgot++, &cca, ccl, "connected UDP client");
		nl_check(nl, nla.nl_pid);
		if (getsockopt(p[0].cli, SOL_SOCKET, SO_BROADCAST, &v, &l) || !v)
			FAIL("SO_BROADCAST lost");
		l = sizeof(v);
		if (getsockopt(p[0].srv, IPPROTO_IP, IP_TTL, &v, &l) || v != 33)
			FAIL("IP_TTL is %d, not 33", v);
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	nl_ask(nl);
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
