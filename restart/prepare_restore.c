/*
 * Libc side of the restorer: collect a description of one saved process (regions with their
 * data source, threads with their saved state), stage memory clear of every saved region,
 * build the restore area (blob + plan + sigframes + stacks) and jump into the blob.
 * See prepare_restore.h for the calling sequence and docs/restorer.md for the design.
 *
 * Everything that can fail is checked before the jump: after it nothing of the calling
 * process survives (the blob unmaps it), so prepare_restore() either returns -errno with the
 * caller intact or never returns.
 */
#include "restart/prepare_restore.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/x86_64/sigframe.h"
#include "build/gen/restorer-syms.h"
#include "ckpt_state.h"
#include "log.h"
#include "procfs.h"
#include "restart/prepare_restore_int.h"
#include "restart/vdso.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* The blob, embedded by the Makefile (build/gen/restorer-embed.S). */
extern const char restorer_blob[], restorer_blob_end[];

/* glibc's rseq registration of this thread (2.35+); weak so that other libcs link. */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

_Static_assert(sizeof(struct x86_regs) == sizeof(struct user_regs_struct),
	       "x86_regs must mirror user_regs_struct");

static int report_area(int fd, const struct restore_plan *p)
{
	char line[80];
	int n = snprintf(line, sizeof(line), "restorer-area %#llx %#llx\n",
			 (unsigned long long)p->area_start, (unsigned long long)p->area_end);

	if (write(fd, line, (size_t)n) != n) {
		pr_err("restore: cannot report the restore area on fd %d: %s", fd,
		       strerror(errno));
		return -EIO;
	}
	return 0;
}

/* ---- the area ------------------------------------------------------------------------- */

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/*
 * A memfd named CKPT_RESTORE_AREA_NAME of len bytes to map the area from (see ckpt_state.h:
 * the next checkpoint leaves the area out), or -1: the area is then anonymous, and only saved
 * along with the program. The blob runs from it, so it must allow exec: MFD_EXEC says so
 * where vm.memfd_noexec would refuse it (and is unknown before Linux 6.3, where nothing
 * refuses it).
 */
