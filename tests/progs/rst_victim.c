/*
 * rst_victim: the oracle for the restorer tests (tests/tools/selfrestore.c).
 *
 * It builds state of every kind the restorer must bring back: brk heap, a large sparse
 * anonymous mapping, a read-only and an inaccessible region, a private file mapping with some
 * written pages, shared anonymous memory, a stack pattern, threads with TLS and distinct
 * general/AVX registers held live in a spin loop, per-thread signal masks, the main thread's
 * FPU rounding mode, a sigaltstack and a SIGUSR1 handler on it. Then, per cycle, it writes
 * what only it can know (clear-tid addresses, sigaltstack, handler, brk) to $RST_HINTS and
 * stops itself with SIGSTOP; the capturer takes it from there. When it runs again (restored
 * into another process) it checks all of it, prints "cycle N ok", and after $RST_CYCLES
 * cycles "PASS" and exit 0. Any mismatch prints "FAIL: ..." and exits 1.
 *
 * Environment: RST_HINTS (file), RST_DIR (scratch dir for the mapped file), RST_CYCLES
 * (default 1), RST_EXPECT_TID=1 (threads must come back with their TIDs).
 */
#include <cpuid.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <fenv.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS   3
#define PAGE       4096
#define BIG_LEN    (16 << 20)
#define FILE_PAGES 8

static int cycles = 1, expect_tid;
static const char *hints_path;
static int have_avx;

/* per-thread state, written by the thread before it says ready */
struct thr {
	pthread_t pt;
	int idx;
	pid_t tid0;
	volatile pid_t cur_tid; /* this cycle's tid: changes across restores without exact TIDs */
	uint64_t clear_tid;
	volatile int ready;   /* cycle number the thread is spinning in */
	volatile int go;      /* cycle number main released */
	volatile int done;    /* cycle number checked */
	uint64_t robust, robust_len;
	int rseq_before;
	char err[160];
};
static struct thr thr[NTHREADS];
static __thread uint64_t tls_word;

/* glibc's rseq registration (2.35+); weak so the program also links elsewhere */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

/*
 * Is this thread's rseq area registered with the kernel? Put a sentinel in cpu_id and take a
 * signal: the kernel rewrites cpu_id on signal delivery only for a registered area.
 */
static int rseq_registered(void)
{
	volatile uint32_t *cpu_id;
	char *tp;

	if (!&__rseq_size || !&__rseq_offset || !__rseq_size)
		return -1; /* libc without rseq: nothing to check */
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	cpu_id = (volatile uint32_t *)(tp + __rseq_offset + 4);
	*cpu_id = 0x7ffffff0;
	raise(SIGUSR1);
	return *cpu_id != 0x7ffffff0;
}

static void robust_head(uint64_t *head, uint64_t *len)
{
	long h = 0;
	size_t l = 0;

	syscall(SYS_get_robust_list, 0, &h, &l);
	*head = (uint64_t)h;
	*len = l;
}

static char *heap_chunks[16];
static unsigned char *big, *ro, *noacc, *shared, *fmap, *sfmap;
static uint64_t sf_seed = 502; /* pattern of file page 5, written through the shared map */
/* fds are not the restorer's business (the restart recreates them): reopen the file to check */
static int sfd;
static char altstack_buf[65536] __attribute__((aligned(16)));
static volatile int usr1_count;
static volatile uintptr_t usr1_sp;
static const char *fmap_path;
static uintptr_t brk_before; /* the kernel's brk when stopping */
static uint64_t main_robust;
static int main_rseq;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	_exit(1);
}

static uint64_t pat(uint64_t seed, uint64_t i)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + i;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 32);
}

static void fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *q = p;

	for (size_t i = 0; i < len / 8; i++)
		q[i] = pat(seed, i);
}

