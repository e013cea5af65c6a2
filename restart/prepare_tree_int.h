/*
 * Declarations shared by the two halves of prepare_tree: the planning (prepare_tree.c) and
 * the creation, in the restart and in the new processes (prepare_tree_run.c).
 */
#ifndef DMTCP_PREPARE_TREE_INT_H
#define DMTCP_PREPARE_TREE_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "restart/prepare_tree.h"

struct tree_slot {
	_Atomic uint32_t go;	      /* GO_WAIT, GO_RUN, GO_ABORT */
	_Atomic uint32_t group_ready; /* leader: its group exists */
	_Atomic uint32_t gate;	      /* prepare_tree_gate_open() */
	_Atomic uint32_t done;	      /* it left the tree: detached, or its run returned */
};

enum { GO_WAIT = 0, GO_RUN = 1, GO_ABORT = 2 };

enum report_kind {
	REP_PLACED = 1, /* pid, session, group in place; waiting for release */
	REP_FAILED,	/* value = -errno, why says what */
	REP_STAGE,	/* value >= 0, announced by the run function */
	REP_MAIN_EXIT,	/* reaper: the main process ended, value = wait status */
	REP_REAPER_UP,	/* reaper: namespace ready */
};

struct tree_report {
	int32_t idx;
	int32_t kind;
	int32_t value;
	char why[240];
};

int tree_find_pid(const struct tree *t, pid_t pid);
/* CAP_SYS_ADMIN over our PID namespace: true root of the initial user namespace. */
int tree_may_set_tid_here(void);

#endif
