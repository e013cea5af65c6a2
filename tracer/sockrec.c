/*
 * Recording what the socket syscalls of a traced process did (struct sock_rec in ptable.h).
 *
 * At the seccomp stop (syscall entry) the arguments and any address are copied. Calls whose
 * result lives only in rax (socket, accept, accept4) or that may block and be restarted
 * (connect) or fail (bind, listen) are let go with PTRACE_SYSCALL so that they stop once more
 * at the syscall's exit, where the result is known. An exit with a restart code (the call was
 * interrupted, e.g. by our own PTRACE_INTERRUPT) records nothing: the kernel re-executes the
 * call, which traps again.
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
 * when they are (re)used by a trapped call, or at the next suspend (sockrec_resolve()).
 *
 * No inode is read on the syscall's path: sockrec_resolve() reads them from /proc/PID/fd at
 * suspend, where the kernel's view is what counts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "tracer_int.h"

/* Kernel-internal restart codes a stopped syscall can show in rax. */
#define ERESTARTSYS	      512
#define ERESTARTNOINTR	      513
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

static void read_addr(struct tracee_thread *t, uint64_t ptr, uint64_t len)
{
	t->sc.addrlen = 0;
	if (!ptr || !len)
		return;
	if (len > sizeof(t->sc.addr))
		len = sizeof(t->sc.addr);
	if (remote_read(t->tid, (raddr_t){ ptr }, t->sc.addr, (size_t)len) == 0)
		t->sc.addrlen = (socklen_t)len;
}

enum resume_how sockrec_enter(struct tracee_thread *t, long nr, const uint64_t *args)
{
	t->sc.nr = (int)nr;
	memcpy(t->sc.args, args, sizeof(t->sc.args));
	t->sc.addrlen = 0;
	t->sc.lazy = nr == SYS_socketpair;
	if (t->sc.lazy) {
		t->sc.sv_known = remote_read(t->tid, (raddr_t){ args[3] }, t->sc.sv_before,
					     sizeof(t->sc.sv_before)) == 0;
		return RESUME_CONT;
	}
	if (nr == SYS_bind || nr == SYS_connect)
		read_addr(t, args[1], args[2]);
	return RESUME_SYSCALL;
}

static unsigned long read_sock_ino(pid_t pid, int fd)
{
	char path[64], link[64];
	unsigned long ino = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	if (sscanf(link, "socket:[%lu]", &ino) != 1)
		return 0;
	return ino;
}

/* The record of fd, created or reset: the fd number was (re)used by a new socket. */
static struct sock_rec *fresh_rec(struct tracee_proc *p, int fd)
{
	struct sock_rec *s = ptable_sock(p, fd), *next;

	if (s) {
		next = s->next;
		memset(s, 0, sizeof(*s));
		s->next = next;
	} else {
		s = calloc(1, sizeof(*s));
		if (!s) {
			pr_warn("pid %d: out of memory recording fd %d", p->pid, fd);
			return NULL;
		}
		s->next = p->socks;
		p->socks = s;
	}
	s->fd = fd;
	s->pair_fd = -1;
	s->listen_fd = -1;
	return s;
}

/* The record of an fd a call acted on; one is made if the socket predates the tracing. */
static struct sock_rec *known_rec(struct tracee_proc *p, int fd)
{
	struct sock_rec *s = ptable_sock(p, fd);

	return s ? s : fresh_rec(p, fd);
}

static void copy_addr(struct sockaddr_storage *dst, socklen_t *dlen, const struct sock_call *sc)
{
	memcpy(dst, sc->addr, sc->addrlen);
	*dlen = sc->addrlen;
}

static void record_accept(struct tracee_thread *t, int fd)
{
	struct tracee_proc *p = t->proc;
	struct sock_rec *l = ptable_sock(p, (int)t->sc.args[0]), *s;
	socklen_t len = 0;

	s = fresh_rec(p, fd);
	if (!s)
		return;
	if (l) {
		s->domain = l->domain;
		s->type = l->type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
		s->protocol = l->protocol;
	}
	if (t->sc.nr == SYS_accept4)
		s->type |= (int)(t->sc.args[3] & (SOCK_NONBLOCK | SOCK_CLOEXEC));
	s->flags = SOCK_REC_ACCEPTED | SOCK_REC_CONNECTED;
	s->listen_fd = (int)t->sc.args[0];
	if (t->sc.args[1] && t->sc.args[2] &&
	    remote_read(t->tid, (raddr_t){ t->sc.args[2] }, &len, sizeof(len)) == 0) {
		if (len > sizeof(s->remote))
			len = sizeof(s->remote);
		if (remote_read(t->tid, (raddr_t){ t->sc.args[1] }, &s->remote, len) == 0)
			s->remote_len = len;
	}
}

