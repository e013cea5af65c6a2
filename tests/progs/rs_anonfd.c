/*
 * Restart test program: eventfds, timerfds, a signalfd and epoll sets across restarts, its own
 * oracle.
 *
 *   rs_anonfd READYFILE LIMIT
 *
 * Holds
 *   - an eventfd of counter 5 and a dup of it: every step reads 5 through one and writes 5
 *     back through the other (one description);
 *   - a semaphore eventfd (EFD_NONBLOCK, close-on-exec) of counter 3: every step reads 1 three
 *     times, then EAGAIN, and posts 3 again;
 *   - a periodic relative timerfd (CLOCK_MONOTONIC, 10 ms): every step waits for its
 *     expiration (bounded) and checks its interval;
 *   - a one-shot relative timerfd that expired and was never read: it stays readable, and at
 *     the end a read gives exactly 1 expiration;
 *   - an absolute CLOCK_REALTIME one-shot timerfd 100000 s ahead (cancel-on-set): every step
 *     checks with timerfd_gettime that it still ends at that time (within 2 s), not readable;
 *   - a signalfd (non-blocking) for SIGUSR1, with SIGUSR1 and SIGUSR2 blocked and a SIGUSR1
 *     pending: every step checks it is readable; at the end SIGUSR2 is sent too and a read
 *     must give SIGUSR1 and then nothing (SIGUSR2 is not in its mask);
 *   - an epoll set watching a pipe's read end that holds bytes (data 0x1111222233334444), the
 *     eventfd (data 0x55) and, one-shot, the semaphore eventfd (data 0x77, reported once before
 *     the start, so disabled): every step it must report exactly the first two, with their
 *     data;
 *   - an epoll set (close-on-exec) watching that set (data 0x99): it must report it;
 *   - a child, forked once all of the above exists (so it holds the same descriptions, the
 *     epoll sets included), and two eventfds shared with it: every step the parent posts 1 on
 *     the first, the child reads it and posts 1 on the second, which the parent must read
 *     within 5 s (two descriptions instead of one would never pass it on); at the end the
 *     parent posts 2, the child checks the epoll set it shares and exits 0.
 * Prints "count N" after each step, "PASS pid P" at LIMIT, "FAIL ..." (exit 1) at the first
 * thing wrong. READYFILE gets its pid once everything is set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...)                                                                                 \
	do {                                                                                      \
		printf("FAIL " __VA_ARGS__);                                                      \
		printf("\n");                                                                     \
		exit(1);                                                                          \
	} while (0)

#define NSEC 1000000000LL

static long long ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * NSEC + t->tv_nsec;
}

/* fd readable within ms milliseconds? */
static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r == 1 && (p.revents & POLLIN);
}

static uint64_t rd64(int fd, const char *what)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		FAIL("%s: read: %m", what);
	return v;
}

static void wr64(int fd, uint64_t v, const char *what)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		FAIL("%s: write: %m", what);
}

