/*
 * The coordinator's barriers, per traced process (see barriers.h).
 */
#include "barriers.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "core.h"
#include "hooks.h"
#include "log.h"
#include "loop.h"
#include "peer.h"
#include "proto.h"
#include "suspend.h"
#include "testhook.h"

#define NAMED_MAX 8

/* A process's state in the barrier sequence (its process slot). */
struct bar {
	struct tracee_proc *p;
	uint64_t generation;  /* checkpoint generation of the current barrier sequence */
	uint64_t ckpt_id;     /* its unique id and number of processes (checkpoint barrier) */
	uint32_t nprocs;
	int suspend_pending;  /* a suspend arrived; its BARRIER_DONE is not sent yet */
	int suspend_held;     /* stopped, but the answer waits for the tree's announcements */
	long suspend_at_us;   /* when the coordinator's suspend came */
	int late_told;	      /* the coordinator was told why the answer is late */
	int in_barrier;	      /* between the coordinator's suspend and its resume/abort */
	int committed;	      /* the current checkpoint's commit step ran for this process */
	uint64_t image_gen;   /* the generation whose checkpoint step wrote its image */
	int lost;	      /* killed while stopped for the checkpoint, before its image */
	uint64_t ckpts_done;  /* checkpoints completed / abandoned, for the dmtcp.h API */
	uint64_t ckpts_failed;
	long ghost_until_us;  /* a ghost's grace (see barriers.h) */
	struct loop_job step_job;
	enum ckpt_step_kind step;
	char step_barrier[BARRIER_NAME_MAX + 1];
	long progress_at_us;  /* when the next CKPT_PROGRESS may go */
};

/* A suspend answer later than this tells the coordinator why (F_WAITING). */
#define LATE_US 1000000L

/* How often a long checkpoint step tells the coordinator how far it is. */
#define PROGRESS_EVERY_US 250000L

struct barrier_state {
	int slot;
	int nghosts;
	int nheld;	/* processes with suspend_held */
	int suspending; /* a suspend came: late_tick() looks for answers that are late */
	struct {
		char name[BARRIER_NAME_MAX + 1];
		tracer_barrier_fn fn;
		void *arg;
	} named[NAMED_MAX];
	int nnamed;
};

static void step_job(struct tracer *tr, struct loop_job *job);

static struct bar *bar_of(const struct tracee_proc *p)
{
	return p->slot[p->tracer->barriers->slot];
}

static struct bar *bar_make(struct tracee_proc *p)
{
	struct bar *b = bar_of(p);

	if (b)
		return b;
	b = calloc(1, sizeof(*b));
	if (!b) {
		pr_err("pid %d: out of memory for its checkpoint state", p->pid);
		return NULL;
	}
	b->p = p;
	b->step_job.run = step_job;
	p->slot[p->tracer->barriers->slot] = b;
	return b;
}

static void bar_destroy(struct tracee_proc *p, void *data)
{
	struct bar *b = data;

	if (p->ghost)
		p->tracer->barriers->nghosts--;
	if (b->suspend_held)
		p->tracer->barriers->nheld--;
	loop_cancel(p->tracer, &b->step_job);
	free(b);
}

void barriers_counts(const struct tracee_proc *p, uint64_t *done, uint64_t *failed)
{
	const struct bar *b = bar_of(p);

	*done = b ? b->ckpts_done : 0;
	*failed = b ? b->ckpts_failed : 0;
}

int barriers_add_named(struct tracer *tr, const char *name, tracer_barrier_fn fn, void *arg)
{
	struct barrier_state *bs = tr->barriers;
	int i;

	for (i = 0; i < bs->nnamed; i++)
		if (!strcmp(bs->named[i].name, name))
			return -EEXIST;
	if (bs->nnamed == NAMED_MAX || strlen(name) >= sizeof(bs->named[0].name))
		return -ENOMEM;
	snprintf(bs->named[bs->nnamed].name, sizeof(bs->named[0].name), "%s", name);
	bs->named[bs->nnamed].fn = fn;
	bs->named[bs->nnamed].arg = arg;
	bs->nnamed++;
	return 0;
}

