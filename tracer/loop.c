/*
 * The event loop (see loop.h).
 */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "core.h"
#include "events.h"
#include "log.h"

/* DMTCP_TRACER_SPIN_US when unset: see spin_for_stop(). */
#ifndef TRACER_SPIN_US_DEFAULT
#define TRACER_SPIN_US_DEFAULT 200
#endif
#define LOOP_TICKS 8

struct loop_src {
	int fd; /* -1: deleted, the slot is free at the next turn */
	short events;
	loop_fd_fn fn;
	void *arg;
};

struct loop {
	int sigfd;
	sigset_t saved_mask;
	struct loop_job *head, *tail;
	struct loop_src *src;
	int nsrc, src_cap;
	struct {
		loop_tick_fn fn;
		void *arg;
	} tick[LOOP_TICKS];
	int ntick;
	struct pollfd *pfds;
	int *pfd_src;
	int pfd_cap;
	long spin_us;	    /* poll for stops this long after one (0: never) */
	long last_event_us; /* when the last wait status was handled */
};

/*
 * How long the loop keeps polling for the next stop after handling one, rather than sleep
 * in poll(): DMTCP_TRACER_SPIN_US, default TRACER_SPIN_US_DEFAULT, 0 never.
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

int loop_init(struct tracer *tr)
{
	struct loop *l = calloc(1, sizeof(*l));
	sigset_t chld;
	int r;

	if (!l)
		return -ENOMEM;
	l->spin_us = spin_from_env();
	/* SIGCHLD arrives through the signalfd only: block it in this (the tracing) thread. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &l->saved_mask);
	l->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0) {
		r = -errno;
		pr_err("cannot create a signalfd for SIGCHLD: %s", strerror(-r));
		sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
		free(l);
		return r;
	}
	tr->loop = l;
	return 0;
}

void loop_fini(struct tracer *tr)
{
	struct loop *l = tr->loop;

	if (!l)
		return;
	close(l->sigfd);
	sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
	free(l->src);
	free(l->pfds);
	free(l->pfd_src);
	free(l);
	tr->loop = NULL;
}

const sigset_t *loop_saved_sigmask(const struct tracer *tr)
{
	return &tr->loop->saved_mask;
}

/* ---- jobs ------------------------------------------------------------------------------ */

void loop_submit(struct tracer *tr, struct loop_job *job)
{
	struct loop *l = tr->loop;

	if (job->queued)
		return;
	job->queued = 1;
	job->next = NULL;
	if (l->tail)
		l->tail->next = job;
	else
		l->head = job;
	l->tail = job;
}

void loop_cancel(struct tracer *tr, struct loop_job *job)
{
	struct loop *l = tr->loop;
	struct loop_job **pp, *prev = NULL;

	if (!job->queued || !l)
		return;
	for (pp = &l->head; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != job)
			continue;
		*pp = job->next;
		if (l->tail == job)
			l->tail = prev;
		break;
	}
	job->queued = 0;
	job->next = NULL;
}

/* ---- fds and ticks --------------------------------------------------------------------- */

int loop_add_fd(struct tracer *tr, int fd, short events, loop_fd_fn fn, void *arg)
{
	struct loop *l = tr->loop;
	int i;

	for (i = 0; i < l->nsrc; i++)
		if (l->src[i].fd < 0 && !l->src[i].fn)
			break;
	if (i == l->nsrc) {
		if (l->nsrc == l->src_cap) {
			int cap = l->src_cap ? l->src_cap * 2 : 16;
			struct loop_src *n = realloc(l->src, (size_t)cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			l->src = n;
			l->src_cap = cap;
		}
		l->nsrc++;
	}
	l->src[i] = (struct loop_src){ fd, events, fn, arg };
	return i;
}

void loop_set_events(struct tracer *tr, int handle, short events)
{
	struct loop *l = tr->loop;

	if (handle >= 0 && handle < l->nsrc)
		l->src[handle].events = events;
}

void loop_del_fd(struct tracer *tr, int handle)
{
	struct loop *l = tr->loop;

	/* fn stays set until the next turn, so that the slot is not reused while a dispatch
	 * in progress may still look at it. */
	if (l && handle >= 0 && handle < l->nsrc)
		l->src[handle].fd = -1;
}

int loop_add_tick(struct tracer *tr, loop_tick_fn fn, void *arg)
{
	struct loop *l = tr->loop;

	if (l->ntick == LOOP_TICKS)
		return -ENOSPC;
	l->tick[l->ntick].fn = fn;
	l->tick[l->ntick].arg = arg;
	l->ntick++;
	return 0;
}

/* ---- the loop -------------------------------------------------------------------------- */

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

			for (p = ptable_first(tr); p; p = next) {
				next = p->next;
				if (p->ghost)
					continue;
				pr_warn("pid %d: gone without an exit status; dropped", p->pid);
				ptable_del_proc(tr, p);
			}
		}
		if (handled)
			tr->loop->last_event_us = mono_now_us();
		return handled;
	}
}

