/*
 * The tracer object, as the modules inside tracer/ see it (tracer.h keeps it opaque).
 *
 * It holds the floor of the layered core (docs/architecture.md, "Layers"): the configuration,
 * the process table, the hook table. Each module above keeps its tracer-wide state behind its
 * own pointer here, allocated by its init function in tracer_create() and freed by its fini
 * in tracer_destroy(); no module reaches into another's.
 */
#ifndef DMTCP_TRACER_CORE_H
#define DMTCP_TRACER_CORE_H

#include <sys/types.h>

#include "hooks.h"
#include "ptable.h"
#include "tracer_types.h"

/* The ptrace options every traced task gets (spawn, adopt, and children by inheritance). */
#define TRACER_PTRACE_OPTS                                                                        \
	(PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |    \
	 PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD)
/* Those of a process that carries no filter of ours (tracee_proc.nofilter: attached): no
 * EXITKILL, the program must outlive its tracer; no TRACESECCOMP, a filter of its own that
 * returns SECCOMP_RET_TRACE fails the call with ENOSYS, as untraced. */
#define TRACER_PTRACE_OPTS_NOFILTER                                                               \
	(TRACER_PTRACE_OPTS & ~(PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP))

struct loop;
struct filter;
struct peer_state;
struct barrier_state;
struct sockrec_state;
struct ckpt_state;
struct where_state;
struct detach_state;

struct tracer {
	struct tracer_config cfg;
	char hostname[256];
	struct ptable pt;
	struct hooks hooks;

	/* The root process (tracer_set_root) and who hears of its end. */
	pid_t root_pid;
	void (*on_root_exit)(int wstatus, void *arg);
	void *on_root_exit_arg;
	/* A module's verdict on the whole run (-errno, 0: none): tracer_run() returns it once
	 * no process is left (barriers.c: a restart that lost a process before it ran). */
	int run_err;

	/* Each module's own state (see the module's header). */
	struct loop *loop;		/* loop.c */
	struct filter *filter;		/* filter.c */
	struct peer_state *peer;	/* peer.c */
	struct barrier_state *barriers; /* barriers.c */
	struct sockrec_state *sockrec;	/* sockrec.c */
	struct sockdrain *sockdrain;	/* sockdrain.c */
	struct ckpt_state *ckpt;	/* checkpoint.c */
	struct where_state *where;	/* where.c */
	struct detach_state *detach;	/* detach.c */
};

static inline struct tracer *tr_of(const struct tracee_thread *t)
{
	return t->proc->tracer;
}

static inline const struct tracer_config *tracer_cfg(const struct tracer *tr)
{
	return &tr->cfg;
}

#endif
