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
#include <inttypes.h>
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
#include "log.h"
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

int restore_req_new(struct restore_req **out)
{
	struct restore_req *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->log_fd = STDERR_FILENO;
	r->fail_rc = fail_rc();
	r->report_fd = -1;
	*out = r;
	return 0;
}

void restore_req_free(struct restore_req *req)
{
	if (!req)
		return;
	for (size_t i = 0; i < req->nr_vmas; i++)
		free(req->vmas[i].runs);
	for (size_t i = 0; i < req->nr_threads; i++)
		free(req->threads[i].xsave);
	for (size_t i = 0; i < req->nr_stages; i++)
		munmap((void *)req->stages[i].start, req->stages[i].len);
	free(req->vmas);
	free(req->stages);
	free(req->threads);
	free(req->vdso_img);
	free(req);
}

static int range_bad(uint64_t s, uint64_t e)
{
	return s >= e || (s | e) & (PAGE_SZ - 1) || e > USER_HIGH;
}

int req_push_vma(struct restore_req *req, const struct restore_vma_desc *v, int internal)
{
	struct req_vma *rv;
	int ret;

	ret = grow((void **)&req->vmas, &req->cap_vmas, req->nr_vmas + 1, sizeof(*req->vmas));
	if (ret)
		return ret;
	rv = &req->vmas[req->nr_vmas];
	memset(rv, 0, sizeof(*rv));
	rv->d = *v;
	rv->internal = internal;
	if (v->nr_runs) {
		rv->runs = calloc(v->nr_runs, sizeof(*rv->runs));
		if (!rv->runs)
			return -ENOMEM;
		memcpy(rv->runs, v->runs, v->nr_runs * sizeof(*rv->runs));
	}
	rv->d.runs = NULL;
	req->nr_vmas++;
	return 0;
}

static int check_run(const struct restore_vma_desc *v, const struct restore_run *r)
{
	if (!r->len || (r->offset | r->len) & (PAGE_SZ - 1) ||
	    r->offset + r->len > v->end - v->start || r->offset + r->len < r->offset) {
		pr_err("restore: region %#llx-%#llx: written-page run +%#llx (%#llx bytes) is not "
		       "page aligned inside the region", (unsigned long long)v->start,
		       (unsigned long long)v->end, (unsigned long long)r->offset,
		       (unsigned long long)r->len);
		return -EINVAL;
	}
	if (v->src != RESTORE_SRC_FILE || (v->flags & (MAP_SHARED | MAP_PRIVATE)) != MAP_PRIVATE) {
		pr_err("restore: region %#llx-%#llx: written pages only go on private file mappings",
		       (unsigned long long)v->start, (unsigned long long)v->end);
		return -EINVAL;
	}
	return 0;
}

int restore_req_add_vma(struct restore_req *req, const struct restore_vma_desc *v)
{
	int share = v->flags & (MAP_SHARED | MAP_PRIVATE);
	int ret;

	if (range_bad(v->start, v->end)) {
		pr_err("restore: region %#llx-%#llx: not a page-aligned user range",
		       (unsigned long long)v->start, (unsigned long long)v->end);
		return -EINVAL;
	}
	if (share != MAP_SHARED && share != MAP_PRIVATE) {
		pr_err("restore: region %#llx-%#llx: flags %#x are neither MAP_PRIVATE nor MAP_SHARED",
		       (unsigned long long)v->start, (unsigned long long)v->end, v->flags);
		return -EINVAL;
	}
	if (v->src != RESTORE_SRC_ZERO && v->src != RESTORE_SRC_STAGED &&
	    v->src != RESTORE_SRC_FILE) {
		pr_err("restore: region %#llx-%#llx: unknown data source %d",
		       (unsigned long long)v->start, (unsigned long long)v->end, (int)v->src);
		return -EINVAL;
	}
	if (req->nr_vmas >= INT32_MAX)
		return -E2BIG;
	for (unsigned int i = 0; i < v->nr_runs; i++) {
		ret = check_run(v, &v->runs[i]);
		if (ret)
			return ret;
	}
	ret = req_push_vma(req, v, 0);
	return ret ? ret : (int)(req->nr_vmas - 1);
}

