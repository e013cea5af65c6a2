/*
 * Restart test program: a pidfd and inotify instances across restarts, its own oracle.
 *
 *   rs_pidino READYFILE LIMIT
 *
 * Holds
 *   - a child that waits for signals (SIGUSR1: it writes one byte on a pipe back; SIGTERM: it
 *     exits 7), a pidfd of it (PIDFD_NONBLOCK, close-on-exec) and a dup of that pidfd without
 *     close-on-exec: every step sends SIGUSR1 through the pidfd (pidfd_send_signal) and the
 *     dup in turn and waits (bounded) for the byte; the pidfd must not be readable (the child
 *     lives), waitid(P_PIDFD, WNOHANG) must find nothing, /proc/self/fdinfo must name the
 *     child's pid; at the end SIGTERM through the pidfd, poll until it is readable (5 s),
 *     waitid(P_PIDFD) must give the child's pid and status 7 (EAGAIN retried for 5 s);
 *   - a second child, forked after the pidfd was made (so it shares that description, and
 *     the inotify instances): every step the parent clears O_NONBLOCK on its pidfd and the
 *     second child must see it cleared on its own, then set, and it signals the first child
 *     through its copy (two descriptions instead of one would not see the flag change);
 *   - an inotify instance (IN_NONBLOCK, close-on-exec) with watches of wd 1 (DIR: IN_CREATE,
 *     IN_DELETE), 2 (DIR/a: IN_MODIFY), 4 (DIR/c: IN_MODIFY, IN_ATTRIB) and 7 (DIR/sub:
 *     IN_CREATE), the wds 3, 5 and 6 used and removed; every step appends to a, creates and
 *     deletes a symlink in DIR, chmods and appends to c, creates and deletes one in sub,
 *     appends to b (unwatched), and must read exactly the six events this gives, in order,
 *     with their wds, masks and names;
 *   - a second inotify instance (blocking, no close-on-exec) with one watch (DIR/c:
 *     IN_CLOSE_WRITE): every step it must give that one event.
 * DIR is READYFILE's directory's rs_pidino.d. Events queued when the checkpoint is taken do
 * not come back (the restart warns): a step that finds its events missing and sees that the
 * process was made again meanwhile (its start time in /proc/self/stat changed) is done again.
 * Prints "count N" after each step, "PASS pid P" at LIMIT, "FAIL ..." (exit 1) at the first
 * thing wrong. READYFILE gets its pid once everything is set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAIL(...)                                                                                 \
	do {                                                                                      \
		printf("FAIL " __VA_ARGS__);                                                      \
		printf("\n");                                                                     \
		exit(1);                                                                          \
	} while (0)

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static char dir[PATH_MAX];

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r == 1 && (p.revents & POLLIN);
}

static const char *at(const char *name)
{
	static char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void append(const char *name)
{
	int fd = open(at(name), O_WRONLY | O_APPEND | O_CREAT, 0644);

	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd))
		FAIL("append to %s: %m", name);
}

/* starttime of /proc/self/stat: another number once a restart made the process again */
static unsigned long long start_time(void)
{
	char buf[1024], *p;
	unsigned long long t = 0;
	int fd = open("/proc/self/stat", O_RDONLY), n;

	if (fd < 0)
		FAIL("open /proc/self/stat: %m");
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		FAIL("read /proc/self/stat");
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* after "(comm)": state is field 3, starttime field 22 */
	for (int f = 2; p && f < 22; f++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &t) != 1)
		FAIL("no starttime in /proc/self/stat");
	return t;
}

static int fdinfo_pid(int fd)
{
	char p[64], buf[2048], *s;
	int f, n;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = open(p, O_RDONLY);
	if (f < 0)
		FAIL("open %s: %m", p);
	n = (int)read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	s = strstr(buf, "\nPid:");
	return s ? atoi(s + 5) : 0;
}

struct want {
	int wd;
	uint32_t mask;
	const char *name; /* "" for none */
};

static char why[512]; /* what check_events found wrong */

