/*
 * Collecting a socket of a suspended process (see collect.h): what it is and what is queued
 * on it, from the kernel. Runs once every process of the computation is suspended, so no
 * member adds to a queue meanwhile.
 *
 * The kind and state come from NETLINK_SOCK_DIAG (common/sockdiag.h: the peer's inode, the
 * queue length, the shutdown bits, the connections waiting on a listener), the names and
 * options from getsockname/getpeername/getsockopt on a duplicate of the fd (pidfd_getfd: the
 * same socket, not a new one). The queued bytes are read with MSG_PEEK at a moving
 * SO_PEEK_OFF, so nothing is taken from the program: a unix socket has no send queue of its
 * own (what a peer sent sits in the receiver's queue), so this sees every byte in flight
 * towards it, and the program finds its queue as it was whether the checkpoint completes or
 * not. The program's own SO_PEEK_OFF is put back afterwards.
 *
 * What cannot be restored faithfully fails the checkpoint with a reason naming the fd and
 * the kind: sockets of other families, connections waiting on a listener, a unix socket in
 * flight with file descriptors in flight itself, datagrams from a named sender on an
 * unconnected socket. File descriptors in flight (SCM_RIGHTS) are described as files of the
 * process by collect_fds.c; credentials (SCM_CREDENTIALS) are recorded per message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include "collect.h"
#include "procfs.h"
#include "sockdiag.h"

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04 /* Linux 6.5; newer than some libc headers */
#endif

#define TCP_ESTABLISHED_STATE 1
#define TCP_LISTEN_STATE      10

/* "a UDP/IPv4 socket", "a netlink socket", "a socket of family 38", ... for messages. */
static const char *kind_name(int family, int type, int protocol, char *buf, size_t n)
{
	switch (family) {
	case AF_INET:
	case AF_INET6: {
		int v6 = family == AF_INET6;

		if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
			return v6 ? "a UDP/IPv6 socket" : "a UDP/IPv4 socket";
		snprintf(buf, n, "an %s socket of type %d, protocol %d", v6 ? "IPv6" : "IPv4", type,
			 protocol);
		return buf;
	}
	case AF_NETLINK:
		snprintf(buf, n, "a netlink socket of protocol %d", protocol);
		return buf;
	case AF_PACKET: return "a packet socket";
	}
	snprintf(buf, n, "a socket of family %d", family);
	return buf;
}

