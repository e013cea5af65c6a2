/*
 * Recreating the unix sockets of the restored processes, in the restart before the tree is
 * created (prepare_fds_int.h). Each socket is made once, keyed by its saved inode, whichever
 * process and fd shows it first:
 *
 *   unconnected  socket(), bound again to its name when it had one;
 *   listening    the same, then listen() with its backlog; the connections that waited to
 *                be accepted connect again in their order (from their sockets when these
 *                are in the images, else from a socket closed at once: accept() then
 *                returns a connection whose peer is gone);
 *   connected    both ends in the restart's images: one socketpair() for the two (a
 *                connection made through a listener comes back unnamed: getsockname and
 *                getpeername report no path after a restart); a datagram socket connected
 *                to a named one: the named one first, then connect() to its name;
 *   peer gone    a socketpair() whose other end is closed once the queue is refilled: the
 *                program reads what was queued, then end of file (or ECONNREFUSED/EPIPE when
 *                it writes), as before the checkpoint. A peer that was alive but is in no
 *                image of this restart (a process outside the computation, or an image left
 *                out) is treated the same, with a warning naming the fd.
 *
 * The queued data of each end is sent through the other end (message by message for datagram
 * and seqpacket sockets, so boundaries are kept; each run that carried fds or credentials with
 * them again, the files opened here when only in flight), then each end's own send-side shutdown is
 * replayed (the receive side follows from the peer's), then the saved status flags and
 * options are applied. A name is bound in the process's saved working directory when it is
 * relative; a path whose socket file is left from the killed program is removed first, one
 * that a live program listens on is an error ("address in use"). A path name whose file had
 * been unlinked at checkpoint time is bound and unlinked again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "restart/prepare_fds_int.h"

/* How long a refill may wait for a receiver's window to open. */
#define REFILL_WAIT_MS 5000

/* Status flags F_SETFL can change on a socket. */
#define SOCK_SETFL_MASK (O_ASYNC | O_NONBLOCK)


int psock_each(const struct restart_set *s, int (*fn)(const struct sock_at *at, void *arg),
	       void *arg)
{
	for (int im = 0; im < s->n; im++) {
		const struct ckpt_proc *p = &s->img[im].proc;

		for (uint32_t k = 0; k < p->nfiles; k++) {
			struct sock_at at = { im, &p->files[k] };
			int r;

			if (p->files[k].sock && (r = fn(&at, arg)))
				return r;
		}
	}
	return 0;
}

/* psock_each's search: the first socket whose test(sock, key) holds, into *out. */
struct sock_search {
	int (*test)(const struct ckpt_sock *k, uint64_t key);
	uint64_t key;
	struct sock_at *out;
};

static int search_fn(const struct sock_at *at, void *arg)
{
	struct sock_search *q = arg;

	if (!q->test(at->f->sock, q->key))
		return 0;
	*q->out = *at;
	return 1;
}

static int has_ino(const struct ckpt_sock *k, uint64_t ino)
{
	return k->ino == ino;
}

int psock_find(const struct restart_set *s, uint64_t ino, struct sock_at *at)
{
	struct sock_search q = { has_ino, ino, at };

	return psock_each(s, search_fn, &q) > 0;
}

static int waits_on(const struct ckpt_sock *l, uint64_t ino)
{
	for (uint32_t c = 0; c < l->npending; c++)
		if (l->pending[c] == ino)
			return 1;
	return 0;
}

int psock_listener_of(const struct restart_set *s, uint64_t ino, struct sock_at *at)
{
	struct sock_search q = { waits_on, ino, at };

	return psock_each(s, search_fn, &q) > 0;
}

int psock_finish(struct fd_shared *fs, const struct ckpt_file *f, int fd, int r, const char *img,
		 int fdno)
{
	if (!r)
		r = psock_apply_options(fd, f, img, fdno);
	if (r) {
		close(fd);
		return r;
	}
	return psock_register(fs, f->sock, fd);
}