void sockrec_exit(struct tracee_thread *t)
{
	struct tracee_proc *p = t->proc;
	struct user_regs_struct r;
	struct sock_rec *s;
	long ret;

	if (!t->sc.nr || t->sc.lazy)
		return;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
		goto out;
	ret = (long)r.rax;
	if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND ||
	    ret == -ERESTART_RESTARTBLOCK)
		goto out;
	switch (t->sc.nr) {
	case SYS_socket:
		if (ret < 0 || !(s = fresh_rec(p, (int)ret)))
			break;
		s->domain = (int)t->sc.args[0];
		s->type = (int)t->sc.args[1];
		s->protocol = (int)t->sc.args[2];
		break;
	case SYS_bind:
		if (ret < 0 || !(s = known_rec(p, (int)t->sc.args[0])))
			break;
		s->flags |= SOCK_REC_BOUND;
		copy_addr(&s->bound, &s->bound_len, &t->sc);
		if (!s->domain && s->bound_len >= sizeof(sa_family_t))
			s->domain = s->bound.ss_family;
		break;
	case SYS_listen:
		if (ret < 0 || !(s = known_rec(p, (int)t->sc.args[0])))
			break;
		s->flags |= SOCK_REC_LISTENING;
		s->backlog = (int)t->sc.args[1];
		break;
	case SYS_connect:
		if ((ret < 0 && ret != -EINPROGRESS) || !(s = known_rec(p, (int)t->sc.args[0])))
			break;
		s->flags |= SOCK_REC_CONNECTED | (ret ? SOCK_REC_INPROGRESS : 0);
		copy_addr(&s->remote, &s->remote_len, &t->sc);
		if (!s->domain && s->remote_len >= sizeof(sa_family_t))
			s->domain = s->remote.ss_family;
		break;
	case SYS_accept:
	case SYS_accept4:
		if (ret >= 0)
			record_accept(t, (int)ret);
		break;
	}
	pr_debug("pid %d: %s -> %ld", p->pid, name_syscall(t->sc.nr), ret);
out:
	memset(&t->sc, 0, sizeof(t->sc));
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
	const struct sock_rec *a = ptable_sock(p, sv[0]), *b = ptable_sock(p, sv[1]);

	return a && b && (a->flags & SOCK_REC_PAIR) && (b->flags & SOCK_REC_PAIR) &&
	       a->pair_fd == sv[1] && b->pair_fd == sv[0];
}

/* The thread's lazy call (socketpair) has returned: record what it wrote. */
void sockrec_settle(struct tracee_thread *t)
{
	struct tracee_proc *p = t->proc;
	raddr_t svp = { t->sc.args[3] };
	int sv[2];

	if (!t->sc.lazy)
		return;
	/* A thread that just died: its process's memory is read through the leader. */
	if (remote_read(t->tid, svp, sv, sizeof(sv)) < 0 &&
	    (t->tid == p->pid || remote_read(p->pid, svp, sv, sizeof(sv)) < 0)) {
		pr_debug("pid %d: %s: cannot read its fds; not recorded", p->pid,
			 name_syscall(t->sc.nr));
	} else if (sv[0] < 0 || sv[1] < 0 || sv[0] == sv[1] ||
		   (t->sc.sv_known && sv[0] == t->sc.sv_before[0] &&
		    sv[1] == t->sc.sv_before[1] && !is_recorded_pair(p, sv))) {
		pr_debug("pid %d: %s: sv[] not written (it failed); not recorded", p->pid,
			 name_syscall(t->sc.nr));
	} else {
		record_pair(p, &t->sc, sv);
		pr_debug("pid %d: %s -> [%d, %d]", p->pid, name_syscall(t->sc.nr), sv[0], sv[1]);
	}
	memset(&t->sc, 0, sizeof(t->sc));
}

/*
 * Check every record against /proc/PID/fd (the process is stopped): fill in the inode of a
 * new one, and drop one whose fd is no longer a socket or no longer the same socket (closed,
 * and the number reused: close() and dup2() are not trapped; or a socketpair that failed).
 */
void sockrec_resolve(struct tracee_proc *p)
{
	struct sock_rec **pp = &p->socks, *s;
	unsigned long ino;

	while ((s = *pp)) {
		ino = read_sock_ino(p->pid, s->fd);
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

void sockrec_copy(struct tracee_proc *dst, const struct tracee_proc *src)
{
	const struct sock_rec *s;
	struct sock_rec *c, **tail = &dst->socks;

	for (s = src->socks; s; s = s->next) {
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
void sockrec_exec(struct tracee_proc *p)
{
	struct sock_rec **pp = &p->socks, *s;

	while ((s = *pp)) {
		if (s->type & SOCK_CLOEXEC) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

void sockrec_free(struct tracee_proc *p)
{
	struct sock_rec *s;

	while ((s = p->socks)) {
		p->socks = s->next;
		free(s);
	}
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
void sockrec_log(struct tracee_proc *p)
{
	char b1[160], b2[160];
	struct sock_rec *s;

	if (log_get_level() < LOG_DEBUG)
		return;
	for (s = p->socks; s; s = s->next)
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
