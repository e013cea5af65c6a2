/*
 * Suspending and resuming one traced process (the coordinator's barriers do it, restart
 * adoption too).
 *
 * Suspend: PTRACE_INTERRUPT every running thread; each then reports a ptrace-stop that
 * events.c holds and reports here (suspend_check); once every thread is held, and a rescan
 * of /proc/PID/task finds no thread born meanwhile, the process is PP_SUSPENDED and
 * TEV_SUSPENDED fires. Resume lets each thread go exactly as it was held, fires TEV_RESUMED,
 * and lets go the processes held for the coordinator (born_held) that it never took over.
 *
 * A peek is a suspend for a look at the threads (dmtcp_command --where), not for a checkpoint
 * (p->peeking): the same stop and TEV_SUSPENDED, but a process p forks meanwhile is not held
 * for the coordinator, and resume_peek() lets go of p alone, never of processes that a
 * checkpoint holds.
 */
#ifndef DMTCP_TRACER_SUSPEND_H
#define DMTCP_TRACER_SUSPEND_H

#include "ptable.h"

void suspend_begin(struct tracee_proc *p);
/* A thread of p was held, or left: is p suspended now? */
void suspend_check(struct tracee_proc *p);
/* Let p go (and the processes held for the coordinator with it); returns how many of p's
 * own threads were let go: 0 when p is dead or dying (a SIGKILL while it was held). */
int resume_proc(struct tracee_proc *p);
void suspend_peek(struct tracee_proc *p);
void resume_peek(struct tracee_proc *p);
/*
 * Why p is not suspended yet, in one line for the coordinator's status: a vfork parent waits
 * for its child's exec or exit; otherwise the first thread not stopped, with its scheduler
 * state (and the kernel function it sleeps in, when /proc shows it); else what the tracer
 * knows (no thread left, or every thread stopped or gone).
 */
void suspend_why(const struct tracee_proc *p, char *buf, size_t n);

#endif
