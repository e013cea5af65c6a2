/*
 * Blocking syscalls cut short by a checkpoint: what the live thread does when it is let go
 * again, and what the saved copy of its registers makes the restored thread do. Both must
 * look to the program as if no checkpoint had happened (see sysrestart.c for each case).
 *
 * Pure register logic: the callers read and write the registers (thread.c for the live
 * thread, collect_threads.c for the image) and keep what must be remembered between two
 * checkpoints (struct sysrestart_memo, per thread).
 */
#ifndef DMTCP_TRACER_SYSRESTART_H
#define DMTCP_TRACER_SYSRESTART_H

#include <stdint.h>
#include <sys/types.h>

#include "ckpt_state.h"
#include "regs.h"

/*
 * A syscall that the kernel resumes through restart_syscall keeps its number in the old
 * task's restart block only: a thread held inside restart_syscall shows that number, not the
 * call's. The tracer remembers, at the stop that cut the call short, which call it was and
 * where (the syscall instruction's return address): nr -1 when nothing is remembered.
 */
struct sysrestart_memo {
	long nr;
	uint64_t ip;
};
#define SYSRESTART_MEMO_NONE { -1, 0 }

/* At a stop of our making, before the thread is let go: remember what restart_syscall would
 * resume (or forget when the thread is elsewhere now). */
void sysrestart_note(struct sysrestart_memo *m, const arch_regs_t *r);

/* Whether tid has a signal pending that it does not block (1 when that cannot be told: the
 * call is then left alone). */
int sysrestart_signal_pending(pid_t pid, pid_t tid);

/* 1 when the live thread's call ended with an EINTR it is not owed and is to be issued again
 * (an epoll wait without a timeout: those end with EINTR, not a restart code, at any stop);
 * signal_pending: the thread has a signal pending that it does not block. */
int sysrestart_live_reissue(const arch_regs_t *r, int signal_pending);

/*
 * The saved registers of a thread held inside a syscall, made so that the restored thread,
 * which sigreturns into them with no kernel state of the call left, carries on as the live
 * thread would: the call issued again where it restarts (with the remaining time where the
 * kernel gave it back), or its result kept. memo: what sysrestart_note remembered for this
 * thread (NULL: nothing). Returns what was done.
 */
enum ckpt_sysfix sysrestart_fix_saved(arch_regs_t *r, const struct sysrestart_memo *memo,
				      int signal_pending);

#endif
