/*
 * Infection library: remote syscalls in a stopped thread, the shared memfd area, the parasite
 * blob, its commands, fd transfer and cure. See infect.h for the contract and
 * docs/infection.md for the mechanism and the kernel behaviour it relies on.
 */
#include "infect.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "build/gen/parasite-syms.h"
#include "log.h"
#include "infect_int.h"
#include "procfs.h"
#include "regs.h"

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: say we want exec so vm.memfd_noexec=1 does not refuse */
#endif

/* The blob, embedded by the Makefile (build/gen/parasite-embed.S). */
extern const unsigned char parasite_blob[];
extern const unsigned char parasite_blob_end[];

#define MEMFD_NAME    "dmtcp-parasite"
#define PATCH_WORDS   4 /* syscall; int3; pad | memfd name (24 bytes) */
#define PATCH_NAME_AT 8

/* Bytes of the target's code overwritten by the bootstrap gadget. */
struct patch {
	pid_t tid;
	raddr_t addr;
	long saved[PATCH_WORDS];
	int applied;
};

static const char *parasite_cmd_name(enum parasite_cmd cmd)
{
	static const char *const names[PARASITE_CMD__COUNT] = {
		[PARASITE_CMD_NONE] = "PARASITE_CMD_NONE",
		[PARASITE_DUMP_PAGES] = "PARASITE_DUMP_PAGES",
		[PARASITE_GET_SIGACTIONS] = "PARASITE_GET_SIGACTIONS",
		[PARASITE_GET_ITIMERS] = "PARASITE_GET_ITIMERS",
		[PARASITE_GET_POSIX_TIMERS] = "PARASITE_GET_POSIX_TIMERS",
		[PARASITE_GET_THREAD_STATE] = "PARASITE_GET_THREAD_STATE",
		[PARASITE_GET_MISC] = "PARASITE_GET_MISC",
	};

	return (unsigned)cmd < PARASITE_CMD__COUNT && names[cmd] ? names[cmd] : "PARASITE_?";
}

/* Offsets inside the area (see parasite-cmd.h). */
static size_t area_args_off(const struct infect_ctx *c)
{
	return c->blob_mem;
}
static size_t area_scratch_off(const struct infect_ctx *c)
{
	return c->blob_mem + PARASITE_ARGS_SIZE;
}

struct exec_addrs {
	raddr_t vdso, first;
};

static int note_exec_map(const struct procfs_map *m, void *arg)
{
	struct exec_addrs *a = arg;

	if (m->perms[0] != 'r' || m->perms[2] != 'x' || m->end - m->start < 4096)
		return 0;
	if (!strcmp(m->path, "[vdso]"))
		a->vdso = raddr(m->start);
	else if (raddr_is_null(a->first) && strcmp(m->path, "[vsyscall]"))
		a->first = raddr(m->start);
	return 0;
}

/* Pick where to patch the bootstrap gadget: [vdso] (its bytes are never dumped as data and
 * no file page gets copied-on-write), else the first r-x mapping. Returns how many of cand[]
 * are set, best first. */
static int find_exec_addrs(pid_t tid, raddr_t cand[2])
{
	struct exec_addrs a = { raddr(0), raddr(0) };
	int err;

	cand[0] = cand[1] = raddr(0);
	err = procfs_each_map(tid, note_exec_map, &a);
	if (err) {
		if (err != -ESRCH)
			pr_err("tid %d: cannot read /proc/%d/maps: %s", tid, tid, strerror(-err));
		return err;
	}
	if (raddr_is_null(a.vdso) && raddr_is_null(a.first)) {
		pr_err("tid %d: no executable mapping to run a syscall from", tid);
		return -ENOEXEC;
	}
	cand[0] = raddr_is_null(a.vdso) ? a.first : a.vdso;
	cand[1] = raddr_is_null(a.vdso) ? raddr(0) : a.first;
	return raddr_is_null(cand[1]) ? 1 : 2;
}

/* Word i of the patched bytes, as the address PTRACE_PEEKDATA/POKEDATA take. */
static void *patch_word(const struct patch *p, int i)
{
	return (void *)(uintptr_t)raddr_add(p->addr, 8 * (uint64_t)i).v;
}