static const char *addr_text(const struct ckpt_sock *k, char *buf, size_t n)
{
	ckpt_sock_addr_text(buf, n, k->addr, k->addr_len);
	return buf;
}

/* A path-bound name: its path (NUL-terminated in buf), else NULL (unbound or abstract). */
static const char *name_path(const struct ckpt_sock *k, char *buf, size_t n)
{
	size_t plen;

	if (k->addr_len <= sizeof(sa_family_t) || !k->addr[sizeof(sa_family_t)])
		return NULL;
	plen = k->addr_len - sizeof(sa_family_t);
	snprintf(buf, n, "%.*s", (int)strnlen((const char *)k->addr + sizeof(sa_family_t), plen),
		 (const char *)k->addr + sizeof(sa_family_t));
	return buf;
}

/* A socket file at path left by a program that is gone: nobody accepts on it. */
static int stale_socket_file(const char *path, int type)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) || !S_ISSOCK(st.st_mode))
		return 0;
	if (strlen(path) >= sizeof(a.sun_path))
		return 0;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	r = r < 0 && (errno == ECONNREFUSED || errno == ENOENT);
	close(fd);
	return r;
}

/* Bind fd to k's name, in the saved working directory cwd when the name is relative. */
static int bind_name(int fd, const struct ckpt_sock *k, const char *cwd, const char *img, int fdno)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1], txt[256];
	const char *pth = name_path(k, path, sizeof(path));
	int here = -1, r = 0;

	if (k->addr_len <= sizeof(sa_family_t))
		return 0;
	if (pth && pth[0] != '/' && cwd && cwd[0]) {
		here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (here < 0 || chdir(cwd)) {
			r = -errno;
			pr_err("%s: fd %d: cannot bind %s relative to %s: %s", img, fdno, pth, cwd,
			       strerror(-r));
			if (here >= 0)
				close(here);
			return r;
		}
	}
	if (pth && stale_socket_file(pth, (int)k->type))
		unlink(pth);
	if (bind(fd, (const struct sockaddr *)k->addr, k->addr_len) < 0) {
		r = -errno;
		pr_err("%s: fd %d: cannot bind unix socket to %s: %s%s", img, fdno,
		       addr_text(k, txt, sizeof(txt)), strerror(-r),
		       r == -EADDRINUSE ? " (another program has it)" : "");
	} else if (pth && k->addr_mode && chmod(pth, k->addr_mode & 07777) < 0) {
		pr_warn("%s: fd %d: cannot give %s its mode %o: %s", img, fdno, pth,
			k->addr_mode & 07777, strerror(errno));
	} else if (pth && !k->addr_mode) {
		/* its file had been unlinked (or replaced) by the checkpoint */
		unlink(pth);
	}
	if (here >= 0) {
		if (fchdir(here) < 0 && !r)
			r = -errno;
		close(here);
	}
	return r;
}

/*
 * The ancillary data of run c into ctl (room for every fd a message can carry and one
 * ucred): the files it carried, opened now if the restart had not made them yet (a file
 * only in flight), and its credentials, with pid as given. Returns the control length or
 * -errno (logged).
 */
union scm_ctl {
	char c[CMSG_SPACE(sizeof(int) * CKPT_MAX_SCM_FILES) + CMSG_SPACE(sizeof(struct ucred))];
	struct cmsghdr align;
};

