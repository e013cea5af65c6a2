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
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	size_t cap = 0, bufsz = 32768;
	char *buf;
	int fd, rc = 0, done = 0;

	memset(set, 0, sizeof(*set));
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	buf = malloc(bufsz);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
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
			struct sockdiag_unix u;

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
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			rc = parse_unix(h, &u);
			if (!rc && (rc = add(set, &cap, &u)))
				free(u.icons);
		}
	}
	free(buf);
	close(fd);
	if (rc) {
		sockdiag_unix_free(set);
		return rc;
	}
	if (set->n)
		qsort(set->v, set->n, sizeof(*set->v), cmp_ino);
	return 0;
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