int collect_sock_fail(char *why, size_t n, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why && n) {
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int getopt_int(int fd, int level, int name, int *v)
{
	socklen_t l = sizeof(*v);

	*v = 0;
	return getsockopt(fd, level, name, v, &l) ? -errno : 0;
}

static int64_t getopt_timeo(int fd, int name)
{
	struct timeval tv = { 0, 0 };
	socklen_t l = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, name, &tv, &l))
		return 0;
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int msg_append(struct ckpt_sock *s, uint32_t len)
{
	uint32_t *nl;

	if (s->nmsgs >= CKPT_MAX_SOCK_MSGS)
		return -E2BIG;
	nl = realloc(s->msg_len, (s->nmsgs + 1) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl[s->nmsgs++] = len;
	s->msg_len = nl;
	return 0;
}

/* The sender of the message just appended (UDP), as recvmsg gave it. */
static int from_append(struct ckpt_sock *s, const struct sockaddr_storage *from, socklen_t len)
{
	struct ckpt_sock_addr *nf = realloc(s->msg_from, s->nmsgs * sizeof(*nf));

	if (!nf)
		return -ENOMEM;
	s->msg_from = nf;
	nf[s->nmsgs - 1].len = len <= CKPT_SOCK_ADDR_MAX ? len : 0;
	memcpy(nf[s->nmsgs - 1].addr, from, nf[s->nmsgs - 1].len);
	return 0;
}

/* Close every fd a peek brought in (SCM_RIGHTS): they are the tracer's copies. */
static void drop_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

/* The fds of a peeked message (its SCM_RIGHTS), n of them at most cap, into v. */
static uint32_t msg_fds(struct msghdr *mh, int *v, uint32_t cap)
{
	uint32_t n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && n < cap; i++)
			memcpy(&v[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	return n;
}

/*
 * The ancillary data of the run just peeked (off, len in the data; message index msg): its
 * credentials, and its fds handed to t->inflight, which closes them once described.
 */
static int scm_append(struct ckpt_sock *s, struct sock_tables *t, struct msghdr *mh, int fd,
		      uint64_t off, uint64_t len, uint32_t msg)
{
	int v[CKPT_MAX_SCM_FILES];
	uint32_t nfd = msg_fds(mh, v, CKPT_MAX_SCM_FILES);
	struct ckpt_sock_scm *c, *ns;
	struct sock_inflight *ni;

	ns = realloc(s->scm, (s->nscm + 1) * sizeof(*ns));
	if (!ns)
		goto nomem;
	s->scm = ns;
	c = &s->scm[s->nscm];
	memset(c, 0, sizeof(*c));
	c->off = off;
	c->len = len;
	c->msg = s->type == SOCK_STREAM ? 0 : msg;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(mh); h; h = CMSG_NXTHDR(mh, h)) {
		struct ucred uc;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_CREDENTIALS ||
		    h->cmsg_len < CMSG_LEN(sizeof(uc)))
			continue;
		memcpy(&uc, CMSG_DATA(h), sizeof(uc));
		c->flags |= CKPT_SCM_CREDS;
		c->pid = uc.pid;
		c->uid = uc.uid;
		c->gid = uc.gid;
	}
	if (nfd) {
		c->files = calloc(nfd, sizeof(*c->files));
		ni = realloc(t->inflight, (t->ninflight + nfd) * sizeof(*ni));
		if (ni)
			t->inflight = ni;
		if (!c->files || !ni) {
			free(c->files);
			goto nomem;
		}
		c->nfiles = nfd;
		for (uint32_t i = 0; i < nfd; i++)
			t->inflight[t->ninflight++] =
				(struct sock_inflight){ s, s->nscm, i, v[i], fd };
	}
	if (c->flags || c->nfiles)
		s->nscm++;
	return 0;
nomem:
	drop_fds(mh);
	return -ENOMEM;
}

/* A receiver with SO_PASSPIDFD gets a pidfd of the sender with each peek, made then from the
 * message's pid (which the credentials record keeps): the tracer's copy is closed. */
static void close_pidfds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_PIDFD ||
		    c->cmsg_len < CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		close(fd);
	}
}

static int has_cmsg(struct msghdr *mh, int type)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == type)
			return 1;
	return 0;
}

/*
 * The queue of lfd, peeked without being consumed, into f's data (and s's message lengths).
 * fd is the program's number, for messages. Peeking fds in flight installs copies of them
 * in the tracer: t keeps them until they are described.
 */
int collect_sock_peek(int lfd, int fd, struct ckpt_file *f, struct ckpt_sock *s,
		      struct sock_tables *t, char *why, size_t whylen)
{
	size_t cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	int zero = 0, rc = 0, old = s->peek_off;