static int scm_build(union scm_ctl *ctl, const struct ckpt_sock_scm *c, pid_t pid,
		     const struct psock_src *src, const char *img, int fdno)
{
	struct msghdr mh = { .msg_control = ctl->c, .msg_controllen = sizeof(ctl->c) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
	size_t len = 0;

	memset(ctl, 0, sizeof(*ctl));
	if (c->nfiles) {
		if (!src) {
			pr_err("%s: fd %d: files in flight on a socket that cannot carry them", img,
			       fdno);
			return -EINVAL;
		}
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int) * c->nfiles);
		for (uint32_t j = 0; j < c->nfiles; j++) {
			int fd = prepare_file_open(src->fs, src->s, src->im, c->files[j], fdno);

			if (fd < 0)
				return fd;
			memcpy(CMSG_DATA(h) + j * sizeof(int), &fd, sizeof(int));
		}
		len += CMSG_SPACE(sizeof(int) * c->nfiles);
		h = (struct cmsghdr *)(ctl->c + len);
	}
	if (c->flags & CKPT_SCM_CREDS) {
		struct ucred uc = { pid, c->uid, c->gid };

		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_CREDENTIALS;
		h->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(h), &uc, sizeof(uc));
		len += CMSG_SPACE(sizeof(uc));
	}
	return (int)len;
}

/*
 * mh sent through to by a short-lived child that has the saved sender's pid (clone3 set_tid,
 * which needs CAP_SYS_ADMIN): the kernel takes a process's own pid as its credentials, and
 * the message keeps that pid after the child is gone, whose number is free again for the
 * restored process. Only when the processes get their pids in this PID namespace. Returns the
 * bytes sent (all of them) or -errno.
 */