int main(int argc, char **argv)
{
	int efd, edup, esem, tper, tdone, tabs, sfd, fl, pp[2], ep, ep2, ego, eback, st;
	pid_t child;
	struct epoll_event ev, evs[8];
	struct itimerspec per = { { 0, 10000000 }, { 0, 10000000 } }, once = { { 0, 0 }, { 0, 1000000 } };
	struct itimerspec abs = { { 0, 0 }, { 0, 0 } }, cur;
	struct signalfd_siginfo si;
	struct timespec now;
	long long target;
	sigset_t set;
	long limit, n;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	efd = eventfd(5, 0);
	edup = dup(efd);
	esem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0 || edup < 0 || esem < 0)
		FAIL("eventfd: %m");

	tper = timerfd_create(CLOCK_MONOTONIC, 0);
	tdone = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	tabs = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
	if (tper < 0 || tdone < 0 || tabs < 0)
		FAIL("timerfd_create: %m");
	clock_gettime(CLOCK_REALTIME, &now);
	target = ts_ns(&now) + 100000 * NSEC;
	abs.it_value.tv_sec = target / NSEC;
	abs.it_value.tv_nsec = target % NSEC;
	if (timerfd_settime(tper, 0, &per, NULL) || timerfd_settime(tdone, 0, &once, NULL) ||
	    timerfd_settime(tabs, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &abs, NULL))
		FAIL("timerfd_settime: %m");
	if (!readable(tdone, 5000))
		FAIL("the one-shot timer did not expire");

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGUSR2);
	sfd = signalfd(-1, &set, SFD_NONBLOCK);
	if (sfd < 0)
		FAIL("signalfd: %m");
	kill(getpid(), SIGUSR1);

	if (pipe(pp) || write(pp[1], "abc", 3) != 3)
		FAIL("pipe: %m");
	ep = epoll_create1(0);
	ep2 = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || ep2 < 0)
		FAIL("epoll_create1: %m");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x1111222233334444ull };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev))
		FAIL("epoll_ctl pipe: %m");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x55 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev))
		FAIL("epoll_ctl eventfd: %m");
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 0x77 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, esem, &ev))
		FAIL("epoll_ctl semaphore: %m");
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 0x99 };
	if (epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &ev))
		FAIL("epoll_ctl nested: %m");
	if (epoll_wait(ep, evs, 8, 0) != 3)
		FAIL("epoll: not 3 events at the start");

	ego = eventfd(0, 0);
	eback = eventfd(0, 0);
	if (ego < 0 || eback < 0)
		FAIL("eventfd: %m");
	child = fork();
	if (child < 0)
		FAIL("fork: %m");
	if (child == 0) {
		for (;;) {
			uint64_t v = rd64(ego, "child: shared eventfd");

			if (v == 2)
				break;
			if (v != 1)
				FAIL("child: shared eventfd gave %llu", (unsigned long long)v);
			wr64(eback, 1, "child: shared eventfd back");
		}
		if (epoll_wait(ep, evs, 8, 0) != 2)
			FAIL("child: the shared epoll set does not report the pipe and the eventfd");
		_exit(0);
	}

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		uint64_t v;

		/* the eventfd and its dup: one counter */
		if ((v = rd64(efd, "eventfd")) != 5)
			FAIL("eventfd counter %llu, not 5", (unsigned long long)v);
		wr64(edup, 5, "eventfd dup");
		/* the semaphore: three posts, non-blocking, close-on-exec */
		for (int i = 0; i < 3; i++)
			if ((v = rd64(esem, "semaphore eventfd")) != 1)
				FAIL("semaphore eventfd read %llu, not 1", (unsigned long long)v);
		if (read(esem, &v, sizeof(v)) >= 0 || errno != EAGAIN)
			FAIL("semaphore eventfd: a fourth read did not fail with EAGAIN (%m)");
		wr64(esem, 3, "semaphore eventfd");
		fl = fcntl(esem, F_GETFL);
		if (fl < 0 || !(fl & O_NONBLOCK) || !(fcntl(esem, F_GETFD) & FD_CLOEXEC))
			FAIL("semaphore eventfd lost O_NONBLOCK or FD_CLOEXEC");

		/* the periodic timer runs on */
		if (!readable(tper, 5000))
			FAIL("the periodic timerfd did not expire within 5 s");
		if (rd64(tper, "periodic timerfd") < 1)
			FAIL("periodic timerfd: no expiration");
		if (timerfd_gettime(tper, &cur) || cur.it_interval.tv_sec ||
		    cur.it_interval.tv_nsec != 10000000)
			FAIL("periodic timerfd interval is %ld ns", (long)cur.it_interval.tv_nsec);
		/* the expired one-shot keeps its unread expiration */
		if (!readable(tdone, 0))
			FAIL("the expired one-shot timerfd is not readable");
		/* the absolute timer still ends at its time */
		if (timerfd_gettime(tabs, &cur))
			FAIL("timerfd_gettime: %m");
		clock_gettime(CLOCK_REALTIME, &now);
		if (llabs(ts_ns(&cur.it_value) - (target - ts_ns(&now))) > 2 * NSEC)
			FAIL("absolute timerfd ends in %lld s, not %lld s", (long long)cur.it_value.tv_sec,
			     (target - ts_ns(&now)) / NSEC);
		if (readable(tabs, 0))
			FAIL("the absolute timerfd fired");
		/* the signalfd sees the pending SIGUSR1 */
		if (!readable(sfd, 0))
			FAIL("the signalfd does not show the pending SIGUSR1");
		/* the epoll sets: the pipe and the eventfd, never the spent one-shot */
		{
			int ne = epoll_wait(ep, evs, 8, 0), pipe_seen = 0, efd_seen = 0;

			for (int i = 0; i < ne; i++) {
				if (evs[i].data.u64 == 0x1111222233334444ull && evs[i].events == EPOLLIN)
					pipe_seen++;
				else if (evs[i].data.u64 == 0x55 && evs[i].events == EPOLLIN)
					efd_seen++;
				else
					FAIL("epoll reported data %#llx events %#x",
					     (unsigned long long)evs[i].data.u64, evs[i].events);
			}
			if (ne != 2 || pipe_seen != 1 || efd_seen != 1)
				FAIL("epoll reported %d events, not the pipe and the eventfd", ne);
			if (epoll_wait(ep2, evs, 8, 0) != 1 || evs[0].data.u64 != 0x99 ||
			    evs[0].events != EPOLLIN)
				FAIL("the outer epoll set does not report the inner one");
			if (!(fcntl(ep2, F_GETFD) & FD_CLOEXEC) || (fcntl(ep, F_GETFD) & FD_CLOEXEC))
				FAIL("epoll close-on-exec flags changed");
		}
		/* the eventfds shared with the child: one description each */
		wr64(ego, 1, "shared eventfd");
		if (!readable(eback, 5000))
			FAIL("the child did not answer through the shared eventfd within 5 s");
		if ((v = rd64(eback, "shared eventfd back")) != 1)
			FAIL("shared eventfd back gave %llu", (unsigned long long)v);
		printf("count %ld\n", n);
		if (!readable(tper, 0)) /* pace the steps on the periodic timer */
			readable(tper, 20);
	}
	if ((fcntl(tdone, F_GETFL) & O_NONBLOCK) == 0)
		FAIL("one-shot timerfd lost O_NONBLOCK");
	if (rd64(tdone, "one-shot timerfd") != 1)
		FAIL("one-shot timerfd: not exactly 1 expiration");
	wr64(ego, 2, "shared eventfd");
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		FAIL("the child ended with status %#x", st);
	kill(getpid(), SIGUSR2);
	if (read(sfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR1)
		FAIL("signalfd: no SIGUSR1 (%m)");
	if (read(sfd, &si, sizeof(si)) >= 0 || errno != EAGAIN)
		FAIL("signalfd: read a signal not in its mask (%u) or blocked", si.ssi_signo);
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
