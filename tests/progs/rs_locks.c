/*
 * Restart test program: file locks, its own oracle.
 *
 *   rs_locks READYFILE LIMIT
 *
 * Next to its READYFILE, in files A, B and C: the parent holds POSIX locks on A (write on
 * bytes 0-9, read on 100-EOF), an OFD write lock on bytes 20-29 of A through a second
 * description, and an exclusive flock lock on B; its forked child holds a POSIX read lock on
 * bytes 50-59 of A (through the description it shares with the parent) and a shared flock
 * lock on C. Each step (20 ms) both read their own fdinfo "lock:" lines (the count of each
 * kind, the pid on POSIX ones); at the start and at LIMIT the parent forks a checker that
 * looks from outside (its own descriptions): F_GETLK / F_OFD_GETLK must show each lock with
 * its type, range and holder, the bytes between them must be free, B must be exclusively
 * locked and C shared. Prints "count N" at each step, then PASS.
 *
 *   rs_locks --hold posix|flock FILE STOPFILE
 *
 * Someone outside the computation: holds a POSIX write lock on bytes 0-9 of FILE, or an
 * exclusive flock lock on it, prints "HELD pid", and lets go when STOPFILE appears (60 s at
 * most).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		printf("FAIL " __VA_ARGS__);                                                       \
		printf("\n");                                                                      \
		exit(1);                                                                           \
	} while (0)

static char pa[4200], pb[4200], pc[4200];

static void lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	if (fcntl(fd, cmd, &fl))
		FAIL("lock %lld+%lld: %m", (long long)start, (long long)len);
}

/* From outside: what holds bytes start..start+len-1 of fd's file against a write lock. */
static void expect(int fd, int cmd, off_t start, off_t len, short type, off_t gs, off_t gl,
		   pid_t pid)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	if (fcntl(fd, cmd, &fl))
		FAIL("getlk %lld+%lld: %m", (long long)start, (long long)len);
	if (fl.l_type != type)
		FAIL("bytes %lld+%lld: lock type %d, expected %d", (long long)start, (long long)len,
		     fl.l_type, type);
	if (type == F_UNLCK)
		return;
	if (fl.l_start != gs || fl.l_len != gl || fl.l_pid != pid)
		FAIL("bytes %lld+%lld: held at %lld+%lld by %d, expected %lld+%lld by %d",
		     (long long)start, (long long)len, (long long)fl.l_start, (long long)fl.l_len,
		     (int)fl.l_pid, (long long)gs, (long long)gl, (int)pid);
}

