/*
 * One restored process from its creation to the restorer (see restart_proc.h).
 *
 * Inside the new process, in this order:
 *   - signal dispositions back to default and every signal blocked: what the restart had set
 *     up for itself must not leak into the program, and nothing may interrupt the restore;
 *   - cwd, umask, rlimits (as far as permitted);
 *   - memory staged from the image (needs the image reader, so before the fds);
 *   - the image readers closed, the fds put at their numbers, everything else closed;
 *   - traced: the caller's before_gate hook (dmtcp_restart installs the seccomp filter
 *     there), then held at the gate until the tracer has seized us;
 *   - pending signals queued back (they stay blocked until rt_sigreturn sets the saved mask),
 *     interval timers and POSIX timers (with their ids) armed;
 *   - prepare_restore(): the point of no return.
 */
#include "restart/restart_proc.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "testhook.h"

int restart_exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return fail_rc();
}

int restart_prepare(struct restart_ctx *c, char *const paths[], int n, int strict,
		    int force_newns)
{
	char why[256];
	int r;

	memset(c, 0, sizeof(*c));
	r = restart_load_images(&c->set, paths, n, strict);
	if (r)
		return r;
	r = restart_build_tree(&c->set);
	if (r)
		return r;
	c->tree.procs = c->set.tp;
	c->tree.n = c->set.n;
	c->tree.zombies = c->set.zombies;
	c->tree.nzombies = c->set.nzombies;
	c->tree.run = restart_proc_run;
	c->tree.arg = c;
	r = prepare_tree_plan(&c->tree, why, sizeof(why));
	if (!r)
		r = prepare_tree_pick_mode(&c->tree, force_newns, why, sizeof(why));
	if (r) {
		pr_err("%s: %s", c->set.n == 1 ? c->set.img[0].path : "the images", why);
		return r;
	}
	c->set.host_pids = c->tree.mode == TREE_HOST;
	r = prepare_fds_shared(&c->set, &c->fds);
	if (r)
		return r;
	r = prepare_image_shm(&c->set, &c->fds, &c->shm);
	if (r)
		return r;
	c->tree.min_fd = c->fds.base;
	return 0;
}

int restart_create(struct restart_ctx *c)
{
	void *m = mmap(NULL, sizeof(*c->progress), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	/* Without it there is only no progress to show. */
	c->progress = m == MAP_FAILED ? NULL : m;
	return prepare_tree_create(&c->tree);
}

uint64_t restart_total_bytes(const struct restart_ctx *c)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < c->set.n; i++)
		total += c->set.img[i].proc.pages_stored * CKPT_PAGE_SIZE;
	return total;
}

void restart_ctx_free(struct restart_ctx *c)
{
	if (c->progress)
		munmap(c->progress, sizeof(*c->progress));
	c->progress = NULL;
	if (c->tree.slots)
		prepare_tree_abort(&c->tree);
	prepare_tree_free(&c->tree);
	prepare_image_shm_free(&c->shm);
	prepare_fds_free(&c->fds);
	restart_set_free(&c->set);
}

static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t all;
	int sig;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, 0);
}

static void restore_process_attrs(const struct restart_img *im)
{
	const struct ckpt_proc *p = &im->proc;
	int i;

	if (p->cwd && p->cwd[0] && chdir(p->cwd) < 0)
		pr_warn("pid %d: cannot go back to directory %s: %s", p->pid, p->cwd,
			strerror(errno));
	if (p->umask != ~0u)
		umask(p->umask & 0777);
	for (i = 0; i < CKPT_NRLIMITS && i < RLIM_NLIMITS; i++) {
		struct rlimit rl = { p->rlim[i].cur, p->rlim[i].max };

		if (!rl.rlim_cur && !rl.rlim_max)
			continue; /* not collected */
		if (setrlimit(i, &rl) < 0 && errno != EPERM)
			pr_warn("pid %d: cannot restore rlimit %d: %s", p->pid, i,
				strerror(errno));
	}
}

/* Signals that were pending for the whole process, queued back to ourselves while blocked. */
static void restore_pending(const struct ckpt_proc *p)
{
	uint32_t i;

	if (!p->sig)
		return;
	for (i = 0; i < p->sig->npending; i++) {
		siginfo_t si;

		memcpy(&si, p->sig->pending[i].raw, sizeof(si));
		if (syscall(SYS_rt_sigqueueinfo, getpid(), si.si_signo, &si) < 0)
			pr_warn("pid %d: cannot queue pending signal %d again: %s", p->pid,
				si.si_signo, strerror(errno));
	}
	if (p->nthreads) {
		const struct ckpt_thread *t = &p->threads[0];

		for (i = 0; i < t->npending; i++) {
			siginfo_t si;

			memcpy(&si, t->pending[i].raw, sizeof(si));
			if (syscall(SYS_rt_tgsigqueueinfo, getpid(), getpid(), si.si_signo, &si) < 0)
				pr_warn("pid %d: cannot queue pending signal %d again: %s",
					p->pid, si.si_signo, strerror(errno));
		}
	}
}

static void ns_to_tv(uint64_t ns, struct timeval *tv)
{
	tv->tv_sec = ns / 1000000000ull;
	tv->tv_usec = (ns % 1000000000ull) / 1000;
}

/*
 * Armed last: a timer firing from here on stays pending until the program's mask allows it.
 *
 * A periodic ITIMER_REAL that expired while its SIGALRM is still pending (blocked, or the
 * process stopped before delivery) reads as value 0 with its interval: the kernel re-arms it
 * only when that SIGALRM is dequeued. The SIGALRM comes back with the pending queue, but the
 * kernel's re-arm needs a running timer, so such a timer is armed for one interval, the time
 * the kernel would have given it; left unarmed it would never tick again.
 */
