/*
 * A restored process's image turned into its restore request: regions and staged memory,
 * threads, signal dispositions, vdso, mm, executable (see prepare_image_req.h).
 *
 * The image's page section lists runs the container may have merged across adjacent regions,
 * so the destination of a run is looked up by address: a run inside one region goes straight
 * into that region's staging memory; one that crosses a region boundary goes through a bounce
 * buffer and is split afterwards (rare: two adjacent regions both written at the boundary).
 */
#include "restart/prepare_image_req.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "restart/prepare_fds_int.h"

#define PG CKPT_PAGE_SIZE

/* Where the bytes of one saved region go while staging. */
struct vstage {
	uint8_t *base;	  /* staging memory for [start, end) (STAGED), or a temporary shared
			     mapping of the object (shm data held here) */
	size_t map_len;	  /* length of a temporary mapping to unmap afterwards, 0 if none */
	uint64_t map_off; /* the region's start in that mapping */
	int idx;	  /* the region's index in the restore request, -1 when not there */
	int staged;	  /* anonymous with data: restore_req_stage_vma() in the second pass */
	/* private file mappings, sparse anonymous regions: stored pages, in run order */
	uint8_t *runs_base;
	struct restore_run *runs;
	unsigned int nruns;
};

struct stager {
	const struct ckpt_proc *p;
	struct vstage *vs;
	const char *img;
	/* bounce buffers for runs crossing a region boundary */
	struct bounce {
		uint64_t vaddr, len;
		uint8_t *buf;
	} *bounce;
	int nbounce, capbounce;
	int err;
};

static int vma_of(const struct ckpt_proc *p, uint64_t addr)
{
	uint32_t lo = 0, hi = p->nvmas;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (addr < p->vmas[mid].start)
			hi = mid;
		else if (addr >= p->vmas[mid].end)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

/*
 * Staging address of saved address addr in region v, or NULL when its data is not kept. The
 * runs are sorted (the image's are): a binary search, since a sparse region may have many.
 */
static uint8_t *dest_in(struct stager *st, int v, uint64_t addr)
{
	const struct ckpt_vma *m = &st->p->vmas[v];
	struct vstage *vs = &st->vs[v];
	unsigned int lo = 0, hi = vs->nruns;

	if (vs->base)
		return vs->base + vs->map_off + (addr - m->start);
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct restore_run *r = &vs->runs[mid];
		uint64_t s = m->start + r->offset;

		if (addr < s)
			hi = mid;
		else if (addr >= s + r->len)
			lo = mid + 1;
		else
			return (uint8_t *)r->data + (addr - s);
	}
	return NULL;
}

static void *run_dest(void *arg, const struct image_section *s, uint32_t run)
{
	struct stager *st = arg;
	uint64_t va = s->runs[run].vaddr, len = s->runs[run].npages * PG;
	int v = vma_of(st->p, va);
	struct bounce *b;

	if (v < 0) {
		st->err = -EINVAL;
		return NULL;
	}
	if (va + len <= st->p->vmas[v].end)
		return dest_in(st, v, va);
	if (st->nbounce == st->capbounce) {
		int cap = st->capbounce ? st->capbounce * 2 : 8;
		struct bounce *n = realloc(st->bounce, cap * sizeof(*n));

		if (!n) {
			st->err = -ENOMEM;
			return NULL;
		}
		st->bounce = n;
		st->capbounce = cap;
	}
	b = &st->bounce[st->nbounce];
	b->buf = malloc(len);
	if (!b->buf) {
		st->err = -ENOMEM;
		return NULL;
	}
	b->vaddr = va;
	b->len = len;
	st->nbounce++;
	return b->buf;
}

static int split_bounces(struct stager *st)
{
	int i;

	for (i = 0; i < st->nbounce; i++) {
		struct bounce *b = &st->bounce[i];
		uint64_t off;

		for (off = 0; off < b->len; off += PG) {
			int v = vma_of(st->p, b->vaddr + off);
			uint8_t *d = v >= 0 ? dest_in(st, v, b->vaddr + off) : NULL;

			if (d)
				memcpy(d, b->buf + off, PG);
		}
		free(b->buf);
	}
	free(st->bounce);
	st->bounce = NULL;
	st->nbounce = 0;
	return 0;
}

static const struct shm_obj *find_shm(const struct shm_shared *sh, uint64_t id)
{
	int i;

	for (i = 0; i < sh->n; i++)
		if (sh->obj[i].id == id)
			return &sh->obj[i];
	return NULL;
}

