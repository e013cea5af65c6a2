/*
 * Infection library: remote syscalls in a stopped thread, the shared memfd area, the parasite
 * blob, its commands, fd transfer and cure. See infect.h for the contract and
 * docs/infection.md for the mechanism and the kernel behaviour it relies on.
 */
#include "infect.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/gen/parasite-syms.h"
#include "log.h"
#include "regs.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: say we want exec so vm.memfd_noexec=1 does not refuse */
#endif
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

/* The blob, embedded by the Makefile (build/gen/parasite-embed.S). */
extern const unsigned char parasite_blob[];
extern const unsigned char parasite_blob_end[];

#define MEMFD_NAME    "dmtcp-parasite"
#define MAX_DEFERRED  64
#define XSTATE_MAX    (64 * 1024)
#define PATCH_WORDS   4 /* syscall; int3; pad | memfd name (24 bytes) */
#define PATCH_NAME_AT 8

/* Signals taken at their signal-delivery stop while our code ran, to be queued again. */
struct deferred {
	int n;
	pid_t tid[MAX_DEFERRED];
	siginfo_t si[MAX_DEFERRED];
};

/* Bytes of the target's code overwritten by the bootstrap gadget. */
struct patch {
	pid_t tid;
	uint64_t addr;
	long saved[PATCH_WORDS];
	int applied;
};

struct infect_ctx {
	pid_t pid, tid;
	arch_regs_t regs; /* tid's registers at infect_start */
	int pidfd;	  /* -1 when pidfd_open failed */
	uint64_t base;	  /* remote area */
	size_t size;
	uint8_t *local; /* tracer's mapping of the same memfd */
	size_t blob_mem;
	struct deferred def;
	int dead;
};

/* Offsets inside the area (see parasite-cmd.h). */
static size_t area_args_off(const struct infect_ctx *c)
{
	return c->blob_mem;
}
static size_t area_scratch_off(const struct infect_ctx *c)
{
	return c->blob_mem + PARASITE_ARGS_SIZE;
}

