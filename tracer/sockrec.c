/*
 * Recording what the socket syscalls of a traced process did (see sockrec.h).
 *
 * At the seccomp stop (syscall entry) the arguments and any address are copied. Calls whose
 * result lives only in rax (socket, accept, accept4) or that may block and be restarted
 * (connect) or fail (bind, listen) ask for the syscall's exit stop, where the result is known.
 * An exit with a restart code (the call was interrupted, e.g. by our own PTRACE_INTERRUPT)
 * records nothing: the kernel re-executes the call, which traps again.
 *
 * socketpair is let go with PTRACE_CONT: it never blocks, and its result is in the tracee's
 * memory (sv[2]), read at the thread's next ptrace-stop, whatever it is (every stop comes
 * after the call has returned to user space; a suspend stops every thread, so all are read
 * before a checkpoint). That halves the stops of the call (measured: bench/run.sh sockpair
 * row, see docs/architecture.md). The result code is not seen, so a failure must be told
 * from sv[]: one refused early (bad flags, bad pointer) leaves sv[] as it was, which is why
 * sv[] is also read at entry (unchanged means it failed, or returned the same two numbers
 * again, as a loop that closes its pair and makes another does: believed only if those fds
 * are recorded as a pair already). One that fails later (e.g. EOPNOTSUPP for AF_INET) has
 * already written the numbers of the two fds it then releases (measured on 6.18): such a
 * record names fds that are no sockets, or other sockets, and is dropped or overwritten
 * when they are (re)used by a trapped call, or at the next suspend (resolve()).
 *
 * No inode is read on the syscall's path: resolve() reads them from /proc/PID/fd at
 * suspend, where the kernel's view is what counts.
 */
#include "sockrec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "core.h"
#include "log.h"
#include "names.h"
#include "procfs.h"
#include "regs.h"
#include "remote.h"

/*
 * A socket syscall whose result is only known once it has returned: at its syscall-exit
 * stop, or (lazy) at the thread's next ptrace-stop of any kind, which comes after the call
 * has returned to user space. One per thread that made a socket call (thread slot).
 */
struct sock_call {
	int nr;		  /* syscall number, 0 when none is pending */
	int lazy;	  /* no syscall-exit stop: settled at the thread's next stop */
	int sv_before[2]; /* socketpair: sv[] as it was at entry ... */
	int sv_known;	  /* ... if it could be read */
	uint64_t args[6];
	uint8_t addr[sizeof(struct sockaddr_storage)]; /* address argument read at entry */
	socklen_t addrlen;
};

/* The records of one process (process slot). */
struct sockrec_proc {
	struct sock_rec *socks;
};

struct sockrec_state {
	int pslot, tslot;
};

static struct sockrec_proc *recs_of(const struct tracee_proc *p)
{
	return p->slot[p->tracer->sockrec->pslot];
}

/* p's records, made when first needed; NULL when out of memory. */
static struct sockrec_proc *recs_make(struct tracee_proc *p)
{
	struct sockrec_proc *r = recs_of(p);

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			pr_warn("pid %d: out of memory recording its sockets", p->pid);
		p->slot[p->tracer->sockrec->pslot] = r;
	}
	return r;
}

static struct sock_call *call_of(const struct tracee_thread *t)
{
	return t->slot[tr_of(t)->sockrec->tslot];
}

const struct sock_rec *sockrec_first(const struct tracee_proc *p)
{
	const struct sockrec_proc *r = recs_of(p);

	return r ? r->socks : NULL;
}

static struct sock_rec *find_rec(struct tracee_proc *p, int fd)
{
	struct sockrec_proc *r = recs_of(p);
	struct sock_rec *s;

	for (s = r ? r->socks : NULL; s; s = s->next)
		if (s->fd == fd)
			return s;
	return NULL;
}

const struct sock_rec *sockrec_find(const struct tracee_proc *p, int fd)
{
	return find_rec((struct tracee_proc *)p, fd);
}