static ssize_t send_as(pid_t pid, int to, const struct msghdr *mh, size_t len)
{
	struct clone_args ca = { .exit_signal = SIGCHLD, .set_tid = (uint64_t)(uintptr_t)&pid,
				 .set_tid_size = 1 };
	long c = syscall(SYS_clone3, &ca, sizeof(ca));
	int st;

	if (c < 0)
		return -errno;
	if (c == 0) {
		ssize_t w = sendmsg(to, mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		_exit(w == (ssize_t)len ? 0 : w < 0 ? (errno & 0x7f) : EMSGSIZE);
	}
	if (waitpid((pid_t)c, &st, 0) < 0)
		return -errno;
	if (!WIFEXITED(st))
		return -EIO;
	return WEXITSTATUS(st) ? -WEXITSTATUS(st) : (ssize_t)len;
}

/*
 * buf, len sent through to as one message (or, on a stream, as many sends as the receiver's
 * window needs, the ancillary data with the first), with run c's ancillary data when c is
 * not NULL. The kernel takes the recorded credentials only from a sender that may claim
 * them: the pid must exist now and be its own unless it has CAP_SYS_ADMIN, the ids its own
 * unless CAP_SETUID/CAP_SETGID. The restart's own pid then takes the place of the sender's
 * (*warned says so once per socket). Returns 0 or -errno (logged).
 */
static int send_run(int to, const struct ckpt_sock *k, const uint8_t *buf, uint64_t len,
		    const struct ckpt_sock_scm *c, const void *dest, socklen_t dlen,
		    const struct psock_src *src, int *warned, const char *img, int fdno)
{
	const struct ckpt_sock_scm *cur = c;
	struct ckpt_sock_scm rest;
	union scm_ctl ctl;
	uint64_t off = 0;
	int waited_ms = 0, clen = 0, own_pid = 0;

	if (c && (clen = scm_build(&ctl, c, c->pid, src, img, fdno)) < 0)
		return clen;
	do {
		struct iovec iov = { (void *)(buf ? buf + off : NULL), (size_t)(len - off) };
		struct msghdr mh = { .msg_name = (void *)dest, .msg_namelen = dlen,
				     .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = clen ? ctl.c : NULL,
				     .msg_controllen = (size_t)clen };
		ssize_t w = sendmsg(to, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == ESRCH && cur && (cur->flags & CKPT_SCM_CREDS) && !own_pid &&
		    src && src->s->host_pids && cur->pid > 0) {
			w = send_as(cur->pid, to, &mh, iov.iov_len);
			if (w < 0)
				errno = (int)-w;
		}
		if (w < 0 && (errno == ESRCH || errno == EPERM || errno == EEXIST) && c &&
		    (c->flags & CKPT_SCM_CREDS) && !own_pid) {
			if (!*warned)
				pr_warn("%s: fd %d: the sender's pid %d of queued messages cannot be "
					"given again (no such process yet, or not permitted): they "
					"carry pid %d", img, fdno, c->pid, (int)getpid());
			*warned = 1;
			own_pid = 1;
			if ((clen = scm_build(&ctl, cur, getpid(), src, img, fdno)) < 0)
				return clen;
			continue;
		}
		/* A receiver's window opens as the data arrives: wait for room, bounded. */
		if (w < 0 && errno == EAGAIN && k->type == SOCK_STREAM &&
		    waited_ms < REFILL_WAIT_MS) {
			struct pollfd pfd = { .fd = to, .events = POLLOUT };

			if (poll(&pfd, 1, 100) == 0)
				waited_ms += 100;
			continue;
		}
		if (w < 0 || (w == 0 && len) || (k->type != SOCK_STREAM && (uint64_t)w != len)) {
			int e = w < 0 ? errno : EMSGSIZE;

			pr_err("%s: fd %d: cannot put back %llu queued bytes%s: %s", img, fdno,
			       (unsigned long long)len,
			       c ? " with their ancillary data" : "", strerror(e));
			return -e;
		}
		off += (uint64_t)w;
		/* the fds went with the first part; the credentials go with every part */
		if (c && c->nfiles && off < len) {
			rest = *c;
			rest.nfiles = 0;
			rest.files = NULL;
			cur = &rest;
			clen = !(rest.flags & CKPT_SCM_CREDS) ? 0 :
			       scm_build(&ctl, cur, own_pid ? getpid() : c->pid, src, img, fdno);
			if (clen < 0)
				return clen;
		}
	} while (off < len);
	return 0;
}

/* Send the queued data of the socket that f describes through to (its peer's end, or a
 * socket that sends to f's name dest, dlen), each run with the ancillary data it had. */
int psock_refill_to(int to, const struct ckpt_file *f, const void *dest, socklen_t dlen,
		    const struct psock_src *src, const char *img, int fdno)
{
	const struct ckpt_sock *k = f->sock;
	uint64_t off = 0;
	uint32_t r = 0;
	int warned = 0, rc = 0;

	if (!(f->flags & CKPT_FF_HAS_DATA))
		return 0;
	if (k->type != SOCK_STREAM) {
		for (uint32_t m = 0; m < k->nmsgs && !rc; m++) {
			const struct ckpt_sock_scm *c = r < k->nscm && k->scm[r].msg == m ?
							&k->scm[r++] : NULL;

			rc = send_run(to, k, f->data ? f->data + off : NULL, k->msg_len[m], c, dest,
				      dlen, src, &warned, img, fdno);
			if (rc)
				pr_err("%s: fd %d: message %u of %u not put back", img, fdno, m + 1,
				       k->nmsgs);
			off += k->msg_len[m];
		}
		return rc;
	}
	/* a stream: the bytes before each run plain, then the run with its ancillary data */
	for (; r <= k->nscm && !rc; r++) {
		const struct ckpt_sock_scm *c = r < k->nscm ? &k->scm[r] : NULL;
		uint64_t plain_end = c ? c->off : f->data_len;

		if (plain_end > off)
			rc = send_run(to, k, f->data + off, plain_end - off, NULL, NULL, 0, src,
				      &warned, img, fdno);
		off = plain_end;
		if (!rc && c && c->len) {
			rc = send_run(to, k, f->data + off, c->len, c, NULL, 0, src, &warned, img,
				      fdno);
			off += c->len;
		}
	}
	return rc;
}

int psock_refill(int to, const struct ckpt_file *f, const char *img, int fdno)
{
	return psock_refill_to(to, f, NULL, 0, NULL, img, fdno);
}

/*
 * A buffer size to set again: for unix sockets always (the kernel never changes them); for
 * TCP only one a program set (SO_SNDBUF/SO_RCVBUF lock the size and stop the kernel's
 * autotuning, which the refill of a large queue needs): a size above what an unprivileged
 * program may set (twice net.core.[wr]mem_max) or equal to a fresh socket's is the kernel's.
 */
static int program_set(int fd, const struct ckpt_sock *k, int saved, int cur, const char *max_path)
{
	long max = 0;
	FILE *f;

	if (saved <= 0 || saved == cur)
		return 0;
	if (k->family == AF_UNIX)
		return 1;
	f = fopen(max_path, "r");
	if (!f || fscanf(f, "%ld", &max) != 1)
		max = 212992;
	if (f)
		fclose(f);
	(void)fd;
	return saved <= 2 * max;
}

/* Room for what will be sent through fd: the sender's buffer as it was. */
void psock_set_buffers(int fd, const struct ckpt_sock *k)
{
	int cur, half;
	socklen_t l = sizeof(cur);

	/* getsockopt reports twice what setsockopt was given */
	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &l) &&
	    program_set(fd, k, k->sndbuf, cur, "/proc/sys/net/core/wmem_max")) {
		half = k->sndbuf / 2;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &half, sizeof(half));
	}
	l = sizeof(cur);
	if (!getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &l) &&
	    program_set(fd, k, k->rcvbuf, cur, "/proc/sys/net/core/rmem_max")) {
		half = k->rcvbuf / 2;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &half, sizeof(half));
	}
}

