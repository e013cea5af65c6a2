/*
 * Rebuilding a process tree with its original PIDs, sessions and process groups.
 *
 * The caller describes the processes as they were (pid, ppid, pgid, sid, and the thread ids
 * that must also be free for the restorer), picks where the PIDs can be had
 * (prepare_tree_pick_mode()), and creates the tree (prepare_tree_create()). Every process is
 * created by its saved parent when that parent is among the processes, so getppid() is right;
 * the others are children of the restart itself (TREE_HOST) or of a small reaper that is pid 1
 * of a new PID namespace (TREE_NEWNS). Each new process then waits, with its pid, session and
 * group in place, until the caller releases it (prepare_tree_release()); then it runs the
 * caller's per-process function, which is expected not to return (it enters the restorer).
 *
 * Everything up to prepare_tree_release() is undoable: prepare_tree_abort() kills every
 * process created and reaps them, so a failed restart leaves nothing behind.
 */
#ifndef DMTCP_PREPARE_TREE_H
#define DMTCP_PREPARE_TREE_H

#include <stdint.h>
#include <sys/types.h>

enum tree_mode {
	TREE_HOST = 1, /* clone3 set_tid in our own PID namespace (root, every id free) */
	TREE_NEWNS,    /* a new PID namespace (+ user namespace when unprivileged) */
};

struct tree_proc {
	/* As saved. */
	pid_t pid, ppid, pgid, sid;
	const pid_t *tids; /* other thread ids of the process (not pid itself) */
	uint32_t ntids;
	int is_main;	   /* the "root program" whose exit status the restart returns */

	/* Filled in by prepare_tree_plan(). */
	int parent;	   /* index of the saved parent, -1 when it is not among the processes */
	int early;	   /* forked by the parent before the parent's setsid() */

	/* Filled in by prepare_tree_create(). */
	pid_t real_pid;	   /* the pid in the restart's own PID namespace */
};

/* A child that had ended but was not yet reaped: recreated as a zombie of its parent. */
struct tree_zombie {
	pid_t pid;
	int parent;	/* index of its parent in procs */
	int status;	/* its wait status, given back when the program reaps it */
};

struct tree_slot; /* shared between the processes (prepare_tree.c) */

/*
 * Runs in process idx once released. Returns only on failure (the process then exits with
 * an error status after reporting ret); on success it does not return.
 */
typedef int (*tree_run_fn)(int idx, void *arg);

struct tree {
	struct tree_proc *procs;
	int n;
	struct tree_zombie *zombies;
	int nzombies;
	enum tree_mode mode;
	tree_run_fn run;
	void *arg;
	int timeout_ms;		 /* bound on every wait; default 10000 */
	int min_fd;		 /* the tree's own fds are put at or above this (0: anywhere) */

	/* internal */
	struct tree_slot *slots; /* MAP_SHARED, one per process, plus the reaper's at [n] */
	size_t slots_len;
	int report_fd;		 /* our end of the report socket */
	int child_report_fd;	 /* the processes' end */
	int alive_fd;		 /* write end of a pipe the processes hold: EOF = restart died */
	int child_alive_fd;
	pid_t reaper;		 /* TREE_NEWNS: the namespace's pid 1, as we see it */
	int created;		 /* processes that reported in */
	int released;
	int main_status;	 /* wait status of the main process, -1 while it runs */
};

/*
 * Check the saved tree can be rebuilt: unique ids, parents, sessions and groups reachable by
 * fork/setsid/setpgid in some order. Fills parent/early. On error returns -EINVAL and puts a
 * reason naming the pid in why.
 */
int prepare_tree_plan(struct tree *t, char *why, size_t whylen);

/*
 * Decide TREE_HOST or TREE_NEWNS: host when we may choose pids here (CAP_SYS_ADMIN in our
 * PID namespace's user namespace) and every saved pid and tid is free, unless force_newns.
 * Returns 0, or -EPERM/-EINVAL (with why) when neither way can give the pids (e.g. pid 1, a
 * pid above pid_max, or no way to get a new user namespace).
 */
int prepare_tree_pick_mode(struct tree *t, int force_newns, char *why, size_t whylen);

/*
 * Create every process; returns once each has reported its pid/session/group in place (0),
 * or after undoing everything (-errno, the failure logged with the pid it concerns).
 * TREE_NEWNS unprivileged: unshares a user namespace for the calling process first (it must be
 * single-threaded), mapping our uid and gid to themselves.
 */
int prepare_tree_create(struct tree *t);

/* Let process idx (or all, idx < 0) go on to the run function. */
int prepare_tree_release(struct tree *t, int idx);

/*
 * A second gate, for the run function: in process idx, prepare_tree_gate_wait() blocks until
 * the restart calls prepare_tree_gate_open(t, idx) (0), or the restart aborts or dies
 * (-ECANCELED). The restart uses it to hold a process until its tracer has seized it.
 */
int prepare_tree_gate_wait(struct tree *t, int idx);
void prepare_tree_gate_open(struct tree *t, int idx);

/*
 * Once every process is past its gate (held by the tracer): the reaper stops dying with the
 * restart (PR_SET_PDEATHSIG lifted, on SIGUSR1). For a computation restored without our
 * filter (attached, IMAGE_F_NOFILTER), which must outlive its tracer: in a new PID namespace
 * the reaper is its pid 1, whose end would kill every process in it.
 */
void prepare_tree_keep_reaper(struct tree *t);

/* In a process after its release: the tree's fds it holds (to keep them while closing). */
int prepare_tree_child_fds(const struct tree *t, int *fds, int max);

/*
 * Wait for one report from the processes (bounded by timeout_ms, -1 forever). Returns 1 and
 * sets *idx and *err when process idx said it failed (err < 0) or reached a point it announces
 * with prepare_tree_announce() (err >= 0: the value it passed); 2 when the main process ended
 * (t->main_status set); 3 when process idx reported its ids in place (real_pid set, during
 * prepare_tree_create()); 0 on timeout; -errno on a broken channel.
 */
int prepare_tree_wait_report(struct tree *t, int timeout_ms, int *idx, int *err);

/* From inside process idx (run function): tell the restart a stage was reached (value >= 0)
 * or a failure (value < 0) with a reason the restart logs. */
int prepare_tree_announce(struct tree *t, int idx, int value, const char *why);

/* Kill and reap every process created. Safe to call at any stage and more than once. */
void prepare_tree_abort(struct tree *t);

/* Close our ends of the channels and unmap the shared slots (after the tree is running). */
void prepare_tree_free(struct tree *t);

/*
 * In process idx after its release: close the tree's channels and drop its shared mapping.
 * From here on its end is no failure of the restart (until then the reaper reports it).
 */
void prepare_tree_detach(struct tree *t, int idx);

#endif
