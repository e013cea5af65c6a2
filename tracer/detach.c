/*
 * Letting a computation go untraced (see detach.h).
 *
 * PTRACE_DETACH needs the thread in a ptrace-stop, so every process of the tracer is stopped
 * as for dmtcp_command --where (suspend_peek: nothing born meanwhile is held for a
 * checkpoint), and once all are, each thread is detached from its stop exactly as it would
 * have been let go (thread_detach: an interrupted epoll wait restarted, a held signal
 * delivered, a group-stopped process left stopped), its coordinator peer closed, and the
 * process dropped from the table; with none left the tracer's loop ends. A process forked
 * meanwhile is stopped and detached with the rest. A vfork parent cannot stop before its
 * child execs or exits: a process that has not stopped within DETACH_STOP_MS stays traced,
 * with a warning naming it.
 */
#include "detach.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "clock.h"
#include "core.h"
#include "log.h"
#include "loop.h"
#include "peer.h"
#include "proto.h"
#include "suspend.h"
#include "thread.h"

#define DETACH_STOP_MS 5000

struct detach_state {
	int active;	  /* a detach is under way */
	long deadline_us; /* when processes not stopped yet are given up */
	struct loop_job job;
};

static void detach_proc(struct tracer *tr, struct tracee_proc *p)
{
	struct tracee_thread *t;
	int n = 0;

	for (t = p->threads; t; t = t->next)
		if (t->state == TS_HELD && thread_detach(t) == 0)
			n++;
	pr_debug("pid %d (%s): detached %d threads", p->pid, p->prog, n);
	peer_close(p);
	ptable_del_proc(tr, p);
}

static void detach_job(struct tracer *tr, struct loop_job *job)
{
	struct detach_state *ds = (struct detach_state *)((char *)job -
							    offsetof(struct detach_state, job));
	struct tracee_proc *p, *next;
	int waiting = 0, late;

	if (!ds->active)
		return;
	for (p = ptable_first(tr); p; p = p->next) {
		if (p->ghost || p->phase == PP_SUSPENDED)
			continue;
		if (p->phase == PP_RUNNING && !p->in_vfork)
			suspend_peek(p);
		waiting += p->phase != PP_SUSPENDED;
	}
	late = mono_now_us() >= ds->deadline_us;
	if (waiting && !late)
		return; /* TEV_SUSPENDED, or the tick, brings us back */
	for (p = ptable_first(tr); p; p = next) {
		next = p->next;
		if (p->ghost)
			continue;
		if (p->phase == PP_SUSPENDED) {
			detach_proc(tr, p);
		} else {
			char why[256];

			suspend_why(p, why, sizeof(why));
			pr_warn("pid %d (%s): not stopped within %d s to be detached, stays traced: "
				"%s", p->pid, p->prog, DETACH_STOP_MS / 1000, why);
			if (p->peeking)
				resume_peek(p);
		}
	}
	ds->active = 0;
}

static enum peer_verdict on_detach(struct tracee_proc *p, const struct proto_in *in, void *arg)
{
	struct detach_state *ds = arg;
	struct tracer *tr = p->tracer;
	struct tracee_proc *q;

	(void)in;
	if (ds->active)
		return PEER_NEXT;
	for (q = ptable_first(tr); q; q = q->next)
		if (!q->ghost && !q->nofilter) {
			pr_err("pid %d (%s): cannot be detached: it carries the seccomp filter of "
			       "dmtcp_launch or dmtcp_restart, which cannot be taken off; nothing "
			       "detached", q->pid, q->prog);
			return PEER_NEXT;
		}
	pr_info("detaching %d processes on the coordinator's request", ptable_count(tr));
	ds->active = 1;
	ds->deadline_us = mono_now_us() + DETACH_STOP_MS * 1000L;
	loop_submit(tr, &ds->job);
	return PEER_NEXT;
}

static void on_event(struct tracer *tr, const struct tracer_ev *ev, void *arg)
{
	struct detach_state *ds = arg;

	(void)ev;
	if (ds->active)
		loop_submit(tr, &ds->job);
}

/* While a detach waits: look again now and then (a vfork child's exec, the deadline). */
static int detach_tick(struct tracer *tr, void *arg)
{
	struct detach_state *ds = arg;

	if (!ds->active)
		return -1;
	loop_submit(tr, &ds->job);
	return 20;
}

int detach_init(struct tracer *tr)
{
	static const enum tracer_event events[] = { TEV_SUSPENDED, TEV_PROC_EXIT, TEV_PROC_BORN };
	struct detach_state *ds = calloc(1, sizeof(*ds));
	unsigned i;
	int r = 0;

	if (!ds)
		return -ENOMEM;
	tr->detach = ds;
	ds->job.run = detach_job;
	for (i = 0; i < sizeof(events) / sizeof(events[0]) && !r; i++)
		r = hooks_on(tr, events[i], on_event, ds);
	if (!r)
		r = loop_add_tick(tr, detach_tick, ds);
	if (!r)
		r = peer_on_message(tr, MSG_DETACH, on_detach, ds);
	return r;
}

void detach_fini(struct tracer *tr)
{
	if (tr->detach)
		loop_cancel(tr, &tr->detach->job);
	free(tr->detach);
	tr->detach = NULL;
}