static void check_outside(pid_t parent, pid_t child)
{
	int a = open(pa, O_RDWR), b = open(pb, O_RDONLY), c = open(pc, O_RDONLY),
	    c2 = open(pc, O_RDONLY);

	if (a < 0 || b < 0 || c < 0 || c2 < 0)
		FAIL("checker open: %m");
	expect(a, F_GETLK, 0, 10, F_WRLCK, 0, 10, parent);
	expect(a, F_GETLK, 100, 0, F_RDLCK, 100, 0, parent);
	expect(a, F_GETLK, 500, 1, F_RDLCK, 100, 0, parent);
	expect(a, F_OFD_GETLK, 20, 10, F_WRLCK, 20, 10, -1);
	expect(a, F_GETLK, 50, 10, F_RDLCK, 50, 10, child);
	expect(a, F_GETLK, 10, 10, F_UNLCK, 0, 0, 0);
	expect(a, F_GETLK, 30, 20, F_UNLCK, 0, 0, 0);
	expect(a, F_GETLK, 60, 40, F_UNLCK, 0, 0, 0);
	expect(a, F_OFD_GETLK, 60, 40, F_UNLCK, 0, 0, 0);
	if (flock(b, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		FAIL("B is not locked exclusively");
	if (flock(c, LOCK_SH | LOCK_NB))
		FAIL("C is not shared: %m");
	if (flock(c2, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
		FAIL("C is not locked");
	exit(0);
}

static void checker(pid_t child)
{
	pid_t parent = getpid(), pid;
	int st;

	pid = fork();
	if (pid < 0)
		FAIL("fork: %m");
	if (pid == 0)
		check_outside(parent, child);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		FAIL("the checker found the locks wrong (status %#x)", st);
}

/* Its own locks through fd, as fdinfo lists them: counts of POSIX, OFD and flock lines. */
static void own(int fd, int nposix, int nofd, int nflock)
{
	char p[64], line[256];
	int n[3] = {0, 0, 0};
	FILE *f;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = fopen(p, "r");
	if (!f)
		FAIL("%s: %m", p);
	while (fgets(line, sizeof(line), f)) {
		char kind[16];
		int pid;

		if (sscanf(line, "lock: %*d: %15s %*s %*s %d", kind, &pid) != 2)
			continue;
		if (!strcmp(kind, "POSIX")) {
			if (pid != getpid())
				FAIL("fd %d: a POSIX lock of pid %d, not %d", fd, pid, getpid());
			n[0]++;
		} else {
			n[!strcmp(kind, "OFDLCK") ? 1 : 2]++;
		}
	}
	fclose(f);
	if (n[0] != nposix || n[1] != nofd || n[2] != nflock)
		FAIL("fd %d: %d POSIX, %d OFD, %d flock locks; expected %d, %d, %d", fd, n[0], n[1],
		     n[2], nposix, nofd, nflock);
}

static void step(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	if (nanosleep(&ts, NULL))
		FAIL("nanosleep: %m");
}

static int hold(char **argv)
{
	int fd = open(argv[3], O_RDWR);

	if (fd < 0)
		FAIL("hold %s: %m", argv[3]);
	if (!strcmp(argv[2], "posix"))
		lock(fd, F_SETLK, F_WRLCK, 0, 10);
	else if (flock(fd, LOCK_EX | LOCK_NB))
		FAIL("hold flock %s: %m", argv[3]);
	printf("HELD %d\n", (int)getpid());
	for (int i = 0; i < 3000 && access(argv[4], F_OK); i++)
		step();
	return 0;
}

int main(int argc, char **argv)
{
	char dir[4096], buf[200];
	int a, a2, b, c, pp[2], stop[2];
	long limit, n;
	pid_t child;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && !strcmp(argv[1], "--hold"))
		return hold(argv);
	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(buf, sizeof(buf), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "%s", dirname(buf));
	snprintf(pa, sizeof(pa), "%s/rs_locks.a", dir);
	snprintf(pb, sizeof(pb), "%s/rs_locks.b", dir);
	snprintf(pc, sizeof(pc), "%s/rs_locks.c", dir);

	a = open(pa, O_RDWR | O_CREAT | O_TRUNC, 0666);
	a2 = open(pa, O_RDWR);
	b = open(pb, O_RDWR | O_CREAT | O_TRUNC, 0666);
	c = open(pc, O_RDONLY | O_CREAT | O_TRUNC, 0666);
	memset(buf, 'a', sizeof(buf));
	if (a < 0 || a2 < 0 || b < 0 || c < 0 || write(a, buf, sizeof(buf)) != sizeof(buf))
		FAIL("open: %m");
	lock(a, F_SETLK, F_WRLCK, 0, 10);
	lock(a, F_SETLK, F_RDLCK, 100, 0);
	lock(a2, F_OFD_SETLK, F_WRLCK, 20, 10);
	if (flock(b, LOCK_EX | LOCK_NB))
		FAIL("flock B: %m");
	if (pipe(pp) || pipe2(stop, O_NONBLOCK))
		FAIL("pipe: %m");
	child = fork();
	if (child < 0)
		FAIL("fork: %m");
	if (child == 0) {
		close(pp[0]);
		close(stop[1]);
		lock(a, F_SETLK, F_RDLCK, 50, 10);
		/* its own description of C, not the parent's */
		close(c);
		c = open(pc, O_RDONLY);
		if (c < 0 || flock(c, LOCK_SH | LOCK_NB))
			FAIL("flock C: %m");
		if (write(pp[1], "r", 1) != 1)
			FAIL("pipe write: %m");
		/* until the parent closes its end of stop */
		while (read(stop[0], buf, 1) < 0 && errno == EAGAIN) {
			own(a, 1, 0, 0);
			own(c, 0, 0, 1);
			own(b, 0, 0, 1); /* the parent's flock on the shared description */
			own(a2, 0, 1, 0);
			step();
		}
		exit(0);
	}
	close(pp[1]);
	close(stop[0]);
	if (read(pp[0], buf, 1) != 1)
		FAIL("the child did not lock");
	close(c); /* the child's C is its own */
	checker(child);

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (n = 1; n <= limit; n++) {
		own(a, 2, 0, 0);
		own(a2, 0, 1, 0);
		own(b, 0, 0, 1);
		printf("count %ld\n", n);
		step();
	}
	checker(child);
	{
		int st;

		close(stop[1]);
		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
			FAIL("the child ended with status %#x", st);
	}
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