static void read_addr(struct tracee_thread *t, struct sock_call *sc, raddr_t ptr, uint64_t len)
{
	sc->addrlen = 0;
	if (raddr_is_null(ptr) || !len)
		return;
	if (len > sizeof(sc->addr))
		len = sizeof(sc->addr);
	if (remote_read(t->tid, ptr, sc->addr, (size_t)len) == 0)
		sc->addrlen = (socklen_t)len;
}

/* The seccomp stop of a socket call (a trap of the hook table). */
static enum resume_how sock_enter(struct tracee_thread *t, const struct syscall_stop *s,
				  void *arg)
{
	struct sockrec_state *st = arg;
	struct sock_call *sc = t->slot[st->tslot];

	if (!sc) {
		sc = malloc(sizeof(*sc));
		if (!sc) {
			pr_warn("tid %d: out of memory recording a socket call", t->tid);
			return RESUME_CONT;
		}
		t->slot[st->tslot] = sc;
	}
	memset(sc, 0, sizeof(*sc));
	sc->nr = (int)s->nr;
	memcpy(sc->args, s->args, sizeof(sc->args));
	sc->lazy = s->nr == SYS_socketpair;
	if (sc->lazy) {
		sc->sv_known = remote_read(t->tid, raddr(s->args[3]), sc->sv_before,
					   sizeof(sc->sv_before)) == 0;
		return RESUME_CONT;
	}
	if (s->nr == SYS_bind || s->nr == SYS_connect)
		read_addr(t, sc, raddr(s->args[1]), s->args[2]);
	return RESUME_SYSCALL;
}

/* The record of fd, created or reset: the fd number was (re)used by a new socket. */
static struct sock_rec *fresh_rec(struct tracee_proc *p, int fd)
{
	struct sock_rec *s = find_rec(p, fd), *next;
	struct sockrec_proc *r;

	if (s) {
		next = s->next;
		memset(s, 0, sizeof(*s));
		s->next = next;
	} else {
		r = recs_make(p);
		s = r ? calloc(1, sizeof(*s)) : NULL;
		if (!s) {
			pr_warn("pid %d: out of memory recording fd %d", p->pid, fd);
			return NULL;
		}
		s->next = r->socks;
		r->socks = s;
	}
	s->fd = fd;
	s->pair_fd = -1;
	s->listen_fd = -1;
	return s;
}

/* The record of an fd a call acted on; one is made if the socket predates the tracing. */
static struct sock_rec *known_rec(struct tracee_proc *p, int fd)
{
	struct sock_rec *s = find_rec(p, fd);

	return s ? s : fresh_rec(p, fd);
}

static void copy_addr(struct sockaddr_storage *dst, socklen_t *dlen, const struct sock_call *sc)
{
	memcpy(dst, sc->addr, sc->addrlen);
	*dlen = sc->addrlen;
}

static void record_accept(struct tracee_thread *t, const struct sock_call *sc, int fd)
{
	struct tracee_proc *p = t->proc;
	struct sock_rec *l = find_rec(p, (int)sc->args[0]), *s;
	raddr_t addr = raddr(sc->args[1]), lenp = raddr(sc->args[2]);
	socklen_t len = 0;

	s = fresh_rec(p, fd);
	if (!s)
		return;
	if (l) {
		s->domain = l->domain;
		s->type = l->type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
		s->protocol = l->protocol;
	}
	if (sc->nr == SYS_accept4)
		s->type |= (int)(sc->args[3] & (SOCK_NONBLOCK | SOCK_CLOEXEC));
	s->flags = SOCK_REC_ACCEPTED | SOCK_REC_CONNECTED;
	s->listen_fd = (int)sc->args[0];
	if (!raddr_is_null(addr) && !raddr_is_null(lenp) &&
	    remote_read(t->tid, lenp, &len, sizeof(len)) == 0) {
		if (len > sizeof(s->remote))
			len = sizeof(s->remote);
		if (remote_read(t->tid, addr, &s->remote, len) == 0)
			s->remote_len = len;
	}
}

