/*
 * The hook table: how the tracer's modules hear of what happens, without calling each other.
 *
 * The lower layers (events.c, suspend.c) fire events; the modules above (peer, barriers,
 * sockrec, checkpoint, sysapi, and later plugins) subscribe at tracer_create(). Three kinds:
 *
 *   events     something happened to a process or thread (born, exec, stop, exit, suspended,
 *              resumed, job control); every subscriber is called, in subscription order.
 *   traps      a syscall of a given number reached its seccomp stop: the handlers decide how
 *              the thread goes on, and may ask to see the syscall's exit. The list of trapped
 *              numbers is what the seccomp filter is built from (filter.c), so a module that
 *              subscribes a trap gets the syscall trapped.
 *   steps      the checkpoint's per-process steps run at the coordinator's barriers (drain,
 *              checkpoint, commit, refill, resume, abort): each returns 0 or -errno with a
 *              reason, which the barrier reports.
 *
 * This is the table the plugin interface will expose. Handlers run in the tracer's thread,
 * from the event loop; an event handler must not block.
 */
#ifndef DMTCP_TRACER_HOOKS_H
#define DMTCP_TRACER_HOOKS_H

#include <limits.h>
#include <stdint.h>

#include "ptable.h"

/* ---- events ---------------------------------------------------------------------------- */

enum tracer_event {
	TEV_PROC_BORN,	 /* p: a process forked by traced process parent (may be NULL when
			    the parent is not known); its first stop may not have come yet */
	TEV_THREAD_BORN, /* t: a new thread of a traced process */
	TEV_EXEC,	 /* p, t: an exec succeeded; t is the thread that leads the process now */
	TEV_STOP,	 /* t, status: any ptrace-stop of t, before the core decides about it */
	TEV_THREAD_EXIT, /* t, status: a thread ended (the leader too), before it leaves the table */
	TEV_PROC_EXIT,	 /* p, status: the process ended and its threads are gone; a module may
			    keep it in the table as a ghost (p->ghost) */
	TEV_JOBCTL,	 /* p: it was group-stopped or continued (p->group_stopped says which) */
	TEV_SUSPENDED,	 /* p: every thread held (phase PP_SUSPENDED) */
	TEV_RESUMED,	 /* p: its threads were let go (phase PP_RUNNING) */
	TEV_DISCONNECTED, /* p: its coordinator connection ended or could not be made (the
			     coordinator died or is unreachable; peer.c retries it) */
	TEV__COUNT
};

struct tracer_ev {
	enum tracer_event type;
	struct tracee_proc *p;
	struct tracee_thread *t;
	struct tracee_proc *parent; /* TEV_PROC_BORN */
	int status;		    /* TEV_STOP, TEV_*_EXIT: the wait status */
};

typedef void (*tracer_ev_fn)(struct tracer *tr, const struct tracer_ev *ev, void *arg);

/* ---- traps ----------------------------------------------------------------------------- */

/* What the seccomp stop tells of the call (one PTRACE_GET_SYSCALL_INFO). */
struct syscall_stop {
	long nr;
	uint64_t args[6];
};

/*
 * At the seccomp stop, before the call runs. Returns RESUME_CONT to let it run, or
 * RESUME_SYSCALL to be called at its exit too (exit fn). The thread is in a syscall-entry
 * stop: it may be read and its registers changed (thread.h), never infected.
 */
typedef enum resume_how (*trap_entry_fn)(struct tracee_thread *t, const struct syscall_stop *s,
					 void *arg);
/* At the exit stop of a call whose entry asked for it: ret is its raw result (-errno, or a
 * kernel restart code when the call was interrupted and will run again). */
typedef void (*trap_exit_fn)(struct tracee_thread *t, long nr, long ret, void *arg);

/* ---- steps ----------------------------------------------------------------------------- */

