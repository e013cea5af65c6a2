/*
 * Victim for the infection test (tests/unit/check_infect.c): the oracle of "infect + cure
 * changes nothing".
 *
 *   victim [threads] [seccomp]
 *
 * It sets distinctive state (signal dispositions, itimers, a POSIX timer, umask, personality,
 * name, sigaltstack, sigmask, a memory buffer with a pattern), prints what the spy should find
 * as "key value..." lines on stdout, snapshots its memory map, fd table and code bytes, prints
 * READY, and blocks in read(0) inside an asm block that holds patterns in callee-saved and
 * other registers and in ymm8 across the syscall. With "threads", a second thread does the
 * same around a raw nanosleep and is the thread the spy infects. With "seccomp", a filter
 * returns SECCOMP_RET_TRACE for syscalls the infection uses.
 *
 * When the spy writes a byte to stdin, the victim checks that the registers, the interrupted
 * syscalls' results, memory map, fd table, code bytes and state are unchanged, that a signal
 * the spy sent during the infection was delivered exactly once, and prints PASS (exit 0) or
 * FAIL: why (exit 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BUF_PAGES 3
#define SNAP_MAX  (256 * 1024)
#define SLEEP_NS  2000000000L /* the worker's nanosleep: long enough for the spy to catch it */

static const uint64_t reg_pattern[8] = {
	0x1badb00c0ffee001ULL, 0x1badb00c0ffee012ULL, 0x1badb00c0ffee013ULL, 0x1badb00c0ffee014ULL,
	0x1badb00c0ffee015ULL, 0x1badb00c0ffee008ULL, 0x1badb00c0ffee009ULL, 0x1badb00c0ffee010ULL,
};

struct reg_result {
	long ret;
	uint64_t regs[8]; /* rbx r12 r13 r14 r15 r8 r9 r10 after the syscall */
	unsigned char ymm[32];
};

static unsigned char buf[BUF_PAGES * 4096] __attribute__((aligned(4096)));
static unsigned char ymm_in[32];
static char maps_before[SNAP_MAX], maps_after[SNAP_MAX];
static char fds_before[SNAP_MAX], fds_after[SNAP_MAX];
static unsigned char code_before[SNAP_MAX], code_after[SNAP_MAX];
static char altstack_mem[2 * 16384];
static volatile int usr1_count;
/* The infected thread's signal mask, to compare after cure. */
static uint64_t target_mask;
static char out[8192];
static size_t outlen;

