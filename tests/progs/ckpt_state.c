/*
 * A process holding one of each kind of state a checkpoint saves, for t_ckpt_*.sh.
 *
 *   ckpt_state DIR [fork]
 *
 * Builds, then writes DIR/ready (and, for each fact the test checks, a line "key value" in
 * DIR/facts) and sleeps until killed:
 *   - private anonymous memory with TOUCH_PAGES written pages inside an untouched 64 MiB
 *     mapping, a read-only and a PROT_NONE guard mapping, a growsdown mapping
 *   - a private file mapping with one page written (COW), a shared file mapping
 *   - a shared anonymous mapping written before fork: with "fork", the child shares it
 *   - a deleted file, open, with known contents (and one open write-only); a pipe with buffered bytes (both ends open);
 *     a pipe whose write end only is kept, with bytes in it; a directory; /dev/null; a socket
 *   - dup'ed fds (one description, two fds), an O_CLOEXEC fd
 *   - a second thread with its own signal mask, blocked in read(); a third in nanosleep()
 *   - a FIFO (named pipe) with buffered bytes; a memfd mapped shared
 *   - signal handlers, an ignored signal, pending signals (thread and process queues)
 *   - an itimer and a POSIX timer, both far in the future
 *   - umask 027, a lowered RLIMIT_NOFILE soft limit
 *   - with "fork": a child that exits and stays a zombie, and a live child sharing memory
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOUCH_PAGES 5
#define PG	    4096

static char dir[512];
static FILE *facts;

static void die(const char *what)
{
	fprintf(stderr, "ckpt_state: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void *thread_main(void *arg)
{
	sigset_t s;
	int pfd = *(int *)arg;
	char c;

	/* A mask different from the main thread's, then block in read(). */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	if (read(pfd, &c, 1) < 0)
		return NULL;
	return NULL;
}

static void *sleeper_main(void *arg)
{
	struct timespec ts = { 100000, 0 };

	(void)arg;
	/* Interrupted by the tracer, nanosleep answers -ERESTART_RESTARTBLOCK. */
	nanosleep(&ts, NULL);
	return NULL;
}

static void fact(const char *k, unsigned long long v)
{
	fprintf(facts, "%s %llu\n", k, v);
}

static void factx(const char *k, void *p)
{
	fprintf(facts, "%s %#lx\n", k, (unsigned long)p);
}

