/*
 * Letting a stopped thread go, holding it, and the few register edits the core makes on a
 * thread in a ptrace-stop. Every ptrace request that resumes or edits a traced thread outside
 * the infection library goes through here; registers are named only in arch/.
 */
#ifndef DMTCP_TRACER_THREAD_H
#define DMTCP_TRACER_THREAD_H

#include <stdint.h>

#include "ptable.h"

/*
 * Let t go from its ptrace-stop: how and sig as the stop requires (resume_how in ptable.h).
 * A thread stopped by our own PTRACE_INTERRUPT (t->check_eintr) first gets its interrupted
 * epoll wait restarted (thread_restart_eintr). A thread that died meanwhile is not an error:
 * it returns -ESRCH, quietly (also for a thread a SIGKILL is ending, its death not yet
 * reported); 0 when the thread was let go.
 */
int thread_resume(struct tracee_thread *t, enum resume_how how, int sig);
/* Keep t in its ptrace-stop; remember how to let it go (status: the stop's wait status). */
void thread_hold(struct tracee_thread *t, enum resume_how how, int sig, int status);
/*
 * Let t go for good (PTRACE_DETACH) from the stop it is held in, as thread_resume would let it
 * go (an interrupted epoll wait restarted, a held signal delivered; a group-stopped thread
 * stays stopped, the kernel's doing). 0 or -errno (-ESRCH quietly).
 */
int thread_detach(struct tracee_thread *t);
/* PTRACE_INTERRUPT: t reports a stop soon (a no-op if one is pending). */
void thread_interrupt(struct tracee_thread *t);

/*
 * A few calls end with EINTR, not a restart code, when anything makes them look at signals,
 * our PTRACE_INTERRUPT included: epoll_wait, epoll_pwait and epoll_pwait2. Without a timeout
 * such a call is made again (as the kernel does with -ERESTARTSYS); not when a signal is
 * pending (the program is owed that EINTR), and not with a timeout.
 */
void thread_restart_eintr(struct tracee_thread *t);

/* At a syscall-entry (seccomp) stop: skip the call, which returns ret. 0 or -errno. */
int thread_skip_syscall(struct tracee_thread *t, long ret);
/* At a syscall-entry stop: change argument i (0..5) before the call runs. 0 or -errno. */
int thread_set_syscall_arg(struct tracee_thread *t, int i, uint64_t v);

#endif