static void done(struct bar *b, const char *barrier, int status, const char *reason,
		 const char *image, uint64_t image_size)
{
	peer_barrier_done(b->p, b->generation, barrier, status, reason, image, image_size);
}

/*
 * The answer to a suspend. The coordinator closes the checkpoint's set of processes when
 * every one has answered, so none may answer while a process of the tree is still unknown to
 * it (a child forked just before the stop, its announcement pending or its HELLO not yet
 * welcomed): the answers are held until the coordinator knows them all, and a late child is
 * then in the set with its parent (its HELLO reaches the coordinator before the last answer).
 * Returns 1 when sent, 0 when held (release_suspends() sends it).
 */
static int answer_suspend(struct bar *b)
{
	struct tracer *tr = b->p->tracer;

	if (peer_unannounced(tr)) {
		if (!b->suspend_held) {
			b->suspend_held = 1;
			tr->barriers->nheld++;
		}
		return 0;
	}
	testhook_step_delay(BARRIER_SUSPEND);
	done(b, BARRIER_SUSPEND, 0, NULL, NULL, 0);
	return 1;
}

/* The suspend is over for b (resumed, aborted): no answer to hold any more. */
static void unhold(struct bar *b)
{
	if (b->suspend_held) {
		b->suspend_held = 0;
		b->p->tracer->barriers->nheld--;
	}
}

/* Send the held suspend answers once the coordinator knows every process of the tree. */
static void release_suspends(struct tracer *tr, void *arg)
{
	struct barrier_state *bs = arg;
	struct tracee_proc *p;
	struct bar *b;

	if (!bs->nheld || peer_unannounced(tr))
		return;
	for (p = ptable_first(tr); p; p = p->next) {
		b = bar_of(p);
		if (!b || !b->suspend_held)
			continue;
		b->suspend_held = 0;
		bs->nheld--;
		testhook_step_delay(BARRIER_SUSPEND);
		done(b, BARRIER_SUSPEND, 0, NULL, NULL, 0);
		peer_serve(p); /* barriers that came in the meantime */
	}
}

/* Some live process of the tree is between the coordinator's suspend and resume. */
static int checkpoint_running(struct tracer *tr)
{
	struct tracee_proc *q;
	struct bar *b;

	for (q = ptable_first(tr); q; q = q->next)
		if (!q->ghost && (b = bar_of(q)) && b->in_barrier)
			return 1;
	return 0;
}

/*
 * A suspend answer that is late (a vfork parent waiting for its child, a thread in
 * uninterruptible sleep, a new process the coordinator does not know yet) is explained to the
 * coordinator once, so that its status says what the checkpoint waits for. The coordinator
 * forgets the reason with the answer. Returns the milliseconds until the next one is due.
 */
static int late_tick(struct tracer *tr, void *arg)
{
	struct barrier_state *bs = arg;
	struct tracee_proc *p;
	long now, wait = -1;
	char why[200];
	struct bar *b;

	if (!bs->suspending)
		return -1;
	now = mono_now_us();
	bs->suspending = 0;
	for (p = ptable_first(tr); p; p = p->next) {
		b = bar_of(p);
		if (!b || !(b->suspend_pending || b->suspend_held) || b->late_told)
			continue;
		bs->suspending = 1;
		if (now < b->suspend_at_us + LATE_US) {
			if (wait < 0 || b->suspend_at_us + LATE_US - now < wait)
				wait = b->suspend_at_us + LATE_US - now;
			continue;
		}
		if (b->suspend_held)
			snprintf(why, sizeof(why), "stopped; waits until the coordinator knows the "
						   "%d new processes of its tree", peer_unannounced(tr));
		else
			suspend_why(p, why, sizeof(why));
		if (why[0])
			peer_waiting(p, why);
		b->late_told = 1;
	}
	return wait < 0 ? -1 : (int)(wait / 1000) + 1;
}

