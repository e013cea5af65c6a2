/*
 * What the tracer does with one wait status: ptrace-stops of every kind, new threads and
 * processes, exec, and deaths. The event loop (loop.c) hands every status here; this file
 * keeps the process table in step with the kernel and fires the hook table's events and traps
 * (hooks.h), so that no module above needs to look at a wait status.
 *
 * Every stop is either let go at once (the process runs) or held (its process is being
 * suspended): a held thread remembers how to be let go (enum resume_how, and the signal it
 * was about to receive) so that resuming it later is exactly what letting it go now would
 * have been.
 */
#ifndef DMTCP_TRACER_EVENTS_H
#define DMTCP_TRACER_EVENTS_H

#include <sys/types.h>

struct tracer;

void events_handle(struct tracer *tr, pid_t tid, int status);

#endif