static int is_shared_object(const struct ckpt_vma *v)
{
	return v->kind == CKPT_VMA_SHMEM ||
	       (v->kind == CKPT_VMA_FILE_SHARED && (v->flags & CKPT_VMA_F_DELETED));
}

int prepare_image_shm(const struct restart_set *s, const struct fd_shared *fs,
		      struct shm_shared *sh)
{
	int i, j, fd, fd_base = fs->base;
	uint32_t k;

	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < s->n; i++) {
		const struct ckpt_proc *p = &s->img[i].proc;

		for (k = 0; k < p->nvmas; k++) {
			const struct ckpt_vma *v = &p->vmas[k];
			uint64_t need = v->pgoff + (v->end - v->start);
			struct shm_obj *n;

			if (!is_shared_object(v))
				continue;
			for (j = 0; j < sh->n; j++)
				if (sh->obj[j].id == v->shm_id)
					break;
			if (j < sh->n) {
				if (need > sh->obj[j].size)
					sh->obj[j].size = need;
				continue;
			}
			n = realloc(sh->obj, (sh->n + 1) * sizeof(*n));
			if (!n)
				goto nomem;
			sh->obj = n;
			sh->obj[sh->n++] = (struct shm_obj){ .id = v->shm_id, .size = need, .fd = -1,
							     .dev = v->dev };
			if (v->path && !strncmp(v->path, "/memfd:", 7))
				sh->obj[sh->n - 1].name = v->path + 7;
		}
	}
	for (j = 0; j < sh->n; j++) {
		/* A memfd that an fd also shows: the mappings map that very object, whose
		 * contents (the same bytes as the mapped pages) and size the fd's record gave. */
		i = fd_obj_find(fs, FD_OBJ_MEMFD, sh->obj[j].dev, sh->obj[j].id);
		if (i >= 0) {
			fd = fcntl(fs->obj[i].fd, F_DUPFD_CLOEXEC, fd_base);
			if (fd < 0) {
				pr_err("cannot share memfd: %s", strerror(errno));
				prepare_image_shm_free(sh);
				return -errno;
			}
			sh->obj[j].fd = fd;
			sh->obj[j].preset = 1;
			continue;
		}
		/* A memfd only mapped (its fds closed) keeps at least its name. */
		fd = memfd_create(sh->obj[j].name ? sh->obj[j].name : "dmtcp-shm", MFD_CLOEXEC);
		if (fd >= 0 && fd < fd_base) {
			int h = fcntl(fd, F_DUPFD_CLOEXEC, fd_base);

			close(fd);
			fd = h;
		}
		if (fd < 0 || ftruncate(fd, (off_t)sh->obj[j].size) < 0) {
			pr_err("cannot create shared memory object of %llu bytes: %s",
			       (unsigned long long)sh->obj[j].size, strerror(errno));
			if (fd >= 0)
				close(fd);
			prepare_image_shm_free(sh);
			return -ENOMEM;
		}
		sh->obj[j].fd = fd;
	}
	return 0;
nomem:
	prepare_image_shm_free(sh);
	return -ENOMEM;
}

void prepare_image_shm_free(struct shm_shared *sh)
{
	int i;

	for (i = 0; i < sh->n; i++)
		if (sh->obj[i].fd >= 0)
			close(sh->obj[i].fd);
	free(sh->obj);
	memset(sh, 0, sizeof(*sh));
}

static int high_fd(int fd, int base)
{
	int h;

	if (fd < 0 || fd >= base)
		return fd;
	h = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	return h;
}

static int map_flags(const struct ckpt_vma *v)
{
	return ((v->flags & CKPT_VMA_F_GROWSDOWN) ? MAP_GROWSDOWN : 0) |
	       ((v->flags & CKPT_VMA_F_NORESERVE) ? MAP_NORESERVE : 0);
}

/*
 * A region whose stored pages fill less than half of it is staged as its runs and copied
 * into fresh memory (RESTORE_SRC_SPARSE): staging then costs the pages present, whatever the
 * region's length (a 2 TiB MAP_NORESERVE reservation with a few pages written). A denser one
 * is staged whole and moved into place without a copy; its untouched pages cost at most as
 * much address space as its present ones.
 */
static int is_sparse(const struct ckpt_vma *v)
{
	return (uint64_t)v->npages_stored * PG * 2 < v->end - v->start;
}

static int add_vma(struct restore_req *req, struct vstage *vs, const struct restore_vma_desc *d)
{
	int i = restore_req_add_vma(req, d);

	if (i < 0)
		return i;
	vs->idx = i;
	return 0;
}