void *restore_req_stage_vma(struct restore_req *req, int idx)
{
	struct restore_vma_desc *v;
	void *p;

	if (idx < 0 || (size_t)idx >= req->nr_vmas ||
	    req->vmas[idx].d.src != RESTORE_SRC_STAGED || req->vmas[idx].d.staged) {
		pr_err("restore: region #%d is not a staged region waiting for its memory", idx);
		errno = EINVAL;
		return NULL;
	}
	v = &req->vmas[idx].d;
	p = restore_stage_alloc(req, v->end - v->start, v->flags & (MAP_GROWSDOWN | MAP_NORESERVE));
	if (p)
		req->vmas[idx].d.staged = p;
	return p;
}

int restore_req_add_run(struct restore_req *req, int idx, const struct restore_run *run)
{
	struct req_vma *rv;
	struct restore_run *n;
	int ret;

	if (idx < 0 || (size_t)idx >= req->nr_vmas) {
		pr_err("restore: written-page run for region #%d, which does not exist", idx);
		return -EINVAL;
	}
	rv = &req->vmas[idx];
	ret = check_run(&rv->d, run);
	if (ret)
		return ret;
	n = realloc(rv->runs, (rv->d.nr_runs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	n[rv->d.nr_runs++] = *run;
	rv->runs = n;
	return 0;
}

int restore_req_set_vdso(struct restore_req *req, const struct restore_vdso_desc *v,
			 enum restore_vdso_policy policy)
{
	if (range_bad(v->vdso_start, v->vdso_end) ||
	    (v->vvar_end && range_bad(v->vvar_start, v->vvar_end)) ||
	    (v->vclock_end && range_bad(v->vclock_start, v->vclock_end))) {
		pr_err("restore: saved vdso block: a part is not a page-aligned user range");
		return -EINVAL;
	}
	if (v->vdso_image && v->vdso_image_len != v->vdso_end - v->vdso_start) {
		pr_err("restore: saved vdso image is %zu bytes, its mapping %llu",
		       v->vdso_image_len, (unsigned long long)(v->vdso_end - v->vdso_start));
		return -EINVAL;
	}
	free(req->vdso_img);
	req->vdso_img = NULL;
	req->vdso = *v;
	if (v->vdso_image) {
		req->vdso_img = malloc(v->vdso_image_len);
		if (!req->vdso_img)
			return -ENOMEM;
		memcpy(req->vdso_img, v->vdso_image, v->vdso_image_len);
		req->vdso.vdso_image = req->vdso_img;
	}
	req->have_vdso = 1;
	req->vdso_policy = policy;
	return 0;
}

int restore_req_add_thread(struct restore_req *req, const struct restore_thread_desc *t)
{
	struct req_thread *rt;
	int ret;

	if (t->xsave && t->xsave_len < X86_FXSAVE_SIZE) {
		pr_err("restore: thread %d: FPU image of %zu bytes is shorter than FXSAVE's %d",
		       t->tid, t->xsave_len, X86_FXSAVE_SIZE);
		return -EINVAL;
	}
	if (t->regs.cs != X86_USER_CS) {
		pr_err("restore: thread %d: cs %#llx is not the 64-bit user segment", t->tid,
		       (unsigned long long)t->regs.cs);
		return -EINVAL;
	}
	ret = grow((void **)&req->threads, &req->cap_threads, req->nr_threads + 1,
		   sizeof(*req->threads));
	if (ret)
		return ret;
	rt = &req->threads[req->nr_threads];
	memset(rt, 0, sizeof(*rt));
	rt->d = *t;
	if (t->xsave) {
		rt->xsave = malloc(t->xsave_len);
		if (!rt->xsave)
			return -ENOMEM;
		memcpy(rt->xsave, t->xsave, t->xsave_len);
		rt->d.xsave = rt->xsave;
	}
	req->nr_threads++;
	return 0;
}

int restore_req_set_sigaction(struct restore_req *req, int sig, const struct rp_sigaction *act)
{
	if (sig < 1 || sig > RP_MAX_SIGNALS || sig == SIGKILL || sig == SIGSTOP) {
		pr_err("restore: cannot set a disposition for signal %d", sig);
		return -EINVAL;
	}
	req->sigactions[sig - 1] = *act;
	req->sigaction_mask |= 1ULL << (sig - 1);
	return 0;
}

int restore_req_set_mm(struct restore_req *req, const struct rp_mm *mm)
{
	req->mm = *mm;
	req->have_mm = 1;
	return 0;
}

void restore_req_set_report_fd(struct restore_req *req, int fd)
{
	req->report_fd = fd;
}

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

void restore_req_set_log(struct restore_req *req, int fd, int rc)
{
	req->log_fd = fd;
	req->fail_rc = rc;
}

/* ---- validation ----------------------------------------------------------------------- */

static int cmp_vma(const void *a, const void *b)
{
	const struct req_vma *x = a, *y = b;

	return x->d.start < y->d.start ? -1 : x->d.start > y->d.start;
}

struct probe_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size;
};

/*
 * Exact TIDs: the blob's clone3 set_tid must not fail after the point of no return. Probe the
 * permission with our own PID as set_tid: -EEXIST means we may choose ids (and no process is
 * made), -EPERM that we may not. Then every wanted TID must be free.
 */
static int validate_tids(struct restore_req *req)
{
	int want = 0;

	for (size_t i = 1; i < req->nr_threads; i++)
		want |= req->threads[i].d.exact_tid;
	if (!want)
		return 0;
	{
		pid_t self = getpid();
		struct probe_clone_args ca = { 0 };
		long r;

		ca.exit_signal = SIGCHLD;
		ca.set_tid = (uint64_t)(uintptr_t)&self;
		ca.set_tid_size = 1;
		r = syscall(SYS_clone3, &ca, sizeof(ca));
		if (r == 0)
			_exit(127); /* cannot happen: our own pid is taken */
		if (r > 0) {
			pr_err("restore: clone3 probe made process %ld", r);
			return -EINVAL;
		}
		if (errno != EEXIST) {
			pr_err("restore: exact thread ids are not available here (clone3 set_tid: %s)",
			       strerror(errno));
			return -errno;
		}
	}
	for (size_t i = 1; i < req->nr_threads; i++) {
		pid_t tid = req->threads[i].d.tid;

		if (!req->threads[i].d.exact_tid)
			continue;
		if (tid <= 0 || kill(tid, 0) == 0 || errno != ESRCH) {
			pr_err("restore: thread id %d is not free", tid);
			return -EEXIST;
		}
	}
	return 0;
}

static int validate_req(struct restore_req *req)
{
	if (!req->nr_threads) {
		pr_err("restore: no thread to restore");
		return -EINVAL;
	}
	for (size_t i = 0; i < req->nr_stages; i++)
		req->stages[i].used = 0;
	qsort(req->vmas, req->nr_vmas, sizeof(*req->vmas), cmp_vma);
	for (size_t i = 0; i < req->nr_vmas; i++) {
		struct restore_vma_desc *v = &req->vmas[i].d;
		uint64_t len = v->end - v->start;
		struct stage *s;

		if (i && req->vmas[i - 1].d.end > v->start) {
			pr_err("restore: regions %#llx-%#llx and %#llx-%#llx overlap",
			       (unsigned long long)req->vmas[i - 1].d.start,
			       (unsigned long long)req->vmas[i - 1].d.end,
			       (unsigned long long)v->start, (unsigned long long)v->end);
			return -EINVAL;
		}
		if (v->src == RESTORE_SRC_STAGED) {
			if (!v->staged) {
				pr_err("restore: region %#llx-%#llx: no staged data attached",
				       (unsigned long long)v->start, (unsigned long long)v->end);
				return -EINVAL;
			}
			s = find_stage(req, (uint64_t)v->staged, len);
			if (!s || s->start != (uint64_t)v->staged || s->len != len) {
				pr_err("restore: region %#llx-%#llx: its staged data is not a "
				       "restore_stage_alloc() mapping of the region's length",
				       (unsigned long long)v->start, (unsigned long long)v->end);
				return -EINVAL;
			}
			if (s->used) {
				pr_err("restore: region %#llx-%#llx: staged data used twice",
				       (unsigned long long)v->start, (unsigned long long)v->end);
				return -EINVAL;
			}
			s->used = 1;
		}
		if (v->src == RESTORE_SRC_FILE && fcntl(v->fd, F_GETFD) < 0) {
			pr_err("restore: region %#llx-%#llx: fd %d: %s", (unsigned long long)v->start,
			       (unsigned long long)v->end, v->fd, strerror(errno));
			return -EBADF;
		}
		for (unsigned int j = 0; j < v->nr_runs; j++) {
			struct restore_run *r = &req->vmas[i].runs[j];
			struct stat st;

			/* the blob copies over the file's pages: beyond its end that is SIGBUS */
			if (fstat(v->fd, &st) == 0 && S_ISREG(st.st_mode) &&
			    (uint64_t)st.st_size + PAGE_SZ - 1 < v->pgoff + r->offset + r->len) {
				pr_err("restore: region %#llx-%#llx: the file (fd %d) is %lld bytes, "
				       "shorter than the saved mapping's written pages need",
				       (unsigned long long)v->start, (unsigned long long)v->end, v->fd,
				       (long long)st.st_size);
				return -EINVAL;
			}

			s = find_stage(req, (uint64_t)r->data, r->len);
			if (!s) {
				pr_err("restore: region %#llx-%#llx: written-page run %u is not in "
				       "restore_stage_alloc() memory", (unsigned long long)v->start,
				       (unsigned long long)v->end, j);
				return -EINVAL;
			}
			s->used = 1;
		}
	}
	return validate_tids(req);
}

/* ---- the area ------------------------------------------------------------------------- */

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
			pv[i].kind = RP_VMA_FILE;
			pv[i].fd = d->fd;
			pv[i].pgoff = d->pgoff;
			pv[i].first_run = nr;
			pv[i].nr_runs = d->nr_runs;
			for (unsigned int j = 0; j < d->nr_runs; j++, nr++) {
				pr[nr].addr = d->start + req->vmas[i].runs[j].offset;
				pr[nr].len = req->vmas[i].runs[j].len;
				pr[nr].stage_addr = (uint64_t)req->vmas[i].runs[j].data;
				pr[nr].unmap_addr = 0;
				pr[nr].unmap_len = 0;
			}
			break;
		}
	}
	p->nr_vmas = (uint32_t)req->nr_vmas;
	p->nr_runs = nr;
	/* each staging mapping of written pages is unmapped once, after the last run using it */
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
	char buf[2048], *p;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;
	int field = 3;

	if (!f) {
		pr_err("restore: cannot open /proc/self/stat: %s", strerror(errno));
		return -errno;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	for (p += 2; *p && field < 47; p++)
		if (*p == ' ')
			field++;
	if (field != 47 || sscanf(p, "%" SCNu64, out) != 1 || *out & (PAGE_SZ - 1)) {
		pr_err("restore: cannot read start_brk from /proc/self/stat");
		return -EINVAL;
	}
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

static int count_tasks(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
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
	int ret, nt;

	memset(&L, 0, sizeof(L));
	nt = count_tasks();
	if (nt != 1) {
		pr_err("restore: the restoring process must be single-threaded (has %d threads)", nt);
		return -EBUSY;
	}
	ret = validate_req(req);
	if (ret)
		return ret;
	ret = prepare_vdso_choice(req, &vc);
	if (ret)
		return ret;
	if (vc.mode == RP_VDSO_PROXY && req->have_vdso) {
		ret = prepare_vdso_proxy_vmas(req);
		if (ret)
			return ret;
		ret = validate_req(req);
		if (ret)
			return ret;
	}
	ret = plan_layout(req, &L, &vc);
	if (ret)
		goto fail;
	area = map_clear_hole(req, L.total, 0);
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
