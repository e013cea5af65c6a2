/*
 * Wait statuses into process-table changes and hook events (see events.h).
 */
#include "events.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "filter.h"
#include "log.h"
#include "names.h"
#include "procfs.h"
#include "suspend.h"
#include "thread.h"

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static struct tracee_proc *new_process(struct tracer *tr, struct tracee_proc *parent, pid_t pid,
				       pid_t ppid, int held)
{
	struct tracer_ev ev = { .type = TEV_PROC_BORN, .parent = parent };
	struct tracee_proc *p;

	p = ptable_add_proc(tr, pid, ppid, parent ? parent->prog : "?");
	if (!p)
		return NULL;
	if (!ptable_add_thread(tr, p, pid, TS_NEW)) {
		ptable_del_proc(tr, p);
		return NULL;
	}
	if (parent) {
		p->nocheckpoint = parent->nocheckpoint;
		p->restarted = parent->restarted;
		p->nofilter = parent->nofilter;
	}
	if (held) {
		/* Born while its parent is being suspended: it must not run during the
		 * checkpoint. It announces itself as suspended; the coordinator brings it to the
		 * current barrier, or it is let go with its parent. */
		p->phase = PP_SUSPENDING;
		p->born_held = 1;
	}
	pr_debug("pid %d: new process (parent %d)%s", pid, ppid, held ? ", held" : "");
	ev.p = p;
	hooks_fire(tr, &ev);
	return p;
}

static struct tracee_thread *new_thread(struct tracer *tr, struct tracee_proc *p, pid_t tid)
{
	struct tracer_ev ev = { .type = TEV_THREAD_BORN, .p = p };

	ev.t = ptable_add_thread(tr, p, tid, TS_NEW);
	if (ev.t)
		hooks_fire(tr, &ev);
	return ev.t;
}

/*
 * A stop of a tid we do not know: an auto-attached thread or process whose first stop came
 * before its parent's PTRACE_EVENT_FORK/CLONE was read. /proc tells which it is.
 */
static struct tracee_thread *adopt_newborn(struct tracer *tr, pid_t tid)
{
	struct tracee_proc *p, *parent;
	pid_t tgid = 0, ppid = 0;

	if (procfs_status_ids(tid, &tgid, &ppid) < 0)
		return NULL;
	if (tgid != tid) {
		p = ptable_proc(tr, tgid);
		if (!p) {
			pr_warn("tid %d: stop of a thread of unknown process %d", tid, tgid);
			return NULL;
		}
		return new_thread(tr, p, tid);
	}
	parent = ptable_proc(tr, ppid);
	p = new_process(tr, parent, tid, ppid,
			parent && parent->phase != PP_RUNNING && !parent->nocheckpoint &&
				!parent->peeking);
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
	int held, state;

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

		procfs_path(path, sizeof(path), parent->pid, newid, "");
		if (access(path, F_OK) == 0) {
			new_thread(tr, parent, newid);
			return;
		}
		if (procfs_status_ids(newid, &tgid, &ppid) < 0)
			return; /* gone already; its death is in the wait queue */
		if (tgid == parent->pid) {
			new_thread(tr, parent, newid);
			return;
		}
	} else {
		ppid = parent->pid;
	}
	/*
	 * A parent slow to reach its event stop (preempted between creating the child and
	 * stopping) can have a child that was adopted at its first stop, ran, died and was
	 * forgotten before this event is read: not a process to add, or the table would hold
	 * one that never stops and every suspend would wait for it. Its pid cannot have been
	 * reused yet: the parent has not returned from fork, so it has not reaped it.
	 */
	state = procfs_task_state(newid, newid);
	if (state < 0 || state == 'Z' || state == 'X') {
		pr_debug("pid %d: child %d already gone when its %s event came", parent->pid, newid,
			 name_ptrace_event(ev));
		return;
	}
	/* Held for the coordinator when its parent is being suspended for a checkpoint (not
	 * when the parent is only stopped for a look: see suspend_peek()). */
	held = parent->phase != PP_RUNNING && ev != PTRACE_EVENT_VFORK && !parent->nocheckpoint &&
	       !parent->peeking;
	c = new_process(tr, parent, newid, ppid ? ppid : parent->pid, held);
	if (c && ev == PTRACE_EVENT_VFORK)
		c->in_vfork = 1;
}

static void on_exec(struct tracee_thread *t)
{
	struct tracer_ev ev = { .type = TEV_EXEC, .p = t->proc, .t = t };
	struct tracer *tr = t->proc->tracer;
	struct tracee_proc *p = t->proc;
	struct tracee_thread *o, *next;
	char comm[64];

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
	t->exit_nr = -1;
	p->in_vfork = 0;
	if (p->exec_pending && p->exec_prog[0])
		snprintf(p->prog, sizeof(p->prog), "%s", p->exec_prog);
	else if (procfs_comm(p->pid, 0, comm, sizeof(comm)) == 0 && comm[0])
		snprintf(p->prog, sizeof(p->prog), "%s", comm);
	p->exec_pending = 0;
	pr_debug("pid %d: exec %s", p->pid, p->prog);
	hooks_fire(tr, &ev);
}

/*
 * One PTRACE_GET_SYSCALL_INFO tells the filter's data, the number and the arguments: it
 * replaces PTRACE_GETEVENTMSG + PTRACE_GETREGS on every trapped call.
 */