static const char *signame(int sig)
{
	static const char *const names[] = {
		[SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",	[SIGQUIT] = "SIGQUIT",
		[SIGILL] = "SIGILL",   [SIGTRAP] = "SIGTRAP",	[SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",	[SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV",	[SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",	[SIGTERM] = "SIGTERM",
		[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",	[SIGSTOP] = "SIGSTOP",
		[SIGTSTP] = "SIGTSTP", [SIGTTIN] = "SIGTTIN",	[SIGTTOU] = "SIGTTOU",
		[SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",	[SIGXFSZ] = "SIGXFSZ",
		[SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
		[SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",	[SIGSYS] = "SIGSYS",
	};

	if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])) && names[sig])
		return names[sig];
	return sig >= SIGRTMIN && sig <= SIGRTMAX ? "SIGRT" : "SIG?";
}

/* ptrace failure: ESRCH is the target vanishing, anything else is worth a line. */
static int ptrace_err(const char *what, pid_t tid)
{
	int e = errno;

	if (e != ESRCH)
		pr_err("tid %d: %s: %s", tid, what, strerror(e));
	return -e;
}

static int get_regs(pid_t tid, arch_regs_t *r)
{
	if (ptrace(PTRACE_GETREGS, tid, NULL, r) < 0)
		return ptrace_err("PTRACE_GETREGS", tid);
	return 0;
}

static int set_regs(pid_t tid, const arch_regs_t *r)
{
	if (ptrace(PTRACE_SETREGS, tid, NULL, r) < 0)
		return ptrace_err("PTRACE_SETREGS", tid);
	return 0;
}

/* The FPU/xsave state, sized by the kernel (AVX-512 here: never a constant). */
static int get_xstate(pid_t tid, void **buf, size_t *len)
{
	struct iovec iov;

	*buf = malloc(XSTATE_MAX);
	if (!*buf)
		return -ENOMEM;
	iov.iov_base = *buf;
	iov.iov_len = XSTATE_MAX;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0) {
		int r = ptrace_err("PTRACE_GETREGSET NT_X86_XSTATE", tid);

		free(*buf);
		*buf = NULL;
		return r;
	}
	*len = iov.iov_len;
	return 0;
}

static int set_xstate(pid_t tid, void *buf, size_t len)
{
	struct iovec iov = { buf, len };

	if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return ptrace_err("PTRACE_SETREGSET NT_X86_XSTATE", tid);
	return 0;
}

static void defer_signal(struct deferred *d, pid_t tid, const siginfo_t *si)
{
	if (d->n == MAX_DEFERRED) {
		pr_warn("tid %d: too many signals during infection, dropping %s", tid,
			signame(si->si_signo));
		return;
	}
	d->tid[d->n] = tid;
	d->si[d->n] = *si;
	d->n++;
}

static pid_t collect_tgid(pid_t tid)
{
	char path[64], line[256];
	pid_t tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/*
 * Queue the deferred signals again on the thread that dequeued them. A siginfo the kernel
 * lets a foreign process forge (si_code < 0 and not SI_TKILL: sigqueue, timers, mq, aio)
 * goes back whole; for the rest (kill, tkill, kernel-generated) only the signal number
 * survives, sent with tgkill.
 */
static void requeue_signals(struct deferred *d)
{
	int i;

	for (i = 0; i < d->n; i++) {
		siginfo_t *si = &d->si[i];
		pid_t tgid = collect_tgid(d->tid[i]);
		long r;

		if (tgid < 0)
			continue; /* the thread is gone, and its signals with it */
		if (si->si_code < 0 && si->si_code != SI_TKILL)
			r = syscall(SYS_rt_tgsigqueueinfo, tgid, d->tid[i], si->si_signo, si);
		else
			r = syscall(SYS_tgkill, tgid, d->tid[i], si->si_signo);
		if (r < 0 && errno != ESRCH)
			pr_warn("tid %d: cannot queue %s again: %s", d->tid[i],
				signame(si->si_signo), strerror(errno));
	}
	d->n = 0;
}

/* A fault raised by our own code ends the run; anything else is the target's signal. */
static int check_fault(pid_t tid, int sig, const siginfo_t *si)
{
	if ((sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	     sig == SIGTRAP) && si->si_code > 0) {
		arch_regs_t r;

		get_regs(tid, &r);
		pr_err("tid %d: %s (code %d, addr %p) at ip 0x%llx in injected code", tid,
		       signame(sig), si->si_code, si->si_addr, (unsigned long long)r.rip);
		return -EFAULT;
	}
	if (sig == SIGSYS && si->si_code == 1 /* SYS_SECCOMP */) {
		pr_err("tid %d: the target's seccomp filter refused injected syscall %d", tid,
		       si->si_syscall);
		return -EPERM;
	}
	return 0;
}

/* Which kind of syscall stop this is (PTRACE_GET_SYSCALL_INFO's op), or 0 for none. */
#define SYSCALL_INFO_ENTRY 1
#define SYSCALL_INFO_EXIT  2
static int syscall_stop_kind(pid_t tid)
{
	unsigned char info[128];

	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(info), info) <= 0)
		return 0;
	return info[0];
}

/* Wait for tid's next stop; -ESRCH once it is gone. */
static int wait_stop(pid_t tid, int *st)
{
	pid_t w;

	do
		w = waitpid(tid, st, __WALL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno == ECHILD ? -ESRCH : -errno;
	if (WIFEXITED(*st) || WIFSIGNALED(*st))
		return -ESRCH;
	return 0;
}

/*
 * Continue tid (whose registers are already set) with PTRACE_SYSCALL until it stops at the
 * exit of a syscall with rip == done_ip, i.e. just after the syscall instruction that ends
 * our code; *out gets the registers there. No signal is involved: an int3 would raise a
 * forced SIGTRAP, and the kernel resets a forced signal's disposition to SIG_DFL (and
 * unblocks it) when the target ignores or blocks it, which would change the target.
 * Other stops on the way:
 *  - syscall stops of syscalls our code makes: continue;
 *  - PTRACE_EVENT_SECCOMP: a filter returned SECCOMP_RET_TRACE for our syscall; continuing
 *    lets it run, which is what a tracer that does not intervene means;
 *  - PTRACE_EVENT_STOP (group stop, interrupt) and other events: continue;
 *  - signal-delivery stops: the signal is taken (continue with 0) and remembered in d,
 *    except a fault raised by our own code, which ends the run with -EFAULT/-EPERM.
 */
static int run_to_exit(pid_t tid, uint64_t done_ip, arch_regs_t *out, struct deferred *d)
{
	for (;;) {
		int st, sig, err;
		siginfo_t si;

		if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL) < 0)
			return ptrace_err("PTRACE_SYSCALL", tid);
		err = wait_stop(tid, &st);
		if (err)
			return err;
		if (!WIFSTOPPED(st))
			continue;
		sig = WSTOPSIG(st);
		if ((st >> 16) & 0xff)
			continue;
		if (sig == (SIGTRAP | 0x80) || sig == SIGTRAP) {
			int kind = syscall_stop_kind(tid);

			if (kind == SYSCALL_INFO_EXIT) {
				if (get_regs(tid, out) < 0)
					return -ESRCH;
				if (regs_ip(out) == done_ip)
					return 0;
			}
			if (kind == SYSCALL_INFO_ENTRY || kind == SYSCALL_INFO_EXIT)
				continue;
		}
		if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) < 0)
			return ptrace_err("PTRACE_GETSIGINFO", tid);
		err = check_fault(tid, sig, &si);
		if (err)
			return err;
		defer_signal(d, tid, &si);
	}
}