	if (!buf)
		return -ENOMEM;
	if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero))) {
		rc = collect_sock_fail(why, whylen, -errno, "fd %d: cannot peek at its queue (SO_PEEK_OFF): %s",
			  fd, strerror(errno));
		goto out;
	}
	for (;;) {
		union {
			char c[CMSG_SPACE(sizeof(int) * CKPT_MAX_SCM_FILES) +
			       CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct sockaddr_storage from;
		const struct sockaddr_un *ufrom = (const struct sockaddr_un *)&from;
		struct iovec iov = { buf, cap };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.c, .msg_controllen = sizeof(ctl.c) };
		/* MSG_TRUNC gives a datagram's whole length; on a TCP stream it would discard
		 * the bytes instead of copying them */
		ssize_t n = recvmsg(lfd, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC |
					       (s->type == SOCK_STREAM ? 0 : MSG_TRUNC));

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			rc = collect_sock_fail(why, whylen, -errno, "fd %d: cannot read its queue: %s", fd,
				  strerror(errno));
			break;
		}
		close_pidfds(&mh);
		if (has_cmsg(&mh, SCM_RIGHTS) && (!t || t->nested || (mh.msg_flags & MSG_CTRUNC))) {
			drop_fds(&mh);
			rc = collect_sock_fail(why, whylen, -EOPNOTSUPP,
				  !t ? "fd %d: a %s socket with file descriptors in flight "
				       "(SCM_RIGHTS) cannot be checkpointed"
				  : t->nested ? "fd %d: a unix %s socket in flight has file "
						"descriptors in flight itself (SCM_RIGHTS), which "
						"cannot be checkpointed"
					      : "fd %d: a message on this unix %s socket carries "
						"more file descriptors than a message can",
				  fd, ckpt_sock_type_name(s->type));
			break;
		}
		if (s->type != SOCK_STREAM && (size_t)n > cap) {
			drop_fds(&mh); /* peeked again below, fds and all */
			/* A datagram larger than the buffer: peek it again whole. The peek
			 * offset has moved past it, so step back first. */
			uint8_t *nb = realloc(buf, (size_t)n);
			int back = (int)f->data_len;

			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap = (size_t)n;
			if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &back, sizeof(back))) {
				rc = -errno;
				break;
			}
			continue;
		}
		if (n == 0 && s->type == SOCK_STREAM)
			break; /* the end of a stream whose peer is gone */
		if (s->family == AF_UNIX && s->type != SOCK_STREAM &&
		    s->state == CKPT_SOCK_UNCONNECTED && mh.msg_namelen > sizeof(sa_family_t)) {
			drop_fds(&mh);
			rc = collect_sock_fail(why, whylen, -EOPNOTSUPP,
				  "fd %d: datagrams from the named socket '%.*s' are queued on an "
				  "unconnected unix socket; their sender cannot be restored yet",
				  fd, (int)(mh.msg_namelen - sizeof(sa_family_t)),
				  ufrom->sun_path[0] ? ufrom->sun_path : ufrom->sun_path + 1);
			break;
		}
		if (t && (has_cmsg(&mh, SCM_RIGHTS) || has_cmsg(&mh, SCM_CREDENTIALS)) &&
		    (rc = scm_append(s, t, &mh, fd, f->data_len, (uint64_t)n, s->nmsgs)))
			break;
		if ((rc = collect_data_append(f, buf, (size_t)n)))
			break;
		if (s->type != SOCK_STREAM && (rc = msg_append(s, (uint32_t)n)))
			break;
		if (s->family != AF_UNIX && s->type == SOCK_DGRAM &&
		    (rc = from_append(s, &from, mh.msg_namelen)))
			break;
	}
	/* Put the program's peek offset back (-1: off). */
	if (setsockopt(lfd, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof(old)) && !rc)
		rc = collect_sock_fail(why, whylen, -errno, "fd %d: cannot put SO_PEEK_OFF back: %s", fd,
			  strerror(errno));
	if (!rc && (f->data_len || s->nmsgs))
		f->flags |= CKPT_FF_HAS_DATA;
out:
	free(buf);
	return rc;
}

/* The mode of a path-bound socket's file, when that file is still the socket's (vfs inode):
 * 0 when it was unlinked or replaced since the bind. */
static uint32_t name_mode(pid_t pid, const struct ckpt_sock *s, const struct sockdiag_unix *u)
{
	const struct sockaddr_un *a = (const void *)s->addr;
	char path[PATH_MAX + 64];
	struct stat st;
	size_t plen;

	if (s->addr_len <= sizeof(sa_family_t) || !a->sun_path[0] || !u->vfs_ino)
		return 0;
	plen = s->addr_len - sizeof(sa_family_t);
	if (a->sun_path[0] == '/')
		snprintf(path, sizeof(path), "%.*s", (int)plen, a->sun_path);
	else /* relative to the cwd of the bind: the process's cwd is the best guess */
		snprintf(path, sizeof(path), "/proc/%d/cwd/%.*s", (int)pid, (int)plen, a->sun_path);
	if (stat(path, &st) || !S_ISSOCK(st.st_mode) || st.st_ino != u->vfs_ino)
		return 0;
	return st.st_mode;
}

