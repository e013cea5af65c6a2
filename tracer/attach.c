/*
 * Attach: take processes that are already running under the tracer (dmtcp_launch --attach),
 * with every thread and every descendant, so that from then on they are checkpointed as a
 * launched computation is (see tracer.h, tracer_attach()).
 *
 * What the attached program can observe is a short pause, nothing else:
 *  - no seccomp filter and no no_new_privs: a filter could never be taken off, and
 *    SECCOMP_RET_TRACE without a tracer fails the call with ENOSYS, so the program would
 *    depend on its tracer to live. Children and threads are followed by the ptrace options
 *    alone (fork, vfork, clone, exec), and every other state (sockets, fds, memory) is read
 *    from the kernel at the checkpoint, as it is for a launched program;
 *  - no PTRACE_O_EXITKILL: if the tracer dies, even by SIGKILL, the kernel detaches every
 *    tracee and the program runs on untraced (its children forked meanwhile carry the same
 *    options, so they run on too);
 *  - every process is held once (PTRACE_INTERRUPT, as a suspend does) so that the tree is
 *    known whole before anything runs again: a blocking call cut short by that stop is
 *    restarted by the kernel, and an epoll wait that ended with EINTR is issued again
 *    (thread.c, thread_restart_eintr()); a process stopped by job control stays stopped
 *    (the group-stop is seen and listened to, events.c).
 *
 * Permission is ptrace's. The usual refusals are explained before anything is seized (the
 * target is then left untouched): the pid is not a process, belongs to another user, is not
 * dumpable, is already traced (gdb, strace, another tracer), Yama forbids it, or it is an
 * ancestor of the tracer itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kcmp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adopt.h"
#include "clock.h"
#include "core.h"
#include "events.h"
#include "log.h"
#include "peer.h"
#include "procfs.h"
#include "suspend.h"
#include "tracer.h"

/* How long every process of the tree may take to stop for the attach. */
#define ATTACH_HOLD_TIMEOUT_MS 10000

/* Yama's ptrace_scope, -1 when Yama is absent. */
static int yama_scope(void)
{
	char *buf;
	int v = -1;

	if (procfs_read_file("/proc/sys/kernel/yama/ptrace_scope", &buf, NULL) == 0) {
		v = atoi(buf);
		free(buf);
	}
	return v;
}

/* Is pid the tracer or one of its ancestors? (Tracing them would hold the tracer.) */
static int is_own_ancestor(pid_t pid)
{
	pid_t cur = getpid(), tgid, ppid;
	int depth;

	for (depth = 0; cur > 1 && depth < 4096; depth++) {
		if (cur == pid)
			return 1;
		if (procfs_status_ids(cur, &tgid, &ppid) < 0)
			return 0;
		cur = ppid;
	}
	return 0;
}

/*
 * Why pid cannot be attached, in a sentence for the user, or "" when nothing stands in the
 * way that /proc can show. Returns -errno for the refusal, 0 when none was found.
 */
static int attach_refusal(pid_t pid, char *why, size_t n)
{
	int32_t tgid = 0, tracer = 0, uids[4] = { 0 };
	char *status, comm[64];
	int r, scope;

	why[0] = '\0';
	r = procfs_read(pid, 0, "status", &status, NULL);
	if (r < 0) {
		snprintf(why, n, "no such process");
		return r == -ENOENT ? -ESRCH : r;
	}
	procfs_status_ints(status, "Tgid", &tgid, 1);
	procfs_status_ints(status, "TracerPid", &tracer, 1);
	procfs_status_ints(status, "Uid", uids, 4);
	free(status);
	if (tgid != pid) {
		snprintf(why, n, "a thread of process %d, not a process: attach to %d", (int)tgid,
			 (int)tgid);
		return -EINVAL;
	}
	if (pid == getpid() || is_own_ancestor(pid)) {
		snprintf(why, n, "an ancestor of dmtcp_launch itself (a tracer cannot hold the "
				 "processes it runs under)");
		return -EINVAL;
	}
	if (tracer && tracer == getpid())
		return -EALREADY; /* forked by a process we trace: ours already */
	if (tracer) {
		if (procfs_comm(tracer, 0, comm, sizeof(comm)) < 0)
			snprintf(comm, sizeof(comm), "?");
		snprintf(why, n, "already traced by pid %d (%s): a process has one tracer; detach "
				 "the debugger or tracer first", (int)tracer, comm);
		return -EBUSY;
	}
	if (geteuid() != 0 && (uids[0] != (int32_t)getuid() || uids[1] != (int32_t)getuid() ||
			       uids[2] != (int32_t)getuid())) {
		snprintf(why, n, "belongs to user %d: a user may attach only to their own processes "
				 "(root may attach to any)", (int)uids[0]);
		return -EPERM;
	}
	scope = yama_scope();
	if (scope == 3) {
		snprintf(why, n, "Yama's kernel.yama.ptrace_scope is 3: no process may be attached "
				 "until the next boot");
		return -EPERM;
	}
	if (scope == 2 && geteuid() != 0) {
		snprintf(why, n, "Yama's kernel.yama.ptrace_scope is 2: only root (CAP_SYS_PTRACE) "
				 "may attach; run as root, or set it to 0 (sysctl "
				 "kernel.yama.ptrace_scope=0)");
		return -EPERM;
	}
	return 0;
}