static int area_memfd(size_t len)
{
	int fd = memfd_create(CKPT_RESTORE_AREA_NAME, MFD_CLOEXEC | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(CKPT_RESTORE_AREA_NAME, MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static size_t cpu_xstate_size(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d))
		return 0;
	return b;
}

static uint64_t cpu_xcr0(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0x3; /* x87 + SSE */
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static int count_close_fds(struct restore_req *req, int32_t *fds)
{
	int n = 0;

	for (size_t i = 0; i < req->nr_vmas; i++) {
		int fd = req->vmas[i].d.fd, dup = 0;

		if (req->vmas[i].d.src != RESTORE_SRC_FILE || !req->vmas[i].d.close_fd)
			continue;
		for (int j = 0; j < n && fds; j++)
			dup |= fds[j] == fd;
		if (dup)
			continue;
		if (fds)
			fds[n] = fd;
		n++;
	}
	if (req->exe_fd >= 0) {
		if (fds)
			fds[n] = req->exe_fd;
		n++;
	}
	return n;
}

static int plan_layout(struct restore_req *req, struct area_layout *L, const struct vdso_choice *vc)
{
	size_t off, nmaps;
	int ret;

	memset(L, 0, sizeof(*L));
	ret = count_self_maps(&nmaps);
	if (ret)
		return ret;
	/* room for what may appear before the final read, and for splits around kept ranges */
	L->max_unmap = 2 * nmaps + 64 + req->nr_stages;
	for (size_t i = 0; i < req->nr_vmas; i++)
		L->nr_runs += req->vmas[i].d.nr_runs;
	L->nr_fds = (size_t)count_close_fds(req, NULL);

	L->blob_off = 0;
	L->blob_len = PAGE_UP((size_t)(restorer_blob_end - restorer_blob));
	off = L->plan_off = L->blob_len;
	off += sizeof(struct restore_plan);
	L->unmap_off = off = ALIGN64(off);
	off += L->max_unmap * sizeof(struct rp_range);
	L->vmas_off = off = ALIGN64(off);
	off += req->nr_vmas * sizeof(struct rp_vma);
	L->runs_off = off = ALIGN64(off);
	off += L->nr_runs * sizeof(struct rp_run);
	L->threads_off = off = ALIGN64(off);
	off += req->nr_threads * sizeof(struct rp_thread);
	L->fds_off = off = ALIGN64(off);
	off += L->nr_fds * sizeof(int32_t);
	L->plan_size = off - L->plan_off;
	L->frames_off = off = ALIGN64(off);
	L->frame_off = calloc(req->nr_threads, sizeof(size_t));
	if (!L->frame_off)
		return -ENOMEM;
	for (size_t i = 0; i < req->nr_threads; i++) {
		L->frame_off[i] = off;
		off = ALIGN64(off + sigframe_room(req->threads[i].d.xsave ?
						  req->threads[i].d.xsave_len : 0));
	}
	off = PAGE_UP(off);
	L->block_len = vc->have_cur ? vc->cur.end - vc->cur.start : 0;
	L->scratch_off = off;
	off += L->block_len;
	L->home_off = off;
	if (vc->relocate)
		off += L->block_len;
	off += GUARD;
	L->stacks_off = off;
	off += RP_MAIN_STACK + (req->nr_threads - 1) * RP_THREAD_STACK;
	L->total = PAGE_UP(off);
	return 0;
}

static void fill_vmas(struct restore_req *req, struct restore_plan *p)
{
	struct rp_vma *pv = RP_ARRAY(p, struct rp_vma, p->vmas_off);
	struct rp_run *pr = RP_ARRAY(p, struct rp_run, p->runs_off);
	uint32_t nr = 0;

	for (size_t i = 0; i < req->nr_vmas; i++) {
		const struct restore_vma_desc *d = &req->vmas[i].d;

		memset(&pv[i], 0, sizeof(pv[i]));
		pv[i].start = d->start;
		pv[i].end = d->end;
		pv[i].prot = (uint32_t)d->prot;
		pv[i].flags = (uint32_t)d->flags;
		pv[i].fd = -1;
		switch (d->src) {
		case RESTORE_SRC_ZERO:
			pv[i].kind = RP_VMA_ZERO;
			break;
		case RESTORE_SRC_STAGED:
			pv[i].kind = RP_VMA_STAGED;
			pv[i].stage_addr = (uint64_t)d->staged;
			break;
		case RESTORE_SRC_FILE:
		case RESTORE_SRC_SPARSE:
			if (d->src == RESTORE_SRC_FILE) {
				pv[i].kind = RP_VMA_FILE;
				pv[i].fd = d->fd;
				pv[i].pgoff = d->pgoff;
			} else {
				pv[i].kind = RP_VMA_SPARSE;
			}
			pv[i].first_run = nr;
			pv[i].nr_runs = d->nr_runs;
			for (unsigned int j = 0; j < d->nr_runs; j++, nr++) {
				pr[nr].addr = d->start + req->vmas[i].runs[j].offset;
				pr[nr].len = req->vmas[i].runs[j].len;
				pr[nr].stage_addr = (uint64_t)req->vmas[i].runs[j].data;
				/* its own staged bytes (apart from every other run's) */
				pr[nr].unmap_addr = pr[nr].stage_addr;
				pr[nr].unmap_len = pr[nr].len;
			}
			break;
		}
	}
	p->nr_vmas = (uint32_t)req->nr_vmas;
	p->nr_runs = nr;
	/*
	 * Each run's staged bytes go as soon as they are copied, so that a restore never holds
	 * two copies of more than one run; the last run of a staging mapping takes the whole
	 * mapping, with what no run used.
	 */
	for (size_t s = 0; s < req->nr_stages; s++) {
		struct stage *st = &req->stages[s];
		int64_t last = -1;

		for (uint32_t r = 0; r < nr; r++)
			if (pr[r].stage_addr >= st->start && pr[r].stage_addr < st->start + st->len)
				last = r;
		if (last >= 0) {
			pr[last].unmap_addr = st->start;
			pr[last].unmap_len = st->len;
		}
	}
}

/* This process's start_brk: field 47 of /proc/self/stat. */
static int collect_self_start_brk(uint64_t *out)
{
	struct procfs_stat st;
	int r = procfs_stat(0, 0, &st);

	if (r && r != -EPROTO) {
		pr_err("restore: cannot read /proc/self/stat: %s", strerror(-r));
		return r;
	}
	if (r || st.nfields < 47 || st.f[47] & (PAGE_SZ - 1)) {
		pr_err("restore: cannot read start_brk from /proc/self/stat");
		return -EINVAL;
	}
	*out = st.f[47];
	return 0;
}

static int fill_threads(struct restore_req *req, struct restore_plan *p, char *area,
			const struct area_layout *L)
{
	struct rp_thread *pt = RP_ARRAY(p, struct rp_thread, p->threads_off);
	size_t max_size = cpu_xstate_size();
	uint64_t xcr0 = cpu_xcr0();

	for (size_t i = 0; i < req->nr_threads; i++) {
		const struct restore_thread_desc *d = &req->threads[i].d;
		size_t room = (i + 1 < req->nr_threads ? L->frame_off[i + 1] : L->scratch_off) -
			      L->frame_off[i];
		uint64_t feat = 0x3;
		struct x86_regs regs;

		memcpy(&regs, &d->regs, sizeof(regs));
		if (d->xsave && d->xsave_len >= X86_XSAVE_MIN_SIZE) {
			memcpy(&feat, (const char *)d->xsave + X86_XSTATE_BV_OFF, 8);
			if (feat & ~xcr0) {
				pr_err("restore: thread %d: saved FPU state uses features %#llx this "
				       "CPU does not enable (XCR0 %#llx)", d->tid,
				       (unsigned long long)(feat & ~xcr0), (unsigned long long)xcr0);
				return -EINVAL;
			}
			/* restore every feature the kernel manages: absent ones go to init */
			feat = xcr0;
		}
		memset(&pt[i], 0, sizeof(pt[i]));
		pt[i].tid = d->tid;
		pt[i].flags = i && d->exact_tid ? RP_THR_SET_TID : 0;
		pt[i].fs_base = d->regs.fs_base;
		pt[i].gs_base = d->regs.gs_base;
		pt[i].clear_tid = d->clear_tid;
		pt[i].robust_list = d->robust_list;
		pt[i].robust_len = d->robust_len;
		pt[i].rseq = d->rseq;
		pt[i].rseq_len = d->rseq_len;
		pt[i].rseq_sig = d->rseq_sig;
		memcpy(pt[i].comm, d->comm, sizeof(pt[i].comm));
		pt[i].comm[sizeof(pt[i].comm) - 1] = '\0';
		pt[i].frame_rsp = sigframe_build(area + L->frame_off[i], room, &regs, d->xsave,
						 d->xsave_len, feat, max_size ? max_size : d->xsave_len,
						 d->sigmask, (uint64_t)d->altstack.ss_sp,
						 d->altstack.ss_flags, d->altstack.ss_size);
		if (!pt[i].frame_rsp) {
			pr_err("restore: thread %d: no room for its signal frame", d->tid);
			return -ENOSPC;
		}
		pt[i].stack_top = (uint64_t)area + L->stacks_off + RP_MAIN_STACK +
				  i * RP_THREAD_STACK;
	}
	p->nr_threads = (uint32_t)req->nr_threads;
	/* the main thread's blob stack is the first RP_MAIN_STACK bytes */
	p->main_stack_top = (uint64_t)area + L->stacks_off + RP_MAIN_STACK;
	return 0;
}

/* Threads of this process (its status's Threads field), -1 when unknown. */
static int count_tasks(void)
{
	int32_t n = -1;
	char *status;

	if (procfs_read(0, 0, "status", &status, NULL))
		return -1;
	procfs_status_ints(status, "Threads", &n, 1);
	free(status);
	return n;
}

/*
 * glibc registered an rseq area for this thread inside memory the blob unmaps. Unregister
 * with the length it registered: __rseq_size, or the 32 bytes that glibc 2.35..2.39 passed
 * while publishing a smaller size.
 */
static void drop_libc_rseq(void)
{
	uint64_t tp;
	long r;

	if (!&__rseq_size || !&__rseq_offset || !__rseq_size)
		return;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	r = syscall(SYS_rseq, (void *)(tp + __rseq_offset), __rseq_size, 1, 0x53053053);
	if (r && errno == EINVAL)
		syscall(SYS_rseq, (void *)(tp + __rseq_offset), 32, 1, 0x53053053);
}

static void __attribute__((noreturn)) jump_to_blob(uint64_t entry, uint64_t stack_top,
						   struct restore_plan *p)
{
	/* as if called: rsp is 8 off 16-byte alignment at a function's first instruction */
	__asm__ volatile("mov %0, %%rsp\n\t"
			 "sub $8, %%rsp\n\t"
			 "jmp *%2"
			 :
			 : "r"(stack_top), "D"(p), "a"(entry)
			 : "memory");
	__builtin_unreachable();
}

int prepare_restore(struct restore_req *req)
{
	struct vdso_choice vc;
	struct area_layout L;
	struct restore_plan *p;
	char *area = NULL;
	sigset_t all;
	int ret, nt, fd;

	memset(&L, 0, sizeof(L));
	nt = count_tasks();
	if (nt != 1) {
		pr_err("restore: the restoring process must be single-threaded (has %d threads)", nt);
		return -EBUSY;
	}
	ret = prepare_validate_req(req);
	if (ret)
		return ret;
	ret = prepare_vdso_choice(req, &vc);
	if (ret)
		return ret;
	if (vc.mode == RP_VDSO_PROXY && req->have_vdso) {
		ret = prepare_vdso_proxy_vmas(req);
		if (ret)
			return ret;
		ret = prepare_validate_req(req);
		if (ret)
			return ret;
	}
	ret = plan_layout(req, &L, &vc);
	if (ret)
		goto fail;
	fd = area_memfd(L.total);
	area = map_clear_hole(req, L.total, 0, fd);
	if (fd >= 0)
		close(fd);
	if (!area) {
		ret = -errno;
		pr_err("restore: no room for the %zu-byte restore area clear of the saved regions",
		       L.total);
		goto fail;
	}
	memcpy(area, restorer_blob, (size_t)(restorer_blob_end - restorer_blob));
	p = (struct restore_plan *)(area + L.plan_off);
	memset(p, 0, sizeof(*p));
	p->magic = RESTORE_PLAN_MAGIC;
	p->version = RESTORE_PLAN_VERSION;
	p->area_start = (uint64_t)area;
	p->area_end = (uint64_t)area + L.total;
	p->plan_size = L.plan_size;
	p->log_fd = req->log_fd;
	p->fail_rc = req->fail_rc;
	p->unmap_off = (uint32_t)(L.unmap_off - L.plan_off);
	p->vmas_off = (uint32_t)(L.vmas_off - L.plan_off);
	p->runs_off = (uint32_t)(L.runs_off - L.plan_off);
	p->threads_off = (uint32_t)(L.threads_off - L.plan_off);
	p->close_fds_off = (uint32_t)(L.fds_off - L.plan_off);
	p->nr_close_fds = (uint32_t)count_close_fds(req, RP_ARRAY(p, int32_t, p->close_fds_off));
	if (log_get_level() >= LOG_DEBUG)
		p->flags |= RP_F_DEBUG;
	fill_vmas(req, p);
	ret = fill_threads(req, p, area, &L);
	if (ret)
		goto fail;
	ret = prepare_plan_vdso(req, p, area, &L, &vc);
	if (ret)
		goto fail;
	p->sigaction_mask = req->sigaction_mask;
	memcpy(p->sigactions, req->sigactions, sizeof(p->sigactions));
	/*
	 * PR_SET_MM_MAP needs no capability unless it changes the exe link (man prctl says
	 * CAP_SYS_RESOURCE, which holds for the single-field PR_SET_MM_* calls only), so it is
	 * always tried; the brk fence is the fallback the blob uses when the kernel refuses.
	 */
	ret = collect_self_start_brk(&p->cur_start_brk);
	if (ret)
		goto fail;
	p->flags |= RP_F_BRK_FENCE;
	if (req->have_mm) {
		p->mm = req->mm;
		p->flags |= RP_F_SET_MM;
	}
	p->exe_fd = req->exe_fd;
	/* the reservations inside the area that the vdso block moves through */
	if (L.block_len &&
	    (munmap(area + L.scratch_off, L.block_len) ||
	     (vc.relocate && munmap(area + L.home_off, L.block_len)))) {
		ret = -errno;
		pr_err("restore: cannot open the vdso scratch hole: %s", strerror(errno));
		goto fail;
	}
	if (mprotect(area, L.blob_len, PROT_READ | PROT_EXEC)) {
		ret = -errno;
		pr_err("restore: mprotect of the restorer blob: %s", strerror(errno));
		goto fail;
	}
	ret = build_unmap(req, p, &L, &vc);
	if (ret)
		goto fail;
	pr_debug("restore: area %#llx-%#llx, %u regions, %u threads, %u ranges to unmap, vdso %s",
		 (unsigned long long)p->area_start, (unsigned long long)p->area_end, p->nr_vmas,
		 p->nr_threads, p->nr_unmap,
		 vc.mode == RP_VDSO_MOVE ? "move" : vc.mode == RP_VDSO_PROXY ? "proxy" : "none");
	if (req->report_fd >= 0) {
		ret = report_area(req->report_fd, p);
		if (ret)
			goto fail;
	}
	free(L.frame_off);
	L.frame_off = NULL;

	/* point of no return */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	fflush(NULL);
	drop_libc_rseq();
	jump_to_blob((uint64_t)area + RESTORER_SYM_restorer_entry, p->main_stack_top, p);

fail:
	free(L.frame_off);
	if (area)
		munmap(area, L.total);
	return ret;
}