static enum resume_how on_seccomp(struct tracee_thread *t)
{
	struct __ptrace_syscall_info si;
	struct syscall_stop s;
	enum resume_how how;
	long n;

	n = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si);
	if (n < (long)(offsetof(struct __ptrace_syscall_info, seccomp.ret_data) +
		       sizeof(si.seccomp.ret_data)) ||
	    si.op != PTRACE_SYSCALL_INFO_SECCOMP)
		return RESUME_CONT;
	/* A call of another ABI (i386, x32): let it run; nothing is recorded of it. */
	if (si.seccomp.ret_data != FILTER_DATA_NATIVE)
		return RESUME_CONT;
	s.nr = (long)si.seccomp.nr;
	memcpy(s.args, si.seccomp.args, sizeof(s.args));
	how = hooks_run_entry(tr_of(t), t, &s);
	if (how == RESUME_SYSCALL)
		t->exit_nr = s.nr;
	return how;
}

/* The exit stop of a trapped call whose handler asked for it (PTRACE_SYSCALL). */
static void on_syscall_exit(struct tracee_thread *t)
{
	struct __ptrace_syscall_info si;
	long nr = t->exit_nr, n;

	if (nr < 0)
		return;
	t->exit_nr = -1;
	n = ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, (void *)sizeof(si), &si);
	if (n < (long)(offsetof(struct __ptrace_syscall_info, exit.rval) + sizeof(si.exit.rval)) ||
	    si.op != PTRACE_SYSCALL_INFO_EXIT)
		return;
	hooks_run_exit(tr_of(t), t, nr, (long)si.exit.rval);
}

static void on_death(struct tracer *tr, struct tracee_thread *t, int status)
{
	struct tracer_ev ev = { .type = TEV_PROC_EXIT, .p = t->proc, .status = status };
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
	/* A restored process that never ran again is no end of the program, nor is any end
	 * once its restart is lost: the restart failed, and says so (barriers.c). */
	if (p->pid == tr->root_pid && !p->restoring && !tr->run_err) {
		tr->root_pid = 0;
		if (tr->on_root_exit)
			tr->on_root_exit(status, tr->on_root_exit_arg);
	}
	while (p->threads)
		ptable_del_thread(tr, p->threads);
	hooks_fire(tr, &ev);
	/* A module that still needs it (a coordinator peer answering a checkpoint, see
	 * barriers.c) keeps it as a ghost and lets go of it itself. */
	if (!p->ghost)
		ptable_del_proc(tr, p);
}

/* PTRACE_EVENT_STOP: a group-stop, the end of one, or our own interrupt. */
static enum resume_how on_event_stop(struct tracee_thread *t, int sig)
{
	struct tracee_proc *p = t->proc;

	if (is_stop_signal(sig)) {
		/* Group-stop: stay stopped, as the program would without us. */
		if (!p->group_stopped) {
			p->group_stopped = 1;
			hooks_fire_proc(tr_of(t), TEV_JOBCTL, p);
		}
		return RESUME_LISTEN;
	}
	if (t->listening && p->group_stopped) {
		/* A listening thread woken by SIGCONT: the group-stop is over. */
		p->group_stopped = 0;
		hooks_fire_proc(tr_of(t), TEV_JOBCTL, p);
	} else if (t->state != TS_NEW) {
		/* our PTRACE_INTERRUPT, which may have cut a wait short. (The first stop of a
		 * new task is at its fork's return: no call to look at, and no register read on
		 * every fork.) */
		t->check_eintr = 1;
	}
	return RESUME_CONT;
}

void events_handle(struct tracer *tr, pid_t tid, int status)
{
	struct tracee_thread *t = ptable_thread(tr, tid);
	struct tracer_ev ev = { .type = TEV_STOP, .status = status };
	struct tracee_proc *p;
	enum resume_how how = RESUME_CONT;
	int sig, pev, inject = 0;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t) {
			ev.type = TEV_THREAD_EXIT;
			ev.t = t;
			ev.p = t->proc;
			hooks_fire(tr, &ev);
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
	/* Any stop comes after the thread's last call returned: lazy results can be read. */
	ev.t = t;
	ev.p = t->proc;
	hooks_fire(tr, &ev);
	sig = WSTOPSIG(status);
	pev = status >> 16;
	if (sig == (SIGTRAP | 0x80)) {
		on_syscall_exit(t);
	} else if (pev == 0) {
		/* Signal-delivery-stop: deliver it untouched. */
		inject = sig;
	} else {
		switch (pev) {
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE:
			on_clone_event(t, pev);
			break;
		case PTRACE_EVENT_EXEC:
			on_exec(t);
			break;
		case PTRACE_EVENT_SECCOMP:
			how = on_seccomp(t);
			break;
		case PTRACE_EVENT_STOP:
			how = on_event_stop(t, sig);
			break;
		default:
			pr_debug("tid %d: %s", tid, name_ptrace_event(pev));
			break;
		}
	}
	p = t->proc;
	if (p->phase == PP_RUNNING || p->nocheckpoint || p->in_vfork) {
		thread_resume(t, how, inject);
	} else if (pev == PTRACE_EVENT_STOP) {
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
		thread_interrupt(t);
	}
}
