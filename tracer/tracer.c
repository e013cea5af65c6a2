/*
 * The tracer's life (see tracer.h): creation, which wires the modules together through the
 * hook table and the loop and builds the seccomp filter from what they trap; spawning the
 * launched program; running; destruction. Taking existing processes is in adopt.c.
 */
#include "tracer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "barriers.h"
#include "checkpoint.h"
#include "core.h"
#include "crash.h"
#include "filter.h"
#include "follow.h"
#include "log.h"
#include "loop.h"
#include "peer.h"
#include "probe.h"
#include "report.h"
#include "sockdrain.h"
#include "sockrec.h"
#include "sysapi.h"
#include "detach.h"
#include "where.h"

void tracer_save_sigstate(struct tracer_sigstate *ss)
{
	int sig;

	memset(ss, 0, sizeof(*ss));
	sigprocmask(SIG_SETMASK, NULL, &ss->mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, NULL, &ss->act[sig]);
}

/* The filter traps exactly what the modules subscribed traps for. */
static int build_filter(struct tracer *tr)
{
	long nrs[HOOKS_TRAPS];
	int n, r;

	n = hooks_trapped(tr, nrs, HOOKS_TRAPS);
	r = filter_build(nrs, n, &tr->filter);
	if (r < 0) {
		pr_err("cannot build the seccomp filter: %s", strerror(-r));
		return r;
	}
	if (log_get_level() >= LOG_DEBUG) {
		pr_debug("seccomp filter (%d trapped syscalls):", n);
		filter_print(tr->filter, stderr);
	}
	return 0;
}

/*
 * The modules in the order their hooks run: sockrec first (a suspend's records are resolved
 * before any step reads them), the coordinator peer before the barriers (what a dying process
 * started is announced before its peer becomes a ghost), checkpoint before barriers' resume,
 * the barriers before where (a process that dies while stopped for --where is a ghost by then).
 */
void tracer_config_note_stdio(struct tracer_config *cfg)
{
	struct stat st;
	int i;

	for (i = 0; i < 3; i++) {
		cfg->stdio[i].valid = fstat(i, &st) == 0;
		cfg->stdio[i].dev = cfg->stdio[i].valid ? (uint64_t)st.st_dev : 0;
		cfg->stdio[i].ino = cfg->stdio[i].valid ? (uint64_t)st.st_ino : 0;
	}
}

int tracer_create(const struct tracer_config *cfg, struct tracer **out)
{
	struct tracer *tr;
	int r;

	tr = calloc(1, sizeof(*tr));
	if (!tr) {
		pr_err("out of memory creating the tracer");
		return -ENOMEM;
	}
	tr->cfg = *cfg;
	if (gethostname(tr->hostname, sizeof(tr->hostname) - 1) < 0)
		snprintf(tr->hostname, sizeof(tr->hostname), "localhost");
	r = probe_kernel();
	if (!r)
		r = loop_init(tr);
	if (!r)
		r = sockrec_init(tr);
	if (!r)
		r = follow_init(tr);
	if (!r)
		r = peer_init(tr);
	if (!r)
		r = sockdrain_init(tr);
	if (!r)
		r = checkpoint_init(tr);
	if (!r)
		r = barriers_init(tr);
	if (!r)
		r = where_init(tr);
	if (!r)
		r = detach_init(tr);
	if (!r)
		r = sysapi_init(tr);
	if (!r)
		r = crash_init(tr);
	if (r == -ENOSPC)
		pr_err("the tracer's hook table is full");
	if (!r)
		r = build_filter(tr);
	if (r) {
		tracer_destroy(tr);
		return r;
	}
	*out = tr;
	return 0;
}

void tracer_destroy(struct tracer *tr)
{
	if (!tr)
		return;
	/* Modules free what they hung on the processes: before the modules go. */
	if (tr->loop)
		while (ptable_first(tr))
			ptable_del_proc(tr, ptable_first(tr));
	detach_fini(tr);
	where_fini(tr);
	barriers_fini(tr);
	checkpoint_fini(tr);
	sockdrain_fini(tr);
	peer_fini(tr);
	sockrec_fini(tr);
	loop_fini(tr);
	filter_free(tr->filter);
	free(tr);
}

void tracer_set_root(struct tracer *tr, pid_t pid)
{
	tr->root_pid = pid;
}

void tracer_on_root_exit(struct tracer *tr, void (*fn)(int wstatus, void *arg), void *arg)
{
	tr->on_root_exit = fn;
	tr->on_root_exit_arg = arg;
}

int tracer_on_barrier(struct tracer *tr, const char *name, tracer_barrier_fn fn, void *arg)
{
	return barriers_add_named(tr, name, fn, arg);
}

int tracer_install_filter(const struct tracer *tr)
{
	return filter_install(tr->filter);
}

int tracer_run(struct tracer *tr)
{
	return loop_run(tr);
}

/* The launched child, between fork and exec. Never returns. */
static void run_child(struct tracer *tr, char *const argv[], const struct tracer_sigstate *ss,
		      int sync_fd, int report_fd)
{
	char c;
	ssize_t n;
	int sig, r;

	/* Wait until the tracer has seized us: everything from here on is traced. */
	do
		n = read(sync_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the tracer failed; it reports why */
	close(sync_fd);
	if (ss) {
		for (sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				sigaction(sig, &ss->act[sig], NULL);
		sigprocmask(SIG_SETMASK, &ss->mask, NULL);
	} else {
		sigprocmask(SIG_SETMASK, loop_saved_sigmask(tr), NULL);
	}
	r = filter_install(tr->filter);
	if (r < 0) {
		report_send(report_fd, LREP_FILTER_ERR, -r);
		_exit(127);
	}
	execvp(argv[0], argv);
	report_send(report_fd, LREP_EXEC_ERR, errno);
	_exit(127);
}

int tracer_spawn(struct tracer *tr, char *const argv[], const struct tracer_sigstate *ss,
		 int coord_fd, int report_fd, pid_t *pidp)
{
	struct tracee_proc *p;
	const char *base;
	int sync[2], r;
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC) < 0) {
		r = -errno;
		pr_err("cannot create a pipe: %s", strerror(-r));
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		pr_err("cannot fork: %s", strerror(-r));
		close(sync[0]);
		close(sync[1]);
		return r;
	}
	if (pid == 0) {
		close(sync[1]);
		if (coord_fd >= 0)
			close(coord_fd);
		run_child(tr, argv, ss, sync[0], report_fd);
	}
	close(sync[0]);
	/* The child is blocked in read(): seizing it causes no stop. */
	if (ptrace(PTRACE_SEIZE, pid, 0, (long)TRACER_PTRACE_OPTS) < 0) {
		r = -errno;
		pr_err("pid %d: PTRACE_SEIZE failed: %s", pid, strerror(-r));
		close(sync[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
		return r;
	}
	base = strrchr(argv[0], '/');
	p = ptable_add_proc(tr, pid, getpid(), base ? base + 1 : argv[0]);
	if (!p || !ptable_add_thread(tr, p, pid, TS_RUNNING)) {
		close(sync[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
		if (p)
			ptable_del_proc(tr, p);
		return -ENOMEM;
	}
	tr->root_pid = pid;
	peer_open(p, coord_fd, "RUNNING");
	if (write(sync[1], "g", 1) != 1) {
		r = -errno;
		pr_err("pid %d: cannot release the child: %s", pid, strerror(-r));
		close(sync[1]);
		kill(pid, SIGKILL);
		return r;
	}
	close(sync[1]);
	*pidp = pid;
	return 0;
}
