/*
 * The life of one restored process between its creation by prepare_tree and its jump into
 * the restorer, and the restart-wide context it works from. Shared by dmtcp_restart and
 * mtcp_restart.
 */
#ifndef DMTCP_RESTART_PROC_H
#define DMTCP_RESTART_PROC_H

#include <stdatomic.h>
#include <stdint.h>

#include "restart/prepare_fds.h"
#include "restart/prepare_image_req.h"
#include "restart/prepare_tree.h"
#include "restart/restart_images.h"

/* Stages a restored process announces (prepare_tree_announce()). */
enum restart_stage {
	RSTAGE_HOLD = 1, /* staged, before_gate done: waiting at the gate to be seized */
};

/*
 * Run inside restored process pid (its saved pid, for messages) once its memory is staged and
 * its fds are in place, before it announces RSTAGE_HOLD and waits at its gate. Returns 0, or
 * -errno (logged by the hook) to fail that process's restore.
 */
typedef int (*restart_gate_fn)(pid_t pid, void *arg);

/* Shared between the restart and the processes it creates (restart_create()). */
struct restart_progress {
	_Atomic uint64_t bytes_read; /* page bytes put in place so far, all processes */
};

struct restart_ctx {
	struct restart_set set;
	struct fd_shared fds;
	struct shm_shared shm;
	struct tree tree;
	int traced; /* a tracer will seize each process: before_gate, then wait at the gate */
	/*
	 * Set by the caller that traces (dmtcp_restart: the tracer's seccomp filter), NULL
	 * otherwise; restart code itself knows nothing of the tracer.
	 */
	restart_gate_fn before_gate;
	void *before_gate_arg;
	struct restart_progress *progress; /* shared memory, from restart_create() on */
};

/* Page bytes the restart reads in all: what restart_progress.bytes_read counts up to. */
uint64_t restart_total_bytes(const struct restart_ctx *c);

/*
 * Everything up to the tree: load and validate the images, plan the tree, pick where the pids
 * can be had, and recreate the shared kernel objects. Nothing irreversible. Returns 0 or
 * -errno (logged).
 */
int restart_prepare(struct restart_ctx *c, char *const paths[], int n, int strict,
		    int force_newns);

/* Create the processes (they wait to be released). On failure everything is undone. */
int restart_create(struct restart_ctx *c);

/* The tree's run function: restore process idx; returns only on failure. */
int restart_proc_run(int idx, void *arg);

/* Undo/free whatever exists. */
void restart_ctx_free(struct restart_ctx *c);

/* A wait status as an exit code, the way a shell reports it. */
int restart_exit_code(int wstatus);

#endif
