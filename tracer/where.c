/*
 * Where a traced process's threads are, for dmtcp_command --where (see where.h).
 */
#include "where.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtrace.h"
#include "clock.h"
#include "core.h"
#include "hooks.h"
#include "log.h"
#include "loop.h"
#include "peer.h"
#include "procfs.h"
#include "proto.h"
#include "suspend.h"
#include "where_line.h"

/* How long the threads may take to stop when the coordinator does not say (F_TIMEOUT_MS). */
#define WHERE_STOP_MS	  2000
#define WHERE_STOP_MS_MAX 60000
/* An answer's lines stop here, well inside PROTO_MAX_PAYLOAD: the coordinator passes it on
 * with the process's list line added. */
#define WHERE_REPLY_MAX (512u << 10)
/* Room for one frame line: the longest function and object names backtrace.c keeps. */
#define FRAME_LINE_MAX (64 + sizeof(((struct bt_frame *)0)->func) + sizeof(((struct bt_frame *)0)->obj))

/* A process's --where request (its process slot). */
struct where {
	struct tracee_proc *p;
	uint64_t id;	  /* F_WHERE_ID of the request being served */
	long stop_ms;	  /* how long its threads may take to stop */
	int pending;	  /* waiting for its turn: another process of the tree is stopped */
	uint64_t turn;	  /* the order of the pending ones */
	int stopping;	  /* stopped by us (suspend_peek), not answered yet */
	long start_us;	  /* when the stop began */
	long deadline_us; /* when the threads that have not stopped are given up */
	struct loop_job job;
};

/*
 * One process of the tree is stopped at a time: each stays stopped only for its own threads'
 * unwinding, not for the others' too (they are served in the order their requests came).
 */
struct where_state {
	int slot;
	int nstopping;	     /* processes with stopping set: 0 or 1 */
	int npending;	     /* processes with pending set */
	uint64_t turns;	     /* requests queued so far */
	struct loop_job next; /* serves the next pending request */
};

static void where_job(struct tracer *tr, struct loop_job *job);

static struct where *where_of(const struct tracee_proc *p)
{
	return p->slot[p->tracer->where->slot];
}

static struct where *where_make(struct tracee_proc *p)
{
	struct where *w = where_of(p);

	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w) {
		pr_err("pid %d: out of memory for its --where state", p->pid);
		return NULL;
	}
	w->p = p;
	w->job.run = where_job;
	p->slot[p->tracer->where->slot] = w;
	return w;
}

/* Not waiting for a stop or a turn any more (answered, or no one to answer); the next
 * request's turn comes. */
static void stop_waiting(struct where *w)
{
	struct where_state *ws = w->p->tracer->where;

	if (w->stopping) {
		w->stopping = 0;
		ws->nstopping--;
	}
	if (w->pending) {
		w->pending = 0;
		ws->npending--;
	}
	loop_cancel(w->p->tracer, &w->job);
	if (ws->npending)
		loop_submit(w->p->tracer, &ws->next);
}

static void where_destroy(struct tracee_proc *p, void *data)
{
	stop_waiting(data);
	(void)p;
	free(data);
}

/* ---- the answer ------------------------------------------------------------------------ */

static void put_thread(struct proto_msg *m, pid_t tid, const char *name, const char *note)
{
	struct where_thread wt = { (uint64_t)tid, name, note };
	char line[640];

	where_thread_format(line, sizeof(line), &wt);
	proto_put_str(m, F_THREAD, line);
}

static int cmp_tid(const void *a, const void *b)
{
	pid_t x = (*(struct tracee_thread *const *)a)->tid, y = (*(struct tracee_thread *const *)b)->tid;

	return (x > y) - (x < y);
}

