/*
 * The socket part of the drain and refill steps (see sockdrain.h).
 *
 * inet_diag's write queue of an established TCP socket counts the bytes sent and not yet
 * acknowledged plus those not sent yet; between two local sockets an acknowledgement means
 * the bytes are in the receiver's queue. A receiver whose peer still has bytes queued after
 * the settling wait is "held back" (its window is full): its queue is taken out until the
 * peer's write queue is empty, and, when the peer's program had closed it, until the end of
 * the stream. A peer on another host is not waited for: such a connection comes back reset
 * at restart.
 */
#include "sockdrain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "core.h"
#include "hooks.h"
#include "infect.h"
#include "log.h"
#include "procfs.h"
#include "sockdiag.h"

/* How long bytes held by Nagle or a delayed ACK may take to reach a local peer. */
#define SETTLE_MS 300
/* How long taking a held-back queue out, or giving it back, may take. */
#define MOVE_MS 5000

struct taken {
	pid_t pid;
	int fd;
	uint32_t ino;	/* the socket: every process that holds it saves what was taken */
	int orphan;	/* the sender's program had closed its end */
	pid_t spid;	/* else the sender: a process of this tracer, and its fd */
	int sfd;
	uint8_t *buf;
	size_t len;
	struct taken *next;
};

struct sockdrain {
	struct taken *list;
};

struct sock_fd {
	int fd;
	uint32_t ino;
};

/* pid's socket fds and their inodes. */
static int socket_fds(pid_t pid, struct sock_fd **out, uint32_t *nout)
{
	int *fds, rc;
	uint32_t n, k = 0;
	struct sock_fd *v;

	*out = NULL;
	*nout = 0;
	if ((rc = procfs_list_fds(pid, &fds, &n)))
		return rc;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		free(fds);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		unsigned long ino = procfs_fd_socket_ino(pid, fds[i]);

		if (ino)
			v[k++] = (struct sock_fd){ fds[i], (uint32_t)ino };
	}
	free(fds);
	*out = v;
	*nout = k;
	return 0;
}

/* A zombie or dead process, or one gone. */
static int proc_dead(pid_t pid)
{
	return procfs_task_ended(pid, 0);
}

/* ESTABLISHED, FIN_WAIT1, CLOSE_WAIT, LAST_ACK, CLOSING: a state with bytes that may move. */
static int may_move(uint8_t state)
{
	return state == 1 || state == 4 || state == 8 || state == 9 || state == 11;
}

/* Is anything of pid's sockets still on its way between local sockets? */
static int unsettled(const struct sockdiag_inet_set *d, const struct sock_fd *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct sockdiag_inet *me = sockdiag_tcp_find(d, v[i].ino), *peer;

		if (!me || !may_move(me->state) || !(peer = sockdiag_tcp_mirror(d, me)))
			continue;
		if (me->wqueue || (may_move(peer->state) && peer->wqueue))
			return 1;
	}
	return 0;
}

/* The fd of pid that holds socket ino, or -1. */
static int fd_of(pid_t pid, uint32_t ino)
{
	struct sock_fd *v;
	uint32_t n;
	int fd = -1;

	if (socket_fds(pid, &v, &n))
		return -1;
	for (uint32_t i = 0; i < n && fd < 0; i++)
		if (v[i].ino == ino)
			fd = v[i].fd;
	free(v);
	return fd;
}

/* Is pid traced by another dmtcp tracer (a member of the computation in another tree)? Its
 * tracer is a dmtcp_launch or dmtcp_restart, which is what its comm says. */
static int other_member(pid_t pid)
{
	char *status, comm[32];
	int32_t tracer = 0;
	int r;

	if (procfs_read(pid, 0, "status", &status, NULL))
		return 0;
	r = procfs_status_ints(status, "TracerPid", &tracer, 1) == 1 && tracer > 0 &&
	    tracer != getpid();
	free(status);
	if (!r || procfs_comm(tracer, 0, comm, sizeof(comm)))
		return 0;
	return !strcmp(comm, "dmtcp_launch") || !strcmp(comm, "dmtcp_restart");
}

/*
 * A process of the computation in another tree (another tracer) holding socket ino, found in
 * /proc: it is suspended as ours are, so what was taken can be given back through its socket.
 */