/* Status flags and the options a program sets, once the socket is complete. */
int psock_apply_options(int fd, const struct ckpt_file *f, const char *img, int fdno)
{
	const struct ckpt_sock *k = f->sock;
	int on = 1;

	if ((k->flags & CKPT_SF_PASSCRED) &&
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
		goto fail;
	if ((k->flags & CKPT_SF_PEEK_OFF) &&
	    setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &k->peek_off, sizeof(k->peek_off)) < 0)
		goto fail;
	for (int i = 0; i < 2; i++) {
		int64_t us = i ? k->sndtimeo_us : k->rcvtimeo_us;
		struct timeval tv = { .tv_sec = us / 1000000, .tv_usec = us % 1000000 };

		if (us && setsockopt(fd, SOL_SOCKET, i ? SO_SNDTIMEO : SO_RCVTIMEO, &tv,
				     sizeof(tv)) < 0)
			goto fail;
	}
	for (uint32_t i = 0; i < k->nopts; i++) {
		const struct ckpt_sockopt *o = &k->opts[i];

		if (o->level == SOL_SOCKET && o->name == SO_LINGER) {
			struct linger lg = { o->value >= 0, o->value >= 0 ? o->value : 0 };

			if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
				goto fail;
			continue;
		}
		if (setsockopt(fd, o->level, o->name, &o->value, sizeof(o->value)) < 0 &&
		    !(o->level == IPPROTO_IPV6 && o->name == IPV6_V6ONLY && errno == EINVAL))
			goto fail; /* V6ONLY cannot change once bound: set before (psock_bind) */
	}
	if (fcntl(fd, F_SETFL, f->oflags & SOCK_SETFL_MASK) < 0)
		goto fail;
	return 0;
fail:
	pr_err("%s: fd %d: cannot set the socket's options: %s", img, fdno, strerror(errno));
	return -errno;
}

/* A new socket of f's type, above the saved fd numbers; -errno on failure. */
int psock_new(struct fd_shared *fs, const struct ckpt_sock *k, const char *img, int fdno)
{
	int fd = socket((int)k->family, (int)k->type | SOCK_CLOEXEC, (int)k->protocol);

	if (fd < 0 || (fd = fd_move_high(fd, fs->base)) < 0) {
		int r = -errno;

		pr_err("%s: fd %d: cannot create a %s %s socket: %s", img, fdno,
		       ckpt_sock_family_name(k->family), ckpt_sock_type_name(k->type), strerror(-r));
		return r;
	}
	psock_set_buffers(fd, k);
	return fd;
}