/* Why thread t is not held after waited_ms. */
static void not_stopped_note(const struct tracee_thread *t, long waited_ms, char *note, size_t n)
{
	const struct tracee_proc *p = t->proc;
	int st = procfs_task_state(p->pid, t->tid);

	if (t->tid == p->pid && (st == 'Z' || st == 'X'))
		snprintf(note, n, "exited; the other threads run on");
	else if (st < 0)
		snprintf(note, n, "gone");
	else if (t->state == TS_NEW)
		snprintf(note, n, "just created; did not stop within %ld ms (state %c)", waited_ms, st);
	else
		snprintf(note, n, "did not stop within %ld ms (state %c)", waited_ms, st);
}

/*
 * One F_THREAD line per thread of p, leader first then by tid, and the F_FRAME lines of each
 * held thread, until the answer is WHERE_REPLY_MAX long: threads past it get a note instead.
 */
static void put_threads(struct proto_msg *m, struct tracee_proc *p, long waited_ms)
{
	struct tracee_thread **ts, *t;
	struct bt_frame *f;
	char name[64], note[160];
	int n = 0, i, k, nf;

	ts = calloc((size_t)p->nthreads + 1, sizeof(*ts));
	f = calloc(BACKTRACE_MAX_FRAMES, sizeof(*f));
	if (!ts || !f) {
		free(ts);
		free(f);
		m->err = -ENOMEM;
		return;
	}
	for (t = p->threads; t && n < p->nthreads; t = t->next)
		ts[n++] = t;
	qsort(ts, (size_t)n, sizeof(*ts), cmp_tid);
	for (i = 0; i < n; i++) {
		t = ts[i];
		if (procfs_comm(p->pid, t->tid, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "?");
		note[0] = '\0';
		nf = 0;
		if (t->state != TS_HELD) {
			not_stopped_note(t, waited_ms, note, sizeof(note));
		} else if (m->len + BACKTRACE_MAX_FRAMES * FRAME_LINE_MAX > WHERE_REPLY_MAX) {
			snprintf(note, sizeof(note), "frames left out: the answer is full");
		} else {
			nf = backtrace_frames(p->pid, t->tid, f, BACKTRACE_MAX_FRAMES);
			if (nf <= 0)
				snprintf(note, sizeof(note), "cannot unwind: %s",
					 nf < 0 ? strerror(-nf) : "no frame");
		}
		put_thread(m, t->tid, name, note);
		for (k = 0; k < nf; k++) {
			struct where_frame wf = { (uint64_t)t->tid, (uint32_t)k, f[k].ip, f[k].off,
						  f[k].func, f[k].obj };
			char line[FRAME_LINE_MAX];

			where_frame_format(line, sizeof(line), &wf);
			proto_put_str(m, F_FRAME, line);
		}
	}
	free(f);
	free(ts);
}

/*
 * The answer to request id: the process's note (NULL: none), and its threads' lines when
 * unwind is set (every held thread is unwound; the others get a note). A message that cannot
 * be built becomes a failure with its reason.
 */
static void build_answer(struct proto_msg *m, struct tracee_proc *p, uint64_t id,
			 const char *note, int unwind, long waited_ms)
{
	int r;

	proto_msg_init(m, MSG_WHERE_REPLY);
	proto_put_u64(m, F_WHERE_ID, id);
	proto_put_u64(m, F_STATUS, 0);
	if (note)
		proto_put_str(m, F_NOTE, note);
	if (unwind)
		put_threads(m, p, waited_ms);
	r = proto_finish(m);
	if (!r)
		return;
	proto_msg_free(m);
	pr_warn("pid %d: cannot build its --where answer: %s", p->pid, strerror(-r));
	proto_msg_init(m, MSG_WHERE_REPLY);
	proto_put_u64(m, F_WHERE_ID, id);
	proto_put_u64(m, F_STATUS, (uint64_t)(int64_t)r);
	proto_put_str(m, F_REASON, strerror(-r));
}

/* Answer with a note only, or with the threads as they are held. */
static void answer(struct tracee_proc *p, uint64_t id, const char *note, int unwind)
{
	struct proto_msg m;

	build_answer(&m, p, id, note, unwind, 0);
	peer_send_msg(p, &m);
}

/* The process's note, for one whose threads are unwound. */
static const char *state_note(const struct tracee_proc *p)
{
	return p->group_stopped ? "stopped (job control)" : NULL;
}

/* ---- serving the request --------------------------------------------------------------- */

/* p's threads are held (or some did not stop in time, or p ended): unwind, let go, answer. */
static void where_job(struct tracer *tr, struct loop_job *job)
{
	struct where *w = (struct where *)((char *)job - offsetof(struct where, job));
	struct tracee_proc *p = w->p;
	long waited_ms = (mono_now_us() - w->start_us) / 1000;
	long t0 = mono_now_us();

	if (!w->stopping)
		return;
	stop_waiting(w);
	if (p->ghost) {
		resume_peek(p); /* nothing to let go: the flag only */
		answer(p, w->id, "exited", 0);
	} else {
		struct proto_msg m;

		build_answer(&m, p, w->id, state_note(p), 1, waited_ms);
		/* Let go before the answer goes: the stop lasts only as long as the unwinding. */
		if (p->peeking)
			resume_peek(p);
		if (tracer_cfg(tr)->timings)
			pr_info("pid %d: --where: %d threads stopped in %ld ms, unwound in %ld us",
				p->pid, p->nthreads, waited_ms, mono_now_us() - t0);
		peer_send_msg(p, &m);
	}
	peer_serve(p); /* the coordinator's messages that came meanwhile */
}

/* A process of the tree that p vforked and that has not exec'd yet, or NULL. */
static const struct tracee_proc *vfork_child(struct tracee_proc *p)
{
	const struct tracee_proc *c;

	for (c = ptable_first(p->tracer); c; c = c->next)
		if (c->in_vfork && c->ppid == p->pid && !c->ghost)
			return c;
	return NULL;
}

/*
 * Serve w's request (w->id, w->stop_ms): answer at once with a note when p must not or need
 * not be stopped (returns 0), else stop it (returns 1: where_job answers).
 */
static int serve(struct where *w)
{
	struct tracee_proc *p = w->p;
	const struct tracee_proc *c;
	char note[128];

	if (p->ghost) {
		answer(p, w->id, "exited", 0);
		return 0;
	}
	/* A vfork parent cannot stop until its child execs or exits (events.c): neither is
	 * touched. */
	if (p->in_vfork) {
		answer(p, w->id, "vfork child that has not exec'd yet; not stopped", 0);
		return 0;
	}
	if ((c = vfork_child(p))) {
		snprintf(note, sizeof(note),
			 "vfork parent waiting for child %d to exec or exit; not stopped", c->pid);
		answer(p, w->id, note, 0);
		return 0;
	}
	if (p->phase == PP_SUSPENDED) {
		/* Held for a checkpoint that reached its tree: unwound as it is. */
		answer(p, w->id, "held for a checkpoint", 1);
		return 0;
	}
	if (p->phase == PP_SUSPENDING) {
		answer(p, w->id, "being suspended for a checkpoint; not unwound", 0);
		return 0;
	}
	w->stopping = 1;
	p->tracer->where->nstopping++;
	w->start_us = mono_now_us();
	w->deadline_us = w->start_us + w->stop_ms * 1000L;
	suspend_peek(p);
	if (p->phase == PP_SUSPENDED)
		loop_submit(p->tracer, &w->job);
	return 1;
}

/* The oldest pending request, once no process is stopped for one. */
static void next_job(struct tracer *tr, struct loop_job *job)
{
	struct where_state *ws = tr->where;
	struct tracee_proc *p;
	struct where *w, *first;

	(void)job;
	while (!ws->nstopping && ws->npending) {
		first = NULL;
		for (p = ptable_first(tr); p; p = p->next)
			if ((w = where_of(p)) && w->pending && (!first || w->turn < first->turn))
				first = w;
		if (!first)
			break;
		first->pending = 0;
		ws->npending--;
		if (!serve(first))
			peer_serve(first->p); /* answered: its later messages go on */
	}
}

static enum peer_verdict on_where(struct tracee_proc *p, const struct proto_in *in, void *arg)
{
	struct where_state *ws = arg;
	struct where *w;
	uint64_t id, v;

	if (proto_get_u64(in, F_WHERE_ID, &id))
		return peer_invalid(p, "WHERE without F_WHERE_ID");
	w = where_make(p);
	if (!w) {
		answer(p, id, "out of memory in the tracer; not unwound", 0);
		return PEER_NEXT;
	}
	w->id = id;
	w->stop_ms = WHERE_STOP_MS;
	if (!proto_get_u64(in, F_TIMEOUT_MS, &v) && v > 0)
		w->stop_ms = v < WHERE_STOP_MS_MAX ? (long)v : WHERE_STOP_MS_MAX;
	if (ws->nstopping || ws->npending) {
		w->pending = 1;
		w->turn = ++ws->turns;
		ws->npending++;
		return PEER_PAUSE;
	}
	/* Later messages (a checkpoint's suspend) wait for the answer (where_job). */
	return serve(w) ? PEER_PAUSE : PEER_NEXT;
}

/* Give up on the threads that have not stopped once a request's time is over. Returns the
 * milliseconds until the next deadline, or -1. */
static int where_tick(struct tracer *tr, void *arg)
{
	struct where_state *ws = arg;
	struct tracee_proc *p;
	struct where *w;
	long now, wait = -1;

	if (!ws->nstopping)
		return -1;
	now = mono_now_us();
	for (p = ptable_first(tr); p; p = p->next) {
		w = where_of(p);
		if (!w || !w->stopping)
			continue;
		if (now >= w->deadline_us)
			loop_submit(tr, &w->job);
		else if (wait < 0 || w->deadline_us - now < wait)
			wait = w->deadline_us - now;
	}
	return wait < 0 ? -1 : (int)(wait / 1000) + 1;
}

static void on_event(struct tracer *tr, const struct tracer_ev *ev, void *arg)
{
	struct where *w = where_of(ev->p);

	(void)arg;
	if (!w || !(w->stopping || w->pending))
		return;
	switch (ev->type) {
	case TEV_SUSPENDED:
	case TEV_PROC_EXIT: /* a ghost now, answered as such; else it is freed with its slot */
		if (w->stopping)
			loop_submit(tr, &w->job);
		break;
	case TEV_DISCONNECTED:
		/* No one to answer: let it go at once (or never stop it). */
		stop_waiting(w);
		if (ev->p->peeking)
			resume_peek(ev->p);
		break;
	default:
		break;
	}
}

int where_init(struct tracer *tr)
{
	static const enum tracer_event events[] = { TEV_SUSPENDED, TEV_PROC_EXIT,
						    TEV_DISCONNECTED };
	struct where_state *ws = calloc(1, sizeof(*ws));
	unsigned i;
	int r = 0;

	if (!ws)
		return -ENOMEM;
	tr->where = ws;
	ws->next.run = next_job;
	ws->slot = ptable_proc_slot_new(tr, where_destroy);
	if (ws->slot < 0)
		return ws->slot;
	for (i = 0; i < sizeof(events) / sizeof(events[0]) && !r; i++)
		r = hooks_on(tr, events[i], on_event, ws);
	if (!r)
		r = loop_add_tick(tr, where_tick, ws);
	if (!r)
		r = peer_on_message(tr, MSG_WHERE, on_where, ws);
	return r;
}

void where_fini(struct tracer *tr)
{
	if (tr->where)
		loop_cancel(tr, &tr->where->next);
	free(tr->where);
	tr->where = NULL;
}