static int find_member_holder(uint32_t ino, pid_t *pid, int *fd)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char *end;
		long p = strtol(e->d_name, &end, 10);

		if (*end || p <= 0 || !other_member((pid_t)p))
			continue;
		if ((*fd = fd_of((pid_t)p, ino)) >= 0) {
			*pid = (pid_t)p;
			found = 1;
		}
	}
	closedir(d);
	return found;
}

/* The process of this tracer and its fd that hold socket ino; 0 when none. */
static int find_holder(struct tracer *tr, uint32_t ino, pid_t *pid, int *fd)
{
	for (struct tracee_proc *q = ptable_first(tr); q; q = q->next) {
		struct sock_fd *v;
		uint32_t n;

		if (q->ghost || socket_fds(q->pid, &v, &n))
			continue;
		for (uint32_t i = 0; i < n; i++)
			if (v[i].ino == ino) {
				*pid = q->pid;
				*fd = v[i].fd;
				free(v);
				return 1;
			}
		free(v);
	}
	return 0;
}

static int append(struct taken *t, const uint8_t *b, size_t n)
{
	uint8_t *nb = realloc(t->buf, t->len + n);

	if (!nb)
		return -ENOMEM;
	memcpy(nb + t->len, b, n);
	t->buf = nb;
	t->len += n;
	return 0;
}

/*
 * Take the queue of pid's fd (socket ino) out until its peer has nothing left to send (and,
 * for an orphan, until the end of the stream). Returns 0 or -errno with a reason in why.
 */