/* Ghosts kept in case the checkpoint included them, which it did not: they can go now. */
static void close_idle_ghosts(struct tracer *tr)
{
	struct tracee_proc *q;
	struct bar *b;

	if (!tr->barriers->nghosts)
		return;
	for (q = ptable_first(tr); q; q = q->next)
		if (q->ghost && (!(b = bar_of(q)) || !b->in_barrier))
			peer_close(q); /* the tick frees it */
}

/*
 * Free ghosts whose connection is closed, or whose grace is over with no checkpoint under
 * way. Returns the milliseconds until the next grace ends, or -1.
 */
static int ghost_tick(struct tracer *tr, void *arg)
{
	struct barrier_state *bs = arg;
	struct tracee_proc *p, *next;
	long now, wait = -1;
	int running;
	struct bar *b;

	if (!bs->nghosts)
		return -1;
	now = mono_now_us();
	running = checkpoint_running(tr);
	for (p = ptable_first(tr); p; p = next) {
		next = p->next;
		if (!p->ghost)
			continue;
		b = bar_of(p);
		if (peer_connected(p) && !b->in_barrier && !running && now >= b->ghost_until_us)
			peer_close(p);
		if (!peer_connected(p)) {
			ptable_del_proc(tr, p);
			continue;
		}
		if (!b->in_barrier && (wait < 0 || b->ghost_until_us - now < wait))
			wait = b->ghost_until_us - now;
	}
	if (wait < 0)
		return -1;
	return (int)(wait / 1000) + 1;
}

/*
 * The coordinator sends 'suspend' to every peer at once, but each arrives on its own
 * connection: stop every other process of the tree now rather than when its own message is
 * read, so that none runs on (forks, exits, writes to a peer) while the others are stopped.
 * They are held for the coordinator (born_held) until it takes them over with their own
 * barrier, or are let go with the resume of the others.
 */
static void suspend_tree(struct tracer *tr, uint64_t gen)
{
	struct tracee_proc *q;
	struct bar *b;

	/* A newborn of the wait statuses handled just now is not announced yet (the loop's
	 * tick does it after them): it is part of the tree all the same. */
	peer_announce_all(tr);
	for (q = ptable_first(tr); q; q = q->next) {
		if (q->phase != PP_RUNNING || q->nocheckpoint || !peer_connected(q) || q->ghost)
			continue;
		b = bar_make(q);
		if (b)
			b->generation = gen;
		q->born_held = 1;
		suspend_begin(q);
	}
}

/* A long step's progress, on to the coordinator a few times a second. */
static void step_progress(struct ckpt_step *step, uint64_t bytes)
{
	struct bar *b = step->progress_arg;
	long now = mono_now_us();

	if (now < b->progress_at_us)
		return;
	b->progress_at_us = now + PROGRESS_EVERY_US;
	peer_ckpt_progress(b->p, b->generation, bytes);
}

/* A checkpoint step of p, as a job of the loop; p's later messages wait for it. */
static void step_job(struct tracer *tr, struct loop_job *job)
{
	struct bar *b = (struct bar *)((char *)job - offsetof(struct bar, step_job));
	struct tracee_proc *p = b->p;
	struct ckpt_step step;
	int r;

	memset(&step, 0, sizeof(step));
	step.generation = b->generation;
	step.ckpt_id = b->ckpt_id;
	step.nprocs = b->nprocs;
	step.compid = peer_compid(p);
	step.ckptdir = peer_ckptdir(p);
	step.progress = step_progress;
	step.progress_arg = b;
	b->progress_at_us = mono_now_us() + PROGRESS_EVERY_US;
	testhook_step_delay(b->step_barrier);
	if (p->phase != PP_SUSPENDED) {
		done(b, b->step_barrier, -EINVAL, "process is not suspended", NULL, 0);
	} else {
		r = hooks_run_step(tr, b->step, p, &step);
		if (r < 0)
			pr_err("pid %d: checkpoint step '%s' failed: %s", p->pid, b->step_barrier,
			       step.reason[0] ? step.reason : strerror(-r));
		else if (b->step == STEP_CHECKPOINT)
			b->image_gen = b->generation;
		done(b, b->step_barrier, r, step.reason, step.image, step.image_size);
	}
	peer_serve(p);
}

