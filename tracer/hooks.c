/*
 * The hook table (see hooks.h).
 */
#include "hooks.h"

#include <errno.h>
#include <stdlib.h>

#include "core.h"
#include "log.h"
#include "proto.h"

int hooks_on(struct tracer *tr, enum tracer_event e, tracer_ev_fn fn, void *arg)
{
	struct hooks *h = &tr->hooks;

	if ((unsigned)e >= TEV__COUNT || h->nev[e] == HOOKS_PER_EVENT)
		return -ENOSPC;
	h->ev[e][h->nev[e]++] = (struct hook_ev){ fn, arg };
	return 0;
}

int hooks_trap(struct tracer *tr, long nr, trap_entry_fn entry, trap_exit_fn exit, void *arg)
{
	struct hooks *h = &tr->hooks;

	if (h->ntrap == HOOKS_TRAPS)
		return -ENOSPC;
	h->trap[h->ntrap++] = (struct hook_trap){ nr, entry, exit, arg };
	return 0;
}

int hooks_on_step(struct tracer *tr, enum ckpt_step_kind k, step_fn fn, void *arg)
{
	struct hooks *h = &tr->hooks;

	if ((unsigned)k >= STEP__COUNT || h->nstep[k] == HOOKS_PER_EVENT)
		return -ENOSPC;
	h->step[k][h->nstep[k]++] = (struct hook_step){ fn, arg };
	return 0;
}

void hooks_fire(struct tracer *tr, const struct tracer_ev *ev)
{
	const struct hooks *h = &tr->hooks;
	int i;

	for (i = 0; i < h->nev[ev->type]; i++)
		h->ev[ev->type][i].fn(tr, ev, h->ev[ev->type][i].arg);
}

enum resume_how hooks_run_entry(struct tracer *tr, struct tracee_thread *t,
				const struct syscall_stop *s)
{
	const struct hooks *h = &tr->hooks;
	enum resume_how how = RESUME_CONT;
	int i;

	for (i = 0; i < h->ntrap; i++) {
		if (h->trap[i].nr != s->nr || !h->trap[i].entry)
			continue;
		if (h->trap[i].entry(t, s, h->trap[i].arg) == RESUME_SYSCALL)
			how = RESUME_SYSCALL;
	}
	return how;
}

void hooks_run_exit(struct tracer *tr, struct tracee_thread *t, long nr, long ret)
{
	const struct hooks *h = &tr->hooks;
	int i;

	for (i = 0; i < h->ntrap; i++)
		if (h->trap[i].nr == nr && h->trap[i].exit)
			h->trap[i].exit(t, nr, ret, h->trap[i].arg);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

int hooks_trapped(const struct tracer *tr, long *nrs, int max)
{
	const struct hooks *h = &tr->hooks;
	long all[HOOKS_TRAPS];
	int i, n = 0;

	for (i = 0; i < h->ntrap; i++)
		all[i] = h->trap[i].nr;
	qsort(all, (size_t)h->ntrap, sizeof(all[0]), cmp_long);
	for (i = 0; i < h->ntrap; i++) {
		if (i && all[i] == all[i - 1])
			continue;
		if (n < max)
			nrs[n] = all[i];
		n++;
	}
	return n;
}

int hooks_run_step(struct tracer *tr, enum ckpt_step_kind k, struct tracee_proc *p,
		   struct ckpt_step *step)
{
	const struct hooks *h = &tr->hooks;
	int all = k == STEP_RESUME || k == STEP_ABORT;
	int i, r, first = 0;

	for (i = 0; i < h->nstep[k]; i++) {
		r = h->step[k][i].fn(tr, p, step, h->step[k][i].arg);
		if (r < 0 && !first)
			first = r;
		if (r < 0 && !all)
			break;
	}
	return first;
}

const char *hooks_step_name(enum ckpt_step_kind k)
{
	static const char *const names[STEP__COUNT] = {
		[STEP_DRAIN] = BARRIER_DRAIN,	[STEP_CHECKPOINT] = BARRIER_CHECKPOINT,
		[STEP_COMMIT] = BARRIER_COMMIT, [STEP_REFILL] = BARRIER_REFILL,
		[STEP_RESUME] = BARRIER_RESUME, [STEP_ABORT] = BARRIER_ABORT,
	};

	return (unsigned)k < STEP__COUNT ? names[k] : "?";
}
