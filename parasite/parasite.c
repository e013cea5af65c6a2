/*
 * The parasite: freestanding code that the tracer loads into a stopped process (through
 * tracer/infect.c) to read state only the process itself can read, and to write its memory
 * straight to an image file.
 *
 * It is one command dispatcher. The tracer puts a command in the shared struct parasite_args
 * (parasite/parasite-cmd.h), sets rip = parasite_entry, rsp = top of the area's stack,
 * rdi = &args, and continues the thread; the command runs, stores args->ret, and the entry
 * stub makes one last syscall whose exit stop at parasite_entry_done tells the tracer it is
 * done.
 *
 * No libc, no errno, no globals that need relocation: only nolibc/ (sys.h, crc32c.h).
 */
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/prctl.h>
#include <stddef.h>
#include <stdint.h>

#include "crc32c.h"
#include "parasite-cmd.h"
#include "sys.h"

/*
 * The entry stub comes first in the blob (section .text.entry, placed first by
 * parasite.lds). The tracer sets rsp 16-byte aligned; the call pushes the return address as
 * the ABI expects. The command ends with a getpid syscall: the tracer runs the parasite with
 * PTRACE_SYSCALL and takes the syscall-exit stop whose rip is parasite_entry_done as "done"
 * (no int3: a forced SIGTRAP could change the target's SIGTRAP disposition and mask). The
 * tracer never continues past that point; int3 and ud2 make a bug there loud.
 *
 * parasite_syscall is a "syscall" gadget that infect_*() uses for remote syscalls once the
 * blob is loaded, so that it does not have to patch the target's own code again.
 */
#define PARASITE_STR2(x) #x
#define PARASITE_STR(x)	 PARASITE_STR2(x)
/* clang-format off */
__asm__(".section .text.entry,\"ax\",@progbits\n"
	".globl parasite_entry\n"
	".type parasite_entry,@function\n"
	"parasite_entry:\n"
	"	andq $-16, %rsp\n"
	"	call parasite_dispatch\n"
	"	movl $" PARASITE_STR(__NR_getpid) ", %eax\n"
	"	syscall\n"
	".globl parasite_entry_done\n"
	"parasite_entry_done:\n"
	"	int3\n"
	"	ud2\n"
	".globl parasite_syscall\n"
	".type parasite_syscall,@function\n"
	"parasite_syscall:\n"
	"	syscall\n"
	".globl parasite_syscall_done\n"
	"parasite_syscall_done:\n"
	"	int3\n"
	"	ud2\n"
	".previous\n");
/* clang-format on */

void parasite_dispatch(struct parasite_args *a);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/*
 * The compiler may emit calls to memset/memcpy for struct copies and zeroing even with
 * -fno-builtin; define them here so the blob has no undefined symbols. The optimize attribute
 * keeps gcc from recognising the loops and turning them back into calls to themselves.
 */
__attribute__((used, optimize("no-tree-loop-distribute-patterns"))) void *memset(void *d, int c,
										 size_t n)
{
	return nl_memset(d, c, n);
}

__attribute__((used, optimize("no-tree-loop-distribute-patterns"))) void *
memcpy(void *d, const void *s, size_t n)
{
	return nl_memcpy(d, s, n);
}

/* The kernel's limit on iovecs per call (UIO_MAXIOV). */
#define DUMP_IOV_MAX 1024

/* One vectored write of up to DUMP_IOV_MAX runs; parasite_page_run has struct iovec's layout
 * (base, len), so the run list is passed to the kernel as it is. */
static long dump_vec(const struct parasite_dump_pages_args *d, const struct parasite_page_run *iov,
		     uint32_t cnt, uint64_t file_off)
{
	switch (d->mode) {
	case PARASITE_DUMP_PWRITE:
		return sys_pwritev(d->fd, iov, cnt, (long)file_off);
	case PARASITE_DUMP_WRITE:
		return sys_writev(d->fd, iov, cnt);
	default:
		return sys_vmsplice(d->fd, iov, cnt, d->vmsplice_flags);
	}
}

static long dump_pages_crc(struct parasite_dump_pages_args *d);

/*
 * Write the runs back to back: PWRITE at file_off onwards, WRITE and VMSPLICE in sequence.
 * Batched in vectors so that a dump of many small runs costs few syscalls (each one is two
 * ptrace stops for the tracer). A short write continues from where it stopped; a run cut in
 * the middle is finished on its own before batching resumes.
 */
