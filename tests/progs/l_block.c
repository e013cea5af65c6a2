/*
 * l_block: the oracle for suspend/resume transparency. One thread blocks in each of read,
 * poll (no timeout), poll (5 s timeout, never satisfied), nanosleep (4 s), accept, waitpid,
 * pthread_cond_wait, pthread_mutex_lock and epoll_wait (no timeout). Once every thread is asleep in its call it prints
 * "READY <port>" to stdout; the test then checkpoints the process several times and releases
 * the calls:
 *
 *   DIR/fifo_read, DIR/fifo_poll, DIR/fifo_epoll   write a byte to each
 *   127.0.0.1:<port>               connect
 *   DIR/fifo_child                 write a byte (the child waited for exits)
 *   DIR/fifo_cond                  write a byte (lets the cond and mutex waiters go)
 *
 * Each call must complete with its normal result, never EINTR; the timed calls must take
 * their full time and not much more (no time lost or added by the suspends). Prints one
 * "ok CALL" or "FAIL CALL: why" line each, then PASS or FAIL.
 *
 * Usage: l_block DIR
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLEEP_S	   4
#define POLL_MS	   5000
#define SLACK_MS   900 /* scheduling on a busy 2-core machine, not suspend time */
#define NTHREADS   9

static const char *dir;
static int failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_flag;
static int listen_fd;
static pid_t child;
static pid_t tids[NTHREADS];
static volatile int started;

static void report(const char *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(const char *call, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	if (fmt) {
		printf("FAIL %s: ", call);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		failures++;
	} else {
		printf("ok %s\n", call);
	}
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void mark_started(int i)
{
	tids[i] = (pid_t)syscall(SYS_gettid);
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
}

static int open_fifo(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* O_RDWR: opening does not block waiting for a writer, and no EOF before the byte */
	return open(path, O_RDWR);
}

static void *t_read(void *a)
{
	int fd = open_fifo("fifo_read");
	char c;
	ssize_t n;

	mark_started((int)(long)a);
	n = read(fd, &c, 1);
	if (n != 1)
		report("read", "returned %zd: %s", n, n < 0 ? strerror(errno) : "short");
	else
		report("read", NULL);
	return NULL;
}

static void *t_poll(void *a)
{
	struct pollfd pfd = { open_fifo("fifo_poll"), POLLIN, 0 };
	int n;

	mark_started((int)(long)a);
	n = poll(&pfd, 1, -1);
	if (n != 1 || !(pfd.revents & POLLIN))
		report("poll", "returned %d (revents %#x): %s", n, pfd.revents,
		       n < 0 ? strerror(errno) : "no input");
	else
		report("poll", NULL);
	return NULL;
}

static void *t_poll_timed(void *a)
{
	int fd = open_fifo("fifo_never");
	struct pollfd pfd = { fd, POLLIN, 0 };
	long t0, dt;
	int n;

	mark_started((int)(long)a);
	t0 = now_ms();
	n = poll(&pfd, 1, POLL_MS);
	dt = now_ms() - t0;
	if (n != 0)
		report("poll_timeout", "returned %d: %s", n, n < 0 ? strerror(errno) : "input?");
	else if (dt < POLL_MS || dt > POLL_MS + SLACK_MS)
		report("poll_timeout", "took %ld ms for a %d ms timeout", dt, POLL_MS);
	else
		report("poll_timeout", NULL);
	return NULL;
}

static void *t_nanosleep(void *a)
{
	struct timespec req = { SLEEP_S, 0 }, rem = { 0, 0 };
	long t0, dt;
	int r;

	mark_started((int)(long)a);
	t0 = now_ms();
	r = nanosleep(&req, &rem);
	dt = now_ms() - t0;
	if (r != 0)
		report("nanosleep", "returned %d: %s (%ld.%09ld s left)", r, strerror(errno),
		       (long)rem.tv_sec, rem.tv_nsec);
	else if (dt < SLEEP_S * 1000L || dt > SLEEP_S * 1000L + SLACK_MS)
		report("nanosleep", "slept %ld ms for %d s", dt, SLEEP_S);
	else
		report("nanosleep", NULL);
	return NULL;
}

static void *t_accept(void *a)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int fd;

	mark_started((int)(long)a);
	fd = accept(listen_fd, (struct sockaddr *)&peer, &len);
	if (fd < 0)
		report("accept", "failed: %s", strerror(errno));
	else
		report("accept", NULL);
	return NULL;
}

static void *t_waitpid(void *a)
{
	int st;
	pid_t r;

	mark_started((int)(long)a);
	r = waitpid(child, &st, 0);
	if (r != child)
		report("waitpid", "returned %d: %s", r, r < 0 ? strerror(errno) : "wrong pid");
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		report("waitpid", "child status %#x", st);
	else
		report("waitpid", NULL);
	return NULL;
}

static void *t_cond(void *a)
{
	int r = 0;

	pthread_mutex_lock(&cond_lock);
	mark_started((int)(long)a);
	while (!cond_flag && r == 0)
		r = pthread_cond_wait(&cond, &cond_lock);
	pthread_mutex_unlock(&cond_lock);
	if (r)
		report("cond_wait", "failed: %s", strerror(r));
	else
		report("cond_wait", NULL);
	return NULL;
}

static void *t_mutex(void *a)
{
	int r;

	mark_started((int)(long)a);
	r = pthread_mutex_lock(&held); /* held by main until the release */
	if (r)
		report("mutex_lock", "failed: %s", strerror(r));
	else
		report("mutex_lock", NULL);
	if (!r)
		pthread_mutex_unlock(&held);
	return NULL;
}

static void *t_epoll(void *a)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int ep = epoll_create1(0), fd = open_fifo("fifo_epoll"), n;

	if (ep < 0 || fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		report("epoll_wait", "set-up failed: %s", strerror(errno));
		mark_started((int)(long)a);
		return NULL;
	}
	mark_started((int)(long)a);
	n = epoll_wait(ep, &out, 1, -1);
	if (n != 1)
		report("epoll_wait", "returned %d: %s", n, n < 0 ? strerror(errno) : "?");
	else
		report("epoll_wait", NULL);
	return NULL;
}

