/*
 * Infection library, ptrace side: run injected code in a stopped thread until it reaches its
 * end (a syscall-exit stop at a known ip), bring the thread back into an interrupt stop, and
 * keep the signals that arrive meanwhile to queue them again. See docs/infection.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "infect_int.h"
#include "log.h"
#include "procfs.h"

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

static const char *signame(int sig)
{
	static const char *const names[] = {
		[SIGHUP] = "SIGHUP",	   [SIGINT] = "SIGINT",	  [SIGQUIT] = "SIGQUIT",
		[SIGILL] = "SIGILL",	   [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS",	   [SIGFPE] = "SIGFPE",	  [SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1",	   [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE",	   [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
		[SIGCHLD] = "SIGCHLD",	   [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
		[SIGTSTP] = "SIGTSTP",	   [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
		[SIGURG] = "SIGURG",	   [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
		[SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
		[SIGIO] = "SIGIO",	   [SIGPWR] = "SIGPWR",	  [SIGSYS] = "SIGSYS",
	};

	if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])) && names[sig])
		return names[sig];
	return sig >= SIGRTMIN && sig <= SIGRTMAX ? "SIGRT" : "SIG?";
}

/* ptrace failure: ESRCH is the target vanishing, anything else is worth a line. */
int infect_ptrace_err(const char *what, pid_t tid)
{
	int e = errno;

	if (e != ESRCH)
		pr_err("tid %d: %s: %s", tid, what, strerror(e));
	return -e;
}

int infect_get_regs(pid_t tid, arch_regs_t *r)
{
	if (ptrace(PTRACE_GETREGS, tid, NULL, r) < 0)
		return infect_ptrace_err("PTRACE_GETREGS", tid);
	return 0;
}

int infect_set_regs(pid_t tid, const arch_regs_t *r)
{
	if (ptrace(PTRACE_SETREGS, tid, NULL, r) < 0)
		return infect_ptrace_err("PTRACE_SETREGS", tid);
	return 0;
}

/* The FPU/xsave state, sized by the kernel (AVX-512 here: never a constant). */
int infect_get_xstate(pid_t tid, void **buf, size_t *len)
{
	struct iovec iov;

	*buf = malloc(XSTATE_MAX);
	if (!*buf)
		return -ENOMEM;
	iov.iov_base = *buf;
	iov.iov_len = XSTATE_MAX;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0) {
		int r = infect_ptrace_err("PTRACE_GETREGSET NT_X86_XSTATE", tid);

		free(*buf);
		*buf = NULL;
		return r;
	}
	*len = iov.iov_len;
	return 0;
}

int infect_set_xstate(pid_t tid, void *buf, size_t len)
{
	struct iovec iov = {buf, len};

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return infect_ptrace_err("PTRACE_SETREGSET NT_X86_XSTATE", tid);
	return 0;
}

void infect_defer_signal(struct deferred *d, pid_t tid, const siginfo_t *si)
{
	if (d->n == MAX_DEFERRED) {
		pr_warn("tid %d: too many signals during infection, dropping %s", tid,
			signame(si->si_signo));
		return;
	}
	d->tid[d->n] = tid;
	d->si[d->n] = *si;
	d->n++;
}

/*
 * Queue the deferred signals again on the thread that dequeued them. A siginfo the kernel
 * lets a foreign process forge (si_code < 0 and not SI_TKILL: sigqueue, timers, mq, aio)
 * goes back whole; for the rest (kill, tkill, kernel-generated) only the signal number
 * survives, sent with tgkill.
 */
void infect_requeue_signals(struct deferred *d)
{
	int i;

	for (i = 0; i < d->n; i++) {
		siginfo_t *si = &d->si[i];
		pid_t tgid, ppid;
		long r;

		if (procfs_status_ids(d->tid[i], &tgid, &ppid))
			continue; /* the thread is gone, and its signals with it */
		if (si->si_code < 0 && si->si_code != SI_TKILL)
			r = syscall(SYS_rt_tgsigqueueinfo, tgid, d->tid[i], si->si_signo, si);
		else
			r = syscall(SYS_tgkill, tgid, d->tid[i], si->si_signo);
		if (r < 0 && errno != ESRCH)
			pr_warn("tid %d: cannot queue %s again: %s", d->tid[i],
				signame(si->si_signo), strerror(errno));
	}
	d->n = 0;
}

/* A fault raised by our own code ends the run; anything else is the target's signal. */
static int check_fault(pid_t tid, int sig, const siginfo_t *si)
{
	if ((sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP) &&
	    si->si_code > 0) {
		arch_regs_t r;

		infect_get_regs(tid, &r);
		pr_err("tid %d: %s (code %d, addr %p) at ip 0x%llx in injected code", tid,
		       signame(sig), si->si_code, si->si_addr, (unsigned long long)regs_ip(&r));
		return -EFAULT;
	}
	if (sig == SIGSYS && si->si_code == 1 /* SYS_SECCOMP */) {
		pr_err("tid %d: the target's seccomp filter refused injected syscall %d", tid,
		       si->si_syscall);
		return -EPERM;
	}
	return 0;
}