static long dump_pages(struct parasite_dump_pages_args *d)
{
	uint64_t file_off = d->file_off, in_run = 0;
	uint32_t i = 0;

	d->bytes_done = 0;
	d->runs_done = 0;
	d->nr_crcs = 0;
	if (d->nr_runs > PARASITE_MAX_RUNS)
		return -EINVAL;
	if (d->flags & ~PARASITE_DUMP_F_CRC32C)
		return -EINVAL;
	if (d->flags & PARASITE_DUMP_F_CRC32C)
		return dump_pages_crc(d);
	if (d->mode != PARASITE_DUMP_PWRITE && d->mode != PARASITE_DUMP_WRITE &&
	    d->mode != PARASITE_DUMP_VMSPLICE)
		return -EINVAL;
	while (i < d->nr_runs) {
		struct parasite_page_run rest;
		const struct parasite_page_run *iov = &d->runs[i];
		uint32_t cnt = d->nr_runs - i;
		long r;

		if (d->runs[i].len == 0) { /* nothing to write, and a 0 return means stuck */
			d->runs_done = ++i;
			continue;
		}
		if (cnt > DUMP_IOV_MAX)
			cnt = DUMP_IOV_MAX;
		if (in_run) {
			rest.addr = d->runs[i].addr + in_run;
			rest.len = d->runs[i].len - in_run;
			iov = &rest;
			cnt = 1;
		}
		r = dump_vec(d, iov, cnt, file_off);
		if (r < 0)
			return r;
		if (r == 0)
			return -EIO; /* no progress: would loop forever */
		d->bytes_done += (uint64_t)r;
		file_off += (uint64_t)r;
		while (r > 0) {
			uint64_t left = d->runs[i].len - in_run;

			if ((uint64_t)r < left) {
				in_run += (uint64_t)r;
				break;
			}
			r -= (long)left;
			in_run = 0;
			d->runs_done = ++i;
		}
	}
	return 0;
}

/* ---- CRC-32C of the page stream (PARASITE_DUMP_F_CRC32C) ------------------------------ */

/* Bytes per stream of the three-way crc32 loop: large enough that joining the streams (two
 * multiplications per block: the blob has no room for the container's tables) costs a few
 * percent of the crc32 work. */
#define CRC_LANE (16u * 1024)

/* crc extended over p[0..len) (nolibc/crc32c.h, the container's own code); lane_op is
 * nl_crc32c_x8n(CRC_LANE). The caller checked that the CPU has the crc32 instruction. */
static uint32_t crc_update(const uint32_t *lane_op, uint32_t crc, const uint8_t *p, uint64_t len)
{
	return ~nl_crc32c_hw_update(~crc, p, len, CRC_LANE, nl_crc32c_join_mul, lane_op);
}

/* pwritev of iov[0..cnt) at *file_off until all of it is written; iov is consumed. */
static long dump_write_all(struct parasite_dump_pages_args *d, struct parasite_page_run *iov,
			   uint32_t cnt, uint64_t *file_off)
{
	while (cnt) {
		long r = sys_pwritev(d->fd, iov, cnt, (long)*file_off);

		if (r < 0)
			return r;
		if (r == 0)
			return -EIO; /* no progress: would loop forever */
		d->bytes_done += (uint64_t)r;
		*file_off += (uint64_t)r;
		while (cnt && (uint64_t)r >= iov->len) {
			r -= (long)iov->len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->addr += (uint64_t)r;
			iov->len -= (uint64_t)r;
		}
	}
	return 0;
}

/*
 * Bytes checksummed before they are written with one pwritev. Every syscall of the parasite is
 * two ptrace stops, and on a busy machine each stop can wait for the tracer to be scheduled,
 * so few large writes beat many small ones; yet the group should still be in the cache when
 * the kernel copies it.
 */
#define CRC_GROUP (2u << 20)

/*
 * PWRITE with a checksum per chunk: a group of chunks is checksummed, then written at once,
 * so its bytes come from memory once (the crc32 pass) and mostly from cache for the kernel's
 * copy. runs_done counts runs whose bytes are all written, nr_crcs the chunks.
 */
static long dump_pages_crc(struct parasite_dump_pages_args *d)
{
	struct parasite_page_run iov[DUMP_IOV_MAX];
	uint32_t lane_op = nl_crc32c_x8n(CRC_LANE);
	uint64_t file_off = d->file_off, in_run = 0, total = 0, group = 0;
	uint32_t i = 0, n = 0, k = 0;
	long r;

	if (d->mode != PARASITE_DUMP_PWRITE || !d->crc_chunk || d->crc_chunk % 8)
		return -EINVAL;
	for (uint32_t j = 0; j < d->nr_runs; j++)
		total += d->runs[j].len;
	if (total > (uint64_t)PARASITE_MAX_CRCS * d->crc_chunk)
		return -E2BIG;

	while (i < d->nr_runs) {
		uint64_t need = d->crc_chunk;
		uint32_t crc = 0;

		while (need && i < d->nr_runs) {
			uint64_t take = d->runs[i].len - in_run;

			if (take > need)
				take = need;
			if (take) {
				iov[n].addr = d->runs[i].addr + in_run;
				iov[n].len = take;
				crc = crc_update(&lane_op, crc,
						 (const uint8_t *)(uintptr_t)iov[n].addr, take);
				group += take;
				if (++n == DUMP_IOV_MAX) {
					r = dump_write_all(d, iov, n, &file_off);
					if (r)
						return r;
					n = 0;
					group = 0;
					d->nr_crcs = k;
				}
			}
			in_run += take;
			need -= take;
			if (in_run == d->runs[i].len) {
				i++;
				in_run = 0;
			}
		}
		if (need == d->crc_chunk)
			break; /* only empty runs were left */
		d->crcs[k++] = crc;
		if (group >= CRC_GROUP || i == d->nr_runs) {
			r = dump_write_all(d, iov, n, &file_off);
			if (r)
				return r;
			n = 0;
			group = 0;
			d->nr_crcs = k;
			d->runs_done = i;
		}
	}
	r = dump_write_all(d, iov, n, &file_off);
	if (r)
		return r;
	d->nr_crcs = k;
	d->runs_done = d->nr_runs;
	return 0;
}

