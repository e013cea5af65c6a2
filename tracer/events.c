/*
 * What the tracer does with each wait status: ptrace-stops of every kind, new threads and
 * processes, exec, and deaths.
 *
 * Every stop is either let go at once (the process runs) or held (its process is being
 * suspended): a held thread remembers how to be let go (enum resume_how, and the signal it
 * was about to receive) so that resuming it later is exactly what letting it go now would
 * have been.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_abi.h"
#include "log.h"
#include "tracer_int.h"

void thread_resume(struct tracee_thread *t, enum resume_how how, int sig)
{
	long r = 0;

	if (t->check_eintr) {
		t->check_eintr = 0;
		if (how == RESUME_CONT && !sig)
			restart_eintr_call(t);
	}

	switch (how) {
	case RESUME_CONT:
		r = ptrace(PTRACE_CONT, t->tid, 0, (long)sig);
		break;
	case RESUME_SYSCALL:
		r = ptrace(PTRACE_SYSCALL, t->tid, 0, (long)sig);
		break;
	case RESUME_LISTEN:
		/* Leaves the thread group-stopped, yet lets the kernel wake it for SIGCONT (or a
		 * PTRACE_INTERRUPT) with a new PTRACE_EVENT_STOP: job control as without us. */
		r = ptrace(PTRACE_LISTEN, t->tid, 0, 0);
		break;
	}
	/* ESRCH: it died meanwhile (SIGKILL); its death is in the wait queue. */
	if (r < 0 && errno != ESRCH)
		pr_warn("tid %d: cannot resume: %s", t->tid, strerror(errno));
	t->state = TS_RUNNING;
	t->listening = how == RESUME_LISTEN;
}

void thread_hold(struct tracee_thread *t, enum resume_how how, int sig, int status)
{
	t->state = TS_HELD;
	t->resume_how = how;
	t->resume_sig = sig;
	t->stop_status = status;
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static struct tracee_proc *new_process(struct tracer *tr, struct tracee_proc *parent, pid_t pid,
				       pid_t ppid, int held)
{
	struct tracee_proc *p;

	p = ptable_add_proc(tr, pid, ppid, parent ? parent->prog : "?");
	if (!p)
		return NULL;
	if (!ptable_add_thread(tr, p, pid, TS_NEW)) {
		ptable_del_proc(tr, p);
		return NULL;
	}
	if (parent) {
		struct tracee_thread *pt;

		/* What the parent's socketpairs wrote is the child's too: read it first. */
		for (pt = parent->threads; pt; pt = pt->next)
			sockrec_settle(pt);
		sockrec_copy(p, parent);
		p->nocheckpoint = parent->nocheckpoint;
		p->generation = parent->generation;
	}
	if (held) {
		/* Born while its parent is being suspended: it must not run during the
		 * checkpoint. It announces itself as suspended; the coordinator brings it to the
		 * current barrier, or it is let go with its parent. */
		p->phase = PP_SUSPENDING;
		p->born_held = 1;
	}
	pr_debug("pid %d: new process (parent %d)%s", pid, ppid, held ? ", held" : "");
	if (!p->nocheckpoint) {
		/* Announced later (events_open_new_peers()): the stopped parent need not wait
		 * for our connect, and a child that is gone within PEER_HELLO_DELAY_MS never
		 * costs the coordinator a connection. One born during a suspend is announced
		 * at once: the checkpoint waits for it. */
		p->hello_pending = 1;
		p->hello_due_us = now_us() + (held ? 0 : PEER_HELLO_DELAY_MS * 1000L);
		tr->hello_pending = 1;
	}
	return p;
}

/*
 * A stop of a tid we do not know: an auto-attached thread or process whose first stop came
 * before its parent's PTRACE_EVENT_FORK/CLONE was read. /proc tells which it is.
 */
static struct tracee_thread *adopt_newborn(struct tracer *tr, pid_t tid)
{
	struct tracee_proc *p, *parent;
	pid_t tgid = 0, ppid = 0;

	if (read_proc_status_ids(tid, &tgid, &ppid) < 0)
		return NULL;
	if (tgid != tid) {
		p = ptable_proc(tr, tgid);
		if (!p) {
			pr_warn("tid %d: stop of a thread of unknown process %d", tid, tgid);
			return NULL;
		}
		return ptable_add_thread(tr, p, tid, TS_NEW);
	}
	parent = ptable_proc(tr, ppid);
	p = new_process(tr, parent, tid, ppid,
			parent && parent->phase != PP_RUNNING && !parent->nocheckpoint);
	return p ? p->threads : NULL;
}

/*
 * A vfork parent cannot stop (not even for PTRACE_INTERRUPT) until its child execs or exits:
 * holding the child would deadlock the suspend of both. So the child runs on until its exec
 * (after which it stops at the pending interrupt like any process) or its exit.
 */
static void release_vfork_child(struct tracee_proc *c)
{
	struct tracee_thread *t;

	c->in_vfork = 1;
	for (t = c->threads; t; t = t->next)
		if (t->state == TS_HELD)
			thread_resume(t, t->resume_how, t->resume_sig);
}

static void on_clone_event(struct tracee_thread *t, int ev)
{
	struct tracer *tr = t->proc->tracer;
	struct tracee_proc *parent = t->proc, *c;
	struct tracee_thread *known;
	unsigned long msg = 0;
	pid_t newid, tgid = 0, ppid = 0;
	int held;

	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0)
		return;
	newid = (pid_t)msg;
	known = ptable_thread(tr, newid);
	if (known) {
		if (ev == PTRACE_EVENT_VFORK && known->proc->pid == newid)
			release_vfork_child(known->proc);
		return;
	}
	if (ev == PTRACE_EVENT_CLONE) {
		/*
		 * clone() without SIGCHLD: a thread, or a process with another exit signal. A
		 * thread is in its group's task directory as soon as the event is reported: one
		 * access() instead of reading /proc/TID/status, on the path every
		 * pthread_create takes.
		 */
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/task/%d", parent->pid, newid);
		if (access(path, F_OK) == 0) {
			ptable_add_thread(tr, parent, newid, TS_NEW);
			return;
		}
		if (read_proc_status_ids(newid, &tgid, &ppid) < 0)
			return; /* gone already; its death is in the wait queue */
		if (tgid == parent->pid) {
			ptable_add_thread(tr, parent, newid, TS_NEW);
			return;
		}
	} else {
		ppid = parent->pid;
	}
	held = parent->phase != PP_RUNNING && ev != PTRACE_EVENT_VFORK && !parent->nocheckpoint;
	c = new_process(tr, parent, newid, ppid ? ppid : parent->pid, held);
	if (c && ev == PTRACE_EVENT_VFORK)
		c->in_vfork = 1;
}