static unsigned char pattern_byte(unsigned seed, size_t i)
{
	return (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	outlen += (size_t)vsnprintf(out + outlen, sizeof(out) - outlen, fmt, ap);
	va_end(ap);
}

/* Write everything said so far to stdout without stdio (no allocation after snapshots). */
static void flush_out(void)
{
	size_t off = 0;

	while (off < outlen) {
		ssize_t n = write(1, out + off, outlen - off);

		if (n <= 0)
			exit(3);
		off += (size_t)n;
	}
	outlen = 0;
}

static void __attribute__((noreturn)) fail(const char *why)
{
	outlen = 0;
	say("FAIL: %s\n", why);
	flush_out();
	exit(1);
}

/*
 * One syscall with known values in rbx, r12-r15, r8-r10 and ymm8 across it. The kernel
 * preserves all of them (only rax, rcx, r11 change), so any difference afterwards is
 * something the infection did not put back.
 */
static void patterned_syscall(long nr, long a0, long a1, long a2, struct reg_result *res)
{
	long ret = nr;

	__asm__ volatile(
		"movabs $0x1badb00c0ffee001, %%rbx\n\t"
		"movabs $0x1badb00c0ffee012, %%r12\n\t"
		"movabs $0x1badb00c0ffee013, %%r13\n\t"
		"movabs $0x1badb00c0ffee014, %%r14\n\t"
		"movabs $0x1badb00c0ffee015, %%r15\n\t"
		"movabs $0x1badb00c0ffee008, %%r8\n\t"
		"movabs $0x1badb00c0ffee009, %%r9\n\t"
		"movabs $0x1badb00c0ffee010, %%r10\n\t"
		"vmovdqu %[yin], %%ymm8\n\t"
		"syscall\n\t"
		"vmovdqu %%ymm8, %[yout]\n\t"
		"mov %%rbx, %[o0]\n\t"
		"mov %%r12, %[o1]\n\t"
		"mov %%r13, %[o2]\n\t"
		"mov %%r14, %[o3]\n\t"
		"mov %%r15, %[o4]\n\t"
		"mov %%r8, %[o5]\n\t"
		"mov %%r9, %[o6]\n\t"
		"mov %%r10, %[o7]\n\t"
		: "+a"(ret), [yout] "=m"(*(unsigned char(*)[32])res->ymm), [o0] "=m"(res->regs[0]),
		  [o1] "=m"(res->regs[1]), [o2] "=m"(res->regs[2]), [o3] "=m"(res->regs[3]),
		  [o4] "=m"(res->regs[4]), [o5] "=m"(res->regs[5]), [o6] "=m"(res->regs[6]),
		  [o7] "=m"(res->regs[7])
		: "D"(a0), "S"(a1), "d"(a2), [yin] "m"(*(const unsigned char(*)[32])ymm_in)
		: "rbx", "r12", "r13", "r14", "r15", "r8", "r9", "r10", "rcx", "r11", "xmm8",
		  "memory");
	res->ret = ret;
}

static void check_regs(const struct reg_result *r, const char *who)
{
	static char why[256];
	int i;

	for (i = 0; i < 8; i++)
		if (r->regs[i] != reg_pattern[i]) {
			snprintf(why, sizeof(why), "%s: register %d is %#llx, expected %#llx", who,
				 i, (unsigned long long)r->regs[i],
				 (unsigned long long)reg_pattern[i]);
			fail(why);
		}
	if (memcmp(r->ymm, ymm_in, 32)) {
		snprintf(why, sizeof(why), "%s: ymm8 changed", who);
		fail(why);
	}
}

static size_t slurp(const char *path, char *dst, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		fail("cannot open a /proc file");
	while (len < cap - 1 && (n = read(fd, dst + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	dst[len] = 0;
	close(fd);
	return len;
}

/* The fd table as text: number, target, and fdinfo's pos and flags, from raw getdents64. */
static void snapshot_fds(char *dst, size_t cap)
{
	char dents[16384], path[64], target[256], info[512];
	size_t len = 0;
	long n, off;
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		fail("cannot open /proc/self/fd");
	dst[0] = 0;
	while ((n = syscall(SYS_getdents64, dfd, dents, sizeof(dents))) > 0) {
		for (off = 0; off < n;) {
			const char *name = dents + off + 19;
			unsigned short reclen;
			ssize_t tl;

			memcpy(&reclen, dents + off + 16, 2);
			off += reclen;
			if (name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/self/fd/%s", name);
			tl = readlink(path, target, sizeof(target) - 1);
			target[tl < 0 ? 0 : tl] = 0;
			snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", name);
			slurp(path, info, sizeof(info));
			len += (size_t)snprintf(dst + len, cap - len, "%s -> %s\n%s", name, target,
						info);
		}
	}
	close(dfd);
}

/* Bytes of [vdso] and the first page of every r-x mapping: where infection patches code. */
static size_t snapshot_code(const char *maps, unsigned char *dst, size_t cap)
{
	const char *line = maps;
	size_t len = 0;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		unsigned long long start, end;
		char perms[8], copy[512];

		if (ll >= sizeof(copy))
			ll = sizeof(copy) - 1;
		memcpy(copy, line, ll);
		copy[ll] = 0;
		if (sscanf(copy, "%llx-%llx %7s", &start, &end, perms) == 3 && perms[0] == 'r' &&
		    perms[2] == 'x' && !strstr(copy, "[vsyscall]")) {
			size_t n = strstr(copy, "[vdso]") ? (size_t)(end - start) : 4096;

			if (len + n <= cap) {
				memcpy(dst + len, (const void *)(uintptr_t)start, n);
				len += n;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return len;
}

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	usr1_count++;
}

struct kernel_sigaction {
	uint64_t handler, flags, restorer, mask;
};

static void say_sigaction(int sig)
{
	struct kernel_sigaction k;

	if (syscall(SYS_rt_sigaction, sig, NULL, &k, 8))
		fail("rt_sigaction read");
	say("sigact %d %#llx %#llx %#llx\n", sig, (unsigned long long)k.handler,
	    (unsigned long long)k.flags, (unsigned long long)k.mask);
}

/* Per-thread state of the thread the spy will infect; printed from inside that thread. */
static void set_thread_state(void)
{
	stack_t ss = {.ss_sp = altstack_mem, .ss_size = sizeof(altstack_mem), .ss_flags = 0};
	sigset_t set;
	unsigned long tidaddr = 0;
	uint64_t mask = 0;

	if (sigaltstack(&ss, NULL))
		fail("sigaltstack");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 3);
	/* Blocked and (in main) ignored: a forced SIGTRAP (int3) would unblock it and reset the
	 * disposition; infection must not raise one. */
	sigaddset(&set, SIGTRAP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		fail("pthread_sigmask");
	if (prctl(PR_GET_TID_ADDRESS, &tidaddr, 0, 0, 0))
		fail("PR_GET_TID_ADDRESS");
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, 8);
	target_mask = mask;
	say("target %ld\n", (long)syscall(SYS_gettid));
	say("altstack %#lx %zu\n", (unsigned long)altstack_mem, sizeof(altstack_mem));
	say("tidaddr %#lx\n", tidaddr);
	say("sigmask %#llx\n", (unsigned long long)mask);
}

static void check_mask(const char *who)
{
	static char why[160];
	uint64_t now = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8);
	if (now != target_mask) {
		snprintf(why, sizeof(why), "%s: signal mask %#llx, expected %#llx", who,
			 (unsigned long long)now, (unsigned long long)target_mask);
		fail(why);
	}
}

static struct reg_result worker_res;
static int worker_mask_ok;
static long worker_elapsed_ns;
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int worker_ready;

static void *worker(void *arg)
{
	struct timespec req = {SLEEP_NS / 1000000000L, SLEEP_NS % 1000000000L}, t0, t1;

	(void)arg;
	set_thread_state();
	pthread_mutex_lock(&ready_lock);
	worker_ready = 1;
	pthread_cond_signal(&ready_cond);
	/* Wait for main to finish its snapshots before starting the timed sleep. */
	while (worker_ready != 2)
		pthread_cond_wait(&ready_cond, &ready_lock);
	pthread_mutex_unlock(&ready_lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	patterned_syscall(SYS_nanosleep, (long)&req, 0, 0, &worker_res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	worker_elapsed_ns = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
	{
		uint64_t now = 0;

		syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &now, 8);
		worker_mask_ok = now == target_mask;
	}
	return NULL;
}

static void install_filter(void)
{
	/* RET_TRACE for syscalls the infection itself makes; everything else allowed. The
	 * victim does not make these itself after READY (they return ENOSYS once untraced). */
	static const int traced[] = {SYS_mmap,	  SYS_munmap,	SYS_pwrite64,  SYS_socketpair,
				     SYS_recvmsg, SYS_vmsplice, SYS_ftruncate, SYS_memfd_create};
	struct sock_filter f[32];
	struct sock_fprog prog;
	unsigned i, n = 0, k = sizeof(traced) / sizeof(traced[0]);

	/* A = syscall number */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	/* if (A == traced[i]) goto trace; */
	for (i = 0; i < k; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(
			BPF_JMP | BPF_JEQ | BPF_K, (unsigned)traced[i], (unsigned char)(k - i), 0);
	/* return ALLOW; */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/* trace: return TRACE; */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail("PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		fail("seccomp");
}

int main(int argc, char **argv)
{
	int threads = 0, filter = 0, i, timer_id = -1;
	struct sigaction sa;
	struct itimerval itv;
	struct itimerspec its = {{7, 0}, {100, 0}};
	struct sigevent sev;
	struct reg_result main_res;
	pthread_t th;
	char byte = 0;
	size_t code_len;
	unsigned seed = (unsigned)getpid() & 0xff;
	long persona;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "threads"))
			threads = 1;
		else if (!strcmp(argv[i], "seccomp"))
			filter = 1;
		else
			fail("usage: victim [threads] [seccomp]");
	}
	for (i = 0; i < 32; i++)
		ymm_in[i] = (unsigned char)(0xa0 + i);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = pattern_byte(seed, (size_t)i);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = usr1_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGTRAP, SIG_IGN);
	for (i = 0; i < 3; i++) {
		itv.it_interval.tv_sec = 500 + 100 * i;
		itv.it_interval.tv_usec = 0;
		itv.it_value.tv_sec = 1000 * (i + 1);
		itv.it_value.tv_usec = 0;
		if (setitimer(i, &itv, NULL))
			fail("setitimer");
	}
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &timer_id) ||
	    syscall(SYS_timer_settime, timer_id, 0, &its, NULL))
		fail("timer_create");
	umask(027);
	persona = personality(ADDR_NO_RANDOMIZE | PER_LINUX);
	if (persona < 0)
		fail("personality");
	prctl(PR_SET_NAME, "vict-parasite", 0, 0, 0);

	say("pid %d\n", getpid());
	say("sigact_sigs %d %d %d\n", SIGUSR1, SIGUSR2, SIGTRAP);
	say_sigaction(SIGUSR1);
	say_sigaction(SIGUSR2);
	say_sigaction(SIGTRAP);
	for (i = 0; i < 3; i++)
		say("itimer %d %d %d\n", i, 500 + 100 * i, 1000 * (i + 1));
	say("timer %d 7 100\n", timer_id);
	say("umask %o\n", 027);
	say("personality %#lx\n", (unsigned long)personality(0xffffffff));
	say("name vict-parasite\n");
	say("nnp %d\n", filter);
	say("buf %#lx %zu %u\n", (unsigned long)buf, sizeof(buf), seed);
	if (threads) {
		if (pthread_create(&th, NULL, worker, NULL))
			fail("pthread_create");
		pthread_mutex_lock(&ready_lock);
		while (!worker_ready)
			pthread_cond_wait(&ready_cond, &ready_lock);
		pthread_mutex_unlock(&ready_lock);
	} else {
		set_thread_state();
	}
	if (filter)
		install_filter();

	slurp("/proc/self/maps", maps_before, sizeof(maps_before));
	snapshot_fds(fds_before, sizeof(fds_before));
	code_len = snapshot_code(maps_before, code_before, sizeof(code_before));
	say("READY\n");
	flush_out();
	if (threads) {
		pthread_mutex_lock(&ready_lock);
		worker_ready = 2;
		pthread_cond_signal(&ready_cond);
		pthread_mutex_unlock(&ready_lock);
	}

	/* Blocked here while the spy infects (main thread, or the worker with "threads"). */
	patterned_syscall(SYS_read, 0, (long)&byte, 1, &main_res);

	if (main_res.ret != 1 || byte != 'g') {
		static char why[128];

		snprintf(why, sizeof(why), "read after cure returned %ld (byte %d)", main_res.ret,
			 byte);
		fail(why);
	}
	check_regs(&main_res, "main thread");
	if (threads) {
		pthread_join(th, NULL);
		if (worker_res.ret != 0)
			fail("the worker's nanosleep did not return 0 after cure");
		if (worker_elapsed_ns < SLEEP_NS)
			fail("the worker's nanosleep ended early");
		check_regs(&worker_res, "worker thread");
		if (!worker_mask_ok)
			fail("worker thread: signal mask changed");
	} else {
		check_mask("main thread");
	}
	slurp("/proc/self/maps", maps_after, sizeof(maps_after));
	if (strcmp(maps_before, maps_after))
		fail("/proc/self/maps changed");
	snapshot_fds(fds_after, sizeof(fds_after));
	if (strcmp(fds_before, fds_after)) {
		static char why[600];
		size_t i = 0;

		while (fds_before[i] == fds_after[i])
			i++;
		while (i && fds_before[i - 1] != '\n')
			i--;
		snprintf(why, sizeof(why), "the fd table changed, from: %.200s", fds_before + i);
		fail(why);
	}
	if (snapshot_code(maps_after, code_after, sizeof(code_after)) != code_len ||
	    memcmp(code_before, code_after, code_len))
		fail("code bytes changed");
	for (i = 0; i < (int)sizeof(buf); i++)
		if (buf[i] != pattern_byte(seed, (size_t)i))
			fail("the pattern buffer changed");
	if (umask(027) != 027)
		fail("umask changed");
	if (personality(0xffffffff) != (ADDR_NO_RANDOMIZE | PER_LINUX))
		fail("personality changed");
	{
		char name[17] = {0};
		struct kernel_sigaction k;

		prctl(PR_GET_NAME, name, 0, 0, 0);
		if (strcmp(name, "vict-parasite"))
			fail("name changed");
		syscall(SYS_rt_sigaction, SIGTRAP, NULL, &k, 8);
		if (k.handler != (uint64_t)(uintptr_t)SIG_IGN)
			fail("SIGTRAP disposition changed (was SIG_IGN)");
		syscall(SYS_rt_sigaction, SIGUSR2, NULL, &k, 8);
		if (k.handler != (uint64_t)(uintptr_t)SIG_IGN)
			fail("SIGUSR2 disposition changed");
	}
	/* The spy sends SIGUSR1 to the infected thread during the infection; in "threads" mode it
	 * sends none (a handler would end the worker's nanosleep with EINTR). */
	if (usr1_count != (threads ? 0 : 1)) {
		static char why[128];

		snprintf(why, sizeof(why), "SIGUSR1 sent during infection was handled %d times",
			 usr1_count);
		fail(why);
	}
	say("PASS\n");
	flush_out();
	return 0;
}