static void restore_itimers(const struct ckpt_proc *p)
{
	int which;

	if (!p->sig || p->sig->timer_source == CKPT_SIGSRC_NONE)
		return;
	for (which = 0; which < 3; which++) {
		const struct ckpt_itimer *t = &p->sig->itimer[which];
		struct itimerval it;

		if (!t->value_ns && !t->interval_ns)
			continue;
		ns_to_tv(t->interval_ns, &it.it_interval);
		ns_to_tv(t->value_ns ? t->value_ns : t->interval_ns, &it.it_value);
		if (setitimer(which, &it, NULL) < 0)
			pr_warn("pid %d: cannot re-arm interval timer %d: %s", p->pid, which,
				strerror(errno));
	}
}

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS	 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON	 1
#endif

/* The kernel's struct sigevent for timer_create (glibc's has the same layout on x86_64). */
struct k_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

/*
 * POSIX timers with their ids: PR_TIMER_CREATE_RESTORE_IDS (Linux 6.16) makes timer_create
 * take the id from its third argument. Armed last, like the itimers. A timer that signalled
 * one thread other than the main one cannot be aimed at it before the restorer made it, so it
 * signals the process instead, with a warning.
 */
static void restore_posix_timers(const struct ckpt_proc *p)
{
	int exact = 1;
	uint32_t i;

	if (!p->sig || !p->sig->ntimers)
		return;
	if (prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0) < 0) {
		pr_warn("pid %d: this kernel cannot recreate timers with their ids; they get new ones",
			p->pid);
		exact = 0;
	}
	for (i = 0; i < p->sig->ntimers; i++) {
		const struct ckpt_posix_timer *t = &p->sig->timers[i];
		struct k_sigevent ev;
		int id = t->id;

		memset(&ev, 0, sizeof(ev));
		ev.value = t->sigval;
		ev.signo = t->signo;
		ev.notify = t->notify;
		ev.tid = t->notify_tid;
		if ((t->notify & 4 /* SIGEV_THREAD_ID */) && t->notify_tid != getpid()) {
			pr_warn("pid %d: timer %d signalled thread %d; it now signals the process",
				p->pid, t->id, t->notify_tid);
			ev.notify &= ~4;
			ev.tid = 0;
		} else if (ev.notify & 4) {
			ev.tid = getpid();
		}
		if (syscall(SYS_timer_create, t->clock, &ev, &id) < 0) {
			pr_warn("pid %d: cannot recreate timer %d: %s", p->pid, t->id,
				strerror(errno));
			continue;
		}
		if (id != t->id)
			pr_warn("pid %d: timer %d came back as timer %d", p->pid, t->id, id);
		if (p->sig->timer_source == CKPT_SIGSRC_TRACEE && t->value_ns) {
			struct itimerspec its = {
				.it_interval = { t->interval_ns / 1000000000ull,
						 t->interval_ns % 1000000000ull },
				.it_value = { t->value_ns / 1000000000ull, t->value_ns % 1000000000ull },
			};

			if (syscall(SYS_timer_settime, id, 0, &its, NULL) < 0)
				pr_warn("pid %d: cannot re-arm timer %d: %s", p->pid, id,
					strerror(errno));
		}
	}
	if (exact)
		prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
}

int restart_proc_run(int idx, void *arg)
{
	struct restart_ctx *c = arg;
	const struct restart_img *im = &c->set.img[idx];
	struct restore_req *req = NULL;
	int *keep, nkeep = 0, r;
	char why[200];

	reset_signals();
	restore_process_attrs(im);
	keep = calloc(im->proc.nvmas + 8, sizeof(int));
	if (!keep)
		return -ENOMEM;
	testhook_step_delay("stage");
	if (c->progress)
		image_count_read(im->rd, &c->progress->bytes_read);
	r = prepare_image_req(&c->set, idx, &c->shm, c->fds.base, &req, keep, &nkeep);
	if (r)
		goto fail;
	restart_close_readers(&c->set);
	nkeep += prepare_tree_child_fds(&c->tree, keep + nkeep, 4);
	r = prepare_fds_install(&c->set, idx, &c->fds, keep, nkeep);
	if (r)
		goto fail;
	if (c->traced) {
		/* An attached program's image: it ran without a filter, and goes on so. */
		if (c->before_gate && !(im->info.flags & IMAGE_F_NOFILTER)) {
			r = c->before_gate(im->proc.pid, c->before_gate_arg);
			if (r)
				goto fail;
		}
		prepare_tree_announce(&c->tree, idx, RSTAGE_HOLD, NULL);
		r = prepare_tree_gate_wait(&c->tree, idx);
		if (r)
			goto fail;
	}
	restore_pending(&im->proc);
	restore_req_set_log(req, 2, fail_rc());
	prepare_tree_detach(&c->tree, idx);
	restore_itimers(&im->proc);
	restore_posix_timers(&im->proc);
	r = prepare_restore(req);
	/* Still ourselves: nothing was lost, but the channel to the restart is closed. */
	pr_err("%s: pid %d: the restore failed before its point of no return: %s", im->path,
	       im->proc.pid, strerror(-r));
	_exit(fail_rc());
fail:
	snprintf(why, sizeof(why), "%s: pid %d: %s", im->path, im->proc.pid, strerror(-r));
	prepare_tree_announce(&c->tree, idx, r, why);
	restore_req_free(req);
	free(keep);
	return r;
}
