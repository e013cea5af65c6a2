/*
 * Restart test program: memory of every kind, signal state, timers and AVX registers, its own
 * oracle.
 *
 *   rs_state READYFILE LIMIT
 *
 * Sets up, then re-verifies at every step (about 20 ms apart) and prints "count N":
 *  - memory: private anonymous (1 MiB), shared anonymous, a private file mapping with one
 *    written (copy-on-write) page, a shared file mapping whose bytes are the file's, a
 *    read-only region with data, a PROT_NONE guard region, and malloc still working;
 *  - signals: a SIGUSR1 handler (SA_ONSTACK, with a mask) that must run on the alternate
 *    stack, SIGHUP ignored, SIGUSR2 blocked and pending the whole time;
 *  - timers: ITIMER_REAL every 10 ms with a SIGALRM handler, and a POSIX timer
 *    (CLOCK_MONOTONIC, SIGRTMIN+1 with a sigval, every 10 ms): both keep ticking, and the
 *    POSIX timer keeps its id, interval and sigval;
 *  - AVX: ymm8 holds a pattern across the nanosleep syscall a checkpoint interrupts.
 * PASS at LIMIT.
 */
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		printf("FAIL " __VA_ARGS__);                                                       \
		printf(" (count %ld)\n", g_n);                                                     \
		exit(1);                                                                           \
	} while (0)

static long g_n;
static volatile sig_atomic_t usr1_runs, usr1_on_alt, alarm_ticks, rt_ticks, rt_bad_value;
static char *alt_lo, *alt_hi;

static void on_usr1(int sig)
{
	char here;

	(void)sig;
	usr1_runs++;
	usr1_on_alt = &here >= alt_lo && &here < alt_hi;
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	rt_ticks++;
	if (si->si_value.sival_int != 4242)
		rt_bad_value = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarm_ticks++;
}

static uint64_t sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

/* The protection of the mapping holding addr, from /proc/self/maps ("r--p", ...). */
static void perms_of(void *addr, char out[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512], perm[8];

	strcpy(out, "????");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3 && a >= lo && a < hi) {
			memcpy(out, perm, 4);
			out[4] = 0;
			break;
		}
	fclose(f);
}

/* ymm8 must survive a syscall that a checkpoint interrupts. */
static int avx_ok(void)
{
	double in[4] = { 1.5, 2.5, -3.25, 4e10 }, out[4] = { 0, 0, 0, 0 };
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	long ret;

	__asm__ volatile("vmovupd (%[in]), %%ymm8\n\t"
			 "syscall\n\t"
			 "vmovupd %%ymm8, (%[out])\n\t"
			 : "=a"(ret)
			 : "a"((long)SYS_nanosleep), "D"(&ts), "S"(0L), [in] "r"(in),
			   [out] "r"(out)
			 : "rcx", "r11", "memory", "xmm8");
	(void)ret;
	return !memcmp(in, out, sizeof(in));
}