/* The exit stop of a socket call that asked for it: ret is its raw result. */
static void sock_exit(struct tracee_thread *t, long nr, long ret, void *arg)
{
	struct sockrec_state *st = arg;
	struct sock_call *sc = t->slot[st->tslot];
	struct tracee_proc *p = t->proc;
	struct sock_rec *s;

	if (!sc || !sc->nr || sc->lazy || sc->nr != nr)
		return;
	if (ret == -ARCH_ERESTARTSYS || ret == -ARCH_ERESTARTNOINTR ||
	    ret == -ARCH_ERESTARTNOHAND || ret == -ARCH_ERESTART_RESTARTBLOCK)
		goto out;
	switch (sc->nr) {
	case SYS_socket:
		if (ret < 0 || !(s = fresh_rec(p, (int)ret)))
			break;
		s->domain = (int)sc->args[0];
		s->type = (int)sc->args[1];
		s->protocol = (int)sc->args[2];
		break;
	case SYS_bind:
		if (ret < 0 || !(s = known_rec(p, (int)sc->args[0])))
			break;
		s->flags |= SOCK_REC_BOUND;
		copy_addr(&s->bound, &s->bound_len, sc);
		if (!s->domain && s->bound_len >= sizeof(sa_family_t))
			s->domain = s->bound.ss_family;
		break;
	case SYS_listen:
		if (ret < 0 || !(s = known_rec(p, (int)sc->args[0])))
			break;
		s->flags |= SOCK_REC_LISTENING;
		s->backlog = (int)sc->args[1];
		break;
	case SYS_connect:
		if ((ret < 0 && ret != -EINPROGRESS) || !(s = known_rec(p, (int)sc->args[0])))
			break;
		s->flags |= SOCK_REC_CONNECTED | (ret ? SOCK_REC_INPROGRESS : 0);
		copy_addr(&s->remote, &s->remote_len, sc);
		if (!s->domain && s->remote_len >= sizeof(sa_family_t))
			s->domain = s->remote.ss_family;
		break;
	case SYS_accept:
	case SYS_accept4:
		if (ret >= 0)
			record_accept(t, sc, (int)ret);
		break;
	}
	pr_debug("pid %d: %s -> %ld", p->pid, name_syscall(sc->nr), ret);
out:
	memset(sc, 0, sizeof(*sc));
}

static void record_pair(struct tracee_proc *p, const struct sock_call *sc, const int sv[2])
{
	struct sock_rec *s, *s2;

	s = fresh_rec(p, sv[0]);
	s2 = fresh_rec(p, sv[1]);
	if (!s || !s2)
		return;
	s->domain = s2->domain = (int)sc->args[0];
	s->type = s2->type = (int)sc->args[1];
	s->protocol = s2->protocol = (int)sc->args[2];
	s->flags = s2->flags = SOCK_REC_PAIR | SOCK_REC_CONNECTED;
	s->pair_fd = sv[1];
	s2->pair_fd = sv[0];
}

/* fds sv[0] and sv[1] are recorded as the two ends of one socketpair. */
static int is_recorded_pair(struct tracee_proc *p, const int sv[2])
{
	const struct sock_rec *a = find_rec(p, sv[0]), *b = find_rec(p, sv[1]);

	return a && b && (a->flags & SOCK_REC_PAIR) && (b->flags & SOCK_REC_PAIR) &&
	       a->pair_fd == sv[1] && b->pair_fd == sv[0];
}

