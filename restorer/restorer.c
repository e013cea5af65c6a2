/*
 * The restorer blob: freestanding, position-independent code that prepare_restore() copies
 * into the restore area and jumps to, with %rdi = the plan and %rsp = the plan's main stack.
 *
 * From here on nothing of the preparing process is used: the blob unmaps every mapping that is
 * not the restore area, a staged region or the vdso block, moves the vdso block, puts each saved
 * region back (staged data mremap()ed into place, files mapped, written pages of private file
 * mappings copied on top, present pages of sparse regions copied into fresh memory), patches the saved vdso when it proxies, applies the saved
 * protections, mm boundaries, signal dispositions, recreates the threads and resumes every
 * thread with rt_sigreturn on the frame prepare_restore() built for it.
 *
 * A failure here is past the point of no return: the blob writes one line naming the step,
 * the address and the errno to plan->log_fd and exits the process with plan->fail_rc.
 * No libc, no globals (the blob is mapped read+exec), no relocations.
 */
#include "restorer.h"

#include <asm/prctl.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/signal.h>

#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif
#ifndef RSEQ_FLAG_UNREGISTER
#define RSEQ_FLAG_UNREGISTER 1
#endif
#ifndef PR_SET_MM_MAP
#define PR_SET_MM_MAP 14
#endif

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