/*
 * Bring tid from the syscall-exit stop where run_to_exit() left it into a
 * PTRACE_EVENT_STOP, the stop PTRACE_INTERRUPT gives. This matters for a thread that was
 * interrupted inside a syscall: the kernel applies the restart fix-up (-ERESTARTSYS and
 * friends: rip -= 2, rax = orig_rax) only on its way out of signal handling. From a
 * syscall-exit stop it would not run it, and the restored rax (-ERESTARTSYS) would reach
 * user space as the syscall's result. The interrupt stop happens inside get_signal(), so
 * once the original registers are back, resuming takes the same path as the original stop.
 */
static int finish_stop(pid_t tid, struct deferred *d)
{
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
		return ptrace_err("PTRACE_INTERRUPT", tid);
	for (;;) {
		int st, err;
		siginfo_t si;

		if (ptrace(PTRACE_CONT, tid, NULL, NULL) < 0)
			return ptrace_err("PTRACE_CONT", tid);
		err = wait_stop(tid, &st);
		if (err)
			return err;
		if (!WIFSTOPPED(st))
			continue;
		if (((st >> 16) & 0xff) == PTRACE_EVENT_STOP)
			return 0;
		if ((st >> 16) & 0xff)
			continue;
		/* A signal queued meanwhile is dequeued before the interrupt trap. */
		if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) == 0)
			defer_signal(d, tid, &si);
	}
}

/* Pick where to patch the bootstrap gadget: [vdso] (its bytes are never dumped as data and
 * no file page gets copied-on-write), else the first r-x mapping. */
static int collect_exec_addrs(pid_t tid, uint64_t cand[2])
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	cand[0] = cand[1] = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", tid);
	f = fopen(path, "re");
	if (!f) {
		int e = errno;

		if (e != ENOENT && e != ESRCH)
			pr_err("tid %d: cannot open %s: %s", tid, path, strerror(e));
		return e == ENOENT ? -ESRCH : -e;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3)
			continue;
		if (perms[0] != 'r' || perms[2] != 'x' || end - start < 4096)
			continue;
		if (strstr(line, "[vdso]"))
			cand[0] = start;
		else if (!cand[1] && !strstr(line, "[vsyscall]"))
			cand[1] = start;
	}
	fclose(f);
	if (!cand[0] && !cand[1]) {
		pr_err("tid %d: no executable mapping to run a syscall from", tid);
		return -ENOEXEC;
	}
	if (!cand[0]) {
		cand[0] = cand[1];
		cand[1] = 0;
	}
	n = cand[1] ? 2 : 1;
	return n;
}