static int check(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *q = p;

	for (size_t i = 0; i < len / 8; i++)
		if (q[i] != pat(seed, i))
			return 0;
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usr1_handler(int sig, siginfo_t *si, void *uc)
{
	int local;

	(void)sig;
	(void)si;
	(void)uc;
	usr1_sp = (uintptr_t)&local;
	usr1_count++;
}

/*
 * Load distinctive values into callee-saved GPRs and ymm0-15, say ready, spin until released,
 * then store what the registers hold. Whatever interrupts the loop (capture, restore) must
 * give back exactly these values.
 */
static void spin_with_registers(struct thr *t, int cycle, uint64_t gpr_out[5],
				unsigned char ymm_out[16][32])
{
	uint64_t gpr_in[5];
	unsigned char ymm_in[16][32];

	for (int i = 0; i < 5; i++)
		gpr_in[i] = pat(1000 + t->idx * 10 + cycle, i);
	for (int r = 0; r < 16; r++)
		for (int b = 0; b < 32; b++)
			ymm_in[r][b] = (unsigned char)pat(2000 + t->idx * 10 + cycle, r * 32 + b);
	if (have_avx) {
		__asm__ volatile("vmovdqu 0x000(%[yi]), %%ymm0\n\t"
				 "vmovdqu 0x020(%[yi]), %%ymm1\n\t"
				 "vmovdqu 0x040(%[yi]), %%ymm2\n\t"
				 "vmovdqu 0x060(%[yi]), %%ymm3\n\t"
				 "vmovdqu 0x080(%[yi]), %%ymm4\n\t"
				 "vmovdqu 0x0a0(%[yi]), %%ymm5\n\t"
				 "vmovdqu 0x0c0(%[yi]), %%ymm6\n\t"
				 "vmovdqu 0x0e0(%[yi]), %%ymm7\n\t"
				 "vmovdqu 0x100(%[yi]), %%ymm8\n\t"
				 "vmovdqu 0x120(%[yi]), %%ymm9\n\t"
				 "vmovdqu 0x140(%[yi]), %%ymm10\n\t"
				 "vmovdqu 0x160(%[yi]), %%ymm11\n\t"
				 "vmovdqu 0x180(%[yi]), %%ymm12\n\t"
				 "vmovdqu 0x1a0(%[yi]), %%ymm13\n\t"
				 "vmovdqu 0x1c0(%[yi]), %%ymm14\n\t"
				 "vmovdqu 0x1e0(%[yi]), %%ymm15\n\t"
				 :
				 : [yi] "r"(ymm_in)
				 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
				   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
				   "xmm15", "memory");
	}
	/* the registers stay live across the whole loop: nothing in it touches them */
	__asm__ volatile("mov 0(%[gi]), %%rbx\n\t"
			 "mov 8(%[gi]), %%r12\n\t"
			 "mov 16(%[gi]), %%r13\n\t"
			 "mov 24(%[gi]), %%r14\n\t"
			 "mov 32(%[gi]), %%r15\n\t"
			 "movl %[cyc], (%[ready])\n\t"
			 "1: pause\n\t"
			 "cmpl %[cyc], (%[go])\n\t"
			 "jne 1b\n\t"
			 "mov %%rbx, 0(%[go_out])\n\t"
			 "mov %%r12, 8(%[go_out])\n\t"
			 "mov %%r13, 16(%[go_out])\n\t"
			 "mov %%r14, 24(%[go_out])\n\t"
			 "mov %%r15, 32(%[go_out])\n\t"
			 :
			 : [gi] "r"(gpr_in), [ready] "r"(&t->ready), [go] "r"(&t->go),
			   [cyc] "r"(cycle), [go_out] "r"(gpr_out)
			 : "rbx", "r12", "r13", "r14", "r15", "memory");
	if (have_avx) {
		__asm__ volatile("vmovdqu %%ymm0, 0x000(%[yo])\n\t"
				 "vmovdqu %%ymm1, 0x020(%[yo])\n\t"
				 "vmovdqu %%ymm2, 0x040(%[yo])\n\t"
				 "vmovdqu %%ymm3, 0x060(%[yo])\n\t"
				 "vmovdqu %%ymm4, 0x080(%[yo])\n\t"
				 "vmovdqu %%ymm5, 0x0a0(%[yo])\n\t"
				 "vmovdqu %%ymm6, 0x0c0(%[yo])\n\t"
				 "vmovdqu %%ymm7, 0x0e0(%[yo])\n\t"
				 "vmovdqu %%ymm8, 0x100(%[yo])\n\t"
				 "vmovdqu %%ymm9, 0x120(%[yo])\n\t"
				 "vmovdqu %%ymm10, 0x140(%[yo])\n\t"
				 "vmovdqu %%ymm11, 0x160(%[yo])\n\t"
				 "vmovdqu %%ymm12, 0x180(%[yo])\n\t"
				 "vmovdqu %%ymm13, 0x1a0(%[yo])\n\t"
				 "vmovdqu %%ymm14, 0x1c0(%[yo])\n\t"
				 "vmovdqu %%ymm15, 0x1e0(%[yo])\n\t"
				 "vzeroupper\n\t"
				 :
				 : [yo] "r"(ymm_out)
				 : "memory");
		if (memcmp(ymm_in, ymm_out, sizeof(ymm_in)))
			snprintf(t->err, sizeof(t->err), "thread %d: ymm registers differ", t->idx);
	}
	for (int i = 0; i < 5; i++)
		if (gpr_out[i] != gpr_in[i])
			snprintf(t->err, sizeof(t->err), "thread %d: callee-saved register %d is "
				 "%#llx, expected %#llx", t->idx, i,
				 (unsigned long long)gpr_out[i], (unsigned long long)gpr_in[i]);
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	sigset_t set;
	uint64_t gpr[5];
	unsigned char ymm[16][32];

	t->tid0 = (pid_t)syscall(SYS_gettid);
	tls_word = pat(3000, t->idx);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + t->idx);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	prctl(PR_GET_TID_ADDRESS, &t->clear_tid);
	for (int c = 1; c <= cycles; c++) {
		t->cur_tid = (pid_t)syscall(SYS_gettid);
		prctl(PR_GET_TID_ADDRESS, &t->clear_tid);
		robust_head(&t->robust, &t->robust_len);
		t->rseq_before = rseq_registered();
		spin_with_registers(t, c, gpr, ymm);
		if (tls_word != pat(3000, t->idx) && !t->err[0])
			snprintf(t->err, sizeof(t->err), "thread %d: TLS word lost", t->idx);
		pthread_sigmask(SIG_BLOCK, NULL, &set);
		if (!t->err[0] && (!sigismember(&set, SIGRTMIN + t->idx) ||
				   !sigismember(&set, SIGUSR2) || sigismember(&set, SIGRTMIN + 7)))
			snprintf(t->err, sizeof(t->err), "thread %d: signal mask not restored", t->idx);
		if (!t->err[0] && expect_tid && syscall(SYS_gettid) != t->tid0)
			snprintf(t->err, sizeof(t->err), "thread %d: tid %ld, expected %d", t->idx,
				 syscall(SYS_gettid), t->tid0);
		{
			uint64_t h, l;

			robust_head(&h, &l);
			if (!t->err[0] && (h != t->robust || l != t->robust_len || !h))
				snprintf(t->err, sizeof(t->err), "thread %d: robust list %#llx, "
					 "expected %#llx", t->idx, (unsigned long long)h,
					 (unsigned long long)t->robust);
		}
		if (!t->err[0] && rseq_registered() != t->rseq_before)
			snprintf(t->err, sizeof(t->err), "thread %d: rseq registration lost", t->idx);
		if (!t->err[0] && pthread_self() != t->pt)
			snprintf(t->err, sizeof(t->err), "thread %d: pthread_self changed", t->idx);
		__atomic_store_n(&t->done, c, __ATOMIC_SEQ_CST);
		if (t->err[0])
			break;
	}
	return NULL;
}