static int take_out(struct taken *t, uint32_t ino, char *why, size_t wl)
{
	long deadline = mono_now_ms() + MOVE_MS;
	int lfd, rc = 0, eof = 0;
	uint8_t buf[65536];

	if ((rc = infect_getfd(t->pid, t->fd, &lfd)))
		return rc;
	for (;;) {
		struct sockdiag_inet_set d;
		const struct sockdiag_inet *me, *peer;
		ssize_t r = recv(lfd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r > 0) {
			if ((rc = append(t, buf, (size_t)r)))
				break;
			continue;
		}
		if (r == 0)
			eof = 1;
		else if (errno != EAGAIN && errno != EINTR) {
			rc = -errno;
			break;
		}
		if ((rc = sockdiag_tcp_dump(&d)))
			break;
		me = sockdiag_tcp_find(&d, ino);
		peer = me ? sockdiag_tcp_mirror(&d, me) : NULL;
		r = peer && may_move(peer->state) && peer->wqueue;
		sockdiag_inet_free(&d);
		if (!r && (!t->orphan || eof || !peer)) {
			/* the sender has nothing left: what arrived since the last read is all
			 * there is; take it too, so that giving everything back through the sender
			 * keeps the order (nothing of the stream stays behind in the queue) */
			while ((r = recv(lfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
				if ((rc = append(t, buf, (size_t)r)))
					break;
			break;
		}
		if (mono_now_ms() >= deadline) {
			snprintf(why, wl, "fd %d: %zu bytes taken out of this TCP connection's queue "
				 "and its peer's are still not all here after %d s", t->fd, t->len,
				 MOVE_MS / 1000);
			rc = -ETIMEDOUT;
			break;
		}
		{
			struct pollfd pfd = { .fd = lfd, .events = POLLIN };

			poll(&pfd, 1, 5);
		}
	}
	close(lfd);
	return rc;
}

static void drop(struct sockdrain *sd, pid_t pid)
{
	for (struct taken **pp = &sd->list; *pp;) {
		struct taken *t = *pp;

		if (pid && t->pid != pid) {
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		free(t->buf);
		free(t);
	}
}

/* Take out what socket v of p is held back from (see take_out), recording it. */
static int take_held(struct sockdrain *sd, struct tracer *tr, struct tracee_proc *p,
		     struct ckpt_step *step, const struct sock_fd *v, int orphan, uint32_t peer_ino)
{
	struct taken *t = calloc(1, sizeof(*t));
	char why[200] = "";
	int rc;

	if (!t)
		return -ENOMEM;
	*t = (struct taken){ .pid = p->pid, .fd = v->fd, .ino = v->ino, .orphan = orphan };
	if (!orphan && !find_holder(tr, peer_ino, &t->spid, &t->sfd) &&
	    !find_member_holder(peer_ino, &t->spid, &t->sfd)) {
		/* a local program outside the computation: nothing is taken (it could not be
		 * given back, the program may send more meanwhile); the checkpoint saves what has
		 * arrived, and a restart brings the connection back closed */
		pr_debug("pid %d: fd %d: bytes held back by a full window come from outside the "
			 "computation; left where they are", p->pid, v->fd);
		free(t);
		return 0;
	}
	t->next = sd->list;
	sd->list = t;
	rc = take_out(t, v->ino, why, sizeof(why));
	if (rc)
		snprintf(step->reason, sizeof(step->reason), "pid %d (%.40s): %s", p->pid, p->prog,
			 why[0] ? why : strerror(-rc));
	else
		pr_debug("pid %d: fd %d: %zu bytes taken out of a full TCP window (%s)", p->pid,
			 t->fd, t->len, orphan ? "its peer closed" : "given back at refill");
	return rc;
}

static int drain_step(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *step, void *arg)
{
	struct sockdrain *sd = arg;
	struct sockdiag_inet_set d;
	struct sock_fd *v;
	uint32_t n;
	long deadline = mono_now_ms() + SETTLE_MS;
	int rc;

	drop(sd, p->pid); /* a previous checkpoint's leftovers */
	if ((rc = socket_fds(p->pid, &v, &n))) {
		/* a process killed meanwhile: its fd table is gone (a zombie's reads as EACCES) */
		if (rc == -ESRCH || kill(p->pid, 0) || proc_dead(p->pid))
			rc = -ESRCH;
		snprintf(step->reason, sizeof(step->reason), "pid %d: %s", p->pid,
			 rc == -ESRCH ? "process exited during the checkpoint" :
					"cannot list its file descriptors");
		return rc;
	}
	/* let what Nagle or a delayed ACK holds arrive */
	while (n && !(rc = sockdiag_tcp_dump(&d))) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		int busy = unsettled(&d, v, n);

		sockdiag_inet_free(&d);
		if (!busy || mono_now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	/* what a full window still holds back towards p is taken out of p's queues: the held
	 * ones found in one table, each taken out in turn */
	if (!rc && n && !(rc = sockdiag_tcp_dump(&d))) {
		uint32_t *held = calloc(n, sizeof(*held)), nheld = 0;
		uint32_t *peer_ino = calloc(n, sizeof(*peer_ino));
		int *orphan = calloc(n, sizeof(*orphan));

		if (!held || !peer_ino || !orphan)
			rc = -ENOMEM;
		for (uint32_t i = 0; !rc && i < n; i++) {
			const struct sockdiag_inet *me = sockdiag_tcp_find(&d, v[i].ino), *peer;

			peer = me && may_move(me->state) ? sockdiag_tcp_mirror(&d, me) : NULL;
			if (!peer || !may_move(peer->state) || !peer->wqueue)
				continue;
			orphan[nheld] = !peer->ino;
			peer_ino[nheld] = peer->ino;
			held[nheld++] = i;
		}
		sockdiag_inet_free(&d);
		for (uint32_t h = 0; !rc && h < nheld; h++)
			rc = take_held(sd, tr, p, step, &v[held[h]], orphan[h], peer_ino[h]);
		free(held);
		free(peer_ino);
		free(orphan);
	}
	free(v);
	return rc;
}

/* A held thread of p, to run the parasite in; 0 when none. */
static pid_t held_thread(const struct tracee_proc *p)
{
	for (const struct tracee_thread *t = p->threads; t; t = t->next)
		if (t->state == TS_HELD)
			return t->tid;
	return 0;
}

/* Send all of b through fd (non-blocking, waiting for room up to MOVE_MS). */
static int send_all(int fd, const uint8_t *b, size_t n)
{
	long deadline = mono_now_ms() + MOVE_MS;
	size_t off = 0;

	while (off < n) {
		ssize_t w = send(fd, b + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (mono_now_ms() >= deadline)
			return -ETIMEDOUT;
		poll(&pfd, 1, 10);
	}
	return 0;
}

/*
 * A loopback TCP connection of old's family holding b and then the end of the stream: its
 * near end, or -errno.
 */
static int orphan_socket(int old, const uint8_t *b, size_t n)
{
	struct sockaddr_storage a;
	socklen_t al = sizeof(a);
	int family = AF_INET, lst, far = -1, near = -1, rc = 0;
	socklen_t l = sizeof(family);

	getsockopt(old, SOL_SOCKET, SO_DOMAIN, &family, &l);
	memset(&a, 0, sizeof(a));
	a.ss_family = (sa_family_t)family;
	if (family == AF_INET6)
		((struct sockaddr_in6 *)&a)->sin6_addr = in6addr_loopback;
	else
		((struct sockaddr_in *)&a)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lst = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lst < 0 || bind(lst, (struct sockaddr *)&a, family == AF_INET6 ?
			    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) ||
	    listen(lst, 1) || getsockname(lst, (struct sockaddr *)&a, &al) ||
	    (far = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(far, (struct sockaddr *)&a, al) ||
	    (near = accept4(lst, NULL, NULL, SOCK_CLOEXEC)) < 0)
		rc = -errno;
	if (lst >= 0)
		close(lst);
	if (!rc)
		rc = send_all(far, b, n);
	if (far >= 0)
		close(far); /* an orderly close: the bytes, then the end of the stream */
	if (rc) {
		if (near >= 0)
			close(near);
		return rc;
	}
	return near;
}

/* Put fd nfd in place of p's fd t->fd (status flags and close-on-exec of the old one). */
static int replace_fd(struct tracee_proc *p, const struct taken *t, int nfd)
{
	struct procfs_fdinfo fi;
	struct infect_ctx *ctx;
	pid_t tid = held_thread(p);
	int rc, rfd = -1;
	long r;

	if (!tid)
		return -ESRCH;
	if ((rc = procfs_fdinfo(p->pid, t->fd, &fi)))
		return rc;
	fcntl(nfd, F_SETFL, fi.flags & (O_NONBLOCK | O_ASYNC));
	if ((rc = infect_start(p->pid, tid, &ctx)))
		return rc;
	rc = infect_give_fd(ctx, nfd, &rfd);
	if (!rc) {
		const uint64_t a[6] = { (uint64_t)rfd, (uint64_t)t->fd,
					(fi.flags & O_CLOEXEC) ? O_CLOEXEC : 0 };

		rc = infect_remote_syscall(ctx, __NR_dup3, a, &r);
		if (!rc && r < 0)
			rc = (int)r;
		infect_remote_close(ctx, rfd);
	}
	r = infect_cure(ctx);
	return rc ? rc : (int)r;
}

/* Give back what the drain took from p's sockets. */
static int give_back(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *step, void *arg)
{
	struct sockdrain *sd = arg;
	int rc = 0;

	(void)tr;
	if (proc_dead(p->pid)) {
		drop(sd, p->pid); /* nothing to give back to */
		return 0;
	}
	for (struct taken *t = sd->list; t; t = t->next) {
		int fd, r;

		if (t->pid != p->pid)
			continue;
		if (!t->orphan) {
			r = infect_getfd(t->spid, t->sfd, &fd);
			if (!r) {
				r = send_all(fd, t->buf, t->len);
				close(fd);
			}
		} else {
			int old;

			r = infect_getfd(t->pid, t->fd, &old);
			if (!r) {
				fd = orphan_socket(old, t->buf, t->len);
				close(old);
				r = fd < 0 ? fd : replace_fd(p, t, fd);
				if (fd >= 0)
					close(fd);
			}
		}
		if (r && !rc) {
			rc = r;
			snprintf(step->reason, sizeof(step->reason),
				 "pid %d (%.40s): fd %d: cannot give back the %zu bytes taken out of "
				 "its TCP queue: %s", p->pid, p->prog, t->fd, t->len, strerror(-r));
			pr_err("%s", step->reason);
		}
	}
	drop(sd, p->pid);
	return rc;
}

const uint8_t *sockdrain_taken(struct tracer *tr, uint64_t ino, size_t *len)
{
	struct sockdrain *sd = tr->sockdrain;

	for (struct taken *t = sd ? sd->list : NULL; t; t = t->next)
		if (t->ino == ino) {
			*len = t->len;
			return t->buf;
		}
	*len = 0;
	return NULL;
}

int sockdrain_init(struct tracer *tr)
{
	struct sockdrain *sd = calloc(1, sizeof(*sd));
	int r;

	if (!sd)
		return -ENOMEM;
	tr->sockdrain = sd;
	r = hooks_on_step(tr, STEP_DRAIN, drain_step, sd);
	if (!r)
		r = hooks_on_step(tr, STEP_REFILL, give_back, sd);
	if (!r)
		r = hooks_on_step(tr, STEP_ABORT, give_back, sd);
	return r;
}

void sockdrain_fini(struct tracer *tr)
{
	if (tr->sockdrain) {
		drop(tr->sockdrain, 0);
		free(tr->sockdrain);
		tr->sockdrain = NULL;
	}
}