/* Describe one region (first pass: no staging memory yet). */
static int add_region(struct restore_req *req, struct stager *st, uint32_t k,
		      const struct shm_shared *sh, int fd_base, int *keep, int *nkeep)
{
	const struct ckpt_vma *v = &st->p->vmas[k];
	struct vstage *vs = &st->vs[k];
	struct restore_vma_desc d;
	uint64_t len = v->end - v->start;
	int fd;

	memset(&d, 0, sizeof(d));
	d.start = v->start;
	d.end = v->end;
	d.prot = v->prot;
	d.fd = -1;

	if (is_shared_object(v)) {
		const struct shm_obj *o = find_shm(sh, v->shm_id);

		if (!o)
			return -EINVAL;
		fd = fcntl(o->fd, F_DUPFD_CLOEXEC, fd_base);
		if (fd < 0)
			return -errno;
		keep[(*nkeep)++] = fd;
		d.flags = MAP_SHARED;
		d.src = RESTORE_SRC_FILE;
		d.fd = fd;
		d.close_fd = 1;
		d.pgoff = v->pgoff;
		if (v->npages_stored && !o->preset) {
			/* The data goes into the object itself, seen through a temporary map. */
			void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				       (off_t)v->pgoff);

			if (m == MAP_FAILED)
				return -errno;
			vs->base = m;
			vs->map_len = len;
		}
		return add_vma(req, vs, &d);
	}
	if (v->kind == CKPT_VMA_FILE_SHARED || (v->kind == CKPT_VMA_FILE_PRIV &&
						 !(v->flags & CKPT_VMA_F_DELETED))) {
		int shared = v->kind == CKPT_VMA_FILE_SHARED;
		int acc = shared && (v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY;

		fd = open(v->path, acc | O_CLOEXEC);
		if (fd < 0 && acc == O_RDONLY && errno == EACCES)
			fd = open(v->path, O_PATH | O_CLOEXEC);
		fd = high_fd(fd, fd_base);
		if (fd < 0) {
			pr_err("%s: cannot open mapped file %s: %s", st->img, v->path,
			       strerror(errno));
			return -errno;
		}
		keep[(*nkeep)++] = fd;
		d.flags = shared ? MAP_SHARED : MAP_PRIVATE;
		d.flags |= map_flags(v);
		d.src = RESTORE_SRC_FILE;
		d.fd = fd;
		d.close_fd = 1;
		d.pgoff = v->pgoff;
		return add_vma(req, vs, &d);
	}
	/* Anonymous private memory (and a private mapping of a file that is gone). */
	d.flags = MAP_PRIVATE | MAP_ANONYMOUS | map_flags(v);
	if (!v->npages_stored) {
		d.src = RESTORE_SRC_ZERO;
		return add_vma(req, vs, &d);
	}
	/* Staged in the second pass, once every region is known and can be avoided. */
	if (is_sparse(v)) {
		d.src = RESTORE_SRC_SPARSE;
		return add_vma(req, vs, &d);
	}
	d.src = RESTORE_SRC_STAGED;
	vs->staged = 1;
	return add_vma(req, vs, &d);
}

