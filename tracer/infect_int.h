/*
 * Internals shared by the files of the infection library (infect.c: remote syscalls, start,
 * run, cure; infect_ptrace.c: running injected code to its end and back into a clean stop,
 * signals that arrive meanwhile; infect_fd.c: fds across the boundary). Not for callers:
 * they use infect.h.
 */
#ifndef DMTCP_INFECT_INT_H
#define DMTCP_INFECT_INT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "infect.h"
#include "regs.h"

#define MAX_DEFERRED 64
#define XSTATE_MAX   (64 * 1024)

/* Signals taken at their signal-delivery stop while our code ran, to be queued again. */
struct deferred {
	int n;
	pid_t tid[MAX_DEFERRED];
	siginfo_t si[MAX_DEFERRED];
};

struct infect_ctx {
	pid_t pid, tid;
	arch_regs_t regs; /* tid's registers at infect_start */
	int pidfd;	  /* -1 when pidfd_open failed */
	raddr_t base;	  /* remote area */
	size_t size;
	uint8_t *local; /* tracer's mapping of the same memfd */
	size_t blob_mem;
	struct deferred def;
	int dead;
};

/* infect_ptrace.c */
int infect_ptrace_err(const char *what, pid_t tid);
int infect_get_regs(pid_t tid, arch_regs_t *r);
int infect_set_regs(pid_t tid, const arch_regs_t *r);
int infect_get_xstate(pid_t tid, void **buf, size_t *len);
int infect_set_xstate(pid_t tid, void *buf, size_t len);
void infect_defer_signal(struct deferred *d, pid_t tid, const siginfo_t *si);
void infect_requeue_signals(struct deferred *d);
int infect_run_to_exit(pid_t tid, raddr_t done_ip, arch_regs_t *out, struct deferred *d);
int infect_finish_stop(pid_t tid, struct deferred *d);

/* infect_fd.c */
int infect_open_pidfd(pid_t pid);

#endif
