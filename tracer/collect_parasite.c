/*
 * State that only the process itself can read, fetched with the parasite (tracer/infect.h):
 * exact signal dispositions, itimers, POSIX timer values and overruns, per-thread sigaltstack
 * and clear-tid address, umask and personality. The parasite is cured before this returns,
 * so the memory map and fd table collected afterwards are the program's own.
 *
 * Returns 0 when the process is as it was (even if some state could not be read: that is
 * warned about and the /proc-level data stays), -ESRCH if it died, or the cure's error, in
 * which case the process must not be trusted to run on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "collect.h"
#include "infect.h"
#include "log.h"

static uint64_t to_ns(int64_t sec, int64_t nsec)
{
	return (uint64_t)sec * 1000000000ull + (uint64_t)nsec;
}

static int get_sigactions(struct infect_ctx *ctx, struct ckpt_signals *s)
{
	struct parasite_args *a = infect_args(ctx);
	int rc, i;

	rc = infect_run(ctx, PARASITE_GET_SIGACTIONS);
	if (rc)
		return rc;
	for (i = 0; i < CKPT_NSIG; i++) {
		/* SIGKILL and SIGSTOP cannot be queried: they keep their defaults */
		if (a->u.sigacts.err[i])
			continue;
		s->act[i].handler = a->u.sigacts.act[i].handler;
		s->act[i].flags = a->u.sigacts.act[i].flags;
		s->act[i].restorer = a->u.sigacts.act[i].restorer;
		s->act[i].mask = a->u.sigacts.act[i].mask;
	}
	s->act_source = CKPT_SIGSRC_TRACEE;
	return 0;
}

static int get_timers(struct infect_ctx *ctx, struct ckpt_signals *s)
{
	struct parasite_args *a = infect_args(ctx);
	uint32_t i;
	int rc;

	rc = infect_run(ctx, PARASITE_GET_ITIMERS);
	if (rc)
		return rc;
	for (i = 0; i < 3; i++) {
		const struct parasite_itimerval *it = &a->u.itimers.it[i];

		if (a->u.itimers.err[i])
			return a->u.itimers.err[i];
		s->itimer[i].interval_ns = to_ns(it->interval_sec, it->interval_usec * 1000);
		s->itimer[i].value_ns = to_ns(it->value_sec, it->value_usec * 1000);
	}
	if (s->ntimers > PARASITE_MAX_TIMERS) {
		pr_warn("%u POSIX timers: only the first %u read", s->ntimers, PARASITE_MAX_TIMERS);
		return -E2BIG;
	}
	if (s->ntimers) {
		a->u.timers.nr = s->ntimers;
		for (i = 0; i < s->ntimers; i++)
			a->u.timers.t[i].id = s->timers[i].id;
		rc = infect_run(ctx, PARASITE_GET_POSIX_TIMERS);
		if (rc)
			return rc;
		for (i = 0; i < s->ntimers; i++) {
			const struct parasite_posix_timer *t = &a->u.timers.t[i];

			if (t->err)
				return t->err;
			s->timers[i].interval_ns = to_ns(t->interval_sec, t->interval_nsec);
			s->timers[i].value_ns = to_ns(t->value_sec, t->value_nsec);
			s->timers[i].overrun = t->overrun;
		}
	}
	s->timer_source = CKPT_SIGSRC_TRACEE;
	return 0;
}

static int get_thread_state(struct infect_ctx *ctx, pid_t tid, int first,
			    struct ckpt_thread *t)
{
	struct parasite_args *a = infect_args(ctx);
	int rc;

	memset(&a->u.thread, 0, sizeof(a->u.thread));
	rc = first ? infect_run(ctx, PARASITE_GET_THREAD_STATE) :
		     infect_run_thread(ctx, tid, PARASITE_GET_THREAD_STATE);
	if (rc)
		return rc;
	if (!a->u.thread.err_altstack) {
		t->ss_sp = a->u.thread.ss_sp;
		t->ss_size = a->u.thread.ss_size;
		t->ss_flags = (uint32_t)a->u.thread.ss_flags;
		t->have_altstack = 1;
	}
	if (!a->u.thread.err_tid_addr) {
		t->clear_tid = a->u.thread.clear_tid_addr;
		t->have_clear_tid = 1;
	}
	return 0;
}

static int get_misc(struct infect_ctx *ctx, struct ckpt_proc *p)
{
	struct parasite_args *a = infect_args(ctx);
	const uint64_t args[6] = { 0 };
	long brk = 0;
	int rc = infect_run(ctx, PARASITE_GET_MISC);

	if (rc)
		return rc;
	/* brk(0) answers the current break, which /proc does not show. */
	rc = infect_remote_syscall(ctx, SYS_brk, args, &brk);
	if (rc)
		return rc;
	if (brk > 0 && (uint64_t)brk >= p->mm.start_brk)
		p->mm.brk = (uint64_t)brk;
	if (a->u.misc.umask >= 0)
		p->umask = (uint32_t)a->u.misc.umask;
	if (a->u.misc.personality >= 0)
		p->personality = (uint32_t)a->u.misc.personality;
	return 0;
}

int collect_parasite_state(pid_t pid, const pid_t *tids, uint32_t ntids, struct ckpt_proc *p)
{
	struct infect_ctx *ctx;
	const char *what = "infection";
	uint32_t i;
	int rc, cure_rc;

	rc = infect_start(pid, tids[0], &ctx);
	if (rc) {
		if (rc != -ESRCH)
			pr_warn("pid %d: parasite not loaded (%s): signal dispositions, timers and "
				"altstacks are saved from /proc only", pid, strerror(-rc));
		return rc == -ESRCH ? rc : 0;
	}
	what = "sigactions";
	rc = get_sigactions(ctx, p->sig);
	if (!rc) {
		what = "timers";
		rc = get_timers(ctx, p->sig);
	}
	if (!rc) {
		what = "process state";
		rc = get_misc(ctx, p);
	}
	for (i = 0; i < ntids && !rc; i++) {
		what = "thread state";
		/* p->threads[] is in tids[] order (collect_threads) */
		rc = get_thread_state(ctx, tids[i], i == 0, &p->threads[i]);
	}
	cure_rc = infect_cure(ctx);
	if (rc && rc != -ESRCH)
		pr_warn("pid %d: parasite could not read its %s: %s", pid, what, strerror(-rc));
	if (cure_rc && cure_rc != -ESRCH) {
		pr_err("pid %d: parasite cure failed: %s", pid, strerror(-cure_rc));
		return cure_rc;
	}
	/* A command that failed left partial data, marked by its source field: not fatal. */
	return rc == -ESRCH ? rc : cure_rc;
}
