/*
 * Seizing the threads of a process that is already running (adopt.c), shared by the restart's
 * adoption and by attach.c, inside the tracer's public-API module.
 */
#ifndef DMTCP_TRACER_ADOPT_H
#define DMTCP_TRACER_ADOPT_H

#include "ptable.h"

/*
 * PTRACE_SEIZE every thread of p not in the table yet, rescanning /proc/PID/task until a pass
 * finds none new (threads born meanwhile), with the options p->nofilter asks for; a zombie
 * leader (pthread_exit) is left alone. Returns 0 or -errno; threads seized before a failure
 * stay in the table.
 */
int adopt_seize_threads(struct tracee_proc *p);

#endif