static enum ckpt_step_kind step_of(const char *name)
{
	if (!strcmp(name, BARRIER_DRAIN))
		return STEP_DRAIN;
	if (!strcmp(name, BARRIER_CHECKPOINT))
		return STEP_CHECKPOINT;
	if (!strcmp(name, BARRIER_COMMIT))
		return STEP_COMMIT;
	if (!strcmp(name, BARRIER_REFILL))
		return STEP_REFILL;
	return STEP__COUNT;
}

/*
 * A restored process that ended while its restart held it (tracee_proc.restoring: adopted by
 * dmtcp_restart, not yet let go by the restart's resume barrier) never ran as the program
 * again, so the restart cannot be whole. It is abandoned at once rather than run without
 * that process: one line says why, every other process of the restart is killed (those still
 * held ran nothing of the program; one the same resume barrier let go a moment ago would run
 * without its peer), their peers close without ghosts, so the coordinator sees the restart's
 * processes leave, and tracer_run() returns the failure: dmtcp_restart exits with
 * DMTCP_FAIL_RC, not with the status of a program that never ran (events.c). The images are
 * untouched: the same images or restart script can be run again.
 */
static void restart_lost(struct tracer *tr, struct tracee_proc *p, int status)
{
	struct tracee_proc *q;

	if (tr->run_err)
		return; /* one of those killed below */
	tr->run_err = -ECHILD;
	pr_err("pid %d %s %d before its restore completed", p->vpid ? p->vpid : p->pid,
	       WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	for (q = ptable_first(tr); q; q = q->next)
		if (q != p && !q->ghost)
			kill(q->pid, SIGKILL);
}

static enum peer_verdict on_suspend(struct tracer *tr, struct bar *b, uint64_t gen)
{
	struct tracee_proc *p = b->p;

	b->generation = gen;
	b->suspend_pending = 1;
	b->suspend_at_us = mono_now_us();
	b->late_told = 0;
	tr->barriers->suspending = 1;
	if (p->phase == PP_RUNNING) {
		suspend_begin(p);
	} else if (p->phase == PP_SUSPENDED) {
		/* held from birth, or a repeated suspend: already there */
		b->suspend_pending = 0;
		suspend_tree(tr, gen);
		return answer_suspend(b) ? PEER_NEXT : PEER_PAUSE;
	} else {
		suspend_check(p);
	}
	suspend_tree(tr, gen);
	/* The rest of its messages wait until it is stopped (on_suspended) and answered. */
	return (p->phase == PP_SUSPENDING && b->suspend_pending) || b->suspend_held ? PEER_PAUSE
										      : PEER_NEXT;
}

static void on_resume(struct tracer *tr, struct bar *b, const char *name)
{
	struct tracee_proc *p = b->p;
	int abort = !strcmp(name, BARRIER_ABORT);
	struct ckpt_step step;
	int r = 0;

	memset(&step, 0, sizeof(step));
	step.generation = b->generation;
	step.ckpt_id = b->ckpt_id;
	step.nprocs = b->nprocs;
	step.compid = peer_compid(p);
	step.ckptdir = peer_ckptdir(p);
	testhook_step_delay(name);
	if (p->phase == PP_SUSPENDED) {
		r = hooks_run_step(tr, abort ? STEP_ABORT : STEP_RESUME, p, &step);
		if (r < 0)
			pr_err("pid %d: checkpoint step '%s' failed: %s", p->pid, name,
			       step.reason[0] ? step.reason : strerror(-r));
	}
	if (abort)
		b->ckpts_failed++;
	else if (b->committed)
		b->ckpts_done++;
	b->committed = 0;
	b->suspend_pending = 0;
	unhold(b);
	/* Let go whatever is held even if a step failed: never leave it stopped. A restored
	 * process runs as the program from here, unless a SIGKILL came while it was held (no
	 * thread could be let go: its death is on its way) or its restart is lost; then its
	 * resume fails, so that the coordinator does not count the restart complete. */
	if (resume_proc(p) > 0 && !tr->run_err) {
		p->restoring = 0;
	} else if (p->restoring && !r) {
		r = -ESRCH;
		snprintf(step.reason, sizeof(step.reason),
			 "pid %d was killed before its restore completed", p->vpid ? p->vpid : p->pid);
	}
	done(b, name, r, step.reason, NULL, 0);
	if (p->ghost)
		peer_close(p); /* the tick frees it */
	close_idle_ghosts(tr);
}

/* A checkpoint abandoned without its coordinator: the abort step, then the threads go. */
static void abort_locally(struct tracer *tr, struct tracee_proc *p, struct bar *b)
{
	struct ckpt_step step;
	int r = 0;

	memset(&step, 0, sizeof(step));
	if (b)
		step.generation = b->generation;
	if (p->phase == PP_SUSPENDED)
		r = hooks_run_step(tr, STEP_ABORT, p, &step);
	if (r < 0)
		pr_err("pid %d: checkpoint step 'abort' failed: %s", p->pid,
		       step.reason[0] ? step.reason : strerror(-r));
	if (b) {
		if (b->in_barrier)
			b->ckpts_failed++;
		b->in_barrier = 0;
		b->committed = 0;
		b->suspend_pending = 0;
		unhold(b);
	}
	pr_warn("pid %d: %s: no coordinator; the program runs on", p->pid,
		p->restoring ? "its restart goes on alone" : "checkpoint abandoned");
	if (resume_proc(p) > 0 && !tr->run_err)
		p->restoring = 0;
}

/*
 * A ghost's barrier that needs no step: answered here (returns 1). A ghost has no process
 * left to suspend, drain, save or refill, but its image, when it wrote one before it died,
 * is as good as any other: the commit renames it and the resume or abort steps tidy after it
 * like anyone's (returns 0: the caller runs them). A ghost killed while it was stopped for the
 * checkpoint, before its image was written (lost), fails the checkpoint instead: the set of
 * images would lack a process that was part of the computation when it stopped, and its
 * completion would retire the others' previous images.
 */
static int ghost_answers(struct bar *b, const char *name, uint64_t gen)
{
	struct tracee_proc *p = b->p;
	char why[160];

	if (!strcmp(name, BARRIER_SUSPEND)) {
		b->generation = gen;
		return 0;
	}
	if (!strcmp(name, BARRIER_COMMIT) || !b->in_barrier)
		return 0;
	if (b->lost && (!strcmp(name, BARRIER_DRAIN) || !strcmp(name, BARRIER_CHECKPOINT))) {
		snprintf(why, sizeof(why),
			 "pid %d was killed while stopped for the checkpoint, before its image was "
			 "written", p->pid);
		pr_warn("%s", why);
		done(b, name, -ESRCH, why, NULL, 0);
		return 1;
	}
	done(b, name, 0, NULL, NULL, 0);
	return 1;
}

/* The index of the handler of barrier name, or -1. */
static int named_of(const struct barrier_state *bs, const char *name)
{
	int i;

	for (i = 0; i < bs->nnamed; i++)
		if (!strcmp(bs->named[i].name, name))
			return i;
	return -1;
}

static enum peer_verdict on_barrier(struct tracer *tr, struct bar *b, const char *name,
				    uint64_t gen)
{
	struct barrier_state *bs = tr->barriers;
	struct tracee_proc *p = b->p;
	enum ckpt_step_kind k = step_of(name);
	int named = named_of(bs, name);
	char why[128];
	int r;

	pr_debug("pid %d: barrier %s (generation %llu)", p->pid, name, (unsigned long long)gen);
	/*
	 * A barrier the coordinator has no business sending now is answered with an error and
	 * changes nothing: a name no one serves, or a step of a checkpoint for a process that is
	 * not stopped for one. Taken as part of a checkpoint, it would keep the process (once it
	 * exits: its ghost) and its tree's ghosts connected until a resume that never comes.
	 */
	if (k == STEP__COUNT && named < 0 && strcmp(name, BARRIER_SUSPEND) &&
	    strcmp(name, BARRIER_RESUME) && strcmp(name, BARRIER_ABORT)) {
		snprintf(why, sizeof(why), "unknown barrier '%s'", name);
		pr_warn("pid %d: %s", p->pid, why);
		done(b, name, -EINVAL, why, NULL, 0);
		return PEER_NEXT;
	}
	if (k != STEP__COUNT && !p->ghost && p->phase != PP_SUSPENDED) {
		done(b, name, -EINVAL, "process is not suspended", NULL, 0);
		return PEER_NEXT;
	}
	b->in_barrier = strcmp(name, BARRIER_RESUME) && strcmp(name, BARRIER_ABORT);
	if (p->ghost && ghost_answers(b, name, gen))
		return PEER_NEXT;
	if (p->ghost && !strcmp(name, BARRIER_SUSPEND))
		return answer_suspend(b) ? PEER_NEXT : PEER_PAUSE;
	/* The coordinator has taken this process over: it follows its own barriers now. */
	p->born_held = 0;
	if (!strcmp(name, BARRIER_SUSPEND))
		return on_suspend(tr, b, gen);
	if (!b->in_barrier) {
		on_resume(tr, b, name);
		return PEER_NEXT;
	}
	if (k != STEP__COUNT) {
		if (k == STEP_COMMIT)
			b->committed = 1;
		b->step = k;
		snprintf(b->step_barrier, sizeof(b->step_barrier), "%s", name);
		loop_submit(tr, &b->step_job);
		return PEER_PAUSE;
	}
	b->generation = gen;
	testhook_step_delay(name);
	r = bs->named[named].fn(p->pid, bs->named[named].arg);
	done(b, name, r, NULL, NULL, 0);
	return PEER_NEXT;
}

/* A barrier's name is a word: it is logged, and answered in BARRIER_DONE. */
static int name_ok(const char *name)
{
	const unsigned char *c = (const unsigned char *)name;
	size_t i;

	for (i = 0; c[i]; i++)
		if (i == BARRIER_NAME_MAX || c[i] <= ' ' || c[i] > '~')
			return 0;
	return i > 0;
}

static enum peer_verdict on_message(struct tracee_proc *p, const struct proto_in *in, void *arg)
{
	struct barrier_state *bs = arg;
	struct bar *b;
	const char *name;
	uint64_t gen;

	(void)bs;
	name = proto_get_str(in, F_BARRIER);
	if (!name || proto_get_u64(in, F_GENERATION, &gen) < 0)
		return peer_invalid(p, "BARRIER without F_BARRIER or F_GENERATION");
	if (!name_ok(name))
		return peer_invalid(p, "BARRIER whose name is not a word of at most %d characters",
				    BARRIER_NAME_MAX);
	if (gen == 0)
		return peer_invalid(p, "BARRIER of generation 0");
	b = bar_make(p);
	if (!b)
		return PEER_NEXT;
	if (!strcmp(name, BARRIER_CHECKPOINT) || !strcmp(name, BARRIER_COMMIT)) {
		uint64_t v;

		b->ckpt_id = proto_get_u64(in, F_CKPT_ID, &v) == 0 ? v : 0;
		b->nprocs = proto_get_u64(in, F_NUM_PEERS, &v) == 0 && v <= UINT32_MAX ?
				    (uint32_t)v : 0;
	}
	return on_barrier(p->tracer, b, name, gen);
}

static void on_event(struct tracer *tr, const struct tracer_ev *ev, void *arg)
{
	struct barrier_state *bs = arg;
	struct tracee_proc *p = ev->p;
	struct bar *b = bar_of(p), *pb;

	switch (ev->type) {
	case TEV_PROC_BORN:
		if (ev->parent && (pb = bar_of(ev->parent)) && (b = bar_make(p)))
			b->generation = pb->generation;
		break;
	case TEV_SUSPENDED:
		if (b && b->suspend_pending) {
			b->suspend_pending = 0;
			if (answer_suspend(b))
				peer_serve(p); /* barriers that came in the meantime */
		}
		break;
	case TEV_DISCONNECTED:
		/*
		 * The coordinator is gone (killed, or unreachable): a checkpoint it was running
		 * cannot complete. Never leave the program stopped waiting for it: drop what
		 * this process wrote for it and let it go, as an abort would.
		 */
		if (!p->ghost && p->phase != PP_RUNNING && !p->peeking) {
			if (b)
				loop_cancel(tr, &b->step_job);
			abort_locally(tr, p, b);
		}
		break;
	case TEV_PROC_EXIT:
		if (p->restoring || tr->run_err) {
			restart_lost(tr, p, ev->status);
			break;
		}
		/*
		 * Rather than leave in the middle of the coordinator's barriers, the peer of a
		 * process that exits before the suspend reaches it stays as a ghost (see
		 * barriers.h), after serving a suspend already waiting on its connection.
		 */
		if (!peer_connected(p) || p->nocheckpoint || !(b = bar_make(p)))
			break;
		/*
		 * Killed (SIGKILL: nothing else ends a process in a ptrace stop) while stopped for
		 * the checkpoint, before its image: lost, the checkpoint fails. One that exited on
		 * its own was not stopped yet, whatever its phase said (a child whose first stop
		 * had not come, a thread let go to reach a clean stop): an ordinary ghost.
		 */
		if (p->phase == PP_SUSPENDED && (b->in_barrier || p->born_held) &&
		    b->image_gen != b->generation && WIFSIGNALED(ev->status) &&
		    WTERMSIG(ev->status) == SIGKILL)
			b->lost = 1;
		p->ghost = 1;
		bs->nghosts++;
		p->phase = PP_SUSPENDED;
		p->born_held = 0;
		/* A checkpoint whose suspend crosses the ghost's leaving then goes on without it. */
		peer_update(p, "EXITED");
		if (b->suspend_pending) {
			/* it died while we were stopping it: nothing left to stop */
			b->suspend_pending = 0;
			answer_suspend(b);
		}
		b->ghost_until_us = mono_now_us() + GHOST_GRACE_MS * 1000L;
		peer_serve(p);
		break;
	default:
		break;
	}
	(void)tr;
}

int barriers_init(struct tracer *tr)
{
	static const enum tracer_event events[] = { TEV_PROC_BORN, TEV_SUSPENDED, TEV_PROC_EXIT,
						    TEV_DISCONNECTED };
	struct barrier_state *bs = calloc(1, sizeof(*bs));
	unsigned i;
	int r = 0;

	if (!bs)
		return -ENOMEM;
	tr->barriers = bs;
	bs->slot = ptable_proc_slot_new(tr, bar_destroy);
	if (bs->slot < 0)
		return bs->slot;
	for (i = 0; i < sizeof(events) / sizeof(events[0]) && !r; i++)
		r = hooks_on(tr, events[i], on_event, bs);
	if (!r)
		r = loop_add_tick(tr, ghost_tick, bs);
	if (!r)
		r = loop_add_tick(tr, late_tick, bs);
	if (!r)
		r = peer_on_message(tr, MSG_BARRIER, on_message, bs);
	peer_on_announced(tr, release_suspends, bs);
	return r;
}

void barriers_fini(struct tracer *tr)
{
	free(tr->barriers);
	tr->barriers = NULL;
}
