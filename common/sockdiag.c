/*
 * NETLINK_SOCK_DIAG dumps (see sockdiag.h). One request, then messages read until NLMSG_DONE;
 * each message is checked against the length it claims before it is read, so a short or odd
 * answer is an error (-EPROTO), never a read past the buffer.
 */
#include "sockdiag.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for the longest unix name: sun_path is 108 bytes. */
#define NAME_MAX_LEN sizeof(((struct sockdiag_unix *)0)->name)

static int cmp_ino(const void *a, const void *b)
{
	uint32_t x = ((const struct sockdiag_unix *)a)->ino, y = ((const struct sockdiag_unix *)b)->ino;

	return x < y ? -1 : x > y;
}

/* The attributes of one unix_diag_msg into u; -EPROTO when one is malformed. */
static int parse_unix(const struct nlmsghdr *h, struct sockdiag_unix *u)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	size_t off = NLMSG_ALIGN(sizeof(*m)), len = h->nlmsg_len - NLMSG_HDRLEN;

	if (len < sizeof(*m))
		return -EPROTO;
	memset(u, 0, sizeof(*u));
	u->ino = m->udiag_ino;
	u->type = m->udiag_type;
	u->state = m->udiag_state;
	while (off + sizeof(struct nlattr) <= len) {
		const struct nlattr *a = (const void *)((const char *)m + off);
		const void *v = (const char *)a + NLA_HDRLEN;
		size_t alen;

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len)
			return -EPROTO;
		alen = a->nla_len - NLA_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case UNIX_DIAG_NAME:
			if (alen > NAME_MAX_LEN)
				return -EPROTO;
			memcpy(u->name, v, alen);
			u->name_len = (uint32_t)alen;
			break;
		case UNIX_DIAG_VFS:
			if (alen >= sizeof(struct unix_diag_vfs)) {
				const struct unix_diag_vfs *vfs = v;

				u->vfs_ino = vfs->udiag_vfs_ino;
				u->vfs_dev = vfs->udiag_vfs_dev;
			}
			break;
		case UNIX_DIAG_PEER:
			if (alen >= sizeof(uint32_t))
				memcpy(&u->peer, v, sizeof(uint32_t));
			break;
		case UNIX_DIAG_ICONS:
			if (alen >= sizeof(uint32_t)) {
				u->icons = malloc(alen);
				if (!u->icons)
					return -ENOMEM;
				memcpy(u->icons, v, alen);
				u->nicons = (uint32_t)(alen / sizeof(uint32_t));
			}
			break;
		case UNIX_DIAG_RQLEN:
			if (alen >= sizeof(struct unix_diag_rqlen)) {
				const struct unix_diag_rqlen *q = v;

				u->rqueue = q->udiag_rqueue;
				u->wqueue = q->udiag_wqueue;
			}
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (alen >= 1)
				u->shutdown = *(const uint8_t *)v;
			break;
		}
		off += NLA_ALIGN(a->nla_len);
	}
	return 0;
}

static int add(struct sockdiag_unix_set *set, size_t *cap, const struct sockdiag_unix *u)
{
	if (set->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct sockdiag_unix *nv = realloc(set->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		set->v = nv;
		*cap = ncap;
	}
	set->v[set->n++] = *u;
	return 0;
}

/*
 * One NETLINK_SOCK_DIAG dump: send req, hand each SOCK_DIAG_BY_FAMILY message to fn until
 * NLMSG_DONE. Returns 0, fn's first error, or -errno (the kernel's answer to the request).
 */
static int nl_dump(const void *req, size_t reqlen, int (*fn)(const struct nlmsghdr *h, void *arg),
		   void *arg)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	size_t bufsz = 32768;
	char *buf;
	int fd, rc = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	buf = malloc(bufsz);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	if (sendto(fd, req, reqlen, 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		rc = -errno;
	while (!rc && !done) {
		ssize_t n = recv(fd, buf, bufsz, 0);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0) {
			rc = -EPROTO;
			break;
		}
		for (h = (struct nlmsghdr *)buf; !rc && NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				rc = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error :
											    -EPROTO;
				break;
			}
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
				rc = fn(h, arg);
		}
	}
	free(buf);
	close(fd);
	return rc;
}

struct unix_ctx {
	struct sockdiag_unix_set *set;
	size_t cap;
};

static int on_unix(const struct nlmsghdr *h, void *arg)
{
	struct unix_ctx *c = arg;
	struct sockdiag_unix u;
	int rc = parse_unix(h, &u);

	if (!rc && (rc = add(c->set, &c->cap, &u)))
		free(u.icons);
	return rc;
}

int sockdiag_unix_dump(struct sockdiag_unix_set *set)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0u,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER |
				     UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN },
	};
	struct unix_ctx c = { set, 0 };
	int rc;

	memset(set, 0, sizeof(*set));
	rc = nl_dump(&req, sizeof(req), on_unix, &c);
	if (rc) {
		sockdiag_unix_free(set);
		return rc;
	}
	if (set->n)
		qsort(set->v, set->n, sizeof(*set->v), cmp_ino);
	return 0;
}