/* Second pass: staging memory for the regions' stored pages. */
static int stage_region(struct restore_req *req, struct stager *st, uint32_t k)
{
	const struct ckpt_vma *v = &st->p->vmas[k];
	struct vstage *vs = &st->vs[k];
	uint32_t r, n = 0;
	uint64_t total = 0;
	uint8_t *stage;
	int ret;

	if (vs->idx < 0)
		return 0;
	if (vs->staged) {
		vs->base = restore_req_stage_vma(req, vs->idx);
		return vs->base ? 0 : -ENOMEM;
	}
	if (!v->npages_stored || is_shared_object(v) ||
	    (v->kind != CKPT_VMA_FILE_PRIV && !is_sparse(v)))
		return 0;
	/*
	 * Written pages of a private file mapping, present pages of a sparse region: one staging
	 * area of their total, runs laid out in order.
	 */
	for (r = 0; r < st->p->nruns; r++)
		if (st->p->runs[r].vma == k) {
			total += (uint64_t)st->p->runs[r].npages * PG;
			n++;
		}
	if (!n)
		return 0;
	stage = restore_stage_alloc(req, total, 0);
	if (!stage)
		return -ENOMEM;
	vs->runs = calloc(n, sizeof(*vs->runs));
	if (!vs->runs)
		return -ENOMEM;
	vs->runs_base = stage;
	for (r = 0; r < st->p->nruns; r++) {
		const struct ckpt_pagerun *pr = &st->p->runs[r];
		struct restore_run *rr = &vs->runs[vs->nruns];

		if (pr->vma != k)
			continue;
		rr->offset = pr->vaddr - v->start;
		rr->len = (uint64_t)pr->npages * PG;
		rr->data = stage;
		stage += rr->len;
		vs->nruns++;
		ret = restore_req_add_run(req, vs->idx, rr);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * /proc/PID/exe of the restored process should name its program, not the restart command:
 * hand the blob the saved executable (see restore_req_set_exe). Not there any more (deleted,
 * or another host): the link is left, which costs the program nothing it could rely on.
 */
static void add_exe(struct restore_req *req, const struct ckpt_proc *p, int fd_base, int *keep,
		    int *nkeep)
{
	int fd, h;

	if (!p->exe || p->exe[0] != '/')
		return;
	fd = open(p->exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_debug("pid %d: executable %s: %s; /proc/PID/exe stays the restart's", p->pid,
			 p->exe, strerror(errno));
		return;
	}
	h = fcntl(fd, F_DUPFD_CLOEXEC, fd_base);
	close(fd);
	if (h < 0)
		return;
	keep[(*nkeep)++] = h;
	restore_req_set_exe(req, h);
}

static int add_threads(struct restore_req *req, const struct ckpt_proc *p)
{
	uint32_t i;
	int r;

	for (i = 0; i < p->nthreads; i++) {
		const struct ckpt_thread *t = &p->threads[i];
		struct restore_thread_desc d;

		memset(&d, 0, sizeof(d));
		d.tid = restart_thread_tid(p, t);
		d.exact_tid = i > 0;
		memcpy(d.comm, t->comm, sizeof(d.comm));
		memcpy(&d.regs, &t->regs, sizeof(d.regs));
		d.xsave = t->xsave_size ? t->xsave : NULL;
		d.xsave_len = t->xsave_size;
		d.sigmask = t->sigmask;
		if (t->have_altstack) {
			d.altstack.ss_sp = (void *)(uintptr_t)t->ss_sp;
			d.altstack.ss_size = t->ss_size;
			d.altstack.ss_flags = t->ss_flags;
		} else {
			d.altstack.ss_flags = SS_DISABLE;
		}
		d.clear_tid = t->have_clear_tid ? t->clear_tid : 0;
		d.robust_list = t->robust_head;
		d.robust_len = t->robust_len;
		if (t->rseq_len) {
			d.rseq = t->rseq_addr;
			d.rseq_len = t->rseq_len;
			d.rseq_sig = t->rseq_sig;
		}
		r = restore_req_add_thread(req, &d);
		if (r)
			return r;
	}
	return 0;
}

static int add_signals(struct restore_req *req, const struct ckpt_proc *p)
{
	int sig, r;

	if (!p->sig || p->sig->act_source != CKPT_SIGSRC_TRACEE) {
		pr_warn("pid %d: signal dispositions were not saved exactly; left at default",
			p->pid);
		return 0;
	}
	for (sig = 1; sig <= CKPT_NSIG; sig++) {
		const struct ckpt_sigaction *a = &p->sig->act[sig - 1];
		struct rp_sigaction k;

		if (sig == SIGKILL || sig == SIGSTOP || a->handler == 0 /* SIG_DFL */)
			continue;
		k.handler = a->handler;
		k.flags = a->flags;
		k.restorer = a->restorer;
		k.mask = a->mask;
		r = restore_req_set_sigaction(req, sig, &k);
		if (r)
			return r;
	}
	return 0;
}

static int add_vdso(struct restore_req *req, struct stager *st)
{
	const struct ckpt_proc *p = st->p;
	struct restore_vdso_desc d;
	const char *pol = getenv("DMTCP_RESTORE_VDSO");
	enum restore_vdso_policy policy = RESTORE_VDSO_AUTO;
	uint32_t k;
	int have = 0;

	memset(&d, 0, sizeof(d));
	for (k = 0; k < p->nvmas; k++) {
		const struct ckpt_vma *v = &p->vmas[k];

		switch (v->kind) {
		case CKPT_VMA_VVAR:
			d.vvar_start = v->start;
			d.vvar_end = v->end;
			break;
		case CKPT_VMA_VVAR_VCLOCK:
			d.vclock_start = v->start;
			d.vclock_end = v->end;
			break;
		case CKPT_VMA_VDSO:
			d.vdso_start = v->start;
			d.vdso_end = v->end;
			have = 1;
			/* Its pages, if the dumper kept them, let the proxy path match symbols. */
			if (st->vs[k].base) {
				d.vdso_image = st->vs[k].base;
				d.vdso_image_len = v->end - v->start;
			}
			break;
		default:
			break;
		}
	}
	if (!have)
		return 0;
	if (pol && !strcmp(pol, "proxy"))
		policy = RESTORE_VDSO_PROXY;
	else if (pol && !strcmp(pol, "move"))
		policy = RESTORE_VDSO_MOVE;
	return restore_req_set_vdso(req, &d, policy);
}

int prepare_image_req(const struct restart_set *s, int img, const struct shm_shared *sh,
		      int fd_base, struct restore_req **out, int *keep, int *nkeep)
{
	const struct restart_img *im = &s->img[img];
	const struct ckpt_proc *p = &im->proc;
	struct stager st = { .p = p, .img = im->path };
	struct restore_req *req = NULL;
	const struct image_section *sec = NULL;
	struct rp_mm mm;
	uint32_t k;
	int r;

	st.vs = calloc(p->nvmas + 1, sizeof(*st.vs));
	if (!st.vs)
		return -ENOMEM;
	for (k = 0; k < p->nvmas; k++)
		st.vs[k].idx = -1;
	r = restore_req_new(&req);
	if (r)
		goto out;
	/* Every region first: staging memory must avoid all of them. */
	for (k = 0; k < p->nvmas; k++) {
		const struct ckpt_vma *v = &p->vmas[k];

		switch (v->kind) {
		case CKPT_VMA_VDSO:
			if (v->npages_stored) {
				/* Kept only to find its symbols: ordinary memory, not mapped. */
				st.vs[k].base = malloc(v->end - v->start);
				if (!st.vs[k].base) {
					r = -ENOMEM;
					goto out;
				}
			}
			continue;
		case CKPT_VMA_VVAR:
		case CKPT_VMA_VVAR_VCLOCK:
		case CKPT_VMA_VSYSCALL:
			continue;
		case CKPT_VMA_OTHER:
			pr_warn("%s: region %#llx-%#llx (%s) cannot be restored; left out",
				im->path, (unsigned long long)v->start, (unsigned long long)v->end,
				v->path ? v->path : "");
			continue;
		default:
			break;
		}
		r = add_region(req, &st, k, sh, fd_base, keep, nkeep);
		if (r) {
			pr_err("%s: region %#llx-%#llx: cannot prepare it: %s", im->path,
			       (unsigned long long)v->start, (unsigned long long)v->end,
			       strerror(-r));
			goto out;
		}
	}
	for (k = 0; k < p->nvmas; k++) {
		r = stage_region(req, &st, k);
		if (r) {
			pr_err("%s: region %#llx-%#llx: no staging memory: %s", im->path,
			       (unsigned long long)p->vmas[k].start,
			       (unsigned long long)p->vmas[k].end, strerror(-r));
			goto out;
		}
	}
	/* Then the data, decompressed in place. */
	while ((sec = image_find_section(im->rd, CKPT_SEC_PAGES, sec))) {
		r = image_read_pages(im->rd, sec, run_dest, &st);
		if (!r && st.err)
			r = st.err;
		if (r) {
			pr_err("%s: cannot read its pages: %s", im->path, strerror(-r));
			goto out;
		}
	}
	split_bounces(&st);
	r = add_vdso(req, &st);
	if (!r)
		r = add_threads(req, p);
	if (!r)
		r = add_signals(req, p);
	if (r)
		goto out;
	memset(&mm, 0, sizeof(mm));
	mm.start_code = p->mm.start_code;
	mm.end_code = p->mm.end_code;
	mm.start_data = p->mm.start_data;
	mm.end_data = p->mm.end_data;
	mm.start_brk = p->mm.start_brk;
	mm.brk = p->mm.brk;
	mm.start_stack = p->mm.start_stack;
	mm.arg_start = p->mm.arg_start;
	mm.arg_end = p->mm.arg_end;
	mm.env_start = p->mm.env_start;
	mm.env_end = p->mm.env_end;
	restore_req_set_mm(req, &mm);
	add_exe(req, p, fd_base, keep, nkeep);
out:
	for (k = 0; k < p->nvmas; k++) {
		if (p->vmas[k].kind == CKPT_VMA_VDSO)
			free(st.vs[k].base);
		else if (st.vs[k].map_len)
			munmap(st.vs[k].base, st.vs[k].map_len);
		free(st.vs[k].runs);
	}
	free(st.vs);
	if (r) {
		for (k = 0; k < (uint32_t)st.nbounce; k++)
			free(st.bounce[k].buf);
		free(st.bounce);
		restore_req_free(req);
		return r;
	}
	*out = req;
	return 0;
}
