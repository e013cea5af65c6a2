/*
 * Collecting a TCP or UDP socket (IPv4, IPv6, v4-mapped IPv6) of a suspended process
 * (collect.h).
 *
 * The state comes from TCP_INFO, the addresses from getsockname/getpeername, the shutdown
 * bits, the peer's inode and a listener's waiting connections from inet_diag (the peer is the
 * socket of this network namespace whose addresses mirror ours: a connection between two
 * local processes; none for a peer on another host). The receive queue is peeked at a moving
 * SO_PEEK_OFF like a unix socket's: nothing is consumed, so the program finds it as it was.
 *
 * What TCP keeps on the sending side cannot be read without TCP_REPAIR: bytes not yet sent
 * because the peer's window is full (SIOCOUTQNSD). When the peer is a local socket those
 * bytes would be lost at restart, so the checkpoint fails with their count; towards another
 * host they are left (the connection is restored as reset). Bytes sent and not yet
 * acknowledged by a local peer are already in its receive queue, where its own checkpoint
 * peeks them.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "collect.h"
#include "sockdiag.h"

/* The integer options a program may set, saved and set again in this order. */
struct opt_desc {
	int level, name, family; /* family 0: any */
};
static const struct opt_desc tcp_opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, 0 },  { SOL_SOCKET, SO_REUSEPORT, 0 },
	{ SOL_SOCKET, SO_KEEPALIVE, 0 },  { SOL_SOCKET, SO_OOBINLINE, 0 },
	{ SOL_SOCKET, SO_PRIORITY, 0 },	  { IPPROTO_TCP, TCP_NODELAY, 0 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 0 }, { IPPROTO_TCP, TCP_KEEPINTVL, 0 },
	{ IPPROTO_TCP, TCP_KEEPCNT, 0 },  { IPPROTO_TCP, TCP_USER_TIMEOUT, 0 },
	{ IPPROTO_IP, IP_TTL, AF_INET },  { IPPROTO_IP, IP_TOS, AF_INET },
	{ IPPROTO_IPV6, IPV6_V6ONLY, AF_INET6 },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, AF_INET6 },
	{ IPPROTO_IPV6, IPV6_TCLASS, AF_INET6 },
};

static const struct opt_desc udp_opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, 0 },  { SOL_SOCKET, SO_REUSEPORT, 0 },
	{ SOL_SOCKET, SO_BROADCAST, 0 },  { SOL_SOCKET, SO_PRIORITY, 0 },
	{ IPPROTO_IP, IP_TTL, AF_INET },  { IPPROTO_IP, IP_TOS, AF_INET },
	{ IPPROTO_IP, IP_MULTICAST_TTL, AF_INET }, { IPPROTO_IP, IP_MULTICAST_LOOP, AF_INET },
	{ IPPROTO_IP, IP_PKTINFO, AF_INET }, { IPPROTO_IP, IP_RECVERR, AF_INET },
	{ IPPROTO_IPV6, IPV6_V6ONLY, AF_INET6 },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, AF_INET6 },
	{ IPPROTO_IPV6, IPV6_MULTICAST_HOPS, AF_INET6 },
	{ IPPROTO_IPV6, IPV6_MULTICAST_LOOP, AF_INET6 },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, AF_INET6 },
	{ IPPROTO_IPV6, IPV6_TCLASS, AF_INET6 },
};

static void save_opts(int lfd, struct ckpt_sock *s, const struct opt_desc *d, size_t nd)
{
	struct linger lg;
	socklen_t l;

	for (size_t i = 0; i < nd && s->nopts < CKPT_MAX_SOCK_OPTS - 1; i++) {
		int v = 0;

		if (d[i].family && d[i].family != (int)s->family)
			continue;
		l = sizeof(v);
		if (getsockopt(lfd, d[i].level, d[i].name, &v, &l))
			continue;
		s->opts[s->nopts++] = (struct ckpt_sockopt){ d[i].level, d[i].name, v };
	}
	l = sizeof(lg);
	if (!getsockopt(lfd, SOL_SOCKET, SO_LINGER, &lg, &l))
		s->opts[s->nopts++] = (struct ckpt_sockopt){ SOL_SOCKET, SO_LINGER,
							     lg.l_onoff ? lg.l_linger : -1 };
}

static const struct sockdiag_inet_set *tcp_table(struct sock_tables *t)
{
	if (t->tcp_rc == 1) {
		t->tcp_set = calloc(1, sizeof(*t->tcp_set));
		t->tcp_rc = t->tcp_set ? sockdiag_tcp_dump(t->tcp_set) : -ENOMEM;
	}
	return t->tcp_rc ? NULL : t->tcp_set;
}

/* The connections waiting on listener me to be accepted: no inode yet, our local address. */
static int pending_tcp(const struct sockdiag_inet_set *d, const struct sockdiag_inet *me,
		       struct ckpt_sock *s, int fd, char *why, size_t whylen)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct sockdiag_inet *o = &d->v[i];
		const struct sockdiag_inet *c;
		uint64_t *np;

		if (o->ino || (o->state != 1 && o->state != 3) || !sockdiag_tcp_accepts(me, o))
			continue;
		if (o->rqueue)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
				"fd %d: a TCP connection waiting to be accepted on this listener has "
				"%u bytes queued, which cannot be saved yet", fd, o->rqueue);
		np = realloc(s->pending, (s->npending + 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		s->pending = np;
		/* its connecting socket when local, else 0: a peer elsewhere */
		c = sockdiag_tcp_mirror(d, o);
		s->pending[s->npending++] = c ? c->ino : 0;
	}
	return 0;
}