/* ---- TCP ---------------------------------------------------------------------------- */

struct inet_ctx {
	struct sockdiag_inet_set *set;
	size_t cap;
};

static int on_inet(const struct nlmsghdr *h, void *arg)
{
	struct inet_ctx *c = arg;
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct sockdiag_inet *t;
	size_t off = NLMSG_ALIGN(sizeof(*m)), len = h->nlmsg_len - NLMSG_HDRLEN;

	if (len < sizeof(*m))
		return -EPROTO;
	if (c->set->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct sockdiag_inet *nv = realloc(c->set->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->set->v = nv;
		c->cap = ncap;
	}
	t = &c->set->v[c->set->n++];
	memset(t, 0, sizeof(*t));
	t->ino = m->idiag_inode;
	t->family = m->idiag_family;
	t->state = m->idiag_state;
	t->sport = ntohs(m->id.idiag_sport);
	t->dport = ntohs(m->id.idiag_dport);
	memcpy(t->src, m->id.idiag_src, 16);
	memcpy(t->dst, m->id.idiag_dst, 16);
	t->rqueue = m->idiag_rqueue;
	t->wqueue = m->idiag_wqueue;
	while (off + sizeof(struct nlattr) <= len) {
		const struct nlattr *a = (const void *)((const char *)m + off);

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len)
			return -EPROTO;
		if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_SHUTDOWN && a->nla_len > NLA_HDRLEN)
			t->shutdown = *((const uint8_t *)a + NLA_HDRLEN);
		off += NLA_ALIGN(a->nla_len);
	}
	return 0;
}

int sockdiag_tcp_dump(struct sockdiag_inet_set *set)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u,
		       .idiag_ext = 1 << (INET_DIAG_SHUTDOWN - 1) },
	};
	struct inet_ctx c = { set, 0 };
	int rc = 0;

	memset(set, 0, sizeof(*set));
	req.r.sdiag_family = AF_INET;
	rc = nl_dump(&req, sizeof(req), on_inet, &c);
	req.r.sdiag_family = AF_INET6;
	if (!rc)
		rc = nl_dump(&req, sizeof(req), on_inet, &c);
	if (rc)
		sockdiag_inet_free(set);
	return rc;
}

/* An address as 16 bytes of IPv6 (IPv4 as ::ffff:a.b.c.d) and a port, for comparisons. */
struct ep {
	uint8_t ip[16];
	uint16_t port;
};

static void ep_from_diag(const uint8_t *ip, int family, uint16_t port, struct ep *e)
{
	memset(e, 0, sizeof(*e));
	if (family == AF_INET) {
		e->ip[10] = e->ip[11] = 0xff;
		memcpy(e->ip + 12, ip, 4);
	} else {
		memcpy(e->ip, ip, 16);
	}
	e->port = port;
}

static int ep_eq(const struct ep *a, const struct ep *b)
{
	return a->port == b->port && !memcmp(a->ip, b->ip, 16);
}

static int ep_any(const struct ep *e)
{
	static const uint8_t any4[16] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t any6[16];

	return !memcmp(e->ip, any4, 16) || !memcmp(e->ip, any6, 16);
}

const struct sockdiag_inet *sockdiag_tcp_find(const struct sockdiag_inet_set *d, uint64_t ino)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].ino == ino)
			return &d->v[i];
	return NULL;
}

/* The socket of this namespace at the other end of me (local and remote swapped). */
const struct sockdiag_inet *sockdiag_tcp_mirror(const struct sockdiag_inet_set *d,
						const struct sockdiag_inet *me)
{
	struct ep ml, mr;

	ep_from_diag(me->src, me->family, me->sport, &ml);
	ep_from_diag(me->dst, me->family, me->dport, &mr);
	for (size_t i = 0; i < d->n; i++) {
		const struct sockdiag_inet *o = &d->v[i];
		struct ep ol, or;

		if (o == me || o->state == 10 /* listening */)
			continue;
		ep_from_diag(o->src, o->family, o->sport, &ol);
		ep_from_diag(o->dst, o->family, o->dport, &or);
		if (ep_eq(&ol, &mr) && ep_eq(&or, &ml))
			return o;
	}
	return NULL;
}

int sockdiag_tcp_accepts(const struct sockdiag_inet *l, const struct sockdiag_inet *c)
{
	struct ep a, b;

	if (l->sport != c->sport)
		return 0;
	ep_from_diag(l->src, l->family, l->sport, &a);
	ep_from_diag(c->src, c->family, c->sport, &b);
	return ep_any(&a) || ep_eq(&a, &b);
}

void sockdiag_inet_free(struct sockdiag_inet_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

const struct sockdiag_unix *sockdiag_unix_find(const struct sockdiag_unix_set *set, uint32_t ino)
{
	struct sockdiag_unix key = { .ino = ino };

	if (!set->n)
		return NULL;
	return bsearch(&key, set->v, set->n, sizeof(*set->v), cmp_ino);
}

void sockdiag_unix_free(struct sockdiag_unix_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i].icons);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}
