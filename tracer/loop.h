/*
 * The tracer's event loop: the one place that waits.
 *
 * Each turn: every wait status ready now goes to events.c (which fires the hook table's
 * events); then the queued jobs run, one at a time, with the wait statuses that came
 * meanwhile handled between two jobs; then every tick function says how soon it needs the
 * next turn; then the loop sleeps in poll() on the SIGCHLD signalfd and the modules' fds
 * (coordinator connections), or, right after a stop, polls for the next one for a while
 * (DMTCP_TRACER_SPIN_US). fd callbacks only read and queue: whatever a message asks for runs
 * as a job, never inside the handling of a wait status.
 *
 * A job is long work a module asks the loop to run (serving a coordinator's messages, one
 * checkpoint step of one process); the module embeds struct loop_job in its own data and
 * cancels it when that data goes.
 */
#ifndef DMTCP_TRACER_LOOP_H
#define DMTCP_TRACER_LOOP_H

#include <signal.h>

struct tracer;

struct loop_job {
	void (*run)(struct tracer *tr, struct loop_job *job);
	struct loop_job *next;
	int queued;
};

int loop_init(struct tracer *tr);
void loop_fini(struct tracer *tr);

/* Queue job (a no-op when it is queued already). */
void loop_submit(struct tracer *tr, struct loop_job *job);
/* Take job out of the queue, if it is there. */
void loop_cancel(struct tracer *tr, struct loop_job *job);

/* Watch fd for events; fn gets the revents. Returns a handle >= 0, or -ENOMEM. */
typedef void (*loop_fd_fn)(struct tracer *tr, int fd, short revents, void *arg);
int loop_add_fd(struct tracer *tr, int fd, short events, loop_fd_fn fn, void *arg);
void loop_set_events(struct tracer *tr, int handle, short events);
/* Stop watching (safe from inside any callback; the fd is not closed). */
void loop_del_fd(struct tracer *tr, int handle);

/* Called every turn: returns the milliseconds until it wants a turn again, or -1. */
typedef int (*loop_tick_fn)(struct tracer *tr, void *arg);
int loop_add_tick(struct tracer *tr, loop_tick_fn fn, void *arg);

/* The signal mask the creating thread had before the loop blocked SIGCHLD. */
const sigset_t *loop_saved_sigmask(const struct tracer *tr);

/* Run until no traced process is left. Returns 0, or -errno on a fatal failure. */
int loop_run(struct tracer *tr);

#endif