/*
 * A thread blocked in a syscall when captured: futex wait inside pthread_cond_wait. Restored,
 * the interrupted syscall must be restarted (the capturer's -ERESTART* fix-up), and the
 * condition variable must still wake it.
 */
static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static int w_gen;
static volatile int w_done;
static volatile pid_t w_tid; /* current tid: published before each w_done */
static uint64_t w_ctid;

static void *waiter_main(void *arg)
{
	(void)arg;
	w_tid = (pid_t)syscall(SYS_gettid);
	prctl(PR_GET_TID_ADDRESS, &w_ctid);
	for (int c = 1; c <= cycles; c++) {
		pthread_mutex_lock(&w_lock);
		while (w_gen < c)
			pthread_cond_wait(&w_cond, &w_lock);
		pthread_mutex_unlock(&w_lock);
		w_tid = (pid_t)syscall(SYS_gettid);
		prctl(PR_GET_TID_ADDRESS, &w_ctid);
		__atomic_store_n(&w_done, c, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* The waiter is asleep in futex() (/proc/self/task/TID/syscall starts with 202). */
static int waiter_blocked(void)
{
	char path[64], buf[64];
	FILE *f;
	int nr = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)w_tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		nr = atoi(buf);
	fclose(f);
	return nr == SYS_futex;
}

static void wait_flag(volatile int *flag, int value, const char *what)
{
	double limit = now_s() + 20;

	while (__atomic_load_n(flag, __ATOMIC_SEQ_CST) != value) {
		if (now_s() > limit)
			fail("timed out waiting for %s", what);
		sched_yield();
	}
}

/* perms and path of the /proc/self/maps line holding addr */
static int maps_line(const void *addr, char perms[8], char *path, size_t pathlen)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	if (!f)
		fail("open /proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		char p[8], name[400] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %399[^\n]", &s, &e, p, name) < 3)
			continue;
		if ((uintptr_t)addr >= s && (uintptr_t)addr < e) {
			memcpy(perms, p, 8);
			snprintf(path, pathlen, "%s", name);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static void expect_maps(const void *addr, const char *perms, const char *path_part,
			const char *what)
{
	char p[8], path[400];

	if (!maps_line(addr, p, path, sizeof(path)))
		fail("%s: %p is not mapped", what, addr);
	if (strcmp(p, perms))
		fail("%s: permissions %s, expected %s", what, p, perms);
	if (path_part && !strstr(path, path_part))
		fail("%s: maps names '%s', expected '%s'", what, path, path_part);
}

static void setup(void)
{
	char path[512];
	const char *dir = getenv("RST_DIR");
	int fd;
	stack_t ss;
	struct sigaction sa;
	sigset_t set;

	for (int i = 0; i < 16; i++) {
		heap_chunks[i] = malloc(4000);
		fill(heap_chunks[i], 4000, 10 + i);
	}
	big = mmap(NULL, BIG_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED)
		fail("mmap big: %s", strerror(errno));
	for (size_t off = 0; off < BIG_LEN; off += 16 * PAGE)
		fill(big + off, PAGE, 100 + off / PAGE);
	ro = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(ro, 4 * PAGE, 200);
	mprotect(ro, 4 * PAGE, PROT_READ);
	noacc = mmap(NULL, 8 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shared = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fill(shared, 4 * PAGE, 300);

	/* a file of FILE_PAGES pages, mapped private; pages 1 and 3 then written */
	snprintf(path, sizeof(path), "%s/rst_victim.%d.data", dir ? dir : "/tmp", (int)getpid());
	fmap_path = strdup(path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("create %s: %s", path, strerror(errno));
	for (int i = 0; i < FILE_PAGES; i++) {
		unsigned char pg[PAGE];

		fill(pg, PAGE, 400 + i);
		if (write(fd, pg, PAGE) != PAGE)
			fail("write %s: %s", path, strerror(errno));
	}
	fmap = mmap(NULL, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (fmap == MAP_FAILED)
		fail("mmap %s: %s", path, strerror(errno));
	close(fd);
	fill(fmap + 1 * PAGE, PAGE, 500);
	fill(fmap + 3 * PAGE, PAGE, 501);
	/* the same file mapped shared from page 2 on: written pages land in the file */
	sfd = open(path, O_RDWR);
	sfmap = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 2 * PAGE);
	if (sfmap == MAP_FAILED)
		fail("mmap shared %s: %s", path, strerror(errno));
	close(sfd);
	fill(sfmap + 3 * PAGE, PAGE, 502); /* file page 5 */

	ss.ss_sp = altstack_buf;
	ss.ss_size = sizeof(altstack_buf);
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		fail("sigaltstack: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = usr1_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGRTMIN + 7);
	if (sigaction(SIGUSR1, &sa, NULL))
		fail("sigaction: %s", strerror(errno));
	/* blocked in main, inherited by the threads */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	fesetround(FE_UPWARD);
}

/* What only the process itself can tell the capturer. */
static void write_hints(void)
{
	char tmp[600];
	FILE *f;
	uint64_t main_ctid = 0;
	stack_t ss;
	struct {
		uint64_t handler, flags, restorer, mask;
	} ka;

	snprintf(tmp, sizeof(tmp), "%s.tmp", hints_path);
	f = fopen(tmp, "w");
	if (!f)
		fail("create %s: %s", tmp, strerror(errno));
	prctl(PR_GET_TID_ADDRESS, &main_ctid);
	sigaltstack(NULL, &ss);
	fprintf(f, "P %d\n", (int)getpid());
	fprintf(f, "T %d %#llx %#llx %d %#llx\n", (int)getpid(), (unsigned long long)main_ctid,
		(unsigned long long)(uintptr_t)ss.ss_sp, ss.ss_flags,
		(unsigned long long)ss.ss_size);
	for (int i = 0; i < NTHREADS; i++)
		fprintf(f, "T %d %#llx 0 %d 0\n", (int)thr[i].cur_tid,
			(unsigned long long)thr[i].clear_tid, SS_DISABLE);
	fprintf(f, "T %d %#llx 0 %d 0\n", (int)w_tid, (unsigned long long)w_ctid, SS_DISABLE);
	/* the kernel's own record of the handler, restorer included */
	if (syscall(SYS_rt_sigaction, SIGUSR1, NULL, &ka, 8))
		fail("rt_sigaction query: %s", strerror(errno));
	fprintf(f, "S %d %#llx %#llx %#llx %#llx\n", SIGUSR1, (unsigned long long)ka.handler,
		(unsigned long long)ka.flags, (unsigned long long)ka.restorer,
		(unsigned long long)ka.mask);
	brk_before = (uintptr_t)syscall(SYS_brk, 0);
	fprintf(f, "B %#llx\n", (unsigned long long)brk_before);
	fprintf(f, "E\n");
	if (fclose(f))
		fail("write %s: %s", tmp, strerror(errno));
	if (rename(tmp, hints_path))
		fail("rename %s: %s", tmp, strerror(errno));
}

/* About 16 KiB of stack per level, touched so that the stack vma has to grow. */
static unsigned long long grow_stack(int depth)
{
	volatile unsigned char buf[16384];
	unsigned long long sum = 0;

	for (size_t i = 0; i < sizeof(buf); i += 8)
		buf[i] = 7;
	for (size_t i = 0; i < sizeof(buf); i += 8)
		sum += buf[i];
	return depth > 1 ? sum + grow_stack(depth - 1) : sum;
}

static void check_time(void)
{
	struct timespec a, b, sys;
	struct timeval tv;
	time_t t;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 2000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (b.tv_sec < a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec < a.tv_nsec))
			fail("CLOCK_MONOTONIC went backwards");
		a = b;
	}
	clock_gettime(CLOCK_REALTIME, &a);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &sys);
	if (llabs((long long)(a.tv_sec - sys.tv_sec)) > 2)
		fail("clock_gettime(CLOCK_REALTIME) %lld vs kernel %lld", (long long)a.tv_sec,
		     (long long)sys.tv_sec);
	gettimeofday(&tv, NULL);
	t = time(NULL);
	if (llabs((long long)(tv.tv_sec - sys.tv_sec)) > 2 || llabs((long long)(t - sys.tv_sec)) > 2)
		fail("gettimeofday %lld / time %lld vs kernel %lld", (long long)tv.tv_sec,
		     (long long)t, (long long)sys.tv_sec);
	if (clock_getres(CLOCK_MONOTONIC, &a) || (a.tv_sec == 0 && a.tv_nsec == 0))
		fail("clock_getres");
	if (sched_getcpu() < 0)
		fail("sched_getcpu: %s", strerror(errno));
}

static void verify(int cycle, const uint64_t *stack_pat, size_t stack_words)
{
	sigset_t set;
	char *fresh;
	stack_t ss;
	int before;

	for (int i = 0; i < 16; i++)
		if (!check(heap_chunks[i], 4000, 10 + i))
			fail("heap chunk %d differs", i);
	for (size_t off = 0; off < BIG_LEN; off += 16 * PAGE) {
		if (!check(big + off, PAGE, 100 + off / PAGE))
			fail("big mapping page %zu differs", off / PAGE);
		if (big[off + PAGE] != 0)
			fail("big mapping page %zu is not zero", off / PAGE + 1);
	}
	if (!check(ro, 4 * PAGE, 200))
		fail("read-only region differs");
	expect_maps(ro, "r--p", NULL, "read-only region");
	expect_maps(noacc, "---p", NULL, "inaccessible region");
	if (!check(shared, 4 * PAGE, 300))
		fail("shared region differs");
	expect_maps(shared, "rw-s", NULL, "shared region");
	for (int i = 0; i < FILE_PAGES; i++) {
		/* untouched private pages show the file, page 5 included */
		uint64_t seed = i == 1 ? 500 : i == 3 ? 501 : i == 5 ? sf_seed : 400ULL + i;

		if (!check(fmap + i * PAGE, PAGE, seed))
			fail("file mapping page %d differs", i);
	}
	expect_maps(fmap, "rw-p", fmap_path, "private file mapping");
	/* shared file mapping at file offset 2 pages: file pages 2..5, page 5 written */
	sfd = open(fmap_path, O_RDONLY);
	if (sfd < 0)
		fail("reopen %s: %s", fmap_path, strerror(errno));
	for (int i = 0; i < 4; i++) {
		unsigned char pg[PAGE];
		uint64_t seed = i == 3 ? sf_seed : 402ULL + i;

		if (!check(sfmap + i * PAGE, PAGE, seed))
			fail("shared file mapping page %d differs", i);
		if (pread(sfd, pg, PAGE, (2 + i) * PAGE) != PAGE || !check(pg, PAGE, seed))
			fail("file page %d does not hold what the shared mapping shows", 2 + i);
	}
	expect_maps(sfmap, "rw-s", fmap_path, "shared file mapping");
	/* a write through the restored shared mapping reaches the file */
	sf_seed = 502 + cycle;
	fill(sfmap + 3 * PAGE, PAGE, sf_seed);
	{
		unsigned char pg[PAGE];

		if (pread(sfd, pg, PAGE, 5 * PAGE) != PAGE || !check(pg, PAGE, sf_seed))
			fail("a write through the shared file mapping did not reach the file");
	}
	close(sfd);
	/* the main stack still grows on demand (MAP_GROWSDOWN kept) */
	if (grow_stack(256) != 256 * 2048ULL * 7)
		fail("deep recursion gave a wrong sum");
	for (size_t i = 0; i < stack_words; i++)
		if (stack_pat[i] != pat(600, i))
			fail("stack word %zu differs", i);
	if (fegetround() != FE_UPWARD)
		fail("main thread FPU rounding mode lost");
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	if (!sigismember(&set, SIGUSR2) || sigismember(&set, SIGUSR1))
		fail("main thread signal mask not restored");
	if (sigaltstack(NULL, &ss) || ss.ss_sp != altstack_buf || ss.ss_size != sizeof(altstack_buf))
		fail("sigaltstack not restored (sp %p size %zu flags %d)", ss.ss_sp, ss.ss_size,
		     ss.ss_flags);
	{
		uint64_t h, l;

		robust_head(&h, &l);
		if (h != main_robust || !h)
			fail("main thread robust list %#llx, expected %#llx", (unsigned long long)h,
			     (unsigned long long)main_robust);
		if (rseq_registered() != main_rseq)
			fail("main thread rseq registration lost");
	}
	{
		struct sigaction old;

		/* the restoring process had its own SIGALRM handler; ours is the default */
		if (sigaction(SIGALRM, NULL, &old) || old.sa_handler != SIG_DFL)
			fail("SIGALRM disposition is not the saved default");
	}
	before = usr1_count;
	raise(SIGUSR1);
	if (usr1_count != before + 1)
		fail("SIGUSR1 handler did not run");
	if (usr1_sp < (uintptr_t)altstack_buf || usr1_sp >= (uintptr_t)altstack_buf + sizeof(altstack_buf))
		fail("SIGUSR1 handler did not run on the alternate stack");
	check_time();
	/* the kernel's brk is the program's again (PR_SET_MM_MAP), not the restorer's */
	if ((uintptr_t)syscall(SYS_brk, 0) != brk_before)
		fail("brk is %#lx, expected %#lx", (unsigned long)syscall(SYS_brk, 0),
		     (unsigned long)brk_before);
	/* the allocator keeps working: brk or mmap, whichever the kernel lets it use */
	fresh = malloc(1 << 20);
	if (!fresh)
		fail("malloc after restore");
	memset(fresh, 0x5a, 1 << 20);
	free(fresh);
	for (int i = 0; i < 100; i++)
		free(malloc(100 + i * 37));

	for (int i = 0; i < NTHREADS; i++)
		__atomic_store_n(&thr[i].go, cycle, __ATOMIC_SEQ_CST);
	for (int i = 0; i < NTHREADS; i++) {
		wait_flag(&thr[i].done, cycle, "a thread to check itself");
		if (thr[i].err[0])
			fail("%s", thr[i].err);
	}
	pthread_mutex_lock(&w_lock);
	w_gen = cycle;
	pthread_cond_broadcast(&w_cond);
	pthread_mutex_unlock(&w_lock);
	wait_flag(&w_done, cycle, "the condition-variable waiter to wake");
}

int main(void)
{
	uint64_t stack_pat[2048];
	unsigned int a, b, c, d;
	pthread_t waiter;

	setvbuf(stdout, NULL, _IOLBF, 0);
	hints_path = getenv("RST_HINTS");
	if (!hints_path)
		fail("RST_HINTS is not set");
	if (getenv("RST_CYCLES"))
		cycles = atoi(getenv("RST_CYCLES"));
	expect_tid = getenv("RST_EXPECT_TID") && !strcmp(getenv("RST_EXPECT_TID"), "1");
	if (__get_cpuid(1, &a, &b, &c, &d))
		have_avx = (c & bit_AVX) && (c & bit_OSXSAVE);
	for (size_t i = 0; i < 2048; i++)
		stack_pat[i] = pat(600, i);
	setup();
	for (int i = 0; i < NTHREADS; i++) {
		thr[i].idx = i;
		if (pthread_create(&thr[i].pt, NULL, thread_main, &thr[i]))
			fail("pthread_create");
	}
	if (pthread_create(&waiter, NULL, waiter_main, NULL))
		fail("pthread_create");
	for (int cyc = 1; cyc <= cycles; cyc++) {
		for (int i = 0; i < NTHREADS; i++)
			wait_flag(&thr[i].ready, cyc, "a thread to start spinning");
		{
			double limit = now_s() + 20;

			while (!waiter_blocked()) {
				if (now_s() > limit)
					fail("timed out waiting for the waiter to block in futex");
				sched_yield();
			}
		}
		write_hints();
		{
			uint64_t l;

			robust_head(&main_robust, &l);
			main_rseq = rseq_registered();
		}
		printf("stopping for cycle %d (pid %d)\n", cyc, (int)getpid());
		raise(SIGSTOP);
		verify(cyc, stack_pat, 2048);
		printf("cycle %d ok (pid %d)\n", cyc, (int)getpid());
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(thr[i].pt, NULL);
	pthread_join(waiter, NULL);
	unlink(fmap_path);
	printf("PASS\n");
	return 0;
}
