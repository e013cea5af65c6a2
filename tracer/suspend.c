/*
 * Suspending and resuming one traced process (see suspend.h).
 *
 * A thread interrupted inside a blocking syscall stops with the syscall's restart code in rax
 * (-ERESTARTSYS, -ERESTART_RESTARTBLOCK, ...); the kernel applies the restart itself when the
 * thread is let go without a signal, and -ERESTART_RESTARTBLOCK goes through restart_syscall,
 * which keeps the original deadline (nanosleep, poll, futex with a timeout lose no time). So
 * resume only lets each thread go exactly as it was held; registers are not touched here
 * (thread_resume restarts an epoll wait our interrupt ended with EINTR).
 */
#include "suspend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core.h"
#include "log.h"
#include "procfs.h"
#include "thread.h"

static long suspend_start_us; /* one suspend at a time is timed: the last one begun */

void suspend_begin(struct tracee_proc *p)
{
	struct tracee_thread *t;

	if (p->ghost)
		return;
	p->phase = PP_SUSPENDING;
	suspend_start_us = mono_now_us();
	for (t = p->threads; t; t = t->next)
		if (t->state == TS_RUNNING)
			thread_interrupt(t);
	suspend_check(p);
}

/* A leader that called pthread_exit stays a zombie while other threads live: it never stops. */
static int leader_is_zombie(pid_t pid)
{
	return procfs_task_ended(pid, pid);
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
	if (tracer_cfg(p->tracer)->timings)
		pr_info("pid %d: suspended %d threads in %ld us", p->pid, p->nthreads,
			mono_now_us() - suspend_start_us);
	hooks_fire_proc(p->tracer, TEV_SUSPENDED, p);
}

/* Let p's held threads go as they were held; returns how many went. */
static int resume_threads(struct tracee_proc *p)
{
	struct tracee_thread *t;
	long t0 = mono_now_us();
	int n = 0;

	p->phase = PP_RUNNING;
	p->peeking = 0;
	for (t = p->threads; t; t = t->next)
		if (t->state == TS_HELD && thread_resume(t, t->resume_how, t->resume_sig) == 0)
			n++;
	if (tracer_cfg(p->tracer)->timings)
		pr_info("pid %d: resumed %d threads in %ld us", p->pid, p->nthreads,
			mono_now_us() - t0);
	hooks_fire_proc(p->tracer, TEV_RESUMED, p);
	return n;
}

int resume_proc(struct tracee_proc *p)
{
	struct tracee_proc *c;
	int n;

	if (p->ghost) {
		p->born_held = 0;
		return 0;
	}
	n = resume_threads(p);
	/* Processes held for the coordinator (born during the suspend, or stopped with the
	 * tree) that it never took over go with it. */
	for (c = ptable_first(p->tracer); c; c = c->next)
		if (c->born_held) {
			c->born_held = 0;
			resume_proc(c);
		}
	return n;
}

void suspend_peek(struct tracee_proc *p)
{
	if (p->ghost)
		return;
	p->peeking = 1;
	suspend_begin(p);
}

void resume_peek(struct tracee_proc *p)
{
	if (p->ghost) {
		p->peeking = 0;
		return;
	}
	resume_threads(p);
}

static const char *state_name(int st)
{
	switch (st) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "in uninterruptible sleep";
	case 'T': return "stopped";
	case 't': return "in a ptrace stop";
	case 'Z': return "a zombie";
	default: return "in state ?";
	}
}

void suspend_why(const struct tracee_proc *p, char *buf, size_t n)
{
	const struct tracee_proc *c;
	const struct tracee_thread *t;
	char wchan[64] = "";
	char *text = NULL;
	size_t len = 0;
	int st;

	buf[0] = '\0';
	if (p->in_vfork) {
		snprintf(buf, n, "a vfork child: runs on until it execs or exits, as it shares its "
				 "parent's memory");
		return;
	}
	for (c = ptable_first(p->tracer); c; c = c->next)
		if (c->in_vfork && c->ppid == p->pid) {
			snprintf(buf, n, "waits for its vfork child %d to exec or exit", c->pid);
			return;
		}
	for (t = p->threads; t; t = t->next) {
		if (t->state == TS_HELD)
			continue;
		st = procfs_task_state(p->pid, t->tid);
		if (st < 0)
			continue;
		if (procfs_read(p->pid, t->tid, "wchan", &text, &len) == 0 && len &&
		    strcmp(text, "0"))
			snprintf(wchan, sizeof(wchan), ", in %.*s", (int)(len < 40 ? len : 40), text);
		free(text);
		text = NULL;
		snprintf(buf, n, "thread %d not stopped yet: %s%s", t->tid, state_name(st), wchan);
		return;
	}
	/* Nothing visibly in the way: say what the tracer knows, so a hang can be told apart. */
	if (!p->threads) {
		snprintf(buf, n, "no thread left; its exit not reported yet");
		return;
	}
	for (t = p->threads; t; t = t->next)
		if (t->state != TS_HELD)
			break;
	if (t)
		snprintf(buf, n, "thread %d gone from /proc, its exit not reported (%s)", t->tid,
			 t->state == TS_NEW ? "its first stop never seen" : "last let run");
	else
		snprintf(buf, n, "every thread stopped, phase %d not seen as suspended", p->phase);
}
