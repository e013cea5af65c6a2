/*
 * Libc side of the restorer, the request: the caller's description of the saved process
 * copied into the request (regions, written-page runs, threads, vdso, dispositions, mm) with
 * the checks that can be made as it comes in, and the full validation prepare_restore() runs
 * before anything is committed. See prepare_restore.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/x86_64/sigframe.h"
#include "log.h"
#include "restart/prepare_restore_int.h"

int restore_req_new(struct restore_req **out)
{
	struct restore_req *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->log_fd = STDERR_FILENO;
	r->fail_rc = fail_rc();
	r->report_fd = -1;
	r->exe_fd = -1;
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
	if (req->exe_fd >= 0)
		close(req->exe_fd);
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

	ret = req_grow((void **)&req->vmas, &req->cap_vmas, req->nr_vmas + 1, sizeof(*req->vmas));
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
		rv->cap_runs = v->nr_runs;
	}
	rv->d.runs = NULL;
	req->nr_vmas++;
	return 0;
}

static int check_run(const struct restore_vma_desc *v, const struct restore_run *r)
{
	/* the blob unmaps each run's staged bytes after the copy: they must be whole pages */
	if (!r->len || (r->offset | r->len | (uint64_t)(uintptr_t)r->data) & (PAGE_SZ - 1) ||
	    r->offset + r->len > v->end - v->start || r->offset + r->len < r->offset) {
		pr_err("restore: region %#llx-%#llx: page run +%#llx (%#llx bytes, staged at %p) "
		       "is not page aligned inside the region", (unsigned long long)v->start,
		       (unsigned long long)v->end, (unsigned long long)r->offset,
		       (unsigned long long)r->len, r->data);
		return -EINVAL;
	}
	if ((v->src != RESTORE_SRC_FILE && v->src != RESTORE_SRC_SPARSE) ||
	    (v->flags & (MAP_SHARED | MAP_PRIVATE)) != MAP_PRIVATE) {
		pr_err("restore: region %#llx-%#llx: page runs only go on private file mappings "
		       "and sparse regions", (unsigned long long)v->start,
		       (unsigned long long)v->end);
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
	    v->src != RESTORE_SRC_FILE && v->src != RESTORE_SRC_SPARSE) {
		pr_err("restore: region %#llx-%#llx: unknown data source %d",
		       (unsigned long long)v->start, (unsigned long long)v->end, (int)v->src);
		return -EINVAL;
	}
	if (v->src == RESTORE_SRC_SPARSE &&
	    (v->flags & (MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS)) !=
		    (MAP_PRIVATE | MAP_ANONYMOUS)) {
		pr_err("restore: region %#llx-%#llx: a sparse region is private anonymous memory",
		       (unsigned long long)v->start, (unsigned long long)v->end);
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
	int ret;

	if (idx < 0 || (size_t)idx >= req->nr_vmas) {
		pr_err("restore: written-page run for region #%d, which does not exist", idx);
		return -EINVAL;
	}
	rv = &req->vmas[idx];
	ret = check_run(&rv->d, run);
	if (ret)
		return ret;
	/* a sparse region may have many runs: the array doubles */
	ret = req_grow((void **)&rv->runs, &rv->cap_runs, rv->d.nr_runs + 1, sizeof(*rv->runs));
	if (ret)
		return ret;
	rv->runs[rv->d.nr_runs++] = *run;
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
	ret = req_grow((void **)&req->threads, &req->cap_threads, req->nr_threads + 1,
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

void restore_req_set_exe(struct restore_req *req, int fd)
{
	if (req->exe_fd >= 0)
		close(req->exe_fd);
	req->exe_fd = fd;
}

void restore_req_set_report_fd(struct restore_req *req, int fd)
{
	req->report_fd = fd;
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

/*
 * The blob's mmap of this fd must not fail after the point of no return: an O_PATH or
 * write-only fd cannot be mapped at all, and a shared writable mapping needs O_RDWR.
 */
static int check_map_fd(const struct restore_vma_desc *v)
{
	int fl = fcntl(v->fd, F_GETFL);
	int acc = fl & O_ACCMODE;

	if (fl < 0) {
		pr_err("restore: region %#llx-%#llx: fd %d: %s", (unsigned long long)v->start,
		       (unsigned long long)v->end, v->fd, strerror(errno));
		return -EBADF;
	}
	if ((fl & O_PATH) || acc == O_WRONLY) {
		pr_err("restore: region %#llx-%#llx: fd %d is open %s and cannot be mapped",
		       (unsigned long long)v->start, (unsigned long long)v->end, v->fd,
		       (fl & O_PATH) ? "O_PATH" : "write-only");
		return -EACCES;
	}
	if ((v->flags & MAP_SHARED) && (v->prot & PROT_WRITE) && acc != O_RDWR) {
		pr_err("restore: region %#llx-%#llx: shared writable mapping of fd %d, which is "
		       "not open read-write", (unsigned long long)v->start,
		       (unsigned long long)v->end, v->fd);
		return -EACCES;
	}
	return 0;
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

static int cmp_run_data(const void *a, const void *b)
{
	const struct restore_run *x = *(const struct restore_run *const *)a;
	const struct restore_run *y = *(const struct restore_run *const *)b;

	return (uintptr_t)x->data < (uintptr_t)y->data ? -1 : (uintptr_t)x->data > (uintptr_t)y->data;
}

/*
 * The blob unmaps a run's staged bytes as soon as they are copied, so that a restore holds
 * the staged copy and the restored one of a run at the same time, never of everything: no
 * two runs may share staged bytes (a STAGED region's stage is refused for runs above), and
 * within a region the runs are sorted and disjoint.
 */
static int validate_runs_apart(struct restore_req *req)
{
	const struct restore_run **all;
	size_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < req->nr_vmas; i++) {
		const struct req_vma *rv = &req->vmas[i];

		for (unsigned int j = 1; j < rv->d.nr_runs; j++)
			if (rv->runs[j - 1].offset + rv->runs[j - 1].len > rv->runs[j].offset) {
				pr_err("restore: region %#llx-%#llx: page runs %u and %u are not "
				       "sorted and apart", (unsigned long long)rv->d.start,
				       (unsigned long long)rv->d.end, j - 1, j);
				return -EINVAL;
			}
		n += rv->d.nr_runs;
	}
	if (n < 2)
		return 0;
	all = malloc(n * sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < req->nr_vmas; i++)
		for (unsigned int j = 0; j < req->vmas[i].d.nr_runs; j++)
			all[n++] = &req->vmas[i].runs[j];
	qsort(all, n, sizeof(*all), cmp_run_data);
	for (size_t k = 1; k < n; k++)
		if ((uintptr_t)all[k - 1]->data + all[k - 1]->len > (uintptr_t)all[k]->data) {
			pr_err("restore: page runs staged at %p and %p share staged memory",
			       all[k - 1]->data, all[k]->data);
			ret = -EINVAL;
			break;
		}
	free(all);
	return ret;
}

int prepare_validate_req(struct restore_req *req)
{
	int ret;

	if (!req->nr_threads) {
		pr_err("restore: no thread to restore");
		return -EINVAL;
	}
	for (size_t i = 0; i < req->nr_stages; i++)
		req->stages[i].used = req->stages[i].whole = 0;
	if (req->nr_vmas) /* qsort's array may not be NULL, even when empty */
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
			s->used = s->whole = 1;
		}
		if (v->src == RESTORE_SRC_FILE) {
			ret = check_map_fd(v);
			if (ret)
				return ret;
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
			if (!s || s->whole) {
				pr_err("restore: region %#llx-%#llx: page run %u is not in "
				       "restore_stage_alloc() memory of its own",
				       (unsigned long long)v->start, (unsigned long long)v->end, j);
				return -EINVAL;
			}
			s->used = 1;
		}
	}
	ret = validate_runs_apart(req);
	return ret ? ret : validate_tids(req);
}