enum ckpt_step_kind {
	STEP_DRAIN,	 /* in-flight pipe/socket data taken out (every process suspended) */
	STEP_CHECKPOINT, /* the image written under its temporary name (step->image) */
	STEP_COMMIT,	 /* the temporary image renamed to its real name */
	STEP_REFILL,	 /* drained data put back */
	STEP_RESUME,	 /* just before the threads are let go (cure, unmap, drop leftovers) */
	STEP_ABORT,	 /* the checkpoint was abandoned: drop the temporary image */
	STEP__COUNT
};

struct ckpt_step {
	uint64_t generation;  /* 1, 2, ... as sent by the coordinator */
	uint64_t ckpt_id;     /* unique to this checkpoint (0: the coordinator did not say) */
	uint32_t nprocs;      /* commit: images in this checkpoint (0: unknown) */
	const char *compid;   /* the computation, from the coordinator's WELCOME */
	const char *ckptdir;  /* the coordinator's checkpoint directory, "" if none */
	/* How far a long step has come (bytes of the image written so far); may be called
	 * as often as convenient, the caller of the step decides what to pass on. */
	void (*progress)(struct ckpt_step *step, uint64_t bytes);
	void *progress_arg;
	char image[PATH_MAX]; /* out (checkpoint, commit): absolute path of the image */
	uint64_t image_size;  /* out (checkpoint): its size in bytes */
	char reason[256];     /* out on failure, optional: else strerror is reported */
};

typedef int (*step_fn)(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *step,
		       void *arg);

/* ---- the table ------------------------------------------------------------------------- */

#define HOOKS_PER_EVENT 8
#define HOOKS_TRAPS	32

struct hook_ev {
	tracer_ev_fn fn;
	void *arg;
};
struct hook_trap {
	long nr;
	trap_entry_fn entry;
	trap_exit_fn exit;
	void *arg;
};
struct hook_step {
	step_fn fn;
	void *arg;
};

/* Embedded in struct tracer (core.h). */
struct hooks {
	struct hook_ev ev[TEV__COUNT][HOOKS_PER_EVENT];
	int nev[TEV__COUNT];
	struct hook_trap trap[HOOKS_TRAPS];
	int ntrap;
	struct hook_step step[STEP__COUNT][HOOKS_PER_EVENT];
	int nstep[STEP__COUNT];
};

/* Subscribe; each returns 0 or -ENOSPC. */
int hooks_on(struct tracer *tr, enum tracer_event e, tracer_ev_fn fn, void *arg);
int hooks_trap(struct tracer *tr, long nr, trap_entry_fn entry, trap_exit_fn exit, void *arg);
int hooks_on_step(struct tracer *tr, enum ckpt_step_kind k, step_fn fn, void *arg);

/* Call every subscriber of ev->type. */
void hooks_fire(struct tracer *tr, const struct tracer_ev *ev);
static inline void hooks_fire_proc(struct tracer *tr, enum tracer_event e, struct tracee_proc *p)
{
	struct tracer_ev ev = { .type = e, .p = p };

	hooks_fire(tr, &ev);
}

/* The traps of s->nr: the strongest resume wanted (RESUME_SYSCALL over RESUME_CONT); a
 * number nobody traps is let run. */
enum resume_how hooks_run_entry(struct tracer *tr, struct tracee_thread *t,
				const struct syscall_stop *s);
void hooks_run_exit(struct tracer *tr, struct tracee_thread *t, long nr, long ret);
/* The trapped numbers, sorted and unique, into nrs[max]; returns how many (may exceed max). */
int hooks_trapped(const struct tracer *tr, long *nrs, int max);

/*
 * Run step k's subscribers for p in subscription order. Drain, checkpoint, commit and refill
 * stop at the first failure; resume and abort run every subscriber (whatever is held must be
 * let go). Returns 0 or the first -errno.
 */
int hooks_run_step(struct tracer *tr, enum ckpt_step_kind k, struct tracee_proc *p,
		   struct ckpt_step *step);
/* The coordinator's name of the barrier that runs step k (BARRIER_* of proto.h). */
const char *hooks_step_name(enum ckpt_step_kind k);

#endif