/* The same after PTRACE_SEIZE failed with err: what the checks above could not foresee. */
static void seize_refusal(pid_t pid, int err, char *why, size_t n)
{
	int r = attach_refusal(pid, why, n);

	if (r == -EALREADY)
		snprintf(why, n, "taken by this tracer meanwhile, through its traced parent");
	if (r < 0)
		return;
	if (err == -EPERM && yama_scope() == 1)
		snprintf(why, n, "Yama's kernel.yama.ptrace_scope is 1: only a descendant may be "
				 "attached; run as root, set it to 0 (sysctl "
				 "kernel.yama.ptrace_scope=0), or let the program allow it "
				 "(prctl(PR_SET_PTRACER))");
	else if (err == -EPERM)
		snprintf(why, n, "the kernel refuses to trace it (not dumpable: a setuid or "
				 "PR_SET_DUMPABLE 0 program, or other credentials)");
	else
		snprintf(why, n, "PTRACE_SEIZE failed: %s", strerror(-err));
}

static int attach_children(struct tracer *tr, struct tracee_proc *p);

/*
 * The name a launch would have given pid: the file name of its argv[0] (a launch knows the
 * command; comm is cut at 15 characters), else its comm.
 */
static void prog_name(pid_t pid, char *buf, size_t n)
{
	const char *base;
	char *cmd = NULL;
	size_t len = 0;

	if (procfs_read(pid, 0, "cmdline", &cmd, &len) == 0 && len && cmd[0]) {
		base = strrchr(cmd, '/');
		snprintf(buf, n, "%s", base && base[1] ? base + 1 : cmd);
		free(cmd);
		return;
	}
	free(cmd);
	if (procfs_comm(pid, 0, buf, n) < 0)
		snprintf(buf, n, "?");
}

/* Does p share its parent's memory (a vfork child before its exec)? kcmp(KCMP_VM). */
static int shares_parent_vm(const struct tracee_proc *p)
{
	return p->ppid > 1 && syscall(SYS_kcmp, p->ppid, p->pid, KCMP_VM, 0, 0) == 0;
}

/* Is pid traced by this tracer already (auto-attached, its first stop not read yet)? */
static int traced_by_us(pid_t pid)
{
	return procfs_tracer_pid(pid) == getpid();
}

/*
 * Seize every thread of pid (rescanning its task directory until no new one appears) and ask
 * each to stop. Returns 1 when taken, 0 when it is already ours or gone, -errno (explained)
 * on a refusal.
 */
static int attach_one(struct tracer *tr, pid_t pid)
{
	struct tracee_proc *p;
	pid_t tgid = 0, ppid = 0;
	char comm[256], why[256];
	int r;

	if (ptable_proc(tr, pid))
		return 0;
	r = attach_refusal(pid, why, sizeof(why));
	if (r == -ESRCH || r == -EALREADY)
		return 0; /* a descendant that ended, or that its traced parent forked, meanwhile */
	if (r < 0) {
		pr_err("cannot attach to pid %d: %s", pid, why);
		return r;
	}
	if (procfs_status_ids(pid, &tgid, &ppid) < 0)
		return 0;
	prog_name(pid, comm, sizeof(comm));
	p = ptable_add_proc(tr, pid, ppid, comm);
	if (!p)
		return -ENOMEM;
	p->attached = 1;
	p->nofilter = 1;
	r = adopt_seize_threads(p);
	if (r < 0) {
		/* Gone meanwhile, or exiting (ptrace refuses a task past its exit: a child that
		 * ended and waits to be reaped needs nothing of us), or forked by a process we
		 * trace since the check above (its first stop brings it to the table). */
		if (!p->threads && (r == -ESRCH || r == -EPERM) &&
		    (procfs_task_ended(pid, pid) || traced_by_us(pid))) {
			ptable_del_proc(tr, p);
			return 0;
		}
		seize_refusal(pid, r, why, sizeof(why));
		pr_err("cannot attach to pid %d (%s): %s", pid, comm, why);
		/* Threads seized already are held below and let go with the rest. */
		return r;
	}
	if (!p->threads) {
		/* Every thread ended meanwhile (or is a zombie): nothing to hold. */
		ptable_del_proc(tr, p);
		return 0;
	}
	if (shares_parent_vm(p)) {
		/*
		 * A vfork child (posix_spawn makes them) that has not exec'd yet: its parent
		 * cannot stop until it execs or exits, so it must not be held (as events.c
		 * does for one born traced); it runs on, seized, and is a process like any
		 * other from its exec.
		 */
		p->in_vfork = 1;
		pr_debug("pid %d (%s): attached, a vfork child: runs on until its exec", pid, comm);
		return 1;
	}
	pr_debug("pid %d (%s): attached, %d threads", pid, comm, p->nthreads);
	suspend_begin(p);
	/* Its children now, while they are likely still where they were (a later pass over
	 * the held tree finds those forked meanwhile that the fork option did not bring). */
	r = attach_children(tr, p);
	return r < 0 ? r : 1;
}

