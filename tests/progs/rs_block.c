/*
 * Restart test program: blocking calls cut short by checkpoints, its own oracle.
 *
 *   rs_block READYFILE LIMIT
 *
 * One thread waits in each of: poll without a timeout, poll with an hour's timeout, ppoll
 * without one, select without one, read, all on pipes of their own; write into a full pipe;
 * recv on a socketpair; sigsuspend (SIGUSR1 blocked outside it); waitpid for a child that
 * waits in read itself; epoll_wait without a timeout on a set watching a pipe; pthread_cond_wait and
 * pthread_cond_timedwait with a deadline an hour away (futex waits); nanosleep and an
 * absolute clock_nanosleep an hour long. Three more threads loop on short waits (nanosleep
 * with and without a remainder buffer, poll with only a timeout), each of which must end
 * with its normal result after at least its time. The main thread prints "count N" every
 * 20 ms; at LIMIT it releases the waits (a byte into each pipe and the socket, the full pipe
 * drained, SIGUSR1 to the sigsuspend thread, a broadcast) and checks that every call returned
 * what it returns without a checkpoint: never EINTR, never early, sigsuspend -1 EINTR after
 * its handler with the thread's own mask back, the hour-long sleeps still asleep. READYFILE gets the pid once every thread is waiting.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { W_POLL, W_POLL_TO, W_PPOLL, W_SELECT, W_READ, W_WRITE, W_RECV, W_SIGSUSPEND,
       W_WAITPID, W_EPOLL, NPIPES };
static const char *const pipe_call[NPIPES] = { "poll", "poll with timeout", "ppoll",
					       "select", "read", "write", "recv",
					       "sigsuspend", "waitpid", "epoll_wait" };
static const int pipe_want[NPIPES] = { 1, 1, 1, 1, 1, 1, 1, -1, 0 /* the child's pid */, 1 };
static int epfd;
static volatile int usr1_seen, mask_kept;
static pid_t child;
static pthread_t sigsuspend_thread;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen = 1;
}
static int pipes[NPIPES][2];
static volatile int pipe_ret[NPIPES], pipe_err[NPIPES], pipe_done[NPIPES];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int released;
static volatile int cond_ret[2] = { -1, -1 }, cond_done[2];

static volatile int long_done[2], long_ret[2];
static volatile int waiting;

#define LOOP_MS 300
enum { L_SLEEP_REM, L_SLEEP_NULL, L_POLL, NLOOPS };
static const char *const loop_call[NLOOPS] = { "nanosleep(rem)", "nanosleep(NULL)",
					       "poll(timeout)" };