int collect_sock_tcp(int fd, int lfd, struct ckpt_file *f, struct ckpt_sock *s,
		     struct sock_tables *t, char *why, size_t whylen)
{
	const struct sockdiag_inet_set *d = tcp_table(t);
	const struct sockdiag_inet *me, *peer = NULL;
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	int rc, nsd = 0;

	if (!d)
		return collect_sock_fail(why, whylen, t->tcp_rc,
			"fd %d: cannot list this network namespace's TCP sockets (inet_diag): %s",
			fd, strerror(-t->tcp_rc));
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return collect_sock_fail(why, whylen, -errno, "fd %d: cannot read TCP_INFO: %s", fd,
					 strerror(errno));
	save_opts(lfd, s, tcp_opts, sizeof(tcp_opts) / sizeof(tcp_opts[0]));
	l = sizeof(s->addr);
	if (!getsockname(lfd, (struct sockaddr *)s->addr, &l))
		s->addr_len = l;
	/* a new socket, bound or not, is in no table that inet_diag lists */
	if (ti.tcpi_state == 7 /* CLOSE */) {
		s->state = CKPT_SOCK_UNCONNECTED;
		return 0;
	}
	me = sockdiag_tcp_find(d, s->ino);
	if (!me)
		return collect_sock_fail(why, whylen, -ENOENT,
			"fd %d: TCP socket %llu is not in this network namespace's socket table",
			fd, (unsigned long long)s->ino);
	s->shutdown = me->shutdown & 3u;
	switch (ti.tcpi_state) {
	case 10: /* LISTEN */
		s->state = CKPT_SOCK_LISTENING;
		s->backlog = me->wqueue;
		return pending_tcp(d, me, s, fd, why, whylen);
	case 2: { /* SYN_SENT: a non-blocking connect under way, to the address diag shows */
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof(ss));
		if (s->family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			a->sin_family = AF_INET;
			a->sin_port = htons(me->dport);
			memcpy(&a->sin_addr, me->dst, 4);
			s->peer_addr_len = sizeof(*a);
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			a->sin6_family = AF_INET6;
			a->sin6_port = htons(me->dport);
			memcpy(&a->sin6_addr, me->dst, 16);
			s->peer_addr_len = sizeof(*a);
		}
		memcpy(s->peer_addr, &ss, s->peer_addr_len);
		s->state = CKPT_SOCK_CONNECTING;
		return 0;
	}
	case 1: case 4: case 5: case 8: case 9: case 11:
		/* ESTABLISHED, FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK, CLOSING */
		break;
	default:
		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
			"fd %d: a TCP socket in state %u cannot be checkpointed", fd,
			ti.tcpi_state);
	}
	l = sizeof(s->peer_addr);
	if (!getpeername(lfd, (struct sockaddr *)s->peer_addr, &l))
		s->peer_addr_len = l;
	peer = sockdiag_tcp_mirror(d, me);
	if (peer && peer->ino) {
		s->state = CKPT_SOCK_CONNECTED;
		s->peer_ino = peer->ino;
	} else if (peer && (peer->state == 1 || peer->state == 3)) {
		/* connected to a listener that has not accepted it yet */
		s->state = CKPT_SOCK_CONNECTED;
		if (me->wqueue)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
				"fd %d: a TCP socket waiting to be accepted has %u bytes in flight, "
				"which cannot be saved yet", fd, me->wqueue);
	} else if (peer || ti.tcpi_state != 1) {
		/* the peer closed: its end is gone or being torn down */
		s->state = CKPT_SOCK_PEER_GONE;
	} else {
		/* a peer on another host (or one that vanished without a trace) */
		s->state = CKPT_SOCK_CONNECTED;
	}
	if (ioctl(lfd, SIOCOUTQNSD, &nsd) == 0 && nsd > 0 && peer && peer->ino)
		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
			"fd %d: %d bytes of this TCP connection are not sent yet (its local peer's "
			"window is full), which cannot be saved yet", fd, nsd);
	if ((rc = collect_sock_peek(lfd, fd, f, s, NULL, why, whylen)))
		return rc;
	return 0;
}

/*
 * A UDP socket: its address, the peer it is connected to, its options and the datagrams
 * queued with their senders. Multicast memberships cannot be read back from the kernel: a
 * program that joined a group must join it again (not checked).
 */
int collect_sock_udp(int fd, int lfd, struct ckpt_file *f, struct ckpt_sock *s, char *why,
		     size_t whylen)
{
	socklen_t l = sizeof(s->addr);

	save_opts(lfd, s, udp_opts, sizeof(udp_opts) / sizeof(udp_opts[0]));
	if (!getsockname(lfd, (struct sockaddr *)s->addr, &l))
		s->addr_len = l;
	l = sizeof(s->peer_addr);
	if (!getpeername(lfd, (struct sockaddr *)s->peer_addr, &l)) {
		s->peer_addr_len = l;
		s->state = CKPT_SOCK_CONNECTED;
	} else {
		s->state = CKPT_SOCK_UNCONNECTED;
	}
	return collect_sock_peek(lfd, fd, f, s, NULL, why, whylen);
}
