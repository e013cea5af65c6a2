/*
 * Taking existing processes under the tracer (see tracer.h): tracer_adopt() for a running
 * process, tracer_adopt_restarted() for one dmtcp_restart has just restored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "checkpoint.h"
#include "core.h"
#include "events.h"
#include "log.h"
#include "peer.h"
#include "procfs.h"
#include "suspend.h"
#include "adopt.h"
#include "tracer.h"

/* Seize a thread of p not yet in the table (ptable_new_tasks). */
static int seize_thread(struct tracee_proc *p, pid_t tid)
{
	long opts = p->nofilter ? TRACER_PTRACE_OPTS_NOFILTER : TRACER_PTRACE_OPTS;

	if (ptrace(PTRACE_SEIZE, tid, 0, opts) < 0) {
		int err = errno;

		if (err == ESRCH)
			return 0; /* exited meanwhile */
		/* A leader that called pthread_exit is a zombie while its threads live: ptrace
		 * refuses it, and a suspend needs nothing of it (suspend.c). */
		if (err == EPERM && procfs_task_ended(p->pid, tid))
			return 0;
		/* Created by a thread seized a moment ago: traced by us already (PTRACE_O_
		 * TRACECLONE), its first stop on its way, as suspend.c's newborns. */
		if (err == EPERM && procfs_tracer_pid(tid) == getpid())
			return ptable_add_thread(p->tracer, p, tid, TS_NEW) ? 1 : -ENOMEM;
		return -err;
	}
	return ptable_add_thread(p->tracer, p, tid, TS_RUNNING) ? 1 : -ENOMEM;
}

int adopt_seize_threads(struct tracee_proc *p)
{
	int r;

	do
		r = ptable_new_tasks(p, seize_thread);
	while (r > 0);
	return r;
}

int tracer_adopt(struct tracer *tr, pid_t pid, int coord_fd, int stopped)
{
	struct tracee_proc *p;
	pid_t tgid = 0, ppid = 0;
	char comm[64];
	int r;

	r = procfs_status_ids(pid, &tgid, &ppid);
	if (r < 0) {
		pr_err("pid %d: cannot read /proc/%d/status: %s", pid, pid, strerror(-r));
		return r;
	}
	if (tgid != pid) {
		pr_err("pid %d: not a process (thread of %d)", pid, tgid);
		return -EINVAL;
	}
	if (procfs_comm(pid, 0, comm, sizeof(comm)) < 0)
		snprintf(comm, sizeof(comm), "?");
	p = ptable_add_proc(tr, pid, ppid, comm);
	if (!p)
		return -ENOMEM;
	r = adopt_seize_threads(p);
	if (r < 0) {
		pr_err("pid %d: cannot seize its threads: %s", pid, strerror(-r));
		/*
		 * Threads seized before the failure stay attached (a detach needs each of them
		 * in a ptrace-stop first); they run freely and are let go when this tracer
		 * exits. The caller is expected to give up on the process.
		 */
		ptable_del_proc(tr, p);
		return r;
	}
	if (stopped)
		suspend_begin(p);
	peer_open(p, coord_fd, stopped ? "SUSPENDED" : "RUNNING");
	return 0;
}

int tracer_adopt_restarted(struct tracer *tr, const struct restart_peer *rp)
{
	struct tracee_proc *p;
	int r;

	p = ptable_add_proc(tr, rp->real_pid, rp->ppid, rp->prog);
	if (!p)
		return -ENOMEM;
	if (rp->uniquepid && rp->uniquepid[0])
		snprintf(p->uniquepid, sizeof(p->uniquepid), "%s", rp->uniquepid);
	p->restarted = 1;
	/* the image it comes from is complete: the one to keep at its next checkpoint */
	checkpoint_restored(p, rp->ckpt_id);
	p->nofilter = rp->nofilter;
	r = adopt_seize_threads(p);
	if (r < 0) {
		pr_err("pid %d: cannot seize its threads: %s", rp->pid, strerror(-r));
		ptable_del_proc(tr, p);
		return r;
	}
	/* Held until the coordinator's resume barrier: the program must not run before. */
	suspend_begin(p);
	/*
	 * Wait for the interrupt stop here, so the process is SUSPENDED before the first
	 * restart barrier can arrive (the "refill" step refuses a process still suspending).
	 * Only its main thread exists yet; events of other tracees stay queued for the loop.
	 */
	while ((p = ptable_proc(tr, rp->real_pid)) && p->phase == PP_SUSPENDING) {
		int st;
		pid_t w = waitpid(rp->real_pid, &st, __WALL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		events_handle(tr, w, st);
	}
	if (!p) {
		pr_err("pid %d: ended while being taken under the tracer", rp->pid);
		return -ESRCH;
	}
	r = peer_open_restarted(p, rp);
	if (r < 0) {
		ptable_del_proc(tr, p);
		return r;
	}
	/* From here its end fails the restart as a whole (barriers.c), until the resume. */
	p->restoring = 1;
	p->vpid = rp->pid;
	return 0;
}
