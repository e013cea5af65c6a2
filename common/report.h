/*
 * The command side of dmtcp_launch and dmtcp_restart, and the pipe its tracer reports on.
 *
 * Both commands fork the tracer and then only wait for its reports (struct launch_report):
 * the program's pid, so that SIGTERM/SIGHUP sent to the command reach the program, and the
 * program's end, which ends the command the same way (its exit code, or its fatal signal
 * re-raised), while the tracer stays as long as any traced process lives.
 */
#ifndef DMTCP_REPORT_H
#define DMTCP_REPORT_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

enum launch_report_kind {
	LREP_PID = 1,	 /* val: the program's pid (written by the tracer) */
	LREP_EXEC_ERR,	 /* val: errno of execvp (written by the launched child) */
	LREP_FILTER_ERR, /* val: errno of installing the seccomp filter (the child) */
	LREP_EXIT,	 /* val: wait status of the program */
	LREP_TRACER_ERR, /* val: errno of a tracer failure before the program ran */
	LREP_ATTACHED,	 /* val: how many processes --attach took (the tracer stays) */
	LREP_ATTACH_ERR, /* val: errno of a failed --attach, explained by the tracer */
};
struct launch_report {
	int32_t kind;
	int32_t val;
};

/* One report on fd (a pipe: one small write is atomic). Nothing happens when fd < 0 or the
 * reader is gone. */
void report_send(int fd, int kind, int val);

/*
 * Fork the tracer of a command: a report pipe (pfds[0] stays in the command, pfds[1] in the
 * tracer; the other end is closed on each side), SIGTERM and SIGHUP blocked in both and
 * returned in fwd for report_wait(), and SIGINT/SIGQUIT ignored in the command. Dies with a
 * message on failure; returns fork's pid.
 */
pid_t report_fork_tracer(int pfds[2], sigset_t *fwd);

/*
 * The command's side: wait for the tracer's reports on rfd, passing the signals of fwd
 * (blocked by report_fork_tracer()) on to the program once LREP_PID names it. LREP_EXIT ends
 * the command as the program ended (exit_like). Returns 1 with any other report in *rep, for
 * the caller to explain, or 0 when the tracer closed the pipe without reporting the end.
 */
int report_wait(int rfd, const sigset_t *fwd, struct launch_report *rep);

/* Exit as a process with this wait status did: its exit code, or re-raise its signal. */
void exit_like(int wstatus) __attribute__((noreturn));

#endif