/* Run the queued jobs; the wait statuses that come meanwhile are handled between two. */
static void run_jobs(struct tracer *tr)
{
	struct loop *l = tr->loop;
	struct loop_job *j;

	while ((j = l->head)) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		j->queued = 0;
		j->next = NULL;
		j->run(tr, j);
		reap_all(tr);
	}
}

static int run_ticks(struct tracer *tr)
{
	struct loop *l = tr->loop;
	int i, t, timeout = -1;

	for (i = 0; i < l->ntick; i++) {
		t = l->tick[i].fn(tr, l->tick[i].arg);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
	}
	return timeout;
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
	struct loop *l = tr->loop;
	int status;
	pid_t tid;

	while (mono_now_us() - l->last_event_us < l->spin_us) {
		tid = waitpid(-1, &status, __WALL | WNOHANG);
		if (tid > 0) {
			events_handle(tr, tid, status);
			l->last_event_us = mono_now_us();
			return 1;
		}
		if (tid < 0 && errno != EINTR)
			return 0;
		sched_yield();
	}
	return 0;
}

/* The pollfd array: the signalfd, then every live source. Frees deleted slots. */
static int build_pollfds(struct loop *l)
{
	int i, n = 1;

	if (l->pfd_cap < l->nsrc + 1) {
		int cap = (l->nsrc + 1) * 2;
		struct pollfd *pf = realloc(l->pfds, (size_t)cap * sizeof(*pf));
		int *ps;

		if (!pf)
			return -ENOMEM;
		l->pfds = pf;
		ps = realloc(l->pfd_src, (size_t)cap * sizeof(*ps));
		if (!ps)
			return -ENOMEM;
		l->pfd_src = ps;
		l->pfd_cap = cap;
	}
	l->pfds[0] = (struct pollfd){ l->sigfd, POLLIN, 0 };
	l->pfd_src[0] = -1;
	for (i = 0; i < l->nsrc; i++) {
		if (l->src[i].fd < 0) {
			l->src[i].fn = NULL; /* free for reuse */
			continue;
		}
		l->pfds[n] = (struct pollfd){ l->src[i].fd, l->src[i].events, 0 };
		l->pfd_src[n] = i;
		n++;
	}
	while (l->nsrc && l->src[l->nsrc - 1].fd < 0)
		l->nsrc--;
	return n;
}

int loop_run(struct tracer *tr)
{
	struct loop *l = tr->loop;
	struct signalfd_siginfo si[16];
	int n, i, r, timeout;

	for (;;) {
		int hot;

		reap_all(tr);
		run_jobs(tr);
		timeout = run_ticks(tr);
		/* a tick may have queued work (or reaped a ghost) */
		run_jobs(tr);
		if (!ptable_first(tr))
			return tr->run_err;
		n = build_pollfds(l);
		if (n < 0) {
			pr_err("out of memory in the event loop");
			return n;
		}
		/* Just after a stop the next is likely near (a loop of trapped calls): look at
		 * the connections without sleeping, then spin for the stop. */
		hot = l->spin_us > 0 && mono_now_us() - l->last_event_us < l->spin_us;
		r = poll(l->pfds, (nfds_t)n, hot ? 0 : timeout);
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
		 * finds every event, however many signals there were, and any left unread only
		 * make the next poll return at once. Not reading until EAGAIN saves a syscall per
		 * wake-up, which the fork and socket paths pay per stop.
		 */
		if (l->pfds[0].revents && read(l->sigfd, si, sizeof(si)) < 0 && errno != EAGAIN)
			pr_warn("cannot read the SIGCHLD signalfd: %s", strerror(errno));
		for (i = 1; i < n; i++) {
			struct loop_src *s = &l->src[l->pfd_src[i]];

			/* deleted by an earlier callback of this turn */
			if (!l->pfds[i].revents || s->fd != l->pfds[i].fd)
				continue;
			s->fn(tr, s->fd, l->pfds[i].revents, s->arg);
		}
	}
}
