/*
 * Letting traced threads go and holding them (see thread.h).
 */
#include "thread.h"

#include <asm/unistd.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

#include "log.h"
#include "procfs.h"
#include "regs.h"
#include "sysrestart.h"

int thread_resume(struct tracee_thread *t, enum resume_how how, int sig)
{
	long r = 0;

	if (t->check_eintr) {
		t->check_eintr = 0;
		if (how == RESUME_CONT && !sig)
			thread_restart_eintr(t);
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
	if (r < 0) {
		r = -errno;
		if (r != -ESRCH)
			pr_warn("tid %d: cannot resume: %s", t->tid, strerror(-r));
	}
	t->state = TS_RUNNING;
	t->listening = how == RESUME_LISTEN;
	return (int)r;
}

int thread_detach(struct tracee_thread *t)
{
	if (t->check_eintr) {
		t->check_eintr = 0;
		if (t->resume_how == RESUME_CONT && !t->resume_sig)
			thread_restart_eintr(t);
	}
	if (ptrace(PTRACE_DETACH, t->tid, 0, (long)t->resume_sig) < 0) {
		if (errno != ESRCH)
			pr_warn("tid %d: cannot detach: %s", t->tid, strerror(errno));
		return -errno;
	}
	t->state = TS_RUNNING;
	return 0;
}

void thread_hold(struct tracee_thread *t, enum resume_how how, int sig, int status)
{
	t->state = TS_HELD;
	t->resume_how = how;
	t->resume_sig = sig;
	t->stop_status = status;
}

void thread_interrupt(struct tracee_thread *t)
{
	/* ESRCH: died meanwhile; its death is in the wait queue */
	if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0 && errno != ESRCH)
		pr_warn("tid %d: PTRACE_INTERRUPT failed: %s", t->tid, strerror(errno));
}

/*
 * Our PTRACE_INTERRUPT cut the thread's call short: remember what restart_syscall would resume
 * (for the saved copy at the next checkpoint), and issue again an epoll wait that ended with
 * an EINTR the program is not owed (sysrestart.c).
 */
void thread_restart_eintr(struct tracee_thread *t)
{
	arch_regs_t r;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
		return;
	sysrestart_note(&t->memo, &r);
	if (regs_ret(&r) != -EINTR ||
	    !sysrestart_live_reissue(&r, sysrestart_signal_pending(t->proc->pid, t->tid)))
		return;
	regs_rewind_syscall(&r);
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0 && errno != ESRCH)
		pr_warn("tid %d: cannot restart its %s: %s", t->tid, "epoll wait", strerror(errno));
}

int thread_skip_syscall(struct tracee_thread *t, long ret)
{
	arch_regs_t r;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
		return -errno;
	regs_skip_syscall(&r, ret);
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
		return -errno;
	return 0;
}

int thread_set_syscall_arg(struct tracee_thread *t, int i, uint64_t v)
{
	arch_regs_t r;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r) < 0)
		return -errno;
	regs_set_syscall_arg(&r, i, v);
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &r) < 0)
		return -errno;
	return 0;
}
