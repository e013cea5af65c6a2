/*
 * The tracer as a library: dmtcp_launch and dmtcp_restart both become one.
 *
 *   tracer_create()   probe the kernel, set up the SIGCHLD signalfd
 *   tracer_spawn()    fork a program under ptrace + the seccomp filter (launch)
 *   tracer_adopt()    seize an existing process (every thread) and make it a peer (restart)
 *   tracer_run()      the event loop; returns when no traced process is left
 *   tracer_destroy()
 *
 * The tracer is single-threaded: ptrace requests must come from the thread that attached, so
 * every call here must be made from the same thread. It blocks SIGCHLD in that thread (the
 * signalfd reads it).
 */
#ifndef DMTCP_TRACER_TRACER_H
#define DMTCP_TRACER_TRACER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "ptable.h"

struct tracer_config {
	char coord_host[256]; /* where every peer connection goes */
	int coord_port;
	const char *ckptdir;  /* --ckptdir: overrides the coordinator's, NULL for that one */
	long interval;	      /* -i: sent in the first HELLO; -1 when not given */
	int gzip;	      /* compress images (DMTCP_GZIP) */
	int timings;	      /* log suspend/resume timings (DMTCP_TRACER_TIMINGS=1) */
};

/* Kernel features probed once at tracer_create(). */
struct tracer_features {
	int seccomp_spec_allow; /* SECCOMP_FILTER_FLAG_SPEC_ALLOW accepted */
};

/* The caller's signal state, restored in a spawned program before it execs. */
struct tracer_sigstate {
	sigset_t mask;
	struct sigaction act[NSIG];
};

#define TRACER_TID_HASH 1024

struct tracer {
	struct tracer_config cfg;
	struct tracer_features feat;
	char hostname[256];
	unsigned long hostid;
	int sigfd;
	sigset_t saved_mask; /* the creating thread's mask before SIGCHLD was blocked */
	struct tracee_proc *procs;
	int nprocs;
	struct tracee_thread *thash[TRACER_TID_HASH];
	pid_t root_pid; /* the spawned program, 0 when none */
	int connect_failed; /* the last peer connection failed (warned once) */
	struct sockaddr_storage coord_addr; /* resolved once for new peers (peer.c) */
	socklen_t coord_addrlen;	    /* 0: not resolved yet */
	int hello_pending;  /* some new process still has to announce itself */
	long spin_us;	    /* DMTCP_TRACER_SPIN_US: poll for stops this long after one (0: never) */
	long last_event_us; /* when the last wait status was handled */
	void (*on_root_exit)(struct tracer *tr, int wstatus, void *arg);
	void *on_root_exit_arg;
	/*
	 * Barriers the tracer does not know (restart's): return 1 when handled (the hook then
	 * answers the coordinator itself), 0 to have the tracer refuse it.
	 */
	int (*on_barrier)(struct tracer *tr, struct tracee_proc *p, const char *name,
			  uint64_t generation, void *arg);
	void *on_barrier_arg;
	struct pollfd *pfds;
	struct tracee_proc **pfd_procs;
	int pfd_cap;
};

int tracer_create(const struct tracer_config *cfg, struct tracer **out);
void tracer_destroy(struct tracer *tr);

/* Save the calling thread's signal mask and every disposition into ss. */
void tracer_save_sigstate(struct tracer_sigstate *ss);

/*
 * Fork argv[0] (searched in PATH) under the tracer. The child waits until it is seized,
 * restores ss, sets no_new_privs, installs the filter and execs. If the filter or the exec
 * fails, the child writes a struct launch_report (kind LREP_EXEC_ERR or LREP_FILTER_ERR) on
 * report_fd, when report_fd >= 0, and exits 127. coord_fd (connected to the coordinator, or
 * -1 to connect afresh) becomes the program's peer connection. The program is the root: its
 * end is passed to on_root_exit. Returns 0 and *pid, or -errno.
 */
int tracer_spawn(struct tracer *tr, char *const argv[], const struct tracer_sigstate *ss,
		 int coord_fd, int report_fd, pid_t *pid);

/*
 * Take an existing process under the tracer: seize every thread (rescanning /proc/PID/task
 * until stable) with the tracer's ptrace options and register it as a peer over coord_fd (or
 * a new connection when -1). The process must already carry the seccomp filter, or carry none
 * (then only its fork/exec/clone are followed, through the ptrace options). With stopped set,
 * every thread is held (phase PP_SUSPENDED, not yet reported) until a resume barrier.
 */
int tracer_adopt(struct tracer *tr, pid_t pid, int coord_fd, int stopped);

/* Run until no traced process is left. Returns 0, or -errno on a fatal tracer failure. */
int tracer_run(struct tracer *tr);

/* What a spawned child reports to dmtcp_launch through report_fd. */
enum launch_report_kind {
	LREP_PID = 1,	     /* val: the program's pid (written by dmtcp_launch's tracer) */
	LREP_EXEC_ERR,	     /* val: errno of execvp */
	LREP_FILTER_ERR,     /* val: errno of installing the seccomp filter */
	LREP_EXIT,	     /* val: wait status of the program */
	LREP_TRACER_ERR,     /* val: errno of a tracer failure before the program ran */
};
struct launch_report {
	int32_t kind;
	int32_t val;
};

/* Exit as a process with this wait status did: its exit code, or re-raise its signal. */
void exit_like(int wstatus) __attribute__((noreturn));

/*
 * The command's side of a launch or restart: wait for the tracer's reports on rfd, passing the
 * signals of fwd (blocked by the caller before it forked the tracer) on to the program once
 * LREP_PID names it. LREP_EXIT ends the command as the program ended (exit_like). Returns 1
 * with any other report in *rep, for the caller to explain, or 0 when the tracer closed the
 * pipe without reporting the program's end.
 */
int tracer_report_wait(int rfd, const sigset_t *fwd, struct launch_report *rep);
/*
 * Fork the tracer of a command: a report pipe (pfds[0] stays in the command, pfds[1] in the
 * tracer; the other end is closed on each side), SIGTERM and SIGHUP blocked in both and
 * returned in fwd for tracer_report_wait(), and SIGINT/SIGQUIT ignored in the command. Dies
 * with a message on failure; returns fork's pid.
 */
pid_t tracer_fork_reporting(int pfds[2], sigset_t *fwd);

#endif