static void set_prog_from_comm(struct tracee_proc *p)
{
	char path[64], buf[64];
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(p->prog, sizeof(p->prog), "%s", buf);
}

static void on_exec(struct tracee_thread *t)
{
	struct tracer *tr = t->proc->tracer;
	struct tracee_proc *p = t->proc;
	struct tracee_thread *o, *next;

	/*
	 * Reported for the thread-group id. If another thread called execve it has taken over
	 * that id; every other thread is gone (the kernel reports their deaths, which we then
	 * ignore as unknown).
	 */
	for (o = p->threads; o; o = next) {
		next = o->next;
		if (o != t)
			ptable_del_thread(tr, o);
	}
	memset(&t->sc, 0, sizeof(t->sc));
	p->in_vfork = 0;
	if (p->exec_pending && p->exec_prog[0])
		snprintf(p->prog, sizeof(p->prog), "%s", p->exec_prog);
	else
		set_prog_from_comm(p);
	p->exec_pending = 0;
	sockrec_exec(p);
	pr_debug("pid %d: exec %s", p->pid, p->prog);
	if (p->conn_open)
		peer_update(p, NULL);
}

static void note_exec(struct tracee_thread *t, long nr, const uint64_t *args)
{
	struct tracee_proc *p = t->proc;
	raddr_t path = { nr == SYS_execveat ? args[1] : args[0] };
	char buf[PATH_MAX];
	const char *base;

	if (remote_read_str(t->tid, path, buf, sizeof(buf)) < 0) {
		p->exec_prog[0] = '\0';
	} else {
		base = strrchr(buf, '/');
		base = base ? base + 1 : buf;
		/* execveat(fd, "", AT_EMPTY_PATH): no name; /proc/PID/comm tells after exec */
		snprintf(p->exec_prog, sizeof(p->exec_prog), "%.*s", (int)sizeof(p->exec_prog) - 1,
			 base);
	}
	p->exec_pending = 1;
}

/*
 * clone/clone3 with CLONE_UNTRACED would make a task the ptrace options do not follow: a
 * process or thread outside every checkpoint, whose trapped calls then fail with ENOSYS (a
 * SECCOMP_RET_TRACE with no tracer). The flag is meant for kernel threads; a program that
 * passes it cannot tell the difference, so it is taken off before the kernel reads it. For
 * clone the flags are a register; for clone3 the first field of the program's clone_args
 * (one read per pthread_create, a write only when the flag is there).
 */