int psock_register(struct fd_shared *fs, const struct ckpt_sock *k, int fd)
{
	int i = fd_obj_add(fs, CKPT_FILE_SOCKET, k->ino, 0, fd);

	if (i < 0)
		close(fd);
	return i;
}

/*
 * A connection that was waiting on listener k (ino: its connecting socket's inode): that
 * socket, when the images have it, connects again, so that accept() finds it where it was in the queue; when no
 * image has it (a program outside the computation), a socket connects and closes at once,
 * so that accept() returns a connection whose peer is gone.
 */
static int reconnect_pending(struct fd_shared *fs, const struct restart_set *s,
			     const struct ckpt_sock *k, uint64_t ino, const char *img, int fdno)
{
	const struct ckpt_file *cf = NULL;
	struct sock_at at;
	int fd, r = 0, cim = 0;

	if (psock_find(s, ino, &at) && at.f->sock->state == CKPT_SOCK_CONNECTED) {
		cf = at.f;
		cim = at.im;
	}
	fd = psock_new(fs, cf ? cf->sock : k, img, fdno);
	if (fd < 0)
		return fd;
	if (cf)
		r = bind_name(fd, cf->sock, s->img[cim].proc.cwd, s->img[cim].path, fdno);
	if (!r && connect(fd, (const struct sockaddr *)k->addr, k->addr_len) < 0) {
		r = -errno;
		pr_err("%s: fd %d: cannot connect again to the listener it waited on: %s",
		       cf ? s->img[cim].path : img, fdno, strerror(-r));
	}
	if (!cf) {
		close(fd);
		return r;
	}
	if (!r && (cf->sock->shutdown & 2) && shutdown(fd, SHUT_WR) < 0)
		r = -errno;
	if (!r)
		r = psock_apply_options(fd, cf, s->img[cim].path, fdno);
	if (r) {
		close(fd);
		return r;
	}
	r = psock_register(fs, cf->sock, fd);
	return r < 0 ? r : 0;
}

/* An unconnected or listening socket. */
static int open_single(struct fd_shared *fs, const struct restart_set *s, int im,
		       const struct ckpt_file *f, int fdno)
{
	const struct ckpt_sock *k = f->sock;
	const char *img = s->img[im].path;
	int fd = psock_new(fs, k, img, fdno), r;

	if (fd < 0)
		return fd;
	r = bind_name(fd, k, s->img[im].proc.cwd, img, fdno);
	if (!r && k->state == CKPT_SOCK_LISTENING && listen(fd, (int)k->backlog) < 0) {
		r = -errno;
		pr_err("%s: fd %d: cannot listen: %s", img, fdno, strerror(-r));
	}
	for (uint32_t c = 0; !r && c < k->npending; c++)
		r = reconnect_pending(fs, s, k, k->pending[c], img, fdno);
	if (!r && (f->flags & CKPT_FF_HAS_DATA) && (f->data_len || k->nmsgs)) {
		/* datagrams from unnamed senders (the checkpoint refused named ones) */
		int tmp = socket(AF_UNIX, (int)k->type | SOCK_CLOEXEC, 0);

		/* sendto, not connect: a connect would mark the socket connected-to */
		if (tmp < 0) {
			r = -errno;
			pr_err("%s: fd %d: cannot put its queued datagrams back: %s", img, fdno,
			       strerror(-r));
		} else {
			psock_set_buffers(tmp, k);
			r = psock_refill_to(tmp, f, k->addr, k->addr_len,
					    &(struct psock_src){ fs, s, im }, img, fdno);
		}
		if (tmp >= 0)
			close(tmp);
	}
	return psock_finish(fs, f, fd, r, img, fdno);
}