/* Read the instance's events (all queued by now) and compare: 1 when they are exactly w[],
 * else 0 with why set. */
static int check_events(int ino, const struct want *w, int nw, const char *what)
{
	char buf[4096] __attribute__((aligned(8)));
	int got = 0;

	while (got < nw) {
		ssize_t r;
		char *p = buf;

		if (!readable(ino, 5000)) {
			snprintf(why, sizeof(why), "%s: %d events of %d within 5 s", what, got, nw);
			return 0;
		}
		r = read(ino, buf, sizeof(buf));
		if (r <= 0)
			FAIL("%s: read: %m", what);
		while (p < buf + r) {
			struct inotify_event *e = (struct inotify_event *)p;
			const char *name = e->len ? e->name : "";

			p += sizeof(*e) + e->len;
			if (got >= nw) {
				snprintf(why, sizeof(why), "%s: an event more: wd %d mask %#x '%s'",
					 what, e->wd, e->mask, name);
				return 0;
			}
			if (e->wd != w[got].wd || e->mask != w[got].mask ||
			    strcmp(name, w[got].name)) {
				snprintf(why, sizeof(why),
					 "%s: event %d is wd %d mask %#x '%s', not wd %d mask %#x "
					 "'%s'", what, got, e->wd, e->mask, name, w[got].wd,
					 w[got].mask, w[got].name);
				return 0;
			}
			got++;
		}
	}
	if (readable(ino, 0)) {
		snprintf(why, sizeof(why), "%s: more events than expected", what);
		return 0;
	}
	return 1;
}

static void drain(int ino)
{
	char buf[4096];

	while (readable(ino, 0) && read(ino, buf, sizeof(buf)) > 0)
		;
}

/* The second child: answers the parent's commands on cmd through ans. */
static int sharer_main(int pidfd, int cmd, int ans)
{
	char c, a;

	for (;;) {
		if (read(cmd, &c, 1) != 1)
			_exit(4);
		if (c == 'q')
			_exit(0);
		if (c == 'f')
			a = (fcntl(pidfd, F_GETFL) & O_NONBLOCK) ? '1' : '0';
		else
			a = syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0) ? 'e' : 's';
		if (write(ans, &a, 1) != 1)
			_exit(5);
	}
}

/* Ask the second child c ('f': the flag it sees, 's': signal the first child); its answer. */
static char ask(int cmd, int ans, char c)
{
	char a;

	if (write(cmd, &c, 1) != 1)
		FAIL("write to the second child: %m");
	if (!readable(ans, 5000) || read(ans, &a, 1) != 1)
		FAIL("the second child did not answer '%c' within 5 s", c);
	return a;
}

static int child_main(int back)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGTERM)
			_exit(7);
		if (write(back, "s", 1) != 1)
			_exit(3);
	}
}

