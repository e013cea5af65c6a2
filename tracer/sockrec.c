/*
 * Recording what the socket syscalls of a traced process did (struct sock_rec in ptable.h).
 *
 * At the seccomp stop (syscall entry) the arguments and any address are copied; the thread is
 * let go with PTRACE_SYSCALL so that it stops once more at the syscall's exit, where the
 * result is known. An exit with a restart code (the call was interrupted, e.g. by our own
 * PTRACE_INTERRUPT) records nothing: the kernel re-executes the call, which traps again.
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

enum resume_how sockrec_enter(struct tracee_thread *t, const struct user_regs_struct *r)
{
	memset(&t->sc, 0, sizeof(t->sc));
	t->sc.nr = (int)r->orig_rax;
	t->sc.args[0] = r->rdi;
	t->sc.args[1] = r->rsi;
	t->sc.args[2] = r->rdx;
	t->sc.args[3] = r->r10;
	t->sc.args[4] = r->r8;
	t->sc.args[5] = r->r9;
	if (t->sc.nr == SYS_bind || t->sc.nr == SYS_connect)
		read_addr(t, r->rsi, r->rdx);
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
	s->ino = read_sock_ino(p->pid, fd);
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
	struct sock_rec *s, *s2;
	long ret;
	int sv[2];

	if (!t->sc.nr)
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
	case SYS_socketpair:
		if (ret < 0 || remote_read(t->tid, (raddr_t){ t->sc.args[3] }, sv, sizeof(sv)) < 0)
			break;
		s = fresh_rec(p, sv[0]);
		s2 = fresh_rec(p, sv[1]);
		if (!s || !s2)
			break;
		s->domain = s2->domain = (int)t->sc.args[0];
		s->type = s2->type = (int)t->sc.args[1];
		s->protocol = s2->protocol = (int)t->sc.args[2];
		s->flags = s2->flags = SOCK_REC_PAIR | SOCK_REC_CONNECTED;
		s->pair_fd = sv[1];
		s2->pair_fd = sv[0];
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