/* Attach every child of p's threads not taken yet. Returns how many, or -errno. */
static int attach_children(struct tracer *tr, struct tracee_proc *p)
{
	struct tracee_thread *t;
	uint32_t i, n;
	pid_t *kids;
	int r, total = 0;

	for (t = p->threads; t; t = t->next) {
		if (procfs_list_children(p->pid, t->tid, &kids, &n) < 0)
			continue;
		for (i = 0, r = 0; i < n && r >= 0; i++) {
			r = attach_one(tr, kids[i]);
			total += r > 0;
		}
		free(kids);
		if (r < 0)
			return r;
	}
	return total;
}

/* Is p a vfork parent waiting for its child's exec or exit? */
static int waits_for_vfork(struct tracer *tr, const struct tracee_proc *p)
{
	const struct tracee_proc *c;

	for (c = ptable_first(tr); c; c = c->next)
		if (c->in_vfork && c->ppid == p->pid && !c->ghost)
			return 1;
	return 0;
}

/*
 * The first process not held yet, if any. A vfork parent cannot stop before its child execs
 * or exits, and need not: its thread in vfork forks nothing meanwhile, and it is let go below
 * with a pending interrupt that its next stop answers (events.c lets a running process go).
 */
static struct tracee_proc *first_not_held(struct tracer *tr)
{
	struct tracee_proc *p;

	for (p = ptable_first(tr); p; p = p->next)
		if (!p->ghost && !p->nocheckpoint && !p->in_vfork && p->phase != PP_SUSPENDED &&
		    !waits_for_vfork(tr, p))
			return p;
	return NULL;
}

/* Read stops until every process of the table is held; bounded. */
static int wait_all_held(struct tracer *tr, long deadline_us)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct tracee_proc *p;
	sigset_t chld;
	char why[256];
	pid_t w;
	int st;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while ((p = first_not_held(tr))) {
		w = waitpid(-1, &st, __WALL | WNOHANG);
		if (w > 0) {
			events_handle(tr, w, st);
			continue;
		}
		if (w < 0 && errno != EINTR && errno != ECHILD) {
			pr_err("waitpid: %s", strerror(errno));
			return -errno;
		}
		if (mono_now_us() > deadline_us) {
			suspend_why(p, why, sizeof(why));
			pr_err("cannot attach to pid %d (%s): it did not stop within %d s: %s",
			       p->pid, p->prog, ATTACH_HOLD_TIMEOUT_MS / 1000, why);
			return -ETIMEDOUT;
		}
		/* SIGCHLD is blocked in the tracer (the loop reads it from a signalfd): a
		 * ptrace-stop of any tracee raises it. */
		sigtimedwait(&chld, NULL, &tick);
	}
	return 0;
}

int tracer_attach(struct tracer *tr, const pid_t *pids, int npids, int coord_fd)
{
	long deadline = mono_now_us() + ATTACH_HOLD_TIMEOUT_MS * 1000L;
	struct tracee_proc *p;
	int i, r = 0, more, n = 0;

	for (i = 0; i < npids && r >= 0; i++) {
		r = attach_one(tr, pids[i]);
		if (r == 0 && !ptable_proc(tr, pids[i]) && !traced_by_us(pids[i])) {
			pr_err("cannot attach to pid %d: no such process", pids[i]);
			r = -ESRCH;
		}
	}
	/* The tree, until a pass over every held process finds no child not taken. */
	while (r >= 0) {
		r = wait_all_held(tr, deadline);
		for (p = ptable_first(tr), more = 0; r >= 0 && p; p = p->next)
			if (!p->ghost && !p->nocheckpoint) {
				r = attach_children(tr, p);
				more += r > 0;
			}
		if (r >= 0 && !more)
			break;
	}
	/*
	 * Let every process go as it was held (a failure lets go what was taken; the caller
	 * then exits, and the kernel detaches the tracees without a trace). Those held as born
	 * during the attach go with their parent (resume_proc).
	 */
	for (p = ptable_first(tr); p; p = p->next)
		if (!p->born_held && (p->phase == PP_SUSPENDED || p->phase == PP_SUSPENDING))
			resume_proc(p);
	if (r < 0)
		return r;
	/* Coordinator peers for what attach_one took (those born meanwhile announce
	 * themselves, peer.c); the first named process gets the caller's connection. */
	if (!ptable_proc(tr, pids[0]) && coord_fd >= 0)
		close(coord_fd);
	for (p = ptable_first(tr); p; p = p->next, n++)
		if (p->attached && !p->ghost)
			peer_open(p, p->pid == pids[0] ? coord_fd : -1, NULL);
	return n;
}
