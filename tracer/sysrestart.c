/*
 * Blocking syscalls cut short by a checkpoint (see sysrestart.h).
 *
 * A thread held by our PTRACE_INTERRUPT inside a blocking call shows one of:
 *  - -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND (read, accept, select, ppoll, wait4,
 *    futex without a timeout, ...): let go, the kernel issues the call again itself. The
 *    saved registers are rewound over the syscall instruction with the number back in the
 *    result register, so the restored thread issues it again too.
 *  - -ERESTART_RESTARTBLOCK (nanosleep, clock_nanosleep, poll (with or without a timeout),
 *    futex with a timeout): let go, the kernel resumes it through restart_syscall from the
 *    task's restart block, which keeps the deadline, so the live thread loses no time. The
 *    block dies with the task: the saved registers issue the original call again instead,
 *      . a relative nanosleep/clock_nanosleep whose caller gave a remainder buffer: the
 *        kernel has written the time left there as it cut the call short, so the call is
 *        issued with that buffer as its request: the restored thread sleeps what was left;
 *      . an absolute clock_nanosleep (TIMER_ABSTIME), poll without a timeout, a futex with an
 *        absolute timeout: issued as it was, which is exact;
 *      . a relative timeout the kernel keeps to itself (poll's, a relative futex wait's, a
 *        nanosleep without a remainder buffer): issued as it was, so the wait starts again in
 *        full at restart (it waits longer, never returns early or with EINTR).
 *    A thread held inside restart_syscall itself (the call was cut short and resumed once
 *    already, at a checkpoint before this one) shows restart_syscall's number; the call it
 *    stands for is what sysrestart_note remembered at that checkpoint, at the same place.
 *    When nothing was remembered (the call was first cut short by something else, a job
 *    control stop), the saved call returns -EINTR, which these calls may return.
 *  - -EINTR from epoll_wait, epoll_pwait, epoll_pwait2, which end that way at any stop:
 *    without a timeout the call is issued again, live and saved, unless a signal is pending
 *    (the program is owed that EINTR); with a timeout the EINTR stays (event loops count it
 *    as an early wakeup and wait again for what is left).
 */
#include "sysrestart.h"

#include <asm/unistd.h>
#include <errno.h>
#include <time.h>

#include "procfs.h"

int sysrestart_signal_pending(pid_t pid, pid_t tid)
{
	struct procfs_sigs s;

	if (procfs_status_sigs(pid, tid, &s))
		return 1;
	return ((s.pnd | s.shdpnd) & ~s.blk) != 0;
}

void sysrestart_note(struct sysrestart_memo *m, const arch_regs_t *r)
{
	long nr = regs_syscall_nr(r);

	if (regs_ret(r) != -ARCH_ERESTART_RESTARTBLOCK || nr < 0)
		return;
	if (nr != __NR_restart_syscall) {
		m->nr = nr;
		m->ip = regs_ip(r);
	} else if (m->ip != regs_ip(r)) {
		m->nr = -1; /* resumed elsewhere than where we saw it cut short: not ours */
	}
}

int sysrestart_live_reissue(const arch_regs_t *r, int signal_pending)
{
	int infinite;

	if (regs_ret(r) != -EINTR || signal_pending)
		return 0;
	switch (regs_syscall_nr(r)) {
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
		infinite = (int)regs_syscall_arg(r, 3) < 0; /* timeout in ms */
		break;
	case __NR_epoll_pwait2:
		infinite = regs_syscall_arg(r, 3) == 0; /* no timespec */
		break;
	default:
		return 0;
	}
	return infinite;
}

/* The call a -ERESTART_RESTARTBLOCK stop stands for, or -1 when unknown. */
static long block_call(const arch_regs_t *r, const struct sysrestart_memo *memo)
{
	long nr = regs_syscall_nr(r);

	if (nr != __NR_restart_syscall)
		return nr;
	if (memo && memo->nr >= 0 && memo->ip == regs_ip(r))
		return memo->nr;
	return -1;
}

enum ckpt_sysfix sysrestart_fix_saved(arch_regs_t *r, const struct sysrestart_memo *memo,
				      int signal_pending)
{
	long nr;

	if (regs_syscall_nr(r) < 0)
		return CKPT_SYSFIX_NONE;
	switch (regs_ret(r)) {
	case -ARCH_ERESTARTSYS:
	case -ARCH_ERESTARTNOINTR:
	case -ARCH_ERESTARTNOHAND:
	case -ENOSYS: /* held at syscall entry: the call has not run yet */
		regs_rewind_syscall(r);
		return CKPT_SYSFIX_RESTART;
	case -ARCH_ERESTART_RESTARTBLOCK:
		nr = block_call(r, memo);
		if (nr < 0) {
			regs_set_ret(r, -EINTR);
			return CKPT_SYSFIX_EINTR;
		}
		if (nr == __NR_nanosleep && regs_syscall_arg(r, 1))
			regs_set_syscall_arg(r, 0, regs_syscall_arg(r, 1));
		else if (nr == __NR_clock_nanosleep && !(regs_syscall_arg(r, 1) & TIMER_ABSTIME) &&
			 regs_syscall_arg(r, 3))
			regs_set_syscall_arg(r, 2, regs_syscall_arg(r, 3));
		regs_rewind_syscall_as(r, nr);
		return CKPT_SYSFIX_RESTART;
	case -EINTR:
		if (!sysrestart_live_reissue(r, signal_pending))
			return CKPT_SYSFIX_NONE;
		regs_rewind_syscall(r);
		return CKPT_SYSFIX_RESTART;
	default:
		return CKPT_SYSFIX_NONE;
	}
}