/* The thread's lazy call (socketpair) has returned: record what it wrote. */
static void settle(struct tracee_thread *t)
{
	struct sock_call *sc = call_of(t);
	struct tracee_proc *p = t->proc;
	raddr_t svp;
	int sv[2];

	if (!sc || !sc->lazy)
		return;
	svp = raddr(sc->args[3]);
	/* A thread that just died: its process's memory is read through the leader. */
	if (remote_read(t->tid, svp, sv, sizeof(sv)) < 0 &&
	    (t->tid == p->pid || remote_read(p->pid, svp, sv, sizeof(sv)) < 0)) {
		pr_debug("pid %d: %s: cannot read its fds; not recorded", p->pid,
			 name_syscall(sc->nr));
	} else if (sv[0] < 0 || sv[1] < 0 || sv[0] == sv[1] ||
		   (sc->sv_known && sv[0] == sc->sv_before[0] && sv[1] == sc->sv_before[1] &&
		    !is_recorded_pair(p, sv))) {
		pr_debug("pid %d: %s: sv[] not written (it failed); not recorded", p->pid,
			 name_syscall(sc->nr));
	} else {
		record_pair(p, sc, sv);
		pr_debug("pid %d: %s -> [%d, %d]", p->pid, name_syscall(sc->nr), sv[0], sv[1]);
	}
	memset(sc, 0, sizeof(*sc));
}

/*
 * Check every record against /proc/PID/fd (the process is stopped): fill in the inode of a
 * new one, and drop one whose fd is no longer a socket or no longer the same socket (closed,
 * and the number reused: close() and dup2() are not trapped; or a socketpair that failed).
 */
static void resolve(struct tracee_proc *p)
{
	struct sockrec_proc *r = recs_of(p);
	struct sock_rec **pp, *s;
	unsigned long ino;

	if (!r)
		return;
	pp = &r->socks;
	while ((s = *pp)) {
		ino = procfs_fd_socket_ino(p->pid, s->fd);
		if (!ino || (s->ino && s->ino != ino)) {
			pr_debug("pid %d: fd %d is no longer the socket recorded; record dropped",
				 p->pid, s->fd);
			*pp = s->next;
			free(s);
			continue;
		}
		s->ino = ino;
		pp = &s->next;
	}
}

/* A child starts with its parent's sockets. */
static void copy_recs(struct tracee_proc *dst, struct tracee_proc *src)
{
	const struct sock_rec *s;
	struct sockrec_proc *r;
	struct sock_rec *c, **tail;

	if (!sockrec_first(src) || !(r = recs_make(dst)))
		return;
	tail = &r->socks;
	for (s = sockrec_first(src); s; s = s->next) {
		c = malloc(sizeof(*c));
		if (!c) {
			pr_warn("pid %d: out of memory copying socket records", dst->pid);
			return;
		}
		*c = *s;
		c->next = NULL;
		*tail = c;
		tail = &c->next;
	}
}

/* After exec, close-on-exec sockets are gone. */
static void drop_cloexec(struct tracee_proc *p)
{
	struct sockrec_proc *r = recs_of(p);
	struct sock_rec **pp, *s;

	if (!r)
		return;
	pp = &r->socks;
	while ((s = *pp)) {
		if (s->type & SOCK_CLOEXEC) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

static void free_recs(struct tracee_proc *p, void *data)
{
	struct sockrec_proc *r = data;
	struct sock_rec *s;

	(void)p;
	while ((s = r->socks)) {
		r->socks = s->next;
		free(s);
	}
	free(r);
}

static void free_call(struct tracee_thread *t, void *data)
{
	(void)t;
	free(data);
}

static const char *fmt_addr(const struct sockaddr_storage *ss, socklen_t len, char *buf,
			    size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (!len) {
		snprintf(buf, n, "-");
	} else if (ss->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, n, "%s:%d", ip, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, n, "[%s]:%d", ip, ntohs(in6->sin6_port));
	} else if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
		size_t plen = len - offsetof(struct sockaddr_un, sun_path);

		if (plen > 0 && un->sun_path[0] == '\0')
			snprintf(buf, n, "@%.*s", (int)plen - 1, un->sun_path + 1);
		else
			snprintf(buf, n, "%.*s", (int)strnlen(un->sun_path, plen), un->sun_path);
	} else {
		snprintf(buf, n, "family %d", ss->ss_family);
	}
	return buf;
}

static const char *name_domain(int d)
{
	switch (d) {
	case AF_UNIX: return "AF_UNIX";
	case AF_INET: return "AF_INET";
	case AF_INET6: return "AF_INET6";
	case AF_NETLINK: return "AF_NETLINK";
	case 0: return "AF_?";
	}
	return "AF_other";
}