static long get_sigactions(struct parasite_sigactions_args *s)
{
	int sig;

	for (sig = 1; sig <= PARASITE_NSIG; sig++) {
		s->err[sig - 1] = (int32_t)sys_rt_sigaction(sig, NULL, &s->act[sig - 1], 8);
	}
	return 0;
}

static long get_itimers(struct parasite_itimers_args *t)
{
	int which;

	for (which = 0; which < 3; which++)
		t->err[which] = (int32_t)sys_getitimer(which, &t->it[which]);
	return 0;
}

static long get_posix_timers(struct parasite_posix_timers_args *t)
{
	uint32_t i;

	if (t->nr > PARASITE_MAX_TIMERS)
		return -EINVAL;
	for (i = 0; i < t->nr; i++) {
		struct parasite_posix_timer *p = &t->t[i];
		long r;

		/* struct itimerspec is { interval, value }, each { sec, nsec }: our field order. */
		r = sys_timer_gettime(p->id, &p->interval_sec);
		p->err = (int32_t)r;
		p->overrun = r < 0 ? (int32_t)r : (int32_t)sys_timer_getoverrun(p->id);
	}
	return 0;
}

static long get_thread_state(struct parasite_thread_state_args *t)
{
	struct {
		uint64_t sp;
		int32_t flags;
		int32_t pad;
		uint64_t size;
	} ss;
	uint64_t mask = 0;
	long r;

	t->tid = (int32_t)sys_gettid();
	r = sys_sigaltstack(NULL, &ss);
	t->err_altstack = (int32_t)r;
	if (r == 0) {
		t->ss_sp = ss.sp;
		t->ss_flags = ss.flags;
		t->ss_size = ss.size;
	}
	t->err_tid_addr = (int32_t)sys_prctl(PR_GET_TID_ADDRESS, (long)&t->clear_tid_addr, 0, 0, 0);
	/* how is ignored when set is NULL; SIG_BLOCK (0) keeps it a valid value anyway. */
	r = sys_rt_sigprocmask(0, NULL, &mask, 8);
	t->err_sigmask = (int32_t)r;
	t->sigmask = mask;
	return 0;
}

static long get_misc(struct parasite_misc_args *m)
{
	long old;

	m->pid = (int32_t)sys_getpid();
	m->tid = (int32_t)sys_gettid();
	m->ppid = (int32_t)sys_getppid();
	/* umask cannot be read without setting it: set 0, read the old value, put it back. */
	old = sys_umask(0);
	sys_umask((int)old);
	m->umask = (int32_t)old;
	m->personality = sys_personality(0xffffffffUL);
	m->dumpable = (int32_t)sys_prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	m->pdeathsig = 0;
	old = sys_prctl(PR_GET_PDEATHSIG, (long)&m->pdeathsig, 0, 0, 0);
	if (old < 0)
		m->pdeathsig = (int32_t)old;
	m->child_subreaper = 0;
	old = sys_prctl(PR_GET_CHILD_SUBREAPER, (long)&m->child_subreaper, 0, 0, 0);
	if (old < 0)
		m->child_subreaper = (int32_t)old;
	m->no_new_privs = (int32_t)sys_prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	nl_memset(m->name, 0, sizeof(m->name));
	m->err_name = (int32_t)sys_prctl(PR_GET_NAME, (long)m->name, 0, 0, 0);
	m->name[15] = 0;
	return 0;
}

__attribute__((used)) void parasite_dispatch(struct parasite_args *a)
{
	long r;

	if (a->magic != PARASITE_ARGS_MAGIC) {
		a->ret = -EINVAL; /* not our args block */
		return;
	}
	switch (a->cmd) {
	case PARASITE_DUMP_PAGES:
		r = dump_pages(&a->u.dump);
		break;
	case PARASITE_GET_SIGACTIONS:
		r = get_sigactions(&a->u.sigacts);
		break;
	case PARASITE_GET_ITIMERS:
		r = get_itimers(&a->u.itimers);
		break;
	case PARASITE_GET_POSIX_TIMERS:
		r = get_posix_timers(&a->u.timers);
		break;
	case PARASITE_GET_THREAD_STATE:
		r = get_thread_state(&a->u.thread);
		break;
	case PARASITE_GET_MISC:
		r = get_misc(&a->u.misc);
		break;
	default:
		r = -ENOSYS; /* unknown command */
		break;
	}
	a->ret = (int32_t)r;
}