/* A thread is asleep in its call when /proc says S (interruptible sleep). */
static int all_asleep(void)
{
	char path[128], buf[512], *s;
	int i, fd;
	ssize_t n;

	for (i = 0; i < NTHREADS; i++) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tids[i]);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			return 0;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return 0;
		buf[n] = 0;
		s = strrchr(buf, ')');
		if (!s || s[2] != 'S')
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	void *(*fns[NTHREADS])(void *) = { t_read,   t_poll, t_poll_timed, t_nanosleep,
					   t_accept, t_waitpid, t_cond,	      t_mutex,
					   t_epoll };
	pthread_t th[NTHREADS];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	long i, deadline;
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: l_block DIR\n");
		return 2;
	}
	dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(listen_fd, 4) < 0 || getsockname(listen_fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("l_block: listen");
		return 2;
	}
	child = fork();
	if (child == 0) {
		int fd = open_fifo("fifo_child");

		_exit(read(fd, &c, 1) == 1 ? 0 : 3);
	}
	pthread_mutex_lock(&held);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, fns[i], (void *)i);
	deadline = now_ms() + 20000;
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NTHREADS || !all_asleep()) {
		if (now_ms() > deadline) {
			printf("FAIL: threads did not block within 20 s\n");
			return 1;
		}
		usleep(5000);
	}
	printf("READY %d\n", ntohs(sa.sin_port));

	/* The cond/mutex release comes through this fifo, read by main. */
	{
		int fd = open_fifo("fifo_cond");
		ssize_t n = read(fd, &c, 1);

		if (n != 1)
			report("read(main)", "returned %zd: %s", n, n < 0 ? strerror(errno) : "?");
	}
	pthread_mutex_lock(&cond_lock);
	cond_flag = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&cond_lock);
	pthread_mutex_unlock(&held);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