static volatile long loop_iters[NLOOPS];
static char loop_fail[NLOOPS][160];
static volatile int stop_loops;

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void *pipe_waiter(void *arg)
{
	int w = (int)(long)arg, fd = pipes[w][0], r = -1;
	struct pollfd p = { fd, POLLIN, 0 };
	fd_set set;
	char c;

	__atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
	switch (w) {
	case W_POLL: r = poll(&p, 1, -1); break;
	case W_POLL_TO: r = poll(&p, 1, 3600 * 1000); break;
	case W_PPOLL: r = ppoll(&p, 1, NULL, NULL); break;
	case W_SELECT:
		FD_ZERO(&set);
		FD_SET(fd, &set);
		r = select(fd + 1, &set, NULL, NULL, NULL);
		break;
	case W_READ: r = (int)read(fd, &c, 1); break;
	case W_WRITE: r = (int)write(pipes[w][1], "y", 1); break;
	case W_RECV: r = (int)recv(fd, &c, 1, 0); break;
	case W_SIGSUSPEND: {
		sigset_t none, now;

		sigemptyset(&none);
		r = sigsuspend(&none);
		pthread_sigmask(SIG_BLOCK, NULL, &now);
		mask_kept = sigismember(&now, SIGUSR1) && usr1_seen;
		break;
	}
	case W_EPOLL: {
		struct epoll_event ev = { 0, { 0 } };

		r = epoll_wait(epfd, &ev, 1, -1);
		if (r == 1 && ev.data.u32 != 77)
			r = -2; /* the watch's data was not kept */
		break;
	}
	case W_WAITPID: {
		int st = 0;

		r = waitpid(child, &st, 0);
		if (r == child && WIFEXITED(st) && WEXITSTATUS(st) == 7)
			r = 0;
		break;
	}
	}
	pipe_err[w] = r < 0 ? errno : 0;
	pipe_ret[w] = r;
	__atomic_store_n(&pipe_done[w], 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *cond_waiter(void *arg)
{
	int timed = (int)(long)arg, r = 0;
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 3600;
	pthread_mutex_lock(&mu);
	__atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
	while (!released && r == 0)
		r = timed ? pthread_cond_timedwait(&cv, &mu, &dl) : pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	cond_ret[timed] = r;
	__atomic_store_n(&cond_done[timed], 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *long_sleeper(void *arg)
{
	int abs = (int)(long)arg;
	struct timespec ts = { 3600, 0 }, rem;

	__atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
	if (abs) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 3600;
		long_ret[1] = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
	} else {
		long_ret[0] = nanosleep(&ts, &rem) ? errno : 0;
	}
	__atomic_store_n(&long_done[abs], 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *looper(void *arg)
{
	int l = (int)(long)arg;

	__atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&stop_loops, __ATOMIC_SEQ_CST)) {
		struct timespec ts = { 0, LOOP_MS * 1000000L }, rem;
		long t0 = mono_ms(), took;
		int r = 0;

		switch (l) {
		case L_SLEEP_REM: r = nanosleep(&ts, &rem); break;
		case L_SLEEP_NULL: r = nanosleep(&ts, NULL); break;
		case L_POLL: r = poll(NULL, 0, LOOP_MS); break;
		}
		took = mono_ms() - t0;
		if (r != 0) {
			snprintf(loop_fail[l], sizeof(loop_fail[l]), "returned %d (%s) after %ld ms",
				 r, strerror(errno), took);
			return NULL;
		}
		/* CLOCK_MONOTONIC runs on while the process is checkpointed and restarted: a
		 * wait can only look longer, never shorter. */
		if (took < LOOP_MS - 1) {
			snprintf(loop_fail[l], sizeof(loop_fail[l]), "returned after %ld ms of %d",
				 took, LOOP_MS);
			return NULL;
		}
		loop_iters[l]++;
	}
	return NULL;
}

static int wait_flag(volatile int *flag, int ms)
{
	for (; ms > 0 && !__atomic_load_n(flag, __ATOMIC_SEQ_CST); ms -= 5)
		usleep(5000);
	return __atomic_load_n(flag, __ATOMIC_SEQ_CST);
}

int main(int argc, char **argv)
{
	pthread_t th;
	long limit, n;
	int i, fails = 0, nthreads = 0;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sigaction sa = { 0 };
	sigset_t usr1;

	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* every thread: only sigsuspend takes it */
	for (i = 0; i < NPIPES; i++) {
		if (i == W_RECV ? socketpair(AF_UNIX, SOCK_STREAM, 0, pipes[i]) : pipe(pipes[i]))
			return 2;
	}
	/* A full pipe: the write waits until main drains it. */
	fcntl(pipes[W_WRITE][1], F_SETFL, O_NONBLOCK);
	while (write(pipes[W_WRITE][1], "x", 1) == 1)
		;
	fcntl(pipes[W_WRITE][1], F_SETFL, 0);
	{
		struct epoll_event ev = { EPOLLIN, { .u32 = 77 } };

		epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, pipes[W_EPOLL][0], &ev))
			return 2;
	}
	child = fork();
	if (child == 0) {
		char c;

		close(pipes[W_WAITPID][1]);
		_exit(read(pipes[W_WAITPID][0], &c, 1) == 1 ? 7 : 8);
	}
	for (i = 0; i < NPIPES; i++) {
		pthread_create(&th, NULL, pipe_waiter, (void *)(long)i);
		if (i == W_SIGSUSPEND)
			sigsuspend_thread = th;
		nthreads++;
	}
	for (i = 0; i < 2; i++) {
		pthread_create(&th, NULL, cond_waiter, (void *)(long)i);
		pthread_create(&th, NULL, long_sleeper, (void *)(long)i);
		nthreads += 2;
	}
	for (i = 0; i < NLOOPS; i++) {
		pthread_create(&th, NULL, looper, (void *)(long)i);
		nthreads++;
	}
	/* Each thread counts itself in just before its call: give the last ones time to get
	 * into the kernel (a checkpoint before that only tests less, it cannot fail). */
	while (__atomic_load_n(&waiting, __ATOMIC_SEQ_CST) < nthreads)
		usleep(1000);
	usleep(100000);
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		struct timespec ts = { 0, 20 * 1000000L };

		for (i = 0; i < NPIPES; i++)
			if (pipe_done[i]) {
				printf("FAIL %s returned %d (%s) before its pipe had data\n",
				       pipe_call[i], pipe_ret[i], strerror(pipe_err[i]));
				return 1;
			}
		for (i = 0; i < 2; i++) {
			if (cond_done[i]) {
				printf("FAIL pthread_cond_%swait returned %d before the broadcast\n",
				       i ? "timed" : "", cond_ret[i]);
				return 1;
			}
			if (long_done[i]) {
				printf("FAIL the hour-long %s returned %d early\n",
				       i ? "absolute clock_nanosleep" : "nanosleep", long_ret[i]);
				return 1;
			}
		}
		for (i = 0; i < NLOOPS; i++)
			if (loop_fail[i][0]) {
				printf("FAIL %s %s\n", loop_call[i], loop_fail[i]);
				return 1;
			}
		printf("count %ld\n", n);
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < NPIPES; i++) {
		char buf[65536];

		if (i == W_WRITE) {
			fcntl(pipes[i][0], F_SETFL, O_NONBLOCK);
			while (read(pipes[i][0], buf, sizeof(buf)) > 0)
				;
		} else if (i == W_SIGSUSPEND) {
			pthread_kill(sigsuspend_thread, SIGUSR1);
		} else if (write(pipes[i][1], "x", 1) != 1) {
			return 2;
		}
	}
	pthread_mutex_lock(&mu);
	released = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	__atomic_store_n(&stop_loops, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < NPIPES; i++) {
		if (!wait_flag(&pipe_done[i], 10000)) {
			printf("FAIL %s did not return once its pipe had data\n", pipe_call[i]);
			fails++;
		} else if (pipe_ret[i] != pipe_want[i] ||
			   (i == W_SIGSUSPEND && (pipe_err[i] != EINTR || !mask_kept))) {
			printf("FAIL %s returned %d (%s), not %d%s\n", pipe_call[i], pipe_ret[i],
			       strerror(pipe_err[i]), pipe_want[i],
			       i == W_SIGSUSPEND && !mask_kept ? " (or lost its signal mask)" : "");
			fails++;
		}
	}
	for (i = 0; i < 2; i++) {
		if (!wait_flag(&cond_done[i], 10000) || cond_ret[i] != 0) {
			printf("FAIL pthread_cond_%swait: %s %d\n", i ? "timed" : "",
			       cond_done[i] ? "returned" : "did not return,", cond_ret[i]);
			fails++;
		}
		if (long_done[i]) {
			printf("FAIL the hour-long %s returned %d early\n",
			       i ? "absolute clock_nanosleep" : "nanosleep", long_ret[i]);
			fails++;
		}
	}
	usleep(2 * LOOP_MS * 1000); /* the loops' last rounds end */
	for (i = 0; i < NLOOPS; i++) {
		if (loop_fail[i][0]) {
			printf("FAIL %s %s\n", loop_call[i], loop_fail[i]);
			fails++;
		} else if (loop_iters[i] < 3) {
			printf("FAIL %s looped only %ld times\n", loop_call[i], loop_iters[i]);
			fails++;
		}
	}
	if (fails)
		return 1;
	printf("ok waits: %ld, %ld, %ld short waits\n", loop_iters[0], loop_iters[1],
	       loop_iters[2]);
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
