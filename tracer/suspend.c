/*
 * Suspending and resuming one traced process for the coordinator's barriers.
 *
 * Suspend: PTRACE_INTERRUPT every running thread; each then reports a ptrace-stop that
 * events.c holds; once every thread is held, rescan /proc/PID/task for threads born meanwhile,
 * until stable. A thread interrupted inside a blocking syscall stops with the syscall's
 * restart code in rax (-ERESTARTSYS, -ERESTART_RESTARTBLOCK, ...); the kernel applies the
 * restart itself when the thread is let go without a signal, and -ERESTART_RESTARTBLOCK goes
 * through restart_syscall, which keeps the original deadline (nanosleep, poll, futex with a
 * timeout lose no time). So resume only lets each thread go exactly as it was held; registers
 * are never touched here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/unistd.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "tracer_int.h"

long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static long suspend_start_us; /* one suspend at a time is timed: the last one begun */

void suspend_begin(struct tracee_proc *p)
{
	struct tracee_thread *t;

	if (p->ghost)
		return;
	p->phase = PP_SUSPENDING;
	suspend_start_us = now_us();
	for (t = p->threads; t; t = t->next) {
		if (t->state != TS_RUNNING)
			continue;
		/* ESRCH: died meanwhile; its death is in the wait queue */
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0 && errno != ESRCH)
			pr_warn("tid %d: PTRACE_INTERRUPT failed: %s", t->tid, strerror(errno));
	}
	suspend_check(p);
}

/* A leader that called pthread_exit stays a zombie while other threads live: it never stops. */
static int leader_is_zombie(pid_t pid)
{
	char path[64], buf[512], *s;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	s = strrchr(buf, ')');
	return s && (s[2] == 'Z' || s[2] == 'X');
}

/* A thread /proc shows and the table does not have: auto-attached by PTRACE_O_TRACECLONE,
 * its first stop is on its way. */
static int add_newborn(struct tracee_proc *p, pid_t tid)
{
	return ptable_add_thread(p->tracer, p, tid, TS_NEW) ? 1 : 0;
}

void suspend_check(struct tracee_proc *p)
{
	struct tracee_thread *t;
	int n;

	if (p->phase != PP_SUSPENDING || p->ghost)
		return;
	for (t = p->threads; t; t = t->next)
		if (t->state != TS_HELD && !(t->tid == p->pid && leader_is_zombie(p->pid)))
			return;
	n = ptable_new_tasks(p, add_newborn);
	if (n != 0)
		return; /* new threads to wait for, or the process is going away */
	p->phase = PP_SUSPENDED;
	sockrec_resolve(p);
	sockrec_log(p);
	if (p->tracer->cfg.timings)
		pr_info("pid %d: suspended %d threads in %ld us", p->pid, p->nthreads,
			now_us() - suspend_start_us);
	if (p->suspend_pending) {
		p->suspend_pending = 0;
		peer_barrier_done(p, BARRIER_SUSPEND, 0, NULL, NULL);
		peer_serve_buffered(p); /* barriers that came in the meantime */
	}
}

/* Whether tid has a signal pending that it does not block (/proc/PID/task/TID/status). */
static int signal_pending(pid_t pid, pid_t tid)
{
	unsigned long long pnd = 0, shd = 0, blk = 0;
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return 1; /* cannot tell: leave the call alone */
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "SigPnd: %llx", &pnd);
		sscanf(line, "ShdPnd: %llx", &shd);
		sscanf(line, "SigBlk: %llx", &blk);
	}
	fclose(f);
	return ((pnd | shd) & ~blk) != 0;
}

/*
 * A few calls end with EINTR, not a restart code, when anything makes them look at signals,
 * our PTRACE_INTERRUPT included: epoll_wait, epoll_pwait and epoll_pwait2. Without a timeout
 * such a call is simply made again, as the kernel does with -ERESTARTSYS: back over the
 * two-byte syscall instruction, number back in rax. Not when a signal is pending (the program
 * is owed that EINTR), and not with a timeout (restarting would wait the whole timeout again).
 * A group-stop ends these calls with EINTR without a tracer too (signal(7)), so only stops of
 * our own making get here.
 */
void restart_eintr_call(struct tracee_thread *t)
{
	struct user_regs_struct r;
	int infinite;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0 || (long)r.rax != -EINTR)
		return;
	switch ((long)r.orig_rax) {
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
		infinite = (int)r.r10 < 0;
		break;
	case __NR_epoll_pwait2:
		infinite = r.r10 == 0; /* no timespec */
		break;
	default:
		return;
	}
	if (!infinite || signal_pending(t->proc->pid, t->tid))
		return;
	r.rip -= 2;
	r.rax = r.orig_rax;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0 && errno != ESRCH)
		pr_warn("tid %d: cannot restart its %s: %s", t->tid, "epoll wait", strerror(errno));
}

void resume_proc(struct tracee_proc *p)
{
	struct tracee_proc *c;
	struct tracee_thread *t;
	long t0 = now_us();

	if (p->ghost) {
		p->born_held = 0;
		return;
	}
	p->phase = PP_RUNNING;
	p->suspend_pending = 0;
	for (t = p->threads; t; t = t->next)
		if (t->state == TS_HELD)
			thread_resume(t, t->resume_how, t->resume_sig);
	if (p->tracer->cfg.timings)
		pr_info("pid %d: resumed %d threads in %ld us", p->pid, p->nthreads, now_us() - t0);
	/* Processes held for the coordinator (born during the suspend, or stopped with the
	 * tree) that it never took over go with it. */
	for (c = p->tracer->procs; c; c = c->next)
		if (c->born_held) {
			c->born_held = 0;
			resume_proc(c);
		}
}
