/*
 * Recreating the TCP and UDP sockets of the restored processes (prepare_fds_int.h), in the
 * restart before the tree is created.
 *
 *   connection, both ends in the images: made again with the same four addresses, before any
 *     listener exists (prepare_socks_tcp_early): a temporary listener bound to one end's
 *     address (SO_REUSEADDR) accepts a socket bound to the other end's address, and goes;
 *     each end's queue is sent through the other, each end's send-side shutdown replayed;
 *   listener: bound again (SO_REUSEADDR for the bind, so that the connections made above on
 *     its port do not stand in the way; the program's own value is set back afterwards), then
 *     its waiting connections connect again in their order (from their sockets when these are
 *     in the images, else from a socket closed at once);
 *   connection to a peer outside the images (another host, a local program not under
 *     checkpoint control, or a closed peer): a loopback connection whose far end is closed
 *     once the queue is refilled, so that the program reads what had arrived, then end of file,
 *     and a write fails (EPIPE/ECONNRESET) as it would against a peer that restarted; a
 *     warning names the fd and the old peer. getsockname/getpeername then report the loopback
 *     addresses;
 *   non-blocking connect in progress: connect() again, non-blocking, to the same address;
 *   unconnected: bound again when it was bound.
 * UDP: bound again to its address; once every socket exists (prepare_socks_inet_late), its
 * queued datagrams are sent to it again from their senders' addresses (from the restored
 * socket that has that address, else from a socket bound to it for the purpose; when neither
 * can be, from another address, with a warning), then a connected one connects to its peer.
 * If a port is taken, the restart fails here, before any process exists, naming the address.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "log.h"
#include "restart/prepare_fds_int.h"

static int opt_value(const struct ckpt_sock *k, int level, int name, int *v)
{
	for (uint32_t i = 0; i < k->nopts; i++)
		if (k->opts[i].level == level && k->opts[i].name == name) {
			*v = k->opts[i].value;
			return 1;
		}
	return 0;
}

/* A port other than 0 in a saved address. */
static int has_port(const uint8_t *addr, uint32_t len)
{
	sa_family_t fam;

	if (len < sizeof(fam))
		return 0;
	memcpy(&fam, addr, sizeof(fam));
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in))
		return ((const struct sockaddr_in *)(const void *)addr)->sin_port != 0;
	if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return ((const struct sockaddr_in6 *)(const void *)addr)->sin6_port != 0;
	return 0;
}

/* The options that must come before bind, then bind fd to addr (reuse: SO_REUSEADDR for the
 * bind whatever the program had; its own value comes back with the other options; any_port:
 * another port when that one is taken). */
