/*
 * Restart test program: blocking calls cut short by checkpoints, its own oracle.
 *
 *   rs_block READYFILE LIMIT
 *
 * One thread waits in each of: poll without a timeout, poll with an hour's timeout, ppoll
 * without one, select without one, read, all on pipes of their own; pthread_cond_wait and
 * pthread_cond_timedwait with a deadline an hour away (futex waits); nanosleep and an
 * absolute clock_nanosleep an hour long. Three more threads loop on short waits (nanosleep
 * with and without a remainder buffer, poll with only a timeout), each of which must end
 * with its normal result after at least its time. The main thread prints "count N" every
 * 20 ms; at LIMIT it releases the waits (a byte into each pipe, a broadcast) and checks that
 * every call returned what it returns without a checkpoint: never EINTR, never early, the
 * hour-long sleeps still asleep. READYFILE gets the pid once every thread is waiting.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

enum { W_POLL, W_POLL_TO, W_PPOLL, W_SELECT, W_READ, NPIPES };
static const char *const pipe_call[NPIPES] = { "poll", "poll with timeout", "ppoll",
					       "select", "read" };
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
	for (i = 0; i < NPIPES; i++) {
		if (pipe(pipes[i]))
			return 2;
		pthread_create(&th, NULL, pipe_waiter, (void *)(long)i);
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
	for (i = 0; i < NPIPES; i++)
		if (write(pipes[i][1], "x", 1) != 1)
			return 2;
	pthread_mutex_lock(&mu);
	released = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	__atomic_store_n(&stop_loops, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < NPIPES; i++) {
		if (!wait_flag(&pipe_done[i], 10000)) {
			printf("FAIL %s did not return once its pipe had data\n", pipe_call[i]);
			fails++;
		} else if (pipe_ret[i] != 1) {
			printf("FAIL %s returned %d (%s), not 1\n", pipe_call[i], pipe_ret[i],
			       strerror(pipe_err[i]));
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