void collect_sock_tables_free(struct sock_tables *t)
{
	for (uint32_t i = 0; i < t->ninflight; i++)
		if (t->inflight[i].lfd >= 0)
			close(t->inflight[i].lfd);
	free(t->inflight);
	t->inflight = NULL;
	t->ninflight = 0;
	if (t->unix_set) {
		sockdiag_unix_free(t->unix_set);
		free(t->unix_set);
	}
	if (t->tcp_set) {
		sockdiag_inet_free(t->tcp_set);
		free(t->tcp_set);
	}
	t->unix_set = NULL;
	t->tcp_set = NULL;
	t->unix_rc = t->tcp_rc = 1;
}

static const struct sockdiag_unix_set *unix_table(struct sock_tables *t)
{
	if (t->unix_rc == 1) {
		t->unix_set = calloc(1, sizeof(*t->unix_set));
		t->unix_rc = t->unix_set ? sockdiag_unix_dump(t->unix_set) : -ENOMEM;
	}
	return t->unix_rc ? NULL : t->unix_set;
}

/*
 * The connections waiting on listener u, in the order accept() would return them: the
 * kernel lists the connecting sockets' inodes (the waiting ends have none until accepted).
 * Each is recreated at restart by its connecting socket when that is in the computation,
 * else as a connection whose peer is gone. What a connecting socket already sent sits in the
 * waiting end's queue, which no fd reaches: that cannot be saved yet.
 */
static int pending_conns(const struct sockdiag_unix_set *diag, const struct sockdiag_unix *u,
			 struct ckpt_sock *s, int fd, char *why, size_t whylen)
{
	if (!u->nicons)
		return 0;
	s->pending = calloc(u->nicons, sizeof(*s->pending));
	if (!s->pending)
		return -ENOMEM;
	for (uint32_t i = 0; i < u->nicons; i++) {
		const struct sockdiag_unix *c = sockdiag_unix_find(diag, u->icons[i]);

		if (c && c->wqueue)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
				    "fd %d: a connection waiting to be accepted on this listening "
				    "unix socket has %u bytes in flight, which cannot be saved yet",
				    fd, c->wqueue);
		s->pending[s->npending++] = u->icons[i];
	}
	return 0;
}

/* Is ino a socket whose connection waits on a listener? */
static int is_waiting(const struct sockdiag_unix_set *diag, uint32_t ino)
{
	for (size_t i = 0; i < diag->n; i++)
		for (uint32_t k = 0; k < diag->v[i].nicons; k++)
			if (diag->v[i].icons[k] == ino)
				return 1;
	return 0;
}

/*
 * A datagram socket without a live peer: was it connected to one that closed? The kernel
 * keeps the dead peer until the next send, so getpeername still answers; a socket never
 * connected says ENOTCONN. (Its state cannot tell: a socket that others connect() to is
 * marked established too.)
 */
static int peer_dead(int lfd)
{
	struct sockaddr_un a;
	socklen_t l = sizeof(a);

	return getpeername(lfd, (struct sockaddr *)&a, &l) == 0;
}

void collect_sock_common_opts(int lfd, struct ckpt_sock *s)
{
	int v;

	if (!getopt_int(lfd, SOL_SOCKET, SO_PASSCRED, &v) && v)
		s->flags |= CKPT_SF_PASSCRED;
	getopt_int(lfd, SOL_SOCKET, SO_SNDBUF, &s->sndbuf);
	getopt_int(lfd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf);
	s->rcvtimeo_us = getopt_timeo(lfd, SO_RCVTIMEO);
	s->sndtimeo_us = getopt_timeo(lfd, SO_SNDTIMEO);
	s->peek_off = -1;
	if (!getopt_int(lfd, SOL_SOCKET, SO_PEEK_OFF, &v) && v >= 0) {
		s->flags |= CKPT_SF_PEEK_OFF;
		s->peek_off = v;
	}
}