static void keep_traced(struct tracee_thread *t, long nr, const uint64_t *args)
{
	struct user_regs_struct r;
	uint64_t flags;
	raddr_t ca = { args[0] };

	if (nr == SYS_clone) {
		if (!(args[0] & CLONE_UNTRACED))
			return;
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
			return;
		r.rdi &= ~(unsigned long long)CLONE_UNTRACED;
		if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
			pr_warn("tid %d: cannot clear CLONE_UNTRACED: %s", t->tid, strerror(errno));
		else
			pr_debug("tid %d: clone: CLONE_UNTRACED cleared", t->tid);
		return;
	}
	/* clone3: a bad pointer or size fails the call on its own (EFAULT/EINVAL) */
	if (args[1] < sizeof(flags) || remote_read(t->tid, ca, &flags, sizeof(flags)) < 0 ||
	    !(flags & CLONE_UNTRACED))
		return;
	flags &= ~(uint64_t)CLONE_UNTRACED;
	if (remote_write(t->tid, ca, &flags, sizeof(flags)) < 0)
		pr_warn("tid %d: cannot clear CLONE_UNTRACED in clone_args", t->tid);
	else
		pr_debug("tid %d: clone3: CLONE_UNTRACED cleared", t->tid);
}

/*
 * One PTRACE_GET_SYSCALL_INFO tells the filter's data, the number and the arguments: it
 * replaces PTRACE_GETEVENTMSG + PTRACE_GETREGS on every trapped call. Only the API call,
 * which writes its answer into the registers, still reads them all.
 */
static enum resume_how on_seccomp(struct tracee_thread *t)
{
	struct __ptrace_syscall_info si;
	struct user_regs_struct r;
	long n;

	n = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si);
	if (n < (long)(offsetof(struct __ptrace_syscall_info, seccomp.ret_data) +
		       sizeof(si.seccomp.ret_data)) ||
	    si.op != PTRACE_SYSCALL_INFO_SECCOMP)
		return RESUME_CONT;
	if (si.seccomp.ret_data != FILTER_DATA_NATIVE)
		return RESUME_CONT;
	switch ((long)si.seccomp.nr) {
	case SYS_socket:
	case SYS_socketpair:
	case SYS_bind:
	case SYS_listen:
	case SYS_connect:
	case SYS_accept:
	case SYS_accept4:
		return sockrec_enter(t, (long)si.seccomp.nr, si.seccomp.args);
	case SYS_execve:
	case SYS_execveat:
		note_exec(t, (long)si.seccomp.nr, si.seccomp.args);
		return RESUME_CONT;
	case DMTCP_API_SYSCALL:
		if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) == 0)
			sysapi_handle(t, &r);
		return RESUME_CONT;
	case SYS_clone:
	case SYS_clone3:
		keep_traced(t, (long)si.seccomp.nr, si.seccomp.args);
		return RESUME_CONT;
	case SYS_fork:
	case SYS_vfork:
		/*
		 * PTRACE_O_TRACEFORK/VFORK/CLONE report the new task with its own event stop,
		 * where it is adopted. Continue at once.
		 */
		return RESUME_CONT;
	default:
		return RESUME_CONT;
	}
}

static void on_death(struct tracer *tr, struct tracee_thread *t, int status)
{
	struct tracee_proc *p = t->proc;

	if (t->tid != p->pid) {
		ptable_del_thread(tr, t);
		suspend_check(p);
		return;
	}
	/* The kernel reports a leader's death only once the rest of its group is gone. */
	if (WIFSIGNALED(status))
		pr_debug("pid %d (%s): killed by %s", p->pid, p->prog, name_signal(WTERMSIG(status)));
	else
		pr_debug("pid %d (%s): exited with %d", p->pid, p->prog, WEXITSTATUS(status));
	if (p->pid == tr->root_pid) {
		tr->root_pid = 0;
		if (tr->on_root_exit)
			tr->on_root_exit(tr, status, tr->on_root_exit_arg);
	}
	if (p->conn_open && !p->nocheckpoint) {
		/* Never let the coordinator see the computation smaller than it is: what
		 * this process started is announced before it goes. */
		if (tr->hello_pending)
			events_open_new_peers(tr, 1);
		/*
		 * A process that exits before the suspend reaches it is simply not part of the
		 * checkpoint: rather than leave in the middle of the coordinator's barriers
		 * (which abandons the checkpoint), its peer stays as a ghost that answers them
		 * and goes at resume. The coordinator may have counted it in a checkpoint whose
		 * suspend is still on the way, so every ghost waits a little (GHOST_GRACE_MS)
		 * before it goes. First serve a suspend already waiting on its connection.
		 */
		while (p->threads)
			ptable_del_thread(tr, p->threads);
		p->ghost = 1;
		p->phase = PP_SUSPENDED;
		p->born_held = 0;
		if (p->suspend_pending) {
			/* it died while we were stopping it: nothing left to stop */
			p->suspend_pending = 0;
			peer_barrier_done(p, BARRIER_SUSPEND, 0, NULL, NULL);
		}
		p->ghost_until_us = now_us() + GHOST_GRACE_MS * 1000L;
		peer_input(p);
		if (p->conn_open)
			return; /* tracer_run() frees it: see sweep_ghosts() */
	}
	ptable_del_proc(tr, p);
}