void *memset(void *d, int c, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

static void put_str(char *buf, size_t *n, size_t cap, const char *s)
{
	while (*s && *n < cap)
		buf[(*n)++] = *s++;
}

static void put_hex(char *buf, size_t *n, size_t cap, uint64_t v)
{
	char tmp[16];
	int i = 0;

	put_str(buf, n, cap, "0x");
	do {
		unsigned d = v & 0xf;

		tmp[i++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v >>= 4;
	} while (v);
	while (i && *n < cap)
		buf[(*n)++] = tmp[--i];
}

static void put_dec(char *buf, size_t *n, size_t cap, long v)
{
	char tmp[24];
	int i = 0;
	unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;

	if (v < 0)
		put_str(buf, n, cap, "-");
	do {
		tmp[i++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (i && *n < cap)
		buf[(*n)++] = tmp[--i];
}

/* Step names for log lines; a switch so that no table of pointers needs relocating. */
static const char *step_name(uint32_t step)
{
	switch (step) {
	case RP_STEP_ENTER: return "enter";
	case RP_STEP_UNMAP: return "unmap";
	case RP_STEP_VDSO: return "vdso";
	case RP_STEP_MAP: return "map";
	case RP_STEP_PATCH_VDSO: return "patch-vdso";
	case RP_STEP_PROTECT: return "protect";
	case RP_STEP_MM: return "mm";
	case RP_STEP_CLOSE: return "close";
	case RP_STEP_SIGACTION: return "sigaction";
	case RP_STEP_THREADS: return "threads";
	case RP_STEP_SIGRETURN: return "sigreturn";
	}
	return "?";
}

/* errno names for the failures the blob can meet; others are printed as numbers */
static const char *errno_name(long e)
{
	switch (e) {
	case 1: return "EPERM";
	case 9: return "EBADF";
	case 12: return "ENOMEM";
	case 13: return "EACCES";
	case 14: return "EFAULT";
	case 16: return "EBUSY";
	case 17: return "EEXIST";
	case 19: return "ENODEV";
	case 22: return "EINVAL";
	case 24: return "EMFILE";
	case 28: return "ENOSPC";
	case 38: return "ENOSYS";
	}
	return NULL;
}

static void write_line(struct restore_plan *p, const char *what, uint64_t addr, long err,
		       int with_err)
{
	char buf[200];
	size_t n = 0;

	if (p->log_fd < 0)
		return;
	put_str(buf, &n, sizeof(buf) - 1, "restorer[");
	put_dec(buf, &n, sizeof(buf) - 1, sys_gettid());
	put_str(buf, &n, sizeof(buf) - 1, "]: ");
	put_str(buf, &n, sizeof(buf) - 1, step_name(p->step));
	put_str(buf, &n, sizeof(buf) - 1, ": ");
	put_str(buf, &n, sizeof(buf) - 1, what);
	put_str(buf, &n, sizeof(buf) - 1, " ");
	put_hex(buf, &n, sizeof(buf) - 1, addr);
	if (with_err) {
		const char *name = errno_name(-err);

		put_str(buf, &n, sizeof(buf) - 1, ": ");
		if (name)
			put_str(buf, &n, sizeof(buf) - 1, name);
		else
			put_dec(buf, &n, sizeof(buf) - 1, err);
	}
	buf[n++] = '\n';
	sys_write(p->log_fd, buf, n);
}

void restore_fail(struct restore_plan *p, const char *what, uint64_t addr, long err)
{
	write_line(p, what, addr, err, 1);
	for (;;)
		sys_exit_group(p->fail_rc);
}

void restore_log(struct restore_plan *p, const char *what, uint64_t val)
{
	if (p->flags & RP_F_DEBUG)
		write_line(p, what, val, 0, 0);
}

static void set_step(struct restore_plan *p, uint32_t step)
{
	p->step = step;
	restore_log(p, "step", step);
}

static void restore_unmap(struct restore_plan *p)
{
	struct rp_range *r = RP_ARRAY(p, struct rp_range, p->unmap_off);
	long ret;

	for (uint32_t i = 0; i < p->nr_unmap; i++) {
		ret = sys_munmap((void *)r[i].start, r[i].end - r[i].start);
		if (SYS_ERR(ret))
			restore_fail(p, "munmap", r[i].start, ret);
	}
}

static void restore_runs(struct restore_plan *p, struct rp_vma *v)
{
	struct rp_run *runs = RP_ARRAY(p, struct rp_run, p->runs_off);
	long ret;

	for (uint32_t i = v->first_run; i < v->first_run + v->nr_runs; i++) {
		memcpy((void *)runs[i].addr, (const void *)runs[i].stage_addr, runs[i].len);
		if (runs[i].unmap_len) {
			ret = sys_munmap((void *)runs[i].unmap_addr, runs[i].unmap_len);
			if (SYS_ERR(ret))
				restore_fail(p, "munmap page-run stage", runs[i].unmap_addr, ret);
		}
	}
}

/*
 * Put every region at its address. Regions stay writable here (staged ones are read+write
 * already) so that written pages and vdso patches can go in; restore_protect() follows.
 */
static void restore_map(struct restore_plan *p)
{
	struct rp_vma *v = RP_ARRAY(p, struct rp_vma, p->vmas_off);
	long ret;

	for (uint32_t i = 0; i < p->nr_vmas; i++) {
		uint64_t len = v[i].end - v[i].start;
		int extra = (int)(v[i].flags & (MAP_GROWSDOWN | MAP_NORESERVE));
		int share = (int)(v[i].flags & (MAP_SHARED | MAP_PRIVATE));

		switch (v[i].kind) {
		case RP_VMA_STAGED:
			ret = sys_mremap((void *)v[i].stage_addr, len, len,
					 MREMAP_MAYMOVE | MREMAP_FIXED, (void *)v[i].start);
			if (SYS_ERR(ret))
				restore_fail(p, "mremap staged region to", v[i].start, ret);
			break;
		case RP_VMA_ZERO:
			ret = sys_mmap((void *)v[i].start, len, (int)v[i].prot,
				       share | extra | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (SYS_ERR(ret))
				restore_fail(p, "mmap anonymous", v[i].start, ret);
			break;
		case RP_VMA_SPARSE:
			/* writable for the copy; restore_protect() sets the saved protection */
			ret = sys_mmap((void *)v[i].start, len, (int)v[i].prot | PROT_WRITE,
				       share | extra | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (SYS_ERR(ret))
				restore_fail(p, "mmap sparse region", v[i].start, ret);
			restore_runs(p, &v[i]);
			break;
		case RP_VMA_FILE: {
			int prot = (int)v[i].prot;

			/*
			 * Private: writable for the written pages (the file may be open read-only,
			 * which a private mapping allows). Shared: exactly the saved protection,
			 * since PROT_WRITE on a read-only fd would fail.
			 */
			if (share == MAP_PRIVATE && v[i].nr_runs)
				prot |= PROT_WRITE;
			ret = sys_mmap((void *)v[i].start, len, prot, share | extra | MAP_FIXED,
				       v[i].fd, (long)v[i].pgoff);
			if (SYS_ERR(ret))
				restore_fail(p, "mmap file region", v[i].start, ret);
			restore_runs(p, &v[i]);
			break;
		}
		default:
			restore_fail(p, "bad region kind at", v[i].start, -22);
		}
	}
}

static void restore_protect(struct restore_plan *p)
{
	struct rp_vma *v = RP_ARRAY(p, struct rp_vma, p->vmas_off);
	long ret;

	for (uint32_t i = 0; i < p->nr_vmas; i++) {
		ret = sys_mprotect((void *)v[i].start, v[i].end - v[i].start, (int)v[i].prot);
		if (SYS_ERR(ret))
			restore_fail(p, "mprotect", v[i].start, ret);
	}
}

/* struct prctl_mm_map of the kernel (linux/prctl.h), spelled out for the fixed exe_fd = -1. */
struct rst_prctl_mm_map {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv;
	uint32_t auxv_size;
	uint32_t exe_fd;
};

/*
 * The brk and the [stack]/arg/env markers belong to the mm, not to any vma: without this the
 * program's brk() works against the preparing process's heap. The kernel checks each value
 * against the restored vmas; a refusal costs only brk() growth (malloc falls back to mmap),
 * so it is reported, not fatal.
 */
static int restore_mm(struct restore_plan *p)
{
	struct rst_prctl_mm_map m;
	long ret;

	m.start_code = p->mm.start_code;
	m.end_code = p->mm.end_code;
	m.start_data = p->mm.start_data;
	m.end_data = p->mm.end_data;
	m.start_brk = p->mm.start_brk;
	m.brk = p->mm.brk;
	m.start_stack = p->mm.start_stack;
	m.arg_start = p->mm.arg_start;
	m.arg_end = p->mm.arg_end;
	m.env_start = p->mm.env_start;
	m.env_end = p->mm.env_end;
	m.auxv = 0;
	m.auxv_size = 0;
	m.exe_fd = (uint32_t)p->exe_fd;
	ret = sys_prctl(PR_SET_MM, PR_SET_MM_MAP, (long)&m, sizeof(m), 0);
	if (SYS_ERR(ret) && p->exe_fd >= 0) {
		/* The exe link needs a capability the other fields do not: keep the rest. */
		write_line(p, "exe link not restored (PR_SET_MM_MAP exe_fd), fd", (uint64_t)p->exe_fd,
			   ret, 1);
		m.exe_fd = (uint32_t)-1;
		ret = sys_prctl(PR_SET_MM, PR_SET_MM_MAP, (long)&m, sizeof(m), 0);
	}
	if (SYS_ERR(ret)) {
		write_line(p, "PR_SET_MM_MAP refused (brk is fenced instead), start_brk",
			   p->mm.start_brk, ret, 1);
		return (int)ret;
	}
	return 0;
}

static void restore_brk_fence(struct restore_plan *p)
{
	long ret;

	ret = sys_mmap((void *)p->cur_start_brk, 4096, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	/* EEXIST: a restored region is there, which fences brk just as well */
	if (SYS_ERR(ret) && ret != -17)
		restore_fail(p, "mmap brk fence", p->cur_start_brk, ret);
	restore_log(p, "brk fenced at", p->cur_start_brk);
}

static void restore_close(struct restore_plan *p)
{
	int32_t *fds = RP_ARRAY(p, int32_t, p->close_fds_off);

	for (uint32_t i = 0; i < p->nr_close_fds; i++)
		sys_close(fds[i]);
}

/*
 * Dispositions are exactly the saved ones: every signal the plan does not name goes back to
 * SIG_DFL, since a handler the preparing process installed points into memory that is gone.
 */
static void restore_sigactions(struct restore_plan *p)
{
	struct rp_sigaction dfl;
	long ret;

	memset(&dfl, 0, sizeof(dfl));
	for (int sig = 1; sig <= RP_MAX_SIGNALS; sig++) {
		const struct rp_sigaction *act = &dfl;

		if (sig == 9 || sig == 19) /* SIGKILL, SIGSTOP */
			continue;
		if (p->sigaction_mask & (1ULL << (sig - 1)))
			act = &p->sigactions[sig - 1];
		ret = sys_rt_sigaction(sig, act, NULL, 8);
		if (SYS_ERR(ret))
			restore_fail(p, "rt_sigaction of signal", (uint64_t)sig, ret);
	}
}

/* The last thing a thread does: the kernel loads everything from the frame at rsp - 8. */
static void __attribute__((noreturn)) restore_sigreturn(uint64_t rsp)
{
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "mov %1, %%eax\n\t"
			 "syscall\n\t"
			 "ud2"
			 :
			 : "r"(rsp), "i"(__NR_rt_sigreturn)
			 : "memory");
	__builtin_unreachable();
}

/* Per-thread state that the sigframe cannot carry, then rt_sigreturn. */
static void __attribute__((noreturn)) restore_thread_finish(struct restore_plan *p,
							    struct rp_thread *t)
{
	long ret;

	if (t->comm[0])
		sys_prctl(PR_SET_NAME, (long)t->comm, 0, 0, 0);
	ret = sys_arch_prctl(ARCH_SET_FS, t->fs_base);
	if (SYS_ERR(ret))
		restore_fail(p, "arch_prctl(ARCH_SET_FS)", t->fs_base, ret);
	ret = sys_arch_prctl(ARCH_SET_GS, t->gs_base);
	if (SYS_ERR(ret))
		restore_fail(p, "arch_prctl(ARCH_SET_GS)", t->gs_base, ret);
	/* 0 too: the preparer's clear-tid address is gone */
	sys_set_tid_address((int *)t->clear_tid);
	if (t->robust_list) {
		ret = sys_set_robust_list((void *)t->robust_list, t->robust_len);
		if (SYS_ERR(ret))
			restore_fail(p, "set_robust_list", t->robust_list, ret);
	}
	if (t->rseq) {
		ret = sys_rseq((void *)t->rseq, t->rseq_len, 0, t->rseq_sig);
		if (SYS_ERR(ret))
			restore_fail(p, "rseq register", t->rseq, ret);
	}
	t->got_tid = (int32_t)sys_gettid();
	__atomic_add_fetch(&p->threads_started, 1, __ATOMIC_SEQ_CST);
	restore_sigreturn(t->frame_rsp);
}

/* A new thread starts here, on its own stack inside the restore area. */
static void __attribute__((noreturn, used)) restore_thread_entry(struct restore_plan *p,
								 struct rp_thread *t)
{
	restore_thread_finish(p, t);
}

/*
 * clone()/clone3() whose child pops its function and two arguments off the new stack and
 * calls it. The child runs on a stack with nothing of ours below, so it must not return
 * through C code: hence the asm.
 */
static long clone_thread_raw(long nr, long a1, long a2, long a3, long a4, long a5)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "pop %%rax\n\t"
			 "pop %%rdi\n\t"
			 "pop %%rsi\n\t"
			 "call *%%rax\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

struct rst_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size;
};

#define RST_THREAD_FLAGS                                                                 \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

static void restore_threads(struct restore_plan *p)
{
	struct rp_thread *t = RP_ARRAY(p, struct rp_thread, p->threads_off);

	for (uint32_t i = 1; i < p->nr_threads; i++) {
		uint64_t *sp = (uint64_t *)t[i].stack_top;
		long ret;

		/* popped by the child: function, then its two arguments */
		sp -= 3;
		sp[0] = (uint64_t)restore_thread_entry;
		sp[1] = (uint64_t)p;
		sp[2] = (uint64_t)&t[i];
		if (t[i].flags & RP_THR_SET_TID) {
			struct rst_clone_args ca;
			int64_t want = t[i].tid;

			memset(&ca, 0, sizeof(ca));
			ca.flags = RST_THREAD_FLAGS;
			ca.stack = t[i].stack_top - RP_THREAD_STACK;
			/* clone3 starts the child at stack + stack_size: our three words */
			ca.stack_size = (uint64_t)sp - ca.stack;
			ca.set_tid = (uint64_t)&want;
			ca.set_tid_size = 1;
			ret = clone_thread_raw(__NR_clone3, (long)&ca, sizeof(ca), 0, 0, 0);
			if (SYS_ERR(ret))
				restore_fail(p, "clone3 with set_tid", (uint64_t)want, ret);
		} else {
			ret = clone_thread_raw(__NR_clone, RST_THREAD_FLAGS, (long)sp, 0, 0, 0);
			if (SYS_ERR(ret))
				restore_fail(p, "clone thread", i, ret);
		}
		restore_log(p, "thread created, tid", (uint64_t)ret);
	}
}

/*
 * Entry point, at offset 0 of the blob (restorer.lds). prepare_restore() has blocked every
 * signal, so nothing of the preparing process runs again once we are here.
 */
__attribute__((noreturn, section(".text.entry"), visibility("default"), used))
void restorer_entry(struct restore_plan *p)
{
	struct rp_thread *t = RP_ARRAY(p, struct rp_thread, p->threads_off);
	uint64_t all = ~0ULL;
	long ret;

	if (p->magic != RESTORE_PLAN_MAGIC || p->version != RESTORE_PLAN_VERSION)
		sys_exit_group(p->fail_rc ? p->fail_rc : 99);
	set_step(p, RP_STEP_ENTER);
	sys_rt_sigprocmask(SIG_SETMASK, &all, NULL, 8);
	/*
	 * The kernel writes the cpu id into a registered rseq area on every preemption and
	 * kills the thread if it cannot: unregister the preparer's area before it goes away.
	 */
	if (p->flags & RP_F_UNREG_RSEQ) {
		ret = sys_rseq((void *)p->cur_rseq, p->cur_rseq_len, RSEQ_FLAG_UNREGISTER,
			       p->cur_rseq_sig);
		if (SYS_ERR(ret))
			restore_fail(p, "rseq unregister", p->cur_rseq, ret);
	}
	/* Likewise the robust list and clear-tid address point into memory about to go. */
	sys_set_robust_list(NULL, 24); /* the kernel insists on sizeof(struct robust_list_head) */
	sys_set_tid_address(NULL);

	set_step(p, RP_STEP_UNMAP);
	restore_unmap(p);
	if (p->flags & RP_F_BRK_FENCE)
		sys_brk((void *)p->cur_start_brk);
	set_step(p, RP_STEP_VDSO);
	restore_vdso_move(p);
	set_step(p, RP_STEP_MAP);
	restore_map(p);
	set_step(p, RP_STEP_PATCH_VDSO);
	restore_vdso_patch(p);
	set_step(p, RP_STEP_PROTECT);
	restore_protect(p);
	set_step(p, RP_STEP_MM);
	if (!(p->flags & RP_F_SET_MM) || restore_mm(p)) {
		if (p->flags & RP_F_BRK_FENCE)
			restore_brk_fence(p);
	}
	set_step(p, RP_STEP_CLOSE);
	restore_close(p);
	set_step(p, RP_STEP_SIGACTION);
	restore_sigactions(p);
	set_step(p, RP_STEP_THREADS);
	restore_threads(p);
	set_step(p, RP_STEP_SIGRETURN);
	restore_thread_finish(p, &t[0]);
}