static int patch_restore(struct patch *p)
{
	int i;

	if (!p->applied)
		return 0;
	for (i = 0; i < PATCH_WORDS; i++)
		if (ptrace(PTRACE_POKEDATA, p->tid, patch_word(p, i), (void *)p->saved[i]) < 0)
			return infect_ptrace_err("restoring code bytes", p->tid);
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
	raddr_t cand[2];
	int n, i, j;

	n = find_exec_addrs(tid, cand);
	if (n < 0)
		return n;
	p->tid = tid;
	p->applied = 0;
	for (j = 0; j < n; j++) {
		unsigned char code[PATCH_WORDS * 8];

		p->addr = cand[j];
		for (i = 0; i < PATCH_WORDS; i++) {
			errno = 0;
			p->saved[i] = ptrace(PTRACE_PEEKDATA, tid, patch_word(p, i), NULL);
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
			if (ptrace(PTRACE_POKEDATA, tid, patch_word(p, i), (void *)w) < 0)
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
static int do_syscall_at(pid_t tid, const arch_regs_t *base, raddr_t gadget, long nr,
			 const uint64_t args[6], long *ret, struct deferred *d)
{
	arch_regs_t r = *base, out;
	int err;

	regs_set_ip(&r, gadget.v);
	regs_setup_syscall(&r, nr, args);
	err = infect_set_regs(tid, &r);
	if (err)
		return err;
	err = infect_run_to_exit(tid, raddr_add(gadget, ARCH_SYSCALL_INSN_LEN), &out, d);
	if (err)
		return err;
	*ret = regs_ret(&out);
	return 0;
}

int infect_syscall(pid_t tid, long nr, const uint64_t args[6], long *ret)
{
	struct deferred d = {0};
	struct patch p;
	arch_regs_t orig;
	int err, err2;

	err = infect_get_regs(tid, &orig);
	if (err)
		return err;
	err = patch_apply(&p, tid);
	if (err)
		return err;
	err = do_syscall_at(tid, &orig, p.addr, nr, args, ret, &d);
	if (err != -ESRCH) {
		err2 = infect_finish_stop(tid, &d);
		if (!err)
			err = err2;
	}
	err2 = patch_restore(&p);
	if (!err2)
		err2 = infect_set_regs(tid, &orig);
	infect_requeue_signals(&d);
	return err ? err : err2;
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
	const uint64_t args[6] = {a0, a1, a2, a3, a4, a5};

	return do_syscall_at(c->tid, &c->regs, p->addr, nr, args, ret, &c->def);
}

/* Create, size and map the memfd in the target; take it into the tracer. */
static int create_area(struct infect_ctx *c, struct patch *p, int *lfd)
{
	uint64_t name = raddr_add(p->addr, PATCH_NAME_AT).v;
	long rfd, r;
	int err;

	err = boot_syscall(c, p, __NR_memfd_create, name, MFD_CLOEXEC | MFD_EXEC, 0, 0, 0, 0, &rfd);
	if (!err && rfd == -EINVAL) /* before 6.3 MFD_EXEC is unknown */
		err = boot_syscall(c, p, __NR_memfd_create, name, MFD_CLOEXEC, 0, 0, 0, 0, &rfd);
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
			c->base = raddr((uint64_t)r);
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
	err = boot_syscall(c, &p, __NR_munmap, c->base.v, c->size, 0, 0, 0, 0, &r);
	if (!err && r < 0) {
		pr_err("pid %d: remote munmap of the parasite area: %s", c->pid, strerror((int)-r));
		err = (int)r;
	}
	if (err != -ESRCH) {
		err2 = infect_finish_stop(c->tid, &c->def);
		if (!err)
			err = err2;
	}
	err2 = patch_restore(&p);
	if (!err2)
		err2 = infect_set_regs(c->tid, &c->regs);
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
	c->base = raddr(0);
	c->blob_mem = page_round(PARASITE_SYM_parasite_blob_size);
	c->size = c->blob_mem + PARASITE_ARGS_SIZE + PARASITE_SCRATCH_SIZE + PARASITE_STACK_SIZE;
	err = infect_get_regs(tid, &c->regs);
	if (err)
		goto fail;
	/* Without pidfds (before 5.3) the fd helpers fall back to /proc/PID/fd. */
	c->pidfd = infect_open_pidfd(pid);
	if (c->pidfd < 0 && errno == ESRCH) {
		err = -ESRCH;
		goto fail;
	}
	err = patch_apply(&p, tid);
	if (err)
		goto fail;
	err = create_area(c, &p, &lfd);
	if (err && !raddr_is_null(c->base) && err != -ESRCH) {
		long r;

		boot_syscall(c, &p, __NR_munmap, c->base.v, c->size, 0, 0, 0, 0, &r);
		c->base = raddr(0);
	}
	if (err != -ESRCH) {
		err2 = infect_finish_stop(tid, &c->def);
		if (!err)
			err = err2;
	}
	err2 = patch_restore(&p);
	if (!err2)
		err2 = infect_set_regs(tid, &c->regs);
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
	pr_debug("pid %d: parasite at 0x%" PRIx64 " (%zu bytes) via tid %d", pid, c->base.v,
		 c->size, tid);
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	infect_requeue_signals(&c->def);
	free(c);
	return err;
}

struct parasite_args *infect_args(struct infect_ctx *ctx)
{
	return (struct parasite_args *)(ctx->local + area_args_off(ctx));
}

void infect_area(const struct infect_ctx *ctx, raddr_t *start, uint64_t *len)
{
	*start = ctx->base;
	*len = ctx->size;
}

void *infect_scratch(struct infect_ctx *ctx, raddr_t *remote, size_t *size)
{
	*remote = raddr_add(ctx->base, area_scratch_off(ctx));
	*size = PARASITE_SCRATCH_SIZE;
	return ctx->local + area_scratch_off(ctx);
}

/* Run something in tid from its current stop and put its registers and FPU state back. */
static int run_in_thread(struct infect_ctx *c, pid_t tid, arch_regs_t *setup, raddr_t done_ip,
			 arch_regs_t *out, const arch_regs_t *orig)
{
	void *xs = NULL;
	size_t xlen = 0;
	int err, err2;

	if (c->dead)
		return -ESRCH;
	err = infect_get_xstate(tid, &xs, &xlen);
	if (err)
		goto out;
	err = infect_set_regs(tid, setup);
	if (!err)
		err = infect_run_to_exit(tid, done_ip, out, &c->def);
	if (err != -ESRCH) {
		err2 = infect_finish_stop(tid, &c->def);
		if (!err)
			err = err2;
	}
	if (err == -ESRCH)
		goto out;
	/* The parasite is plain C: the compiler may use SSE registers; put them back too. */
	err2 = infect_set_xstate(tid, xs, xlen);
	if (!err2)
		err2 = infect_set_regs(tid, orig);
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
	raddr_t entry = raddr_add(ctx->base, PARASITE_SYM_parasite_entry);
	raddr_t done = raddr_add(ctx->base, PARASITE_SYM_parasite_entry_done);
	raddr_t args = raddr_add(ctx->base, area_args_off(ctx));
	raddr_t stack_top = raddr_add(ctx->base, ctx->size);
	arch_regs_t orig, r, out;
	int err;

	if (cmd <= PARASITE_CMD_NONE || cmd >= PARASITE_CMD__COUNT) {
		pr_err("pid %d: unknown parasite command %d", ctx->pid, (int)cmd);
		return -EINVAL;
	}
	if (ctx->dead)
		return -ESRCH;
	err = infect_get_regs(tid, &orig);
	if (err) {
		if (err == -ESRCH)
			ctx->dead = 1;
		return err;
	}
	a->magic = PARASITE_ARGS_MAGIC;
	a->cmd = cmd;
	a->ret = -EINPROGRESS;
	r = orig;
	regs_setup_call(&r, entry.v, stack_top.v, args.v);
	err = run_in_thread(ctx, tid, &r, done, &out, &orig);
	if (err)
		return err;
	if (a->ret == -EINPROGRESS) {
		pr_err("pid %d: parasite returned without a result for %s", ctx->pid,
		       parasite_cmd_name(cmd));
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
	raddr_t gadget = raddr_add(ctx->base, PARASITE_SYM_parasite_syscall);
	raddr_t done = raddr_add(ctx->base, PARASITE_SYM_parasite_syscall_done);
	arch_regs_t orig, r, out;
	int err;

	if (ctx->dead)
		return -ESRCH;
	err = infect_get_regs(ctx->tid, &orig);
	if (err)
		return err;
	r = orig;
	regs_set_ip(&r, gadget.v);
	regs_setup_syscall(&r, nr, args);
	err = run_in_thread(ctx, ctx->tid, &r, done, &out, &orig);
	if (!err)
		*ret = regs_ret(&out);
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
		infect_requeue_signals(&ctx->def);
	if (ctx->local)
		munmap(ctx->local, ctx->size);
	if (ctx->pidfd >= 0)
		close(ctx->pidfd);
	free(ctx);
	return err;
}