/*
 * A netlink route socket: its address (port id and the first 32 groups), every group it
 * joined, its netlink options. Messages the kernel queued on it cannot be put back by anyone
 * else: a socket with unread messages fails the checkpoint.
 */
static int collect_netlink(int fd, int lfd, struct ckpt_sock *s, char *why, size_t whylen)
{
	static const int nl_opts[] = { NETLINK_PKTINFO,	      NETLINK_BROADCAST_ERROR,
				       NETLINK_NO_ENOBUFS,    NETLINK_LISTEN_ALL_NSID,
				       NETLINK_CAP_ACK,	      NETLINK_EXT_ACK,
				       NETLINK_GET_STRICT_CHK };
	uint32_t groups[32];
	socklen_t l = sizeof(s->addr);
	char b[1];
	ssize_t n;

	s->state = CKPT_SOCK_UNCONNECTED;
	if (!getsockname(lfd, (struct sockaddr *)s->addr, &l))
		s->addr_len = l;
	for (size_t i = 0; i < sizeof(nl_opts) / sizeof(nl_opts[0]); i++) {
		int v = 0;

		if (!getopt_int(lfd, SOL_NETLINK, nl_opts[i], &v) && v)
			s->opts[s->nopts++] = (struct ckpt_sockopt){ SOL_NETLINK, nl_opts[i], v };
	}
	memset(groups, 0, sizeof(groups));
	l = sizeof(groups);
	if (!getsockopt(lfd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups, &l)) {
		for (uint32_t g = 32; g < l * 8 && g < sizeof(groups) * 8; g++) {
			if (!(groups[g / 32] & (1u << (g % 32))))
				continue;
			if (s->nopts >= CKPT_MAX_SOCK_OPTS)
				return collect_sock_fail(why, whylen, -E2BIG,
					"fd %d: a netlink socket in too many groups", fd);
			s->opts[s->nopts++] =
				(struct ckpt_sockopt){ SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, (int)g + 1 };
		}
	}
	n = recv(lfd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
	if (n >= 0)
		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
			"fd %d: a netlink route socket with unread messages (%zd bytes first), "
			"which the kernel sent and no restart can queue again", fd, n);
	return 0;
}