/* Both ends of a connection (b NULL: the peer is gone; a closed end takes its place). */
static int open_pair(struct fd_shared *fs, const struct restart_set *s, const struct sock_at *a,
		     const struct sock_at *b, int fdno)
{
	const struct ckpt_sock *ka = a->f->sock;
	const char *img = s->img[a->im].path;
	int sv[2], r, ia, ib;

	if (socketpair(AF_UNIX, (int)ka->type | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		pr_err("%s: fd %d: cannot create a unix %s socket pair: %s", img, fdno,
		       ckpt_sock_type_name(ka->type), strerror(-r));
		return r;
	}
	sv[0] = fd_move_high(sv[0], fs->base);
	sv[1] = fd_move_high(sv[1], fs->base);
	if (sv[0] < 0 || sv[1] < 0) {
		r = -errno;
		goto fail;
	}
	/* each end's queue arrives through the other; the sender's buffer bounds it */
	if (b)
		psock_set_buffers(sv[1], b->f->sock);
	if ((r = psock_refill_to(sv[1], a->f, NULL, 0, &(struct psock_src){ fs, s, a->im }, img,
				 fdno)))
		goto fail;
	if (b) {
		psock_set_buffers(sv[0], ka);
		if ((r = psock_refill_to(sv[0], b->f, NULL, 0, &(struct psock_src){ fs, s, b->im },
					 s->img[b->im].path, fdno)))
			goto fail;
	}
	if (!b) {
		close(sv[1]);
		sv[1] = -1;
	} else {
		if ((ka->shutdown & 2) && shutdown(sv[0], SHUT_WR) < 0)
			r = -errno;
		if (!r && (b->f->sock->shutdown & 2) && shutdown(sv[1], SHUT_WR) < 0)
			r = -errno;
		if (r) {
			pr_err("%s: fd %d: cannot shut the connection down as it was: %s", img, fdno,
			       strerror(-r));
			goto fail;
		}
	}
	if ((r = psock_apply_options(sv[0], a->f, img, fdno)) ||
	    (b && (r = psock_apply_options(sv[1], b->f, s->img[b->im].path, fdno))))
		goto fail;
	ia = psock_register(fs, ka, sv[0]);
	sv[0] = -1;
	if (ia < 0) {
		r = ia;
		goto fail;
	}
	if (b) {
		ib = psock_register(fs, b->f->sock, sv[1]);
		sv[1] = -1;
		if (ib < 0)
			return ib;
	}
	return ia;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return r;
}

/*
 * A netlink route socket: bound to its port id and first 32 groups again (another port id,
 * with a warning, when that one is taken here), the other groups joined, its options set.
 */
static int open_netlink(struct fd_shared *fs, const struct restart_set *s, int im,
			const struct ckpt_file *f, int fdno)
{
	const struct ckpt_sock *k = f->sock;
	const char *img = s->img[im].path;
	struct sockaddr_nl a;
	int fd = psock_new(fs, k, img, fdno), r = 0;

	if (fd < 0)
		return fd;
	if (k->addr_len >= sizeof(a)) {
		memcpy(&a, k->addr, sizeof(a));
		if ((a.nl_pid || a.nl_groups) && bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			uint32_t old = a.nl_pid;

			a.nl_pid = 0;
			if (errno != EADDRINUSE || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
				r = -errno;
				pr_err("%s: fd %d: cannot bind a netlink route socket again: %s", img,
				       fdno, strerror(-r));
			} else {
				pr_warn("%s: fd %d: netlink port id %u is taken here: the socket gets "
					"another one", img, fdno, old);
			}
		}
	}
	return psock_finish(fs, f, fd, r, img, fdno);
}

int prepare_sock_open(struct fd_shared *fs, const struct restart_set *s, int im,
		      const struct ckpt_file *f, int fdno)
{
	const struct ckpt_sock *k = f->sock;
	const char *img = s->img[im].path;
	struct sock_at me = { im, f }, peer;
	char txt[256];
	int i, r, r0;

	if (!k) {
		pr_err("%s: fd %d: a socket saved without its description (an image of an older "
		       "version): it cannot be restored", img, fdno);
		return -EINVAL;
	}
	i = fd_obj_find(fs, CKPT_FILE_SOCKET, k->ino, 0);
	if (i >= 0)
		return i;
	if (k->family == AF_NETLINK)
		return open_netlink(fs, s, im, f, fdno);
	if (k->family != AF_UNIX)
		return prepare_inet_open(fs, s, im, f, fdno);
	switch (k->state) {
	case CKPT_SOCK_UNCONNECTED:
	case CKPT_SOCK_LISTENING:
		return open_single(fs, s, im, f, fdno);
	case CKPT_SOCK_PEER_GONE:
		return open_pair(fs, s, &me, NULL, fdno);
	}
	/* connected: to a connection still waiting on a listener (made again with the
	 * listener), or to a socket of the images, or to one outside */
	if (!k->peer_ino && psock_listener_of(s, k->ino, &peer)) {
		if ((r = prepare_sock_open(fs, s, peer.im, peer.f, fdno)) < 0)
			return r;
		i = fd_obj_find(fs, CKPT_FILE_SOCKET, k->ino, 0);
		return i >= 0 ? i : -EINVAL;
	}
	if (!k->peer_ino || !psock_find(s, k->peer_ino, &peer)) {
		pr_warn("%s: fd %d: the peer of this unix %s socket (%s) is in no image of this "
			"restart: restored as closed by its peer", img, fdno,
			ckpt_sock_type_name(k->type),
			k->peer_addr_len ? (ckpt_sock_addr_text(txt, sizeof(txt), k->peer_addr,
								k->peer_addr_len), txt) : "unnamed");
		return open_pair(fs, s, &me, NULL, fdno);
	}
	if (peer.f->sock->state == CKPT_SOCK_CONNECTED && peer.f->sock->peer_ino == k->ino)
		return open_pair(fs, s, &me, &peer, fdno);
	/* connected to a named socket that is not connected back: a datagram client */
	if (!k->peer_addr_len || peer.f->sock->state != CKPT_SOCK_UNCONNECTED) {
		pr_err("%s: fd %d: a unix %s socket connected to a %s socket it cannot be "
		       "connected to again", img, fdno, ckpt_sock_type_name(k->type),
		       ckpt_sock_state_name(peer.f->sock->state));
		return -EINVAL;
	}
	if ((r0 = prepare_sock_open(fs, s, peer.im, peer.f, fdno)) < 0)
		return r0;
	{
		int fd = psock_new(fs, k, img, fdno);

		if (fd < 0)
			return fd;
		r = bind_name(fd, k, s->img[im].proc.cwd, img, fdno);
		if (!r && connect(fd, (const struct sockaddr *)k->peer_addr, k->peer_addr_len) < 0) {
			r = -errno;
			pr_err("%s: fd %d: cannot connect again to %s: %s", img, fdno,
			       (ckpt_sock_addr_text(txt, sizeof(txt), k->peer_addr,
						    k->peer_addr_len), txt), strerror(-r));
		}
		/* what the named peer had sent: from the peer itself, to this socket's name */
		if (!r && (f->flags & CKPT_FF_HAS_DATA) && (f->data_len || k->nmsgs)) {
			if (k->addr_len > sizeof(sa_family_t))
				r = psock_refill_to(fs->obj[r0].fd, f, k->addr, k->addr_len,
						    &(struct psock_src){ fs, s, im }, img, fdno);
			else
				r = -EINVAL; /* an unnamed socket cannot have been sent to */
		}
		if (!r && (k->shutdown & 2) && shutdown(fd, SHUT_WR) < 0)
			r = -errno;
		return psock_finish(fs, f, fd, r, img, fdno);
	}
}
