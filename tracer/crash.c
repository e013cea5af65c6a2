/*
 * Crash reports (see crash.h): a subscriber of the hook table's stop event.
 */
#include "crash.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "backtrace.h"
#include "core.h"
#include "log.h"
#include "names.h"
#include "procfs.h"

/* Signals whose default action ends the process with a core dump: a crash. */
static int is_crash_signal(int sig)
{
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGILL:
	case SIGFPE:
	case SIGABRT:
	case SIGSYS:
	case SIGTRAP:
		return 1;
	}
	return 0;
}

static void on_stop(struct tracer *tr, const struct tracer_ev *ev, void *arg)
{
	int sig = WSTOPSIG(ev->status);
	enum log_level level = ev->p->restarted ? LOG_ERROR : LOG_INFO;
	struct procfs_sigs s;
	char *bt;
	int n;

	(void)tr;
	(void)arg;
	/* a signal-delivery stop (no ptrace event) of a crash signal, at its default action */
	if ((ev->status >> 16) || !is_crash_signal(sig) || level > log_get_level())
		return;
	if (procfs_status_sigs(ev->p->pid, ev->t->tid, &s) == 0 &&
	    ((s.cgt | s.ign) & (1ull << (sig - 1))))
		return; /* the program handles or ignores it */
	bt = malloc(BACKTRACE_MAX_FRAMES * 200);
	if (!bt)
		return;
	n = backtrace_thread(ev->p->pid, ev->t->tid, bt, BACKTRACE_MAX_FRAMES * 200);
	log_msg(level, "pid %d (%s) tid %d: %s%s; backtrace:\n%s", ev->p->pid, ev->p->prog,
		ev->t->tid, name_signal(sig), ev->p->restarted ? " after restart" : "",
		n > 0 ? bt : "  (cannot unwind)\n");
	free(bt);
}

int crash_init(struct tracer *tr)
{
	return hooks_on(tr, TEV_STOP, on_stop, NULL);
}