static int patch_restore(struct patch *p)
{
	int i;

	if (!p->applied)
		return 0;
	for (i = 0; i < PATCH_WORDS; i++)
		if (ptrace(PTRACE_POKEDATA, p->tid, (void *)(p->addr + 8 * (uint64_t)i),
			   (void *)p->saved[i]) < 0)
			return ptrace_err("restoring code bytes", p->tid);
	p->applied = 0;
	return 0;
}

/*
 * Write "syscall; int3" (and the memfd name after it) over the first bytes of an executable
 * mapping, with PTRACE_POKEDATA: the kernel writes through a read-only mapping for ptrace
 * (FOLL_FORCE), making a private copy of that page. Saved bytes go back in patch_restore().
 */
static int patch_apply(struct patch *p, pid_t tid)
{
	uint64_t cand[2];
	int n, i, j;

	n = collect_exec_addrs(tid, cand);
	if (n < 0)
		return n;
	p->tid = tid;
	p->applied = 0;
	for (j = 0; j < n; j++) {
		unsigned char code[PATCH_WORDS * 8];

		p->addr = cand[j];
		for (i = 0; i < PATCH_WORDS; i++) {
			errno = 0;
			p->saved[i] = ptrace(PTRACE_PEEKDATA, tid, (void *)(p->addr + 8 * (uint64_t)i),
					     NULL);
			if (errno)
				break;
		}
		if (i < PATCH_WORDS) {
			if (errno == ESRCH)
				return -ESRCH;
			continue;
		}
		memcpy(code, p->saved, sizeof(code));
		memcpy(code, ARCH_SYSCALL_INSN ARCH_TRAP_INSN,
		       ARCH_SYSCALL_INSN_LEN + ARCH_TRAP_INSN_LEN);
		memcpy(code + PATCH_NAME_AT, MEMFD_NAME, sizeof(MEMFD_NAME));
		p->applied = 1;
		for (i = 0; i < PATCH_WORDS; i++) {
			long w;

			memcpy(&w, code + 8 * i, 8);
			if (ptrace(PTRACE_POKEDATA, tid, (void *)(p->addr + 8 * (uint64_t)i),
				   (void *)w) < 0)
				break;
		}
		if (i == PATCH_WORDS)
			return 0;
		if (errno == ESRCH)
			return -ESRCH;
		patch_restore(p);
	}
	pr_err("tid %d: cannot write a syscall gadget into any executable mapping", tid);
	return -EIO;
}

/* One syscall at gadget (syscall; int3) in tid, starting from registers base. */
static int do_syscall_at(pid_t tid, const arch_regs_t *base, uint64_t gadget, long nr,
			 const uint64_t args[6], long *ret, struct deferred *d)
{
	arch_regs_t r = *base, out;
	int err;

	regs_set_ip(&r, gadget);
	regs_setup_syscall(&r, nr, args);
	err = set_regs(tid, &r);
	if (err)
		return err;
	err = run_to_exit(tid, gadget + ARCH_SYSCALL_INSN_LEN, &out, d);
	if (err)
		return err;
	*ret = regs_ret(&out);
	return 0;
}

int infect_syscall(pid_t tid, long nr, const uint64_t args[6], long *ret)
{
	struct deferred d = { 0 };
	struct patch p;
	arch_regs_t orig;
	int err, err2;

	err = get_regs(tid, &orig);
	if (err)
		return err;
	err = patch_apply(&p, tid);
	if (err)
		return err;
	err = do_syscall_at(tid, &orig, p.addr, nr, args, ret, &d);
	if (err != -ESRCH) {
		err2 = finish_stop(tid, &d);
		if (!err)
			err = err2;
	}
	err2 = patch_restore(&p);
	if (!err2)
		err2 = set_regs(tid, &orig);
	requeue_signals(&d);
	return err ? err : err2;
}

/* ---- pidfd_getfd, probed once -------------------------------------------------------------- */

static int have_pidfd_getfd = -1;

