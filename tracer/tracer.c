/*
 * The tracer's life: creation (kernel probes, SIGCHLD signalfd), spawning or adopting the
 * processes it traces, and the single-threaded event loop over waitpid and the coordinator
 * connections.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "tracer_int.h"

void tracer_save_sigstate(struct tracer_sigstate *ss)
{
	int sig;

	memset(ss, 0, sizeof(*ss));
	sigprocmask(SIG_SETMASK, NULL, &ss->mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, NULL, &ss->act[sig]);
}

/*
 * How long the event loop keeps polling for the next stop after handling one, rather than
 * sleep in poll(): DMTCP_TRACER_SPIN_US, default TRACER_SPIN_US_DEFAULT, 0 never.
 */
static long spin_from_env(void)
{
	const char *v = getenv("DMTCP_TRACER_SPIN_US");
	char *end;
	long us;

	if (!v || !*v)
		return TRACER_SPIN_US_DEFAULT;
	errno = 0;
	us = strtol(v, &end, 10);
	if (errno || *end || us < 0 || us > 1000000) {
		pr_warn("DMTCP_TRACER_SPIN_US=%s: not a number of microseconds (0..1000000); "
			"using %d",
			v, TRACER_SPIN_US_DEFAULT);
		return TRACER_SPIN_US_DEFAULT;
	}
	return us;
}

int tracer_create(const struct tracer_config *cfg, struct tracer **out)
{
	struct tracer *tr;
	sigset_t chld;
	int r;

	tr = calloc(1, sizeof(*tr));
	if (!tr) {
		pr_err("out of memory creating the tracer");
		return -ENOMEM;
	}
	tr->cfg = *cfg;
	tr->sigfd = -1;
	r = probe_features(&tr->feat);
	if (r < 0)
		goto fail;
	if (gethostname(tr->hostname, sizeof(tr->hostname) - 1) < 0)
		snprintf(tr->hostname, sizeof(tr->hostname), "localhost");
	tr->hostid = (unsigned long)gethostid() & 0xffffffffUL;
	tr->spin_us = spin_from_env();

	/* SIGCHLD arrives through the signalfd only: block it in this (the tracing) thread. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &tr->saved_mask);
	tr->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (tr->sigfd < 0) {
		r = -errno;
		pr_err("cannot create a signalfd for SIGCHLD: %s", strerror(-r));
		goto fail;
	}
	*out = tr;
	return 0;
fail:
	tracer_destroy(tr);
	return r;
}

void tracer_destroy(struct tracer *tr)
{
	if (!tr)
		return;
	while (tr->procs)
		ptable_del_proc(tr, tr->procs);
	if (tr->sigfd >= 0) {
		close(tr->sigfd);
		sigprocmask(SIG_SETMASK, &tr->saved_mask, NULL);
	}
	free(tr->pfds);
	free(tr->pfd_procs);
	free(tr);
}

static void report(int fd, int kind, int val)
{
	struct launch_report rep = { kind, val };

	/* One small write on a pipe is atomic; nothing to do if the reader is gone. */
	if (fd >= 0 && write(fd, &rep, sizeof(rep)) < 0) {
	}
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
		sigprocmask(SIG_SETMASK, &tr->saved_mask, NULL);
	}
	r = filter_install(&tr->feat);
	if (r < 0) {
		report(report_fd, LREP_FILTER_ERR, -r);
		_exit(127);
	}
	execvp(argv[0], argv);
	report(report_fd, LREP_EXEC_ERR, errno);
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

/* Seize a thread of p not yet in the table (ptable_new_tasks). */
static int seize_thread(struct tracee_proc *p, pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, (long)TRACER_PTRACE_OPTS) < 0) {
		if (errno == ESRCH)
			return 0; /* exited meanwhile */
		pr_err("tid %d: PTRACE_SEIZE failed: %s", tid, strerror(errno));
		return -errno;
	}
	return ptable_add_thread(p->tracer, p, tid, TS_RUNNING) ? 1 : -ENOMEM;
}