int main(int argc, char **argv)
{
	char path[600], *anon, *cow, *shfile, *shanon, *gd, *ro, *guard;
	int fd, p1[2], p2[2], tp[2], delfd, dupfd, i, do_fork;
	struct rlimit rl;
	struct itimerval itv = { { 1000, 0 }, { 1000, 0 } };
	struct sigevent sev;
	timer_t tid;
	struct itimerspec its = { { 2000, 0 }, { 2000, 0 } };
	pthread_t th, th2;
	char *mfd;
	sigset_t blk;

	if (argc < 2) {
		fprintf(stderr, "usage: ckpt_state DIR [fork]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	do_fork = argc > 2 && !strcmp(argv[2], "fork");
	snprintf(path, sizeof(path), "%s/facts.tmp", dir);
	facts = fopen(path, "w");
	if (!facts)
		die("facts");

	umask(027);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 777;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit");

	/* memory */
	/* Between two PROT_NONE pages, so that no later private mapping placed beside it
	 * merges into its VMA (the kernel merged one now and then: 7 pages stored, not 5). */
	anon = mmap(NULL, (64 << 20) + 2 * PG, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (anon == MAP_FAILED)
		die("mmap anon fence");
	anon = mmap(anon + PG, 64 << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (anon == MAP_FAILED)
		die("mmap anon");
	for (i = 0; i < TOUCH_PAGES; i++)
		anon[(size_t)i * 1000 * PG] = (char)(i + 1);
	factx("anon", anon);
	ro = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	guard = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gd = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN,
		  -1, 0);
	if (ro == MAP_FAILED || guard == MAP_FAILED || gd == MAP_FAILED)
		die("mmap");
	gd[7 * PG] = 1;
	factx("readonly", ro);
	factx("guard", guard);
	factx("growsdown", gd);

	snprintf(path, sizeof(path), "%s/mapped.dat", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 16 * PG))
		die("mapped.dat");
	cow = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	shfile = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cow == MAP_FAILED || shfile == MAP_FAILED)
		die("mmap file");
	(void)cow[5 * PG]; /* read only: must not be stored */
	cow[3 * PG] = 'c';  /* written: must be stored */
	shfile[0] = 's';
	close(fd);
	factx("cow", cow);
	factx("shfile", shfile);
	shanon = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shanon == MAP_FAILED)
		die("mmap shared");
	shanon[0] = 'x';
	shanon[10 * PG] = 'y';
	factx("shanon", shanon);

	/* files */
	snprintf(path, sizeof(path), "%s/deleted.txt", dir);
	delfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (delfd < 0 || write(delfd, "deleted-file-contents-1234\n", 27) != 27)
		die("deleted.txt");
	unlink(path);
	fact("deleted_fd", delfd);
	snprintf(path, sizeof(path), "%s/wronly.txt", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "write-only-deleted-contents\n", 28) != 28)
		die("wronly.txt");
	unlink(path);
	fact("wronly_fd", fd);
	if (pipe(p1) || write(p1[1], "pipe-bytes-5678", 15) != 15)
		die("pipe");
	fact("pipe_r", p1[0]);
	fact("pipe_w", p1[1]);
	if (pipe(p2) || write(p2[1], "wonly-bytes", 11) != 11)
		die("pipe2");
	close(p2[0]); /* only the write end stays: bytes are still in the pipe */
	fact("wonly_w", p2[1]);
	dupfd = dup(delfd);
	fact("dup_fd", dupfd);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fact("cloexec_fd", fd);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	fact("dir_fd", fd);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	fact("sock_fd", fd);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	if (mkfifo(path, 0600))
		die("mkfifo");
	fd = open(path, O_RDWR | O_NONBLOCK);
	if (fd < 0 || write(fd, "fifo-bytes", 10) != 10)
		die("fifo");
	fact("fifo_fd", fd);
	fd = memfd_create("ckpt-test", 0);
	if (fd < 0 || ftruncate(fd, 8 * PG))
		die("memfd");
	mfd = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mfd == MAP_FAILED)
		die("mmap memfd");
	mfd[2 * PG] = 'm';
	factx("memfd", mfd);

	/* signals */
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR2);
	sigaddset(&blk, SIGTERM);
	sigprocmask(SIG_BLOCK, &blk, NULL);
	/* pending: SIGUSR2 to this thread, SIGTERM to the process (blocked everywhere) */
	if (pipe(tp))
		die("pipe3");
	if (pthread_create(&th, NULL, thread_main, &tp[0]) ||
	    pthread_create(&th2, NULL, sleeper_main, NULL))
		die("pthread_create");
	{
		union sigval sv = { .sival_int = 4242 };

		if (sigqueue(getpid(), SIGTERM, sv))
			die("sigqueue");
	}
	pthread_kill(pthread_self(), SIGUSR2);

	/* timers */
	if (setitimer(ITIMER_REAL, &itv, NULL))
		die("setitimer");
	signal(SIGALRM, on_usr1);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tid) || timer_settime(tid, 0, &its, NULL))
		die("timer");

	if (do_fork) {
		pid_t z = fork(), c;

		if (z == 0)
			_exit(7); /* stays a zombie: never waited for */
		c = fork();
		if (c == 0) {
			shanon[20 * PG] = 'z'; /* the child writes to the shared object too */
			for (;;)
				pause();
		}
		fact("zombie", (unsigned long long)z);
		fact("child", (unsigned long long)c);
		/* The zombie must be one before we say ready. */
		for (i = 0; i < 5000; i++) {
			char st[64], b[256];
			FILE *f;

			snprintf(st, sizeof(st), "/proc/%d/stat", z);
			f = fopen(st, "r");
			if (!f || !fgets(b, sizeof(b), f)) {
				if (f)
					fclose(f);
				break;
			}
			fclose(f);
			if (strstr(b, ") Z "))
				break;
			usleep(1000);
		}
		/* and the child must have written */
		while (shanon[20 * PG] != 'z')
			usleep(1000);
	}
	fact("pid", (unsigned long long)getpid());
	fclose(facts);
	snprintf(path, sizeof(path), "%s/facts.tmp", dir);
	{
		char to[600];

		snprintf(to, sizeof(to), "%s/facts", dir);
		rename(path, to);
	}
	for (;;)
		pause();
}