static int open_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int getfd_by_proc(pid_t pid, int remote_fd, int *local_fd)
{
	static const int modes[] = { O_RDWR, O_RDONLY, O_WRONLY };
	char path[64];
	int i, fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, remote_fd);
	for (i = 0; i < 3 && fd < 0; i++)
		fd = open(path, modes[i] | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		pr_err("pid %d: cannot reopen %s: %s", pid, path, strerror(e));
		return -e;
	}
	*local_fd = fd;
	return 0;
}

static int getfd_by_pidfd(int pidfd, pid_t pid, int remote_fd, int *local_fd)
{
	int fd;

	if (have_pidfd_getfd == 0 || pidfd < 0)
		return getfd_by_proc(pid, remote_fd, local_fd);
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd, 0);
	if (fd >= 0) {
		have_pidfd_getfd = 1;
		*local_fd = fd;
		return 0;
	}
	if (errno == ENOSYS && have_pidfd_getfd < 0) {
		pr_debug("pidfd_getfd not available, using /proc/PID/fd");
		have_pidfd_getfd = 0;
		return getfd_by_proc(pid, remote_fd, local_fd);
	}
	if (errno == ESRCH)
		return -ESRCH;
	pr_err("pid %d: pidfd_getfd(%d): %s", pid, remote_fd, strerror(errno));
	return -errno;
}

int infect_getfd(pid_t pid, int remote_fd, int *local_fd)
{
	int pidfd = have_pidfd_getfd == 0 ? -1 : open_pidfd(pid);
	int err;

	if (pidfd < 0 && have_pidfd_getfd != 0 && errno == ESRCH)
		return -ESRCH;
	err = getfd_by_pidfd(pidfd, pid, remote_fd, local_fd);
	if (pidfd >= 0)
		close(pidfd);
	return err;
}

int infect_take_fd(struct infect_ctx *ctx, int remote_fd, int *local_fd)
{
	return getfd_by_pidfd(ctx->pidfd, ctx->pid, remote_fd, local_fd);
}

/* ---- start, run, cure ---------------------------------------------------------------------- */

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) & ~(pg - 1);
}

/* Remote syscall through the patched bootstrap gadget; results checked by the caller. */
static int boot_syscall(struct infect_ctx *c, const struct patch *p, long nr, uint64_t a0,
			uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, long *ret)
{
	const uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };

	return do_syscall_at(c->tid, &c->regs, p->addr, nr, args, ret, &c->def);
}

/* Create, size and map the memfd in the target; take it into the tracer. */
static int prepare_area(struct infect_ctx *c, struct patch *p, int *lfd)
{
	long rfd, r;
	int err;

	err = boot_syscall(c, p, __NR_memfd_create, p->addr + PATCH_NAME_AT,
			   MFD_CLOEXEC | MFD_EXEC, 0, 0, 0, 0, &rfd);
	if (!err && rfd == -EINVAL) /* before 6.3 MFD_EXEC is unknown */
		err = boot_syscall(c, p, __NR_memfd_create, p->addr + PATCH_NAME_AT, MFD_CLOEXEC,
				   0, 0, 0, 0, &rfd);
	if (err)
		return err;
	if (rfd < 0) {
		pr_err("pid %d: remote memfd_create: %s", c->pid, strerror((int)-rfd));
		return (int)rfd;
	}
	err = boot_syscall(c, p, __NR_ftruncate, (uint64_t)rfd, c->size, 0, 0, 0, 0, &r);
	if (!err && r < 0) {
		pr_err("pid %d: remote ftruncate of the parasite memfd: %s", c->pid,
		       strerror((int)-r));
		err = (int)r;
	}
	if (!err) {
		err = boot_syscall(c, p, __NR_mmap, 0, c->size, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_SHARED, (uint64_t)rfd, 0, &r);
		if (!err && (unsigned long)r >= (unsigned long)-4095) {
			pr_err("pid %d: remote mmap of the parasite area: %s", c->pid,
			       strerror((int)-r));
			err = (int)r;
		} else if (!err) {
			c->base = (uint64_t)r;
		}
	}
	if (!err)
		err = infect_take_fd(c, (int)rfd, lfd);
	/* The remote fd is not needed once mapped: close it now so that the fd table is the
	 * target's own for the whole infection. */
	if (err != -ESRCH) {
		int e2 = boot_syscall(c, p, __NR_close, (uint64_t)rfd, 0, 0, 0, 0, 0, &r);

		if (!err)
			err = e2;
	}
	return err;
}