int seize_all_threads(struct tracee_proc *p)
{
	int r;

	/* Threads may be born while we seize: rescan until a pass finds none new. */
	do
		r = ptable_new_tasks(p, seize_thread);
	while (r > 0);
	return r;
}

int tracer_adopt(struct tracer *tr, pid_t pid, int coord_fd, int stopped)
{
	struct tracee_proc *p;
	pid_t tgid = 0, ppid = 0;
	char comm[64], path[64];
	FILE *f;
	int r;

	r = read_proc_status_ids(pid, &tgid, &ppid);
	if (r < 0) {
		pr_err("pid %d: cannot read /proc/%d/status: %s", pid, pid, strerror(-r));
		return r;
	}
	if (tgid != pid) {
		pr_err("pid %d: not a process (thread of %d)", pid, tgid);
		return -EINVAL;
	}
	snprintf(comm, sizeof(comm), "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	p = ptable_add_proc(tr, pid, ppid, comm);
	if (!p)
		return -ENOMEM;
	r = seize_all_threads(p);
	if (r < 0) {
		/*
		 * Threads seized before the failure stay attached (a detach needs each of them
		 * in a ptrace-stop first); they run freely and are let go when this tracer
		 * exits. The caller is expected to give up on the process.
		 */
		ptable_del_proc(tr, p);
		return r;
	}
	if (stopped)
		suspend_begin(p);
	peer_open(p, coord_fd, stopped ? "SUSPENDED" : "RUNNING");
	return 0;
}

/* Handle every wait status ready now; returns how many there were. */
static int reap_all(struct tracer *tr)
{
	int status, handled = 0;
	pid_t tid;

	for (;;) {
		tid = waitpid(-1, &status, __WALL | WNOHANG);
		if (tid > 0) {
			events_handle(tr, tid, status);
			handled++;
			continue;
		}
		if (tid < 0 && errno == EINTR)
			continue;
		if (tid < 0 && errno == ECHILD) {
			/* Nothing left to wait for: whatever the table still holds but ghosts
			 * (which wait for the coordinator, not the kernel) is gone. */
			struct tracee_proc *p, *next;

			for (p = tr->procs; p; p = next) {
				next = p->next;
				if (p->ghost)
					continue;
				pr_warn("pid %d: gone without an exit status; dropped", p->pid);
				ptable_del_proc(tr, p);
			}
		}
		return handled;
	}
}

/*
 * The hot wait: poll for the next wait status, without sleeping, until one comes or spin_us
 * have passed since the last. A ptrace-stop costs its thread two wake-ups, the tracer's and
 * its own; when the tracer is already awake the first is gone and the second finds the
 * thread's CPU still polling in its idle loop rather than asleep, which on this VM takes a
 * fork+wait loop from 1.6x to 1.1x bare (docs/architecture.md, "Trapped-syscall cost").
 * sched_yield() between polls lets any other runnable task on this CPU go first, so the
 * spin only uses a CPU nobody else wants. Returns 1 when a status was handled.
 */
static int spin_for_stop(struct tracer *tr)
{
	int status;
	pid_t tid;

	while (now_us() - tr->last_event_us < tr->spin_us) {
		tid = waitpid(-1, &status, __WALL | WNOHANG);
		if (tid > 0) {
			events_handle(tr, tid, status);
			tr->last_event_us = now_us();
			return 1;
		}
		if (tid < 0 && errno != EINTR)
			return 0;
		sched_yield();
	}
	return 0;
}

static int build_pollfds(struct tracer *tr)
{
	struct tracee_proc *p;
	int n = 1;

	if (tr->pfd_cap < tr->nprocs + 1) {
		int cap = (tr->nprocs + 1) * 2;
		struct pollfd *pf = realloc(tr->pfds, cap * sizeof(*pf));
		struct tracee_proc **pp;

		if (!pf)
			return -ENOMEM;
		tr->pfds = pf;
		pp = realloc(tr->pfd_procs, cap * sizeof(*pp));
		if (!pp)
			return -ENOMEM;
		tr->pfd_procs = pp;
		tr->pfd_cap = cap;
	}
	tr->pfds[0] = (struct pollfd){ tr->sigfd, POLLIN, 0 };
	tr->pfd_procs[0] = NULL;
	for (p = tr->procs; p; p = p->next) {
		if (!p->conn_open)
			continue;
		tr->pfds[n] = (struct pollfd){ p->conn.fd, POLLIN | (p->conn.wlen ? POLLOUT : 0), 0 };
		tr->pfd_procs[n] = p;
		n++;
	}
	return n;
}

/* Some live process of the tree is between the coordinator's suspend and resume. */
static int checkpoint_running(struct tracer *tr)
{
	struct tracee_proc *q;

	for (q = tr->procs; q; q = q->next)
		if (!q->ghost && q->in_barrier)
			return 1;
	return 0;
}

/*
 * Free ghost peers (see on_death) whose connection is closed, or whose grace is over with no
 * checkpoint under way. Returns the milliseconds until the next grace ends, or -1.
 */
static int sweep_ghosts(struct tracer *tr)
{
	struct tracee_proc *p, *next;
	long now = now_us(), wait = -1;
	int running = checkpoint_running(tr);

	for (p = tr->procs; p; p = next) {
		next = p->next;
		if (!p->ghost)
			continue;
		if (p->conn_open && !p->in_barrier && !running && now >= p->ghost_until_us)
			peer_close(p);
		if (!p->conn_open) {
			ptable_del_proc(tr, p);
			continue;
		}
		if (!p->in_barrier && (wait < 0 || p->ghost_until_us - now < wait))
			wait = p->ghost_until_us - now;
	}
	if (wait < 0)
		return -1;
	return (int)(wait / 1000) + 1;
}

int tracer_run(struct tracer *tr)
{
	struct signalfd_siginfo si[16];
	int n, i, r, timeout;

	for (;;) {
		int hot;

		if (reap_all(tr) > 0)
			tr->last_event_us = now_us();
		timeout = sweep_ghosts(tr);
		if (tr->hello_pending) {
			int t = events_open_new_peers(tr, 0);

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		if (!tr->procs)
			return 0;
		n = build_pollfds(tr);
		if (n < 0) {
			pr_err("out of memory in the event loop");
			return n;
		}
		/* Just after a stop the next is likely near (a loop of trapped calls): look at
		 * the connections without sleeping, then spin for the stop. */
		hot = tr->spin_us > 0 && now_us() - tr->last_event_us < tr->spin_us;
		r = poll(tr->pfds, (nfds_t)n, hot ? 0 : timeout);
		if (r == 0 && hot) {
			spin_for_stop(tr);
			continue;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			pr_err("poll failed: %s", strerror(-r));
			return r;
		}
		/*
		 * One read takes up to 16 queued SIGCHLDs (merged ones are one anyway): waitpid
		 * below finds every event, however many signals there were, and any left
		 * unread only make the next poll return at once. Not reading until EAGAIN
		 * saves a syscall per wake-up, which the fork and socket paths pay per stop.
		 */
		if (tr->pfds[0].revents && read(tr->sigfd, si, sizeof(si)) < 0 && errno != EAGAIN)
			pr_warn("cannot read the SIGCHLD signalfd: %s", strerror(errno));
		/* Peers are only freed by reap_all(), so every pointer here stays valid. */
		for (i = 1; i < n; i++) {
			struct tracee_proc *p = tr->pfd_procs[i];
			short re = tr->pfds[i].revents;

			if (!re)
				continue;
			if (p->conn_open && (re & POLLOUT))
				peer_output(p);
			if (p->conn_open && (re & (POLLIN | POLLHUP | POLLERR)))
				peer_input(p);
		}
	}
}