int main(int argc, char **argv)
{
	int pidfd, pidup, back[2], cmd[2], ans[2], ino, ino2, wd, fl, step_ok, st;
	pid_t child, sharer;
	sigset_t set;
	siginfo_t si;
	long limit, n;
	char *slash, c;
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	slash = strrchr(dir, '/');
	if (!slash)
		return 2;
	snprintf(slash + 1, sizeof(dir) - (size_t)(slash + 1 - dir), "rs_pidino.d");
	if (mkdir(dir, 0755) && errno != EEXIST)
		FAIL("mkdir %s: %m", dir);
	if (mkdir(at("sub"), 0755) && errno != EEXIST)
		FAIL("mkdir sub: %m");
	append("a");
	append("b");
	append("c");

	/* the child, signalled through the pidfd */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pipe(back))
		FAIL("pipe: %m");
	child = fork();
	if (child < 0)
		FAIL("fork: %m");
	if (child == 0) {
		close(back[0]);
		return child_main(back[1]);
	}
	close(back[1]);
	pidfd = (int)syscall(SYS_pidfd_open, child, O_NONBLOCK /* PIDFD_NONBLOCK */);
	if (pidfd < 0)
		FAIL("pidfd_open: %m");
	pidup = fcntl(pidfd, F_DUPFD, 20);
	if (pidup < 0)
		FAIL("dup the pidfd: %m");

	/* wds 1, 2, 4, 7; 3, 5, 6 used and removed */
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ino2 = inotify_init1(0);
	if (ino < 0 || ino2 < 0)
		FAIL("inotify_init1: %m");
	if ((wd = inotify_add_watch(ino, dir, IN_CREATE | IN_DELETE)) != 1 ||
	    (wd = inotify_add_watch(ino, at("a"), IN_MODIFY)) != 2 ||
	    (wd = inotify_add_watch(ino, at("b"), IN_MODIFY)) != 3 || inotify_rm_watch(ino, 3) ||
	    (wd = inotify_add_watch(ino, at("c"), IN_MODIFY | IN_ATTRIB)) != 4 ||
	    (wd = inotify_add_watch(ino, at("b"), IN_MODIFY)) != 5 || inotify_rm_watch(ino, 5) ||
	    (wd = inotify_add_watch(ino, at("b"), IN_MODIFY)) != 6 || inotify_rm_watch(ino, 6) ||
	    (wd = inotify_add_watch(ino, at("sub"), IN_CREATE)) != 7)
		FAIL("inotify_add_watch gave wd %d: %m", wd);
	if (inotify_add_watch(ino2, at("c"), IN_CLOSE_WRITE) != 1)
		FAIL("second inotify instance: %m");
	drain(ino); /* the IN_IGNORED of 3, 5 and 6 */

	if (pipe(cmd) || pipe(ans))
		FAIL("pipe: %m");
	sharer = fork();
	if (sharer < 0)
		FAIL("fork: %m");
	if (sharer == 0) {
		close(cmd[1]);
		close(ans[0]);
		return sharer_main(pidfd, cmd[0], ans[1]);
	}
	close(cmd[0]);
	close(ans[1]);

	f = fopen(argv[1], "w");
	if (!f)
		FAIL("open %s: %m", argv[1]);
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);

	for (n = 1; n <= limit; n++) {
		char name[32], sname[32];
		unsigned long long t0;
		int pfd = (n & 1) ? pidfd : pidup;

		/* the pidfd and its dup: one description, flags kept */
		fl = fcntl(pidfd, F_GETFL);
		if (fl < 0 || !(fl & O_NONBLOCK) || !(fcntl(pidfd, F_GETFD) & FD_CLOEXEC))
			FAIL("the pidfd lost PIDFD_NONBLOCK or FD_CLOEXEC");
		if (!(fcntl(pidup, F_GETFL) & O_NONBLOCK) || (fcntl(pidup, F_GETFD) & FD_CLOEXEC))
			FAIL("the pidfd's dup is not the same description or gained FD_CLOEXEC");
		if (fdinfo_pid(pidfd) != child || fdinfo_pid(pidup) != child)
			FAIL("the pidfd names pid %d, not the child %d", fdinfo_pid(pidfd),
			     (int)child);
		if (syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, NULL, 0))
			FAIL("pidfd_send_signal: %m");
		if (!readable(back[0], 5000) || read(back[0], &c, 1) != 1)
			FAIL("the child did not answer the signal sent through the pidfd");
		if (readable(pidfd, 0))
			FAIL("the pidfd is readable while the child lives");
		memset(&si, 0, sizeof(si));
		if (waitid(P_PIDFD, (id_t)pfd, &si, WEXITED | WNOHANG) || si.si_pid)
			FAIL("waitid(P_PIDFD, WNOHANG) found pid %d: %m", (int)si.si_pid);
		/* the second child's copy is the same description */
		if (fcntl(pidfd, F_SETFL, 0) || ask(cmd[1], ans[0], 'f') != '0')
			FAIL("the second child's pidfd did not see O_NONBLOCK cleared");
		if (fcntl(pidfd, F_SETFL, O_NONBLOCK) || ask(cmd[1], ans[0], 'f') != '1')
			FAIL("the second child's pidfd did not see O_NONBLOCK set");
		if (ask(cmd[1], ans[0], 's') != 's')
			FAIL("the second child could not signal through its pidfd");
		if (!readable(back[0], 5000) || read(back[0], &c, 1) != 1)
			FAIL("the child did not answer the signal the second child sent");

		/* the watches, with their wds */
		fl = fcntl(ino, F_GETFL);
		if (fl < 0 || !(fl & O_NONBLOCK) || !(fcntl(ino, F_GETFD) & FD_CLOEXEC))
			FAIL("the inotify instance lost IN_NONBLOCK or IN_CLOEXEC");
		if ((fcntl(ino2, F_GETFL) & O_NONBLOCK) || (fcntl(ino2, F_GETFD) & FD_CLOEXEC))
			FAIL("the second inotify instance gained O_NONBLOCK or FD_CLOEXEC");
		snprintf(name, sizeof(name), "n%ld", n);
		snprintf(sname, sizeof(sname), "sub/s%ld", n);
		{
			const struct want w[] = {
				{ 2, IN_MODIFY, "" },  { 1, IN_CREATE, name }, { 1, IN_DELETE, name },
				{ 4, IN_ATTRIB, "" },  { 4, IN_MODIFY, "" },   { 7, IN_CREATE, sname + 4 },
			};
			const struct want w2[] = { { 1, IN_CLOSE_WRITE, "" } };

			/* what a run past the checkpoint may have left (it goes on until the
			 * kill) goes first: the steps' files are symlinks, so that no fd of the
			 * program holds one that a later run of the same step deletes */
			unlink(at(name));
			unlink(at(sname));
			drain(ino);
			drain(ino2);
			/* A symlink or unlink that fails is the run past the checkpoint having
			 * done it already, when the process was made again since; else wrong. */
			t0 = start_time();
			append("a");
			step_ok = !symlink("a", at(name)) && !unlink(at(name));
			if (chmod(at("c"), (n & 1) ? 0600 : 0644))
				FAIL("chmod c: %m");
			append("c");
			step_ok = step_ok && !symlink("a", at(sname)) && !unlink(at(sname));
			append("b");
			if (!step_ok)
				snprintf(why, sizeof(why), "symlink or unlink of %s or %s: %s", name,
					 sname, strerror(errno));
			step_ok = step_ok && check_events(ino, w, 6, "inotify") &&
				  check_events(ino2, w2, 1, "second inotify");
			if (!step_ok) {
				if (start_time() == t0)
					FAIL("%s", why);
				/* made again meanwhile: the queued events were not saved */
				unlink(at(name));
				unlink(at(sname));
				drain(ino);
				drain(ino2);
				n--;
				continue;
			}
		}
		printf("count %ld\n", n);
		usleep(10000);
	}
	if (write(cmd[1], "q", 1) != 1)
		FAIL("write to the second child: %m");
	for (int tries = 0; waitpid(sharer, &st, WNOHANG) != sharer; tries++) {
		if (tries == 500)
			FAIL("the second child did not end within 5 s");
		usleep(10000);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		FAIL("the second child ended with status %#x", st);
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0))
		FAIL("pidfd_send_signal SIGTERM: %m");
	if (!readable(pidfd, 5000))
		FAIL("the pidfd did not become readable within 5 s of the child's end");
	/* On a PIDFD_NONBLOCK pidfd waitid says EAGAIN until the end can be reaped, which is
	 * later than the pidfd is readable when a tracer sees the exit first: bounded retries. */
	for (int tries = 0;; tries++) {
		memset(&si, 0, sizeof(si));
		if (!waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) || errno != EAGAIN || tries == 500)
			break;
		usleep(10000);
	}
	if (si.si_pid != child ||
	    si.si_code != CLD_EXITED || si.si_status != 7)
		FAIL("waitid(P_PIDFD): pid %d code %d status %d: %m", (int)si.si_pid, si.si_code,
		     si.si_status);
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