static int unmap_remote(struct infect_ctx *c)
{
	struct patch p;
	long r;
	int err, err2;

	err = patch_apply(&p, c->tid);
	if (err)
		return err;
	err = boot_syscall(c, &p, __NR_munmap, c->base, c->size, 0, 0, 0, 0, &r);
	if (!err && r < 0) {
		pr_err("pid %d: remote munmap of the parasite area: %s", c->pid, strerror((int)-r));
		err = (int)r;
	}
	if (err != -ESRCH) {
		err2 = finish_stop(c->tid, &c->def);
		if (!err)
			err = err2;
	}
	err2 = patch_restore(&p);
	if (!err2)
		err2 = set_regs(c->tid, &c->regs);
	return err ? err : err2;
}

int infect_start(pid_t pid, pid_t tid, struct infect_ctx **ctxp)
{
	size_t blob_len = (size_t)(parasite_blob_end - parasite_blob);
	struct infect_ctx *c;
	struct patch p;
	int err, err2, lfd = -1;

	*ctxp = NULL;
	if (blob_len > PARASITE_SYM_parasite_blob_size) {
		pr_err("parasite blob is %zu bytes, larger than its linked size %d", blob_len,
		       PARASITE_SYM_parasite_blob_size);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->tid = tid;
	c->pidfd = -1;
	c->base = 0;
	c->blob_mem = page_round(PARASITE_SYM_parasite_blob_size);
	c->size = c->blob_mem + PARASITE_ARGS_SIZE + PARASITE_SCRATCH_SIZE + PARASITE_STACK_SIZE;
	err = get_regs(tid, &c->regs);
	if (err)
		goto fail;
	if (have_pidfd_getfd != 0) {
		c->pidfd = open_pidfd(pid);
		if (c->pidfd < 0 && errno == ESRCH) {
			err = -ESRCH;
			goto fail;
		}
	}
	err = patch_apply(&p, tid);
	if (err)
		goto fail;
	err = prepare_area(c, &p, &lfd);
	if (err && c->base && err != -ESRCH) {
		long r;

		boot_syscall(c, &p, __NR_munmap, c->base, c->size, 0, 0, 0, 0, &r);
		c->base = 0;
	}
	if (err != -ESRCH) {
		err2 = finish_stop(tid, &c->def);
		if (!err)
			err = err2;
	}
	err2 = patch_restore(&p);
	if (!err2)
		err2 = set_regs(tid, &c->regs);
	if (!err)
		err = err2;
	if (err)
		goto fail;
	c->local = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	close(lfd);
	lfd = -1;
	if (c->local == MAP_FAILED) {
		err = -errno;
		c->local = NULL;
		pr_err("pid %d: cannot map the parasite memfd in the tracer: %s", pid,
		       strerror(-err));
		unmap_remote(c);
		goto fail;
	}
	memcpy(c->local, parasite_blob, blob_len);
	infect_args(c)->magic = PARASITE_ARGS_MAGIC;
	*ctxp = c;
	pr_debug("pid %d: parasite at 0x%" PRIx64 " (%zu bytes) via tid %d", pid, c->base, c->size,
		 tid);
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	requeue_signals(&c->def);
	free(c);
	return err;
}

struct parasite_args *infect_args(struct infect_ctx *ctx)
{
	return (struct parasite_args *)(ctx->local + area_args_off(ctx));
}

void infect_area(const struct infect_ctx *ctx, raddr_t *start, uint64_t *len)
{
	start->v = ctx->base;
	*len = ctx->size;
}

void *infect_scratch(struct infect_ctx *ctx, raddr_t *remote, size_t *size)
{
	remote->v = ctx->base + area_scratch_off(ctx);
	*size = PARASITE_SCRATCH_SIZE;
	return ctx->local + area_scratch_off(ctx);
}

/* Run something in tid from its current stop and put its registers and FPU state back. */
static int run_in_thread(struct infect_ctx *c, pid_t tid, arch_regs_t *setup, uint64_t done_ip,
			 arch_regs_t *out, const arch_regs_t *orig)
{
	void *xs = NULL;
	size_t xlen = 0;
	int err, err2;

	if (c->dead)
		return -ESRCH;
	err = get_xstate(tid, &xs, &xlen);
	if (err)
		goto out;
	err = set_regs(tid, setup);
	if (!err)
		err = run_to_exit(tid, done_ip, out, &c->def);
	if (err != -ESRCH) {
		err2 = finish_stop(tid, &c->def);
		if (!err)
			err = err2;
	}
	if (err == -ESRCH)
		goto out;
	/* The parasite is plain C: the compiler may use SSE registers; put them back too. */
	err2 = set_xstate(tid, xs, xlen);
	if (!err2)
		err2 = set_regs(tid, orig);
	if (!err)
		err = err2;
out:
	free(xs);
	if (err == -ESRCH)
		c->dead = 1;
	return err;
}

int infect_run_thread(struct infect_ctx *ctx, pid_t tid, enum parasite_cmd cmd)
{
	struct parasite_args *a = infect_args(ctx);
	uint64_t stack_top = ctx->base + ctx->size;
	arch_regs_t orig, r, out;
	int err;

	if (cmd <= PARASITE_CMD_NONE || cmd >= PARASITE_CMD__COUNT) {
		pr_err("pid %d: unknown parasite command %d", ctx->pid, cmd);
		return -EINVAL;
	}
	if (ctx->dead)
		return -ESRCH;
	err = get_regs(tid, &orig);
	if (err) {
		if (err == -ESRCH)
			ctx->dead = 1;
		return err;
	}
	a->magic = PARASITE_ARGS_MAGIC;
	a->cmd = cmd;
	a->ret = -EINPROGRESS;
	r = orig;
	regs_setup_call(&r, ctx->base + PARASITE_SYM_parasite_entry, stack_top,
			ctx->base + area_args_off(ctx));
	err = run_in_thread(ctx, tid, &r, ctx->base + PARASITE_SYM_parasite_entry_done, &out,
			    &orig);
	if (err)
		return err;
	if (a->ret == -EINPROGRESS) {
		pr_err("pid %d: parasite returned without a result for command %d", ctx->pid, cmd);
		return -EPROTO;
	}
	return a->ret;
}

int infect_run(struct infect_ctx *ctx, enum parasite_cmd cmd)
{
	return infect_run_thread(ctx, ctx->tid, cmd);
}

int infect_remote_syscall(struct infect_ctx *ctx, long nr, const uint64_t args[6], long *ret)
{
	uint64_t gadget = ctx->base + PARASITE_SYM_parasite_syscall;
	arch_regs_t orig, r, out;
	int err;

	if (ctx->dead)
		return -ESRCH;
	err = get_regs(ctx->tid, &orig);
	if (err)
		return err;
	r = orig;
	regs_set_ip(&r, gadget);
	regs_setup_syscall(&r, nr, args);
	err = run_in_thread(ctx, ctx->tid, &r, ctx->base + PARASITE_SYM_parasite_syscall_done,
			    &out, &orig);
	if (!err)
		*ret = regs_ret(&out);
	return err;
}

int infect_remote_close(struct infect_ctx *ctx, int remote_fd)
{
	const uint64_t a[6] = { (uint64_t)remote_fd };
	long r;
	int err = infect_remote_syscall(ctx, __NR_close, a, &r);

	if (err)
		return err;
	if (r < 0)
		pr_err("pid %d: remote close(%d): %s", ctx->pid, remote_fd, strerror((int)-r));
	return (int)r;
}

/* Scratch layout for infect_give_fd: the remote socketpair, a msghdr, an iovec, a data byte
 * and the control buffer, all at remote addresses built locally. */
struct give_fd_scratch {
	int sv[2];
	struct msghdr msg;
	struct iovec iov;
	char byte;
	char pad[7];
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
};

static int send_fd(int sock, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	char byte = 'F';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *h;

	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	h = CMSG_FIRSTHDR(&msg);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
		pr_err("cannot send fd %d to the target: %s", fd, strerror(errno));
		return -errno;
	}
	return 0;
}

