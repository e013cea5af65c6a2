/*
 * The tracer as a library: dmtcp_launch and dmtcp_restart both become one. This header is its
 * whole public face; everything else in tracer/ is internal (docs/architecture.md, "Layers").
 *
 *   tracer_create()            probe the kernel, build the seccomp filter, set up the loop
 *   tracer_spawn()             fork a program under ptrace + the filter (launch)
 *   tracer_adopt()             seize an existing process (every thread) and make it a peer
 *   tracer_adopt_restarted()   the same for a restored process, with a restart HELLO
 *   tracer_attach()            take running processes and their descendants (--attach)
 *   tracer_run()               the event loop; returns when no traced process is left
 *   tracer_destroy()
 *
 * The tracer is single-threaded: ptrace requests must come from the thread that attached, so
 * every call here must be made from the same thread. It blocks SIGCHLD in that thread (the
 * event loop reads it from a signalfd).
 */
#ifndef DMTCP_TRACER_TRACER_H
#define DMTCP_TRACER_TRACER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracer_types.h"

struct tracer;

/* The caller's signal state, restored in a spawned program before it execs. */
struct tracer_sigstate {
	sigset_t mask;
	struct sigaction act[NSIG];
};

int tracer_create(const struct tracer_config *cfg, struct tracer **out);
/* Fill cfg->stdio from the caller's fds 0-2, before it lets go of them. */
void tracer_config_note_stdio(struct tracer_config *cfg);
void tracer_destroy(struct tracer *tr);

/* Save the calling thread's signal mask and every disposition into ss. */
void tracer_save_sigstate(struct tracer_sigstate *ss);

/*
 * Fork argv[0] (searched in PATH) under the tracer. The child waits until it is seized,
 * restores ss, sets no_new_privs, installs the filter and execs. If the filter or the exec
 * fails, the child writes a struct launch_report (common/report.h; kind LREP_EXEC_ERR or
 * LREP_FILTER_ERR) on report_fd, when report_fd >= 0, and exits 127. coord_fd (connected to
 * the coordinator, or -1 to connect afresh) becomes the program's peer connection. The
 * program becomes the root (tracer_on_root_exit). Returns 0 and *pid, or -errno.
 */
int tracer_spawn(struct tracer *tr, char *const argv[], const struct tracer_sigstate *ss,
		 int coord_fd, int report_fd, pid_t *pid);

/*
 * Take an existing process under the tracer: seize every thread (rescanning /proc/PID/task
 * until stable) with the tracer's ptrace options and register it as a peer over coord_fd (or
 * a new connection when -1). The process must already carry the seccomp filter, or carry none
 * (then only its fork/exec/clone are followed, through the ptrace options). With stopped set,
 * every thread is held (suspended, not yet reported) until a resume barrier.
 */
int tracer_adopt(struct tracer *tr, pid_t pid, int coord_fd, int stopped);

/*
 * Seize every thread of rp->real_pid, hold it suspended (it runs again at the coordinator's
 * resume barrier), and open its peer connection with a restart HELLO (F_RESTART, the
 * computation id from the image, how many processes the restart brings back, the pid the
 * program sees), so that the coordinator runs the restart barriers for it. Returns 0 or
 * -errno.
 */
int tracer_adopt_restarted(struct tracer *tr, const struct restart_peer *rp);

/*
 * dmtcp_launch --attach: take each of pids[0..npids) (a process the caller may ptrace), every
 * thread and every descendant, under the tracer without a seccomp filter and without
 * PTRACE_O_EXITKILL (the program outlives its tracer), hold the whole tree once so that it is
 * known complete, let it go exactly as it was (a blocking call goes on, a stopped process
 * stays stopped), and make each a coordinator peer (pids[0] over coord_fd, or a new
 * connection when -1). A refusal (not a process, another user's, already traced, Yama, an
 * ancestor of the tracer) is explained on the log, naming the pid. Returns how many processes
 * are traced, or -errno; after a failure the caller exits, which lets go of what was taken.
 */
int tracer_attach(struct tracer *tr, const pid_t *pids, int npids, int coord_fd);

/*
 * The root: the process whose end ends the command (dmtcp_launch's program, dmtcp_restart's
 * main process). fn is called once with its wait status, from the event loop.
 */
void tracer_set_root(struct tracer *tr, pid_t pid);
void tracer_on_root_exit(struct tracer *tr, void (*fn)(int wstatus, void *arg), void *arg);

/*
 * Serve barrier `name` (one the checkpoint core does not run itself, such as the restart's
 * "restart"): fn runs for each process that reaches it and returns 0 or -errno, which is
 * reported to the coordinator. Returns 0, or -EEXIST/-ENOMEM.
 */
int tracer_on_barrier(struct tracer *tr, const char *name, tracer_barrier_fn fn, void *arg);

/*
 * In a process about to be traced by tr (a restored process before its gate): set
 * no_new_privs and install the tracer's seccomp filter. Returns 0 or -errno.
 */
int tracer_install_filter(const struct tracer *tr);

/* Run until no traced process is left. Returns 0, or -errno on a fatal tracer failure. */
int tracer_run(struct tracer *tr);

#endif