/*
 * Announce to the coordinator the new processes whose delay is over (every one with ALL:
 * a checkpoint is starting, the program asks for one, or a process of the tree is going).
 * Called by the event loop once every ready wait status is handled, so that a child whose
 * first stop is already queued is let go before the tracer spends time on its connection.
 * The delay keeps fork+exit loops (shells, make) off the coordinator: a process is still
 * listed within a second of its birth. Returns the milliseconds until the next is due, or -1.
 */
int events_open_new_peers(struct tracer *tr, int all)
{
	struct tracee_proc *p;
	long now = now_us(), wait = -1;

	tr->hello_pending = 0;
	for (p = tr->procs; p; p = p->next) {
		if (!p->hello_pending)
			continue;
		if (!all && now < p->hello_due_us) {
			tr->hello_pending = 1;
			if (wait < 0 || p->hello_due_us - now < wait)
				wait = p->hello_due_us - now;
			continue;
		}
		p->hello_pending = 0;
		if (!p->ghost && !p->nocheckpoint)
			peer_open(p, -1, NULL);
	}
	return wait < 0 ? -1 : (int)(wait / 1000) + 1;
}

void events_handle(struct tracer *tr, pid_t tid, int status)
{
	struct tracee_thread *t = ptable_thread(tr, tid);
	struct tracee_proc *p;
	enum resume_how how = RESUME_CONT;
	int sig, ev, inject = 0;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t) {
			sockrec_settle(t); /* the other threads still have its sockets */
			on_death(tr, t, status);
		}
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	if (!t) {
		t = adopt_newborn(tr, tid);
		if (!t) {
			/* Nothing to attribute it to: never leave a task stopped. */
			ptrace(PTRACE_CONT, tid, 0, 0);
			return;
		}
	}
	/* Any stop comes after the thread's last call returned: its result can be read now. */
	if (t->sc.lazy)
		sockrec_settle(t);
	sig = WSTOPSIG(status);
	ev = status >> 16;
	if (sig == (SIGTRAP | 0x80)) {
		sockrec_exit(t);
	} else if (ev == 0) {
		/* Signal-delivery-stop: deliver it untouched. */
		inject = sig;
	} else {
		switch (ev) {
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE:
			on_clone_event(t, ev);
			break;
		case PTRACE_EVENT_EXEC:
			on_exec(t);
			break;
		case PTRACE_EVENT_SECCOMP:
			how = on_seccomp(t);
			break;
		case PTRACE_EVENT_STOP:
			p = t->proc;
			if (is_stop_signal(sig)) {
				/* Group-stop: stay stopped, as the program would without us. */
				how = RESUME_LISTEN;
				if (!p->group_stopped) {
					p->group_stopped = 1;
					if (p->conn_open)
						peer_update(p, "STOPPED");
				}
			} else if (t->listening && p->group_stopped) {
				/* A listening thread woken by SIGCONT: the group-stop is over. */
				p->group_stopped = 0;
				if (p->conn_open)
					peer_update(p, NULL);
			}
			else if (t->state != TS_NEW)
				/* our PTRACE_INTERRUPT, which may have cut a wait short. (The
				 * first stop of a new task is at its fork's return: no call to
				 * look at, and no register read on every fork.) */
				t->check_eintr = 1;
			break;
		default:
			pr_debug("tid %d: %s", tid, name_ptrace_event(ev));
			break;
		}
	}
	p = t->proc;
	if (p->phase == PP_RUNNING || p->nocheckpoint || p->in_vfork) {
		thread_resume(t, how, inject);
	} else if (ev == PTRACE_EVENT_STOP) {
		/* A clean stop between two instructions of the program (our interrupt, a
		 * group-stop, a new task's first stop): hold it. The checkpoint code may run
		 * remote syscalls from here. */
		thread_hold(t, how, inject, status);
		suspend_check(p);
	} else {
		/*
		 * Stopped inside a syscall (seccomp, syscall-exit, fork/clone/exec event): a
		 * remote syscall from here would be taken as the syscall's own continuation.
		 * Stopped at a signal's delivery: a remote syscall (infection) resumes the thread
		 * with no signal, which discards it, and a signal given on the later resume is
		 * ignored once the thread sits in another kind of stop; the program would lose
		 * it. Either way let it go on (the signal delivered now: its handler frame is
		 * set up, and the handler runs after the checkpoint) and stop at the next clean
		 * point: the interrupt is still pending (asking again costs nothing if it is).
		 */
		thread_resume(t, how, inject);
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0 && errno != ESRCH)
			pr_warn("tid %d: PTRACE_INTERRUPT failed: %s", t->tid, strerror(errno));
	}
}
