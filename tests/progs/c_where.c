/*
 * c_where DIR: a program to look at with dmtcp_command --where (t_coord_where), with known
 * functions on every stack, that checks that being looked at changes nothing for it:
 *
 *   main -> level_a -> level_b   counts every 10 ms (nanosleep) into DIR/count until DIR/stop
 *                                exists; a sleep that fails (EINTR) is a failure
 *   thread "reader"              reader_wait: blocks in read() on the fifo DIR/in until the
 *                                test writes "hello\n" there; prints GOT hello
 *   thread "cruncher"            crunch_numbers: computes for about a millisecond, sleeps 4 ms,
 *                                until DIR/stop exists (so it is caught running sometimes)
 *   child process "c_where_kid"  child_wait: blocks in read() on a pipe until main writes
 *                                "bye" at the end; exits 0 if that is what it read
 *
 * Prints "READY PID KIDPID" once every thread and the child are in their functions, and PASS
 * at the end if no call was cut short by the looks (EINTR or a short read), the reader got its
 * line and the child ended well. The functions are noinline and each does something after its
 * call, so that every one keeps its frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static char stop_path[4096];
static atomic_int ready;    /* threads in their functions */
static atomic_int failures;
static char got[64];

static void fail(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	atomic_fetch_add(&failures, 1);
}

static int stopped(void)
{
	struct stat st;

	return stat(stop_path, &st) == 0;
}

/* Blocks in read() until the test writes into the fifo; returns the bytes read. */
static NOINLINE ssize_t reader_wait(int fd, char *buf, size_t n)
{
	ssize_t r;

	atomic_fetch_add(&ready, 1);
	r = read(fd, buf, n - 1);
	if (r < 0)
		fail("read on the fifo");
	return r;
}

static void *reader_main(void *arg)
{
	const char *dir = arg;
	char path[4096];
	ssize_t r;
	int fd;

	prctl(PR_SET_NAME, "reader");
	snprintf(path, sizeof(path), "%s/in", dir);
	fd = open(path, O_RDWR); /* a fifo: O_RDWR does not wait for a writer */
	if (fd < 0) {
		fail(path);
		atomic_fetch_add(&ready, 1);
		return NULL;
	}
	r = reader_wait(fd, got, sizeof(got));
	if (r > 0) {
		got[r] = '\0';
		printf("GOT %s", got);
	}
	close(fd);
	return NULL;
}

/* About a millisecond of arithmetic, then a short sleep, until the end. */
static NOINLINE double crunch_numbers(void)
{
	struct timespec ts = { 0, 4 * 1000 * 1000 };
	volatile double x = 1.0;

	atomic_fetch_add(&ready, 1);
	while (!stopped()) {
		for (int i = 0; i < 200000; i++)
			x = x * 1.0000001 + 0.5 / (i + 1);
		if (nanosleep(&ts, NULL))
			fail("nanosleep in crunch_numbers");
	}
	return x;
}

static void *cruncher_main(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "cruncher");
	if (crunch_numbers() < 0)
		printf("impossible\n");
	return NULL;
}

/* The child: blocks in read() on the pipe from main until it says bye. */
static NOINLINE int child_wait(int fd, int ready_fd)
{
	char buf[16] = "";
	ssize_t r;

	if (write(ready_fd, "r", 1) != 1)
		return 3;
	r = read(fd, buf, sizeof(buf) - 1);
	if (r < 0) {
		perror("c_where_kid: read");
		return 1;
	}
	buf[r > 0 ? r : 0] = '\0';
	return strcmp(buf, "bye") ? 2 : 0;
}

static pid_t kid;

static NOINLINE unsigned long level_b(const char *dir)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char path[4096], buf[32];
	unsigned long n = 0;
	int fd, len;

	snprintf(path, sizeof(path), "%s/count", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0) {
		fail(path);
		return 0;
	}
	while (!stopped()) {
		n++;
		len = snprintf(buf, sizeof(buf), "%20lu\n", n);
		if (pwrite(fd, buf, (size_t)len, 0) != len)
			fail("pwrite of the count");
		if (n == 1) {
			while (atomic_load(&ready) < 2)
				nanosleep(&ts, NULL);
			printf("READY %d %d\n", (int)getpid(), (int)kid);
		}
		if (nanosleep(&ts, NULL))
			fail("nanosleep in level_b");
	}
	close(fd);
	return n;
}

static NOINLINE unsigned long level_a(const char *dir)
{
	unsigned long n = level_b(dir);

	if (n == 0)
		printf("no count\n");
	return n;
}

int main(int argc, char **argv)
{
	pthread_t reader, cruncher;
	int to_kid[2], kid_ready[2], status;
	unsigned long n;
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: c_where DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(stop_path, sizeof(stop_path), "%s/stop", argv[1]);
	if (pipe(to_kid) || pipe(kid_ready)) {
		perror("pipe");
		return 2;
	}
	kid = fork();
	if (kid < 0) {
		perror("fork");
		return 2;
	}
	if (kid == 0) {
		prctl(PR_SET_NAME, "c_where_kid");
		close(to_kid[1]);
		close(kid_ready[0]);
		_exit(child_wait(to_kid[0], kid_ready[1]));
	}
	close(to_kid[0]);
	close(kid_ready[1]);
	if (read(kid_ready[0], &c, 1) != 1) {
		fprintf(stderr, "c_where: the child did not start\n");
		return 2;
	}
	if (pthread_create(&reader, NULL, reader_main, argv[1]) ||
	    pthread_create(&cruncher, NULL, cruncher_main, NULL)) {
		fprintf(stderr, "c_where: pthread_create failed\n");
		return 2;
	}
	n = level_a(argv[1]);
	pthread_join(cruncher, NULL);
	pthread_join(reader, NULL);
	if (write(to_kid[1], "bye", 3) != 3)
		fail("write to the child");
	if (waitpid(kid, &status, 0) != kid)
		fail("waitpid");
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("FAIL the child ended with status 0x%x\n", status);
	else if (strcmp(got, "hello\n"))
		printf("FAIL the reader got '%s'\n", got);
	else if (atomic_load(&failures) == 0 && n > 0) {
		printf("PASS counted %lu\n", n);
		return 0;
	}
	return 1;
}