int collect_sock(pid_t pid, int fd, int lfd, struct ckpt_file *f, struct sock_tables *t,
		 const struct collect_tree *tree, char *why, size_t whylen)
{
	const struct sockdiag_unix_set *diag;
	const struct sockdiag_unix *u;
	struct ckpt_sock *s;
	int family, type, protocol, rc;
	socklen_t l;

	if ((rc = getopt_int(lfd, SOL_SOCKET, SO_DOMAIN, &family)) ||
	    (rc = getopt_int(lfd, SOL_SOCKET, SO_TYPE, &type)) ||
	    (rc = getopt_int(lfd, SOL_SOCKET, SO_PROTOCOL, &protocol)))
		return collect_sock_fail(why, whylen, rc, "fd %d: cannot ask the socket what it is: %s", fd,
			    strerror(-rc));
	f->sock_type = (uint32_t)type;
	if ((family == AF_INET || family == AF_INET6) &&
	    ((type == SOCK_STREAM && protocol == IPPROTO_TCP) ||
	     (type == SOCK_DGRAM && protocol == IPPROTO_UDP))) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		f->sock = s;
		s->family = (uint32_t)family;
		s->type = (uint32_t)type;
		s->protocol = (uint32_t)protocol;
		s->ino = f->ino;
		collect_sock_common_opts(lfd, s);
		if (type == SOCK_DGRAM)
			return collect_sock_udp(fd, lfd, f, s, why, whylen);
		/* what the drain step took out comes first, then what is still queued */
		if (tree && tree->sock_taken) {
			size_t n = 0;
			const uint8_t *b = tree->sock_taken(tree->arg, f->ino, &n);

			if (b && n && (rc = collect_data_append(f, b, n)))
				return rc;
		}
		return collect_sock_tcp(fd, lfd, f, s, t, why, whylen);
	}
	if (family == AF_NETLINK && protocol == NETLINK_ROUTE &&
	    (type == SOCK_RAW || type == SOCK_DGRAM)) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		f->sock = s;
		s->family = AF_NETLINK;
		s->type = (uint32_t)type;
		s->protocol = NETLINK_ROUTE;
		s->ino = f->ino;
		collect_sock_common_opts(lfd, s);
		return collect_netlink(fd, lfd, s, why, whylen);
	}
	if (family != AF_UNIX) {
		char kind[64];

		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
			    "fd %d is %s, which cannot be checkpointed yet (unix, TCP, UDP and "
			    "netlink route sockets can)",
			    fd, kind_name(family, type, protocol, kind, sizeof(kind)));
	}
	diag = unix_table(t);
	u = diag ? sockdiag_unix_find(diag, (uint32_t)f->ino) : NULL;
	if (!u)
		return collect_sock_fail(why, whylen, -ENOENT,
			    "fd %d: unix socket %llu is not in this network namespace's socket "
			    "table (NETLINK_SOCK_DIAG)", fd, (unsigned long long)f->ino);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	f->sock = s;
	s->family = AF_UNIX;
	s->type = (uint32_t)type;
	s->protocol = (uint32_t)protocol;
	s->ino = u->ino;
	s->shutdown = u->shutdown & 3u;
	if (u->state == TCP_LISTEN_STATE) {
		s->state = CKPT_SOCK_LISTENING;
		s->backlog = u->wqueue;
		if ((rc = pending_conns(diag, u, s, fd, why, whylen)))
			return rc;
	} else if (u->peer) {
		s->state = CKPT_SOCK_CONNECTED;
		s->peer_ino = u->peer;
	} else if (u->state == TCP_ESTABLISHED_STATE && type != SOCK_DGRAM &&
		   is_waiting(diag, u->ino)) {
		/* connected to a listener that has not accepted it yet: no peer inode */
		s->state = CKPT_SOCK_CONNECTED;
		if (u->wqueue)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
				    "fd %d: a unix %s socket waiting to be accepted has %u bytes in "
				    "flight, which cannot be saved yet", fd,
				    ckpt_sock_type_name(s->type), u->wqueue);
	} else if (u->state == TCP_ESTABLISHED_STATE && type != SOCK_DGRAM) {
		s->state = CKPT_SOCK_PEER_GONE;
	} else if (type == SOCK_DGRAM && peer_dead(lfd)) {
		s->state = CKPT_SOCK_PEER_GONE;
	} else {
		s->state = CKPT_SOCK_UNCONNECTED;
	}
	l = sizeof(s->addr);
	if (getsockname(lfd, (struct sockaddr *)s->addr, &l) == 0 && l > sizeof(sa_family_t))
		s->addr_len = l;
	l = sizeof(s->peer_addr);
	if (s->state == CKPT_SOCK_CONNECTED &&
	    getpeername(lfd, (struct sockaddr *)s->peer_addr, &l) == 0 && l > sizeof(sa_family_t))
		s->peer_addr_len = l;
	s->addr_mode = name_mode(pid, s, u);
	collect_sock_common_opts(lfd, s);
	/* Only sockets with a queue: a stream or seqpacket socket that is not connected has none
	 * (recv says ENOTCONN or EINVAL), a datagram socket always may. */
	if (s->state == CKPT_SOCK_LISTENING ||
	    (s->state == CKPT_SOCK_UNCONNECTED && s->type != SOCK_DGRAM))
		return 0;
	/* Always looked at: a datagram queue whose first message is empty has rqueue 0. */
	return collect_sock_peek(lfd, fd, f, s, t, why, whylen);
}