int main(int argc, char **argv)
{
	char dir[4096], tmp[4096], path[4200], perm[5];
	uint8_t *anon, *shanon, *fpriv, *fshared, *ro, *guard;
	uint64_t s_anon, s_shanon, s_ro;
	struct sigaction sa;
	struct itimerval it;
	stack_t ss;
	sigset_t set;
	long limit, ticks_seen = 0, rt_seen = 0;
	struct sigevent sev;
	timer_t tid;
	struct itimerspec its;
	int fd, have_avx = __builtin_cpu_supports("avx");
	FILE *f;

	if (argc != 3)
		return 2;
	limit = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(tmp, sizeof(tmp), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));

	anon = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shanon = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	guard = mmap(NULL, 16384, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED || shanon == MAP_FAILED || ro == MAP_FAILED || guard == MAP_FAILED)
		FAIL("mmap: %m");
	for (size_t i = 0; i < (1 << 20); i++)
		anon[i] = (uint8_t)(i * 31 + (i >> 10));
	for (size_t i = 0; i < (64 << 10); i++)
		shanon[i] = (uint8_t)(i ^ 0xa5);
	for (size_t i = 0; i < 8192; i++)
		ro[i] = (uint8_t)(i * 3);
	mprotect(ro, 8192, PROT_READ);
	s_anon = sum(anon, 1 << 20);
	s_shanon = sum(shanon, 64 << 10);
	s_ro = sum(ro, 8192);

	snprintf(path, sizeof(path), "%s/rs_state.priv", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0666);
	memset(tmp, 'f', 4096);
	for (int i = 0; i < 4; i++)
		if (fd < 0 || write(fd, tmp, 4096) != 4096)
			FAIL("file: %m");
	fpriv = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/rs_state.shared", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0666);
	if (fd < 0 || ftruncate(fd, 16384))
		FAIL("file: %m");
	fshared = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fpriv == MAP_FAILED || fshared == MAP_FAILED)
		FAIL("file mmap: %m");
	memset(fpriv, 'g', 4096); /* page 0 written: copy-on-write; pages 1..3 the file's */
	memset(fshared, 's', 16384);

	ss.ss_sp = malloc(65536);
	ss.ss_size = 65536;
	ss.ss_flags = 0;
	alt_lo = ss.ss_sp;
	alt_hi = alt_lo + ss.ss_size;
	if (sigaltstack(&ss, NULL))
		FAIL("sigaltstack: %m");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	it.it_interval.tv_sec = 0;
	it.it_interval.tv_usec = 10000;
	it.it_value = it.it_interval;
	setitimer(ITIMER_REAL, &it, NULL);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN + 1;
	sev.sigev_value.sival_int = 4242;
	if (timer_create(CLOCK_MONOTONIC, &sev, &tid))
		FAIL("timer_create: %m");
	its.it_interval.tv_sec = 0;
	its.it_interval.tv_nsec = 10 * 1000 * 1000;
	its.it_value = its.it_interval;
	if (timer_settime(tid, 0, &its, NULL))
		FAIL("timer_settime: %m");

	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (g_n = 1; g_n <= limit; g_n++) {
		struct sigaction cur;
		long before = usr1_runs;
		void *m;

		if (sum(anon, 1 << 20) != s_anon)
			FAIL("private anonymous memory changed");
		if (sum(shanon, 64 << 10) != s_shanon)
			FAIL("shared anonymous memory changed");
		if (sum(ro, 8192) != s_ro)
			FAIL("read-only memory changed");
		perms_of(ro, perm);
		if (strcmp(perm, "r--p"))
			FAIL("read-only region is %s", perm);
		perms_of(guard, perm);
		if (strcmp(perm, "---p"))
			FAIL("guard region is %s", perm);
		perms_of(shanon, perm);
		if (strcmp(perm, "rw-s"))
			FAIL("shared anonymous region is %s", perm);
		if (fpriv[0] != 'g' || fpriv[4095] != 'g' || fpriv[4096] != 'f' || fpriv[16383] != 'f')
			FAIL("private file mapping: '%c' '%c'", fpriv[0], fpriv[4096]);
		if (fshared[0] != 's' || pread(fd, tmp, 16, 100) != 16 || tmp[0] != 's')
			FAIL("shared file mapping");
		fshared[g_n % 16384] = 's';
		m = malloc(200 << 10);
		if (!m)
			FAIL("malloc after restart");
		memset(m, 1, 200 << 10);
		free(m);
		m = malloc(100);
		free(m);

		raise(SIGUSR1);
		if (usr1_runs != before + 1 || !usr1_on_alt)
			FAIL("SIGUSR1 handler: runs %ld->%ld, on altstack %d", before,
			     (long)usr1_runs, (int)usr1_on_alt);
		sigaction(SIGHUP, NULL, &cur);
		if (cur.sa_handler != SIG_IGN)
			FAIL("SIGHUP is no longer ignored");
		sigaction(SIGUSR1, NULL, &cur);
		if (!(cur.sa_flags & SA_ONSTACK) || !sigismember(&cur.sa_mask, SIGTERM))
			FAIL("SIGUSR1 disposition lost its flags or mask");
		sigpending(&set);
		if (!sigismember(&set, SIGUSR2))
			FAIL("pending SIGUSR2 lost");
		sigprocmask(SIG_BLOCK, NULL, &set);
		if (!sigismember(&set, SIGUSR2))
			FAIL("SIGUSR2 no longer blocked");
		getitimer(ITIMER_REAL, &it);
		if (it.it_interval.tv_usec != 10000 || it.it_interval.tv_sec)
			FAIL("ITIMER_REAL interval is now %ld us", (long)it.it_interval.tv_usec);
		if (g_n % 20 == 0) {
			if (alarm_ticks <= ticks_seen)
				FAIL("no SIGALRM tick in 20 steps");
			ticks_seen = alarm_ticks;
			if (rt_ticks <= rt_seen)
				FAIL("no POSIX timer tick in 20 steps");
			rt_seen = rt_ticks;
		}
		if (rt_bad_value)
			FAIL("POSIX timer signal came with another sigval");
		if (timer_gettime(tid, &its) || its.it_interval.tv_nsec != 10 * 1000 * 1000)
			FAIL("POSIX timer %ld: %m or its interval changed", (long)(intptr_t)tid);
		if (have_avx) {
			if (!avx_ok())
				FAIL("ymm8 changed across a syscall");
		} else {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		printf("count %ld\n", g_n);
	}
	printf("PASS pid %d\n", (int)getpid());
	return 0;
}