/* Which kind of syscall stop this is (PTRACE_GET_SYSCALL_INFO's op), or 0 for none. */
#define SYSCALL_INFO_ENTRY 1
#define SYSCALL_INFO_EXIT  2
static int syscall_stop_kind(pid_t tid)
{
	unsigned char info[128];

	info[0] = 0; /* valgrind does not know what this request writes */
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(info), info) <= 0)
		return 0;
	return info[0];
}

/*
 * Wait for tid's next stop; -ESRCH once it is gone. A thread's exit is only peeked at
 * (WNOWAIT) and left for the caller's own wait loop to reap: the tracer needs the exit
 * status of the processes it runs, and the thread we infect is often the group leader.
 */
static int wait_stop(pid_t tid, int *st)
{
	siginfo_t si;
	pid_t w;
	int r;

	do {
		memset(&si, 0, sizeof(si));
		r = waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | __WALL | WNOWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == ECHILD ? -ESRCH : -errno;
	if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
		return -ESRCH;
	/* A stop: consume exactly that report. */
	do
		w = waitpid(tid, st, __WALL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno == ECHILD ? -ESRCH : -errno;
	if (WIFEXITED(*st) || WIFSIGNALED(*st))
		return -ESRCH; /* killed between the two waits: already reaped */
	return 0;
}

/*
 * Continue tid (whose registers are already set) with PTRACE_SYSCALL until it stops at the
 * exit of a syscall with rip == done_ip, i.e. just after the syscall instruction that ends
 * our code; *out gets the registers there. No signal is involved: an int3 would raise a
 * forced SIGTRAP, and the kernel resets a forced signal's disposition to SIG_DFL (and
 * unblocks it) when the target ignores or blocks it, which would change the target.
 * Other stops on the way:
 *  - syscall stops of syscalls our code makes: continue;
 *  - PTRACE_EVENT_SECCOMP: a filter returned SECCOMP_RET_TRACE for our syscall; continuing
 *    lets it run, which is what a tracer that does not intervene means;
 *  - PTRACE_EVENT_STOP (group stop, interrupt) and other events: continue;
 *  - signal-delivery stops: the signal is taken (continue with 0) and remembered in d,
 *    except a fault raised by our own code, which ends the run with -EFAULT/-EPERM.
 */
int infect_run_to_exit(pid_t tid, raddr_t done_ip, arch_regs_t *out, struct deferred *d)
{
	for (;;) {
		int st, sig, err;
		siginfo_t si;

		if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL) < 0)
			return infect_ptrace_err("PTRACE_SYSCALL", tid);
		err = wait_stop(tid, &st);
		if (err)
			return err;
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		if ((st >> 16) & 0xff)
			continue;
		if (sig == (SIGTRAP | 0x80) || sig == SIGTRAP) {
			int kind = syscall_stop_kind(tid);

			if (kind == SYSCALL_INFO_EXIT) {
				if (infect_get_regs(tid, out) < 0)
					return -ESRCH;
				if (regs_ip(out) == done_ip.v)
					return 0;
			}
			if (kind == SYSCALL_INFO_ENTRY || kind == SYSCALL_INFO_EXIT)
				continue;
		}
		if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) < 0)
			return infect_ptrace_err("PTRACE_GETSIGINFO", tid);
		err = check_fault(tid, sig, &si);
		if (err)
			return err;
		infect_defer_signal(d, tid, &si);
	}
}

/*
 * Bring tid from the syscall-exit stop where infect_run_to_exit() left it into a
 * PTRACE_EVENT_STOP, the stop PTRACE_INTERRUPT gives. This matters for a thread that was
 * interrupted inside a syscall: the kernel applies the restart fix-up (-ERESTARTSYS and
 * friends: rip -= 2, rax = orig_rax) only on its way out of signal handling. From a
 * syscall-exit stop it would not run it, and the restored rax (-ERESTARTSYS) would reach
 * user space as the syscall's result. The interrupt stop happens inside get_signal(), so
 * once the original registers are back, resuming takes the same path as the original stop.
 */
int infect_finish_stop(pid_t tid, struct deferred *d)
{
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
		return infect_ptrace_err("PTRACE_INTERRUPT", tid);
	for (;;) {
		int st, err;
		siginfo_t si;

		if (ptrace(PTRACE_CONT, tid, NULL, NULL) < 0)
			return infect_ptrace_err("PTRACE_CONT", tid);
		err = wait_stop(tid, &st);
		if (err)
			return err;
		if (!WIFSTOPPED(st))
			continue;
		if (((st >> 16) & 0xff) == PTRACE_EVENT_STOP)
			return 0;
		if ((st >> 16) & 0xff)
			continue;
		/* A signal queued meanwhile is dequeued before the interrupt trap. */
		if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) == 0)
			infect_defer_signal(d, tid, &si);
	}
}