int infect_give_fd(struct infect_ctx *ctx, int local_fd, int *remote_fd)
{
	raddr_t rs;
	size_t ss;
	struct give_fd_scratch *s = infect_scratch(ctx, &rs, &ss);
	uint64_t rbase = rs.v;
	uint64_t a[6] = { AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0, 0 };
	int err, lsock = -1, got = -1;
	long r;

	memset(s, 0, sizeof(*s));
	a[3] = rbase + offsetof(struct give_fd_scratch, sv);
	err = infect_remote_syscall(ctx, __NR_socketpair, a, &r);
	if (err)
		return err;
	if (r < 0) {
		pr_err("pid %d: remote socketpair: %s", ctx->pid, strerror((int)-r));
		return (int)r;
	}
	err = infect_take_fd(ctx, s->sv[0], &lsock);
	if (!err)
		err = send_fd(lsock, local_fd);
	if (!err) {
		/* The msghdr as the target will read it: every pointer is a remote address. */
		s->iov.iov_base = (void *)(rbase + offsetof(struct give_fd_scratch, byte));
		s->iov.iov_len = 1;
		s->msg.msg_iov = (struct iovec *)(rbase + offsetof(struct give_fd_scratch, iov));
		s->msg.msg_iovlen = 1;
		s->msg.msg_control = (void *)(rbase + offsetof(struct give_fd_scratch, cmsg));
		s->msg.msg_controllen = sizeof(s->cmsg.buf);
		a[0] = (uint64_t)s->sv[1];
		a[1] = rbase + offsetof(struct give_fd_scratch, msg);
		a[2] = MSG_CMSG_CLOEXEC | MSG_DONTWAIT;
		err = infect_remote_syscall(ctx, __NR_recvmsg, a, &r);
		if (!err && r < 0) {
			pr_err("pid %d: remote recvmsg of a passed fd: %s", ctx->pid,
			       strerror((int)-r));
			err = (int)r;
		}
	}
	if (!err) {
		/* The target wrote the cmsg into the scratch area; read it through our view,
		 * translating its msg_control pointer back to the local copy. */
		struct cmsghdr *h = &s->cmsg.hdr;

		if (s->msg.msg_controllen >= CMSG_LEN(sizeof(int)) && h->cmsg_level == SOL_SOCKET &&
		    h->cmsg_type == SCM_RIGHTS)
			memcpy(&got, CMSG_DATA(h), sizeof(int));
		if (got < 0) {
			pr_err("pid %d: passed fd did not arrive in the target", ctx->pid);
			err = -EPROTO;
		}
	}
	if (lsock >= 0)
		close(lsock);
	if (err != -ESRCH) {
		int e1 = infect_remote_close(ctx, s->sv[0]);
		int e2 = infect_remote_close(ctx, s->sv[1]);

		if (!err)
			err = e1 ? e1 : e2;
		if (err && got >= 0 && err != -ESRCH)
			infect_remote_close(ctx, got);
	}
	if (!err)
		*remote_fd = got;
	return err;
}

int infect_cure(struct infect_ctx *ctx)
{
	int err = 0;

	if (!ctx)
		return 0;
	if (!ctx->dead) {
		err = unmap_remote(ctx);
		if (err == -ESRCH)
			ctx->dead = 1;
	} else {
		err = -ESRCH;
	}
	if (!ctx->dead)
		requeue_signals(&ctx->def);
	if (ctx->local)
		munmap(ctx->local, ctx->size);
	if (ctx->pidfd >= 0)
		close(ctx->pidfd);
	free(ctx);
	return err;
}