static int bind_to(int fd, const struct ckpt_sock *k, const uint8_t *addr, uint32_t len,
		   int reuse, int any_port, const char *img, int fdno)
{
	char txt[128];
	int v, one = 1;

	if (opt_value(k, IPPROTO_IPV6, IPV6_V6ONLY, &v) && k->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v));
	if (opt_value(k, SOL_SOCKET, SO_REUSEPORT, &v) && v)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, sizeof(v));
	if (reuse || (opt_value(k, SOL_SOCKET, SO_REUSEADDR, &v) && v))
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, len) == 0)
		return 0;
	v = -errno;
	ckpt_sock_addr_text(txt, sizeof(txt), addr, len);
	if (v == -EADDRNOTAVAIL && reuse && !any_port && len <= sizeof(struct sockaddr_storage)) {
		/* a listener's address this host lacks (a restart on another host): the same
		 * port on every address */
		struct sockaddr_storage ss;

		memcpy(&ss, addr, len);
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
		else
			((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
		if (bind(fd, (struct sockaddr *)&ss, len) == 0) {
			pr_warn("%s: %s is not an address of this host: the listener listens on its "
				"port on every address", img, txt);
			return 0;
		}
		v = -errno;
	}
	if (v == -EADDRINUSE && any_port && len <= sizeof(struct sockaddr_storage)) {
		/* one end of a connection: its port may still be held by the old connection's
		 * TIME_WAIT (a program killed without dmtcp_command -k); another port will do */
		struct sockaddr_storage ss;

		memcpy(&ss, addr, len);
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = 0;
		if (bind(fd, (struct sockaddr *)&ss, len) == 0) {
			pr_info("%s: a TCP connection's end %s comes back on another port (that "
				"one is still taken)", img, txt);
			return 0;
		}
		v = -errno;
	}
	pr_err("%s: fd %d: cannot bind a TCP socket to %s again: %s%s", img, fdno, txt,
	       strerror(-v), v == -EADDRINUSE ? " (another program has that port now)" : "");
	return v;
}

static uint16_t *port_of(struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? &((struct sockaddr_in *)ss)->sin_port :
					  &((struct sockaddr_in6 *)ss)->sin6_port;
}

/* Connect fd to the address its socket k connected to (as k knew it: a v4-mapped listener
 * is reached at its IPv4 address), at the port that listener lst has now. */
static int connect_to_port_of(int fd, const struct ckpt_sock *k, int lst)
{
	struct sockaddr_storage to, now;
	socklen_t nl = sizeof(now);

	if (k->peer_addr_len > sizeof(to) || getsockname(lst, (struct sockaddr *)&now, &nl) < 0)
		return -EINVAL;
	memcpy(&to, k->peer_addr, k->peer_addr_len);
	*port_of(&to) = *port_of(&now);
	return connect(fd, (struct sockaddr *)&to, k->peer_addr_len) < 0 ? -errno : 0;
}

static int accept_high(struct fd_shared *fs, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	return fd < 0 ? -errno : fd_move_high(fd, fs->base);
}

/* An IP address and port as 16 bytes of IPv6 (IPv4 as ::ffff:a.b.c.d), for comparisons. */
static int ep_of(const uint8_t *addr, uint32_t len, uint8_t ip[16], uint16_t *port)
{
	struct sockaddr_storage ss;

	if (len < sizeof(sa_family_t) || len > sizeof(ss))
		return -1;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, addr, len);
	memset(ip, 0, 16);
	if (ss.ss_family == AF_INET) {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		*port = ((struct sockaddr_in *)&ss)->sin_port;
		return 0;
	}
	if (ss.ss_family == AF_INET6) {
		memcpy(ip, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		*port = ((struct sockaddr_in6 *)&ss)->sin6_port;
		return 0;
	}
	return -1;
}

/* Would listener l have accepted a connection whose local address is addr? */
static int accepts(const struct ckpt_sock *l, const uint8_t *addr, uint32_t len)
{
	static const uint8_t any6[16], any4[16] = { [10] = 0xff, [11] = 0xff };
	uint8_t li[16], ai[16];
	uint16_t lp, ap;

	if (ep_of(l->addr, l->addr_len, li, &lp) || ep_of(addr, len, ai, &ap) || lp != ap)
		return 0;
	return !memcmp(li, any6, 16) || !memcmp(li, any4, 16) || !memcmp(li, ai, 16);
}

/* A restored socket of the images (of a kind and state, local address addr), found by
 * psock_each: its fd. */
struct restored_at {
	const struct fd_shared *fs;
	int type;
	uint32_t state; /* 0: any */
	int by_listener; /* match: a listener that accepts addr; else: bound to addr exactly */
	const uint8_t *addr;
	uint32_t len;
	int fd;
};

static int restored_fn(const struct sock_at *at, void *arg)
{
	struct restored_at *q = arg;
	const struct ckpt_sock *k = at->f->sock;
	int o;

	if (k->family == AF_UNIX || k->family == AF_NETLINK || (int)k->type != q->type ||
	    (q->state && k->state != q->state))
		return 0;
	if (q->by_listener ? !accepts(k, q->addr, q->len) :
			     !(k->addr_len == q->len && q->len && !memcmp(k->addr, q->addr, q->len)))
		return 0;
	if ((o = fd_obj_find(q->fs, CKPT_FILE_SOCKET, k->ino, 0)) < 0)
		return 0;
	q->fd = q->fs->obj[o].fd;
	return 1;
}

/* The restored listener that accepted a connection with local address addr, or -1. */
static int listener_for(const struct fd_shared *fs, const struct restart_set *s,
			const uint8_t *addr, uint32_t len)
{
	struct restored_at q = { fs, SOCK_STREAM, CKPT_SOCK_LISTENING, 1, addr, len, -1 };

	psock_each(s, restored_fn, &q);
	return q.fd;
}

/* Temporary listeners, one per address, for connections no restored listener accepted. */
struct tmp_listeners {
	struct {
		uint8_t addr[CKPT_SOCK_ADDR_MAX];
		uint32_t len;
		int fd;
	} *v;
	int n;
};

static int tmp_listener(struct fd_shared *fs, struct tmp_listeners *tl, const struct ckpt_sock *k,
			const char *img)
{
	int fd, r;

	for (int i = 0; i < tl->n; i++)
		if (tl->v[i].len == k->addr_len && !memcmp(tl->v[i].addr, k->addr, k->addr_len))
			return tl->v[i].fd;
	fd = psock_new(fs, k, img, -1);
	if (fd < 0)
		return fd;
	r = bind_to(fd, k, k->addr, k->addr_len, 1, 1, img, -1);
	if (!r && listen(fd, 16) < 0)
		r = -errno;
	if (!r) {
		void *nv = realloc(tl->v, (size_t)(tl->n + 1) * sizeof(*tl->v));

		if (!nv)
			r = -ENOMEM;
		else
			tl->v = nv;
	}
	if (r) {
		close(fd);
		return r;
	}
	memcpy(tl->v[tl->n].addr, k->addr, k->addr_len);
	tl->v[tl->n].len = k->addr_len;
	tl->v[tl->n++].fd = fd;
	return fd;
}

/*
 * Both ends of a connection that is entirely in the images, with their four addresses: the
 * end a restored listener had accepted is accepted from it again (so it shares the
 * listener's port as it did), else from a temporary listener on its address.
 */
static int make_connection(struct fd_shared *fs, const struct restart_set *s,
			   struct tmp_listeners *tl, const struct sock_at *a0, const struct sock_at *b0)
{
	const struct sock_at *a = a0, *b = b0;
	const struct ckpt_sock *ka, *kb;
	const char *img;
	int fdno = -1, lst, fa = -1, fb, r;

	lst = listener_for(fs, s, a->f->sock->addr, a->f->sock->addr_len);
	if (lst < 0 && (lst = listener_for(fs, s, b->f->sock->addr, b->f->sock->addr_len)) >= 0) {
		a = b0;
		b = a0;
	}
	ka = a->f->sock;
	kb = b->f->sock;
	img = s->img[a->im].path;
	if (lst < 0 && (lst = tmp_listener(fs, tl, ka, img)) < 0)
		return lst;
	fb = psock_new(fs, kb, s->img[b->im].path, fdno);
	if (fb < 0)
		return fb;
	r = bind_to(fb, kb, kb->addr, kb->addr_len, 1, 1, s->img[b->im].path, fdno);
	if (!r && (r = connect_to_port_of(fb, kb, lst)))
		pr_err("%s: cannot make a TCP connection again: %s", img, strerror(-r));
	if (!r && (fa = accept_high(fs, lst)) < 0)
		r = fa;
	if (!r) {
		psock_set_buffers(fa, ka);
		if (!(r = psock_refill(fb, a->f, img, fdno)))
			r = psock_refill(fa, b->f, s->img[b->im].path, fdno);
	}
	if (!r && (ka->shutdown & 2) && shutdown(fa, SHUT_WR) < 0)
		r = -errno;
	if (!r && (kb->shutdown & 2) && shutdown(fb, SHUT_WR) < 0)
		r = -errno;
	if (!r)
		r = psock_apply_options(fa, a->f, img, fdno);
	if (!r)
		r = psock_apply_options(fb, b->f, s->img[b->im].path, fdno);
	if (r) {
		if (fa >= 0)
			close(fa);
		close(fb);
		return r;
	}
	if ((r = psock_register(fs, ka, fa)) < 0) {
		close(fb);
		return r;
	}
	return psock_register(fs, kb, fb) < 0 ? -ENOMEM : 0;
}

static int listen_again(struct fd_shared *fs, const struct restart_set *s, int im,
			const struct ckpt_file *f);
static int requeue_pending(struct fd_shared *fs, const struct restart_set *s, int im,
			   const struct ckpt_file *f);

/* Call fn for every TCP socket file of the images in state (once per socket). */
static int each_tcp(struct fd_shared *fs, const struct restart_set *s, uint32_t state, int once,
		    int (*fn)(struct fd_shared *, const struct restart_set *, int,
			      const struct ckpt_file *, void *), void *arg)
{
	for (int im = 0; im < s->n; im++) {
		const struct ckpt_proc *p = &s->img[im].proc;

		for (uint32_t i = 0; i < p->nfiles; i++) {
			const struct ckpt_sock *k = p->files[i].sock;
			int r;

			if (!k || k->family == AF_UNIX || k->type != SOCK_STREAM || k->state != state ||
			    (once && fd_obj_find(fs, CKPT_FILE_SOCKET, k->ino, 0) >= 0))
				continue;
			if ((r = fn(fs, s, im, &p->files[i], arg)) < 0)
				return r;
		}
	}
	return 0;
}

static int early_listener(struct fd_shared *fs, const struct restart_set *s, int im,
			  const struct ckpt_file *f, void *arg)
{
	(void)arg;
	return listen_again(fs, s, im, f);
}

static int early_connection(struct fd_shared *fs, const struct restart_set *s, int im,
			    const struct ckpt_file *f, void *arg)
{
	const struct ckpt_sock *k = f->sock;
	struct sock_at a = { im, f }, b;

	if (!k->peer_ino || !psock_find(s, k->peer_ino, &b) || b.f->sock->peer_ino != k->ino)
		return 0; /* waiting on a listener, or a peer outside: later */
	return make_connection(fs, s, arg, &a, &b);
}

/* The listeners whose waiting connections are back already (a listener held by several
 * processes is in several images). */
struct ino_set {
	uint64_t *v;
	uint32_t n;
};

static int early_pending(struct fd_shared *fs, const struct restart_set *s, int im,
			 const struct ckpt_file *f, void *arg)
{
	struct ino_set *done = arg;
	uint64_t *nv;

	for (uint32_t i = 0; i < done->n; i++)
		if (done->v[i] == f->sock->ino)
			return 0;
	nv = realloc(done->v, (done->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	done->v = nv;
	done->v[done->n++] = f->sock->ino;
	return requeue_pending(fs, s, im, f);
}

/*
 * Before anything else of the sockets: the listeners, then every connection whose two ends
 * are in the images (accepted from their listener again where they had been), then the
 * connections that waited on a listener, in their order behind nothing else.
 */
int prepare_socks_tcp_early(struct fd_shared *fs, const struct restart_set *s)
{
	struct tmp_listeners tl = { NULL, 0 };
	int r;

	r = each_tcp(fs, s, CKPT_SOCK_LISTENING, 1, early_listener, NULL);
	if (!r)
		r = each_tcp(fs, s, CKPT_SOCK_CONNECTED, 1, early_connection, &tl);
	for (int i = 0; i < tl.n; i++)
		close(tl.v[i].fd);
	free(tl.v);
	if (!r) {
		struct ino_set done = { NULL, 0 };

		r = each_tcp(fs, s, CKPT_SOCK_LISTENING, 0, early_pending, &done);
		free(done.v);
	}
	return r;
}

/*
 * A connection whose peer is not in the images: a loopback connection of the same family,
 * the far end closed once the queue is refilled.
 */
static int make_orphan(struct fd_shared *fs, const struct restart_set *s, int im,
		       const struct ckpt_file *f, int fdno, int warn)
{
	const struct ckpt_sock *k = f->sock;
	const char *img = s->img[im].path;
	struct sockaddr_storage la;
	socklen_t ll = sizeof(la);
	char txt[128];
	int lst, far, fd = -1, r = 0;

	memset(&la, 0, sizeof(la));
	la.ss_family = (sa_family_t)k->family;
	if (k->family == AF_INET)
		((struct sockaddr_in *)&la)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&la)->sin6_addr = in6addr_loopback;
	lst = socket((int)k->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	far = socket((int)k->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lst < 0 || far < 0 ||
	    bind(lst, (struct sockaddr *)&la, k->family == AF_INET ? sizeof(struct sockaddr_in) :
								   sizeof(struct sockaddr_in6)) ||
	    listen(lst, 1) || getsockname(lst, (struct sockaddr *)&la, &ll) ||
	    connect(far, (struct sockaddr *)&la, ll) || (fd = accept_high(fs, lst)) < 0) {
		r = fd < -1 ? fd : -errno;
		pr_err("%s: fd %d: cannot make a loopback TCP connection: %s", img, fdno,
		       strerror(-r));
	}
	if (lst >= 0)
		close(lst);
	if (!r) {
		psock_set_buffers(fd, k);
		r = psock_refill(far, f, img, fdno);
	}
	/* an orderly close: what was refilled is read first, then end of file */
	if (far >= 0)
		close(far);
	if (!r && (k->shutdown & 2) && shutdown(fd, SHUT_WR) < 0)
		r = -errno;
	if (!r)
		r = psock_apply_options(fd, f, img, fdno);
	if (r) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (warn) {
		ckpt_sock_addr_text(txt, sizeof(txt), k->peer_addr, k->peer_addr_len);
		pr_warn("%s: fd %d: the TCP peer %s is not part of this restart: the connection "
			"comes back closed by its peer (%llu bytes it had sent are still to read)",
			img, fdno, txt, (unsigned long long)f->data_len);
	}
	return psock_register(fs, k, fd);
}

/* A listener bound and listening again (its waiting connections come later). */
static int listen_again(struct fd_shared *fs, const struct restart_set *s, int im,
			const struct ckpt_file *f)
{
	const struct ckpt_sock *k = f->sock;
	const char *img = s->img[im].path;
	int fd = psock_new(fs, k, img, -1), r;

	if (fd < 0)
		return fd;
	r = bind_to(fd, k, k->addr, k->addr_len, 1, 0, img, -1);
	if (!r && listen(fd, (int)k->backlog) < 0) {
		r = -errno;
		pr_err("%s: cannot listen again: %s", img, strerror(-r));
	}
	if (!r)
		r = psock_apply_options(fd, f, img, -1);
	if (r) {
		close(fd);
		return r;
	}
	return psock_register(fs, k, fd);
}

/*
 * The connections that waited on listener f, in their order: from their sockets when these
 * are in the images (once: a listener shown by several processes is one socket), else from a
 * socket closed at once, so that accept() gets a connection already closed.
 */
static int requeue_pending(struct fd_shared *fs, const struct restart_set *s, int im,
			   const struct ckpt_file *f)
{
	const struct ckpt_sock *k = f->sock;
	const char *img = s->img[im].path;
	int r, lfd = fd_obj_find(fs, CKPT_FILE_SOCKET, k->ino, 0);

	if (lfd < 0)
		return -EINVAL;
	lfd = fs->obj[lfd].fd;
	for (uint32_t c = 0; c < k->npending; c++) {
		struct sock_at cl;
		int cfd;

		if (k->pending[c] && psock_find(s, k->pending[c], &cl)) {
			const struct ckpt_sock *kc = cl.f->sock;
			const char *cimg = s->img[cl.im].path;

			if (fd_obj_find(fs, CKPT_FILE_SOCKET, kc->ino, 0) >= 0)
				continue; /* done through another process's image of the listener */
			cfd = psock_new(fs, kc, cimg, -1);
			if (cfd < 0)
				return cfd;
			r = bind_to(cfd, kc, kc->addr, kc->addr_len, 1, 1, cimg, -1);
			if (!r)
				r = connect_to_port_of(cfd, kc, lfd);
			if (!r && (kc->shutdown & 2) && shutdown(cfd, SHUT_WR) < 0)
				r = -errno;
			if (!r)
				r = psock_apply_options(cfd, cl.f, cimg, -1);
			if (r) {
				pr_err("%s: a connection that waited on a listener cannot connect "
				       "again: %s", cimg, strerror(-r));
				close(cfd);
				return r;
			}
			if ((r = psock_register(fs, kc, cfd)) < 0)
				return r;
			continue;
		}
		cfd = socket((int)k->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cfd < 0 || connect(cfd, (const struct sockaddr *)k->addr, k->addr_len) < 0) {
			r = -errno;
			if (cfd >= 0)
				close(cfd);
			pr_err("%s: cannot put a waiting connection back: %s", img, strerror(-r));
			return r;
		}
		close(cfd);
	}
	return 0;
}

/* A UDP socket, bound as it was; its queue and its peer come in the late pass. */
static int open_udp(struct fd_shared *fs, const struct restart_set *s, int im,
		    const struct ckpt_file *f, int fdno)
{
	const struct ckpt_sock *k = f->sock;
	const char *img = s->img[im].path;
	int fd = psock_new(fs, k, img, fdno), r;

	if (fd < 0)
		return fd;
	r = has_port(k->addr, k->addr_len) ? bind_to(fd, k, k->addr, k->addr_len, 0, 0, img, fdno) : 0;
	return psock_finish(fs, f, fd, r, img, fdno);
}

/* A restored UDP socket bound to addr (a sender of queued datagrams), or -1. */
static int udp_socket_at(const struct fd_shared *fs, const struct restart_set *s,
			 const uint8_t *addr, uint32_t len)
{
	struct restored_at q = { fs, SOCK_DGRAM, 0, 0, addr, len, -1 };

	psock_each(s, restored_fn, &q);
	return q.fd;
}

/* Where to send to reach the socket bound to addr: a wildcard address becomes loopback. */
static socklen_t reach(const uint8_t *addr, uint32_t len, struct sockaddr_storage *to)
{
	memcpy(to, addr, len);
	if (to->ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)to;

		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)to;

		if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			a->sin6_addr = in6addr_loopback;
	}
	return len;
}

/* Send message m of f (to fd, bound to to) from its sender's address. */
static int resend(const struct fd_shared *fs, const struct restart_set *s, const struct ckpt_file *f,
		  uint32_t m, uint64_t off, const struct sockaddr_storage *to, socklen_t tl,
		  const char *img)
{
	const struct ckpt_sock *k = f->sock;
	const struct ckpt_sock_addr *from = &k->msg_from[m];
	int sfd = udp_socket_at(fs, s, from->addr, from->len), tmp = -1, one = 1;
	ssize_t w;
	char txt[128];

	if (sfd < 0) {
		tmp = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (tmp < 0)
			return -errno;
		setsockopt(tmp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(tmp, (const struct sockaddr *)from->addr, from->len) < 0) {
			ckpt_sock_addr_text(txt, sizeof(txt), from->addr, from->len);
			pr_warn("%s: a datagram queued from %s is put back from another address (that "
				"one cannot be bound here: %s)", img, txt, strerror(errno));
		}
		sfd = tmp;
	}
	w = sendto(sfd, f->data + off, k->msg_len[m], MSG_DONTWAIT, (const struct sockaddr *)to, tl);
	if (tmp >= 0)
		close(tmp);
	if (w != (ssize_t)k->msg_len[m])
		return w < 0 ? -errno : -EMSGSIZE;
	return 0;
}

int prepare_socks_inet_late(struct fd_shared *fs, const struct restart_set *s)
{
	uint64_t *seen = NULL;
	uint32_t ndone = 0, cap = 0;

	for (int im = 0; im < s->n; im++) {
		const struct ckpt_proc *p = &s->img[im].proc;

		for (uint32_t i = 0; i < p->nfiles; i++) {
			const struct ckpt_file *f = &p->files[i];
			const struct ckpt_sock *k = f->sock;
			struct sockaddr_storage to;
			socklen_t tl;
			uint64_t off = 0;
			int o, fd, r = 0, done = 0;

			if (!k || k->family == AF_UNIX || k->type != SOCK_DGRAM ||
			    (o = fd_obj_find(fs, CKPT_FILE_SOCKET, k->ino, 0)) < 0)
				continue;
			/* once per socket, by the first file that shows it */
			for (uint32_t j = 0; j < ndone && !done; j++)
				done = seen[j] == k->ino;
			if (done)
				continue;
			if (ndone == cap) {
				uint64_t *ns = realloc(seen, (cap = cap ? cap * 2 : 16) * sizeof(*ns));

				if (!ns) {
					free(seen);
					return -ENOMEM;
				}
				seen = ns;
			}
			seen[ndone++] = k->ino;
			fd = fs->obj[o].fd;
			if (k->msg_from && k->nmsgs && k->addr_len) {
				tl = reach(k->addr, k->addr_len, &to);
				for (uint32_t m = 0; m < k->nmsgs && !r; m++) {
					r = resend(fs, s, f, m, off, &to, tl, s->img[im].path);
					off += k->msg_len[m];
				}
				if (r) {
					pr_err("%s: cannot put the queued datagrams of a UDP socket "
					       "back: %s", s->img[im].path, strerror(-r));
					free(seen);
					return r;
				}
			}
			if (k->state == CKPT_SOCK_CONNECTED &&
			    connect(fd, (const struct sockaddr *)k->peer_addr, k->peer_addr_len) < 0) {
				r = -errno;
				pr_err("%s: cannot connect a UDP socket to its peer again: %s",
				       s->img[im].path, strerror(-r));
				free(seen);
				return r;
			}
		}
	}
	free(seen);
	return 0;
}

int prepare_inet_open(struct fd_shared *fs, const struct restart_set *s, int im,
		      const struct ckpt_file *f, int fdno)
{
	const struct ckpt_sock *k = f->sock;
	const char *img = s->img[im].path;
	struct sock_at peer;
	int fd, r, i;

	if (k->type == SOCK_DGRAM)
		return open_udp(fs, s, im, f, fdno);
	switch (k->state) {
	case CKPT_SOCK_LISTENING: /* made early (prepare_socks_tcp_early): not here */
		if ((r = listen_again(fs, s, im, f)) < 0)
			return r;
		i = r;
		return (r = requeue_pending(fs, s, im, f)) < 0 ? r : i;
	case CKPT_SOCK_PEER_GONE:
		return make_orphan(fs, s, im, f, fdno, 0);
	case CKPT_SOCK_CONNECTED:
		/* waiting on a listener of the images: it makes the connection again */
		if (!k->peer_ino && psock_listener_of(s, k->ino, &peer) &&
		    (i = fd_obj_find(fs, CKPT_FILE_SOCKET, k->ino, 0)) >= 0)
			return i;
		/* both ends in the images: made early; here, a peer outside */
		return make_orphan(fs, s, im, f, fdno, 1);
	case CKPT_SOCK_CONNECTING:
		fd = psock_new(fs, k, img, fdno);
		if (fd < 0)
			return fd;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		r = connect(fd, (const struct sockaddr *)k->peer_addr, k->peer_addr_len) < 0 &&
			    errno != EINPROGRESS ? -errno : 0;
		if (r)
			pr_warn("%s: fd %d: the connect under way fails again at once: %s", img,
				fdno, strerror(-r));
		/* its result is the program's to see, as a connect's would be */
		if ((r = psock_apply_options(fd, f, img, fdno))) {
			close(fd);
			return r;
		}
		return psock_register(fs, k, fd);
	}
	/* unconnected */
	fd = psock_new(fs, k, img, fdno);
	if (fd < 0)
		return fd;
	r = has_port(k->addr, k->addr_len) ? bind_to(fd, k, k->addr, k->addr_len, 0, 0, img, fdno) : 0;
	return psock_finish(fs, f, fd, r, img, fdno);
}