static const char *name_type(int t)
{
	switch (t & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
	case SOCK_STREAM: return "SOCK_STREAM";
	case SOCK_DGRAM: return "SOCK_DGRAM";
	case SOCK_SEQPACKET: return "SOCK_SEQPACKET";
	case SOCK_RAW: return "SOCK_RAW";
	}
	return "SOCK_?";
}

/* One debug line per recorded socket (the table as the checkpoint code will read it). */
static void log_recs(struct tracee_proc *p)
{
	char b1[160], b2[160];
	const struct sock_rec *s;

	if (log_get_level() < LOG_DEBUG)
		return;
	for (s = sockrec_first(p); s; s = s->next)
		pr_debug("pid %d: socket fd %d %s %s%s%s%s%s%s bound %s remote %s ino %lu", p->pid,
			 s->fd, name_domain(s->domain), name_type(s->type),
			 s->flags & SOCK_REC_LISTENING ? " listening" : "",
			 s->flags & SOCK_REC_CONNECTED ? " connected" : "",
			 s->flags & SOCK_REC_ACCEPTED ? " accepted" : "",
			 s->flags & SOCK_REC_PAIR ? " pair" : "",
			 s->flags & SOCK_REC_INPROGRESS ? " in-progress" : "",
			 fmt_addr(&s->bound, s->bound_len, b1, sizeof(b1)),
			 fmt_addr(&s->remote, s->remote_len, b2, sizeof(b2)), s->ino);
}

/* ---- the module's hooks ---------------------------------------------------------------- */

static void on_event(struct tracer *tr, const struct tracer_ev *ev, void *arg)
{
	struct tracee_thread *t;

	(void)tr;
	(void)arg;
	switch (ev->type) {
	case TEV_STOP:
		/* Any stop comes after the thread's last call returned. */
		settle(ev->t);
		break;
	case TEV_THREAD_EXIT:
		settle(ev->t); /* the other threads still have its sockets */
		break;
	case TEV_PROC_BORN:
		if (!ev->parent)
			break;
		/* What the parent's socketpairs wrote is the child's too: read it first. */
		for (t = ev->parent->threads; t; t = t->next)
			settle(t);
		copy_recs(ev->p, ev->parent);
		break;
	case TEV_EXEC:
		if (call_of(ev->t))
			memset(call_of(ev->t), 0, sizeof(struct sock_call));
		drop_cloexec(ev->p);
		break;
	case TEV_SUSPENDED:
		resolve(ev->p);
		log_recs(ev->p);
		break;
	default:
		break;
	}
}

int sockrec_init(struct tracer *tr)
{
	static const long trapped[] = { SYS_socket, SYS_socketpair, SYS_bind,	 SYS_listen,
					SYS_connect, SYS_accept,     SYS_accept4 };
	static const enum tracer_event events[] = { TEV_STOP, TEV_THREAD_EXIT, TEV_PROC_BORN,
						    TEV_EXEC, TEV_SUSPENDED };
	struct sockrec_state *st = calloc(1, sizeof(*st));
	unsigned i;
	int r = 0;

	if (!st)
		return -ENOMEM;
	tr->sockrec = st;
	st->pslot = ptable_proc_slot_new(tr, free_recs);
	st->tslot = ptable_thread_slot_new(tr, free_call);
	if (st->pslot < 0 || st->tslot < 0)
		return -ENOSPC;
	for (i = 0; i < sizeof(trapped) / sizeof(trapped[0]) && !r; i++)
		r = hooks_trap(tr, trapped[i], sock_enter, sock_exit, st);
	for (i = 0; i < sizeof(events) / sizeof(events[0]) && !r; i++)
		r = hooks_on(tr, events[i], on_event, st);
	return r;
}

void sockrec_fini(struct tracer *tr)
{
	free(tr->sockrec);
	tr->sockrec = NULL;
}
