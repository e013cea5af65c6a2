/*
 * Libc side of the restorer, address-space bookkeeping: this process's mappings, holes clear
 * of every saved region and current mapping (staging memory, the restore area), and the list
 * of ranges the blob unmaps. See prepare_restore.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "procfs.h"
#include "restart/prepare_restore_int.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

int req_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	void *n;
	size_t c;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	n = realloc(*arr, c * elem);
	if (!n)
		return -ENOMEM;
	memset((char *)n + *cap * elem, 0, (c - *cap) * elem);
	*arr = n;
	*cap = c;
	return 0;
}

/* ---- address-space bookkeeping ------------------------------------------------------------ */

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

struct ranges {
	struct range **r;
	size_t *n, *cap;
	int nomem;
};

static int add_self_map(const struct procfs_map *m, void *arg)
{
	struct ranges *rs = arg;

	if (req_grow((void **)rs->r, rs->cap, *rs->n + 1, sizeof(**rs->r))) {
		rs->nomem = 1;
		return -ENOMEM;
	}
	(*rs->r)[*rs->n].start = m->start;
	(*rs->r)[*rs->n].end = m->end;
	(*rs->n)++;
	return 0;
}

/* Append this process's mappings (all of them, [vsyscall] too) to *r. */
static int collect_self_maps(struct range **r, size_t *n, size_t *cap)
{
	struct ranges rs = { r, n, cap, 0 };
	int ret = procfs_each_map(0, add_self_map, &rs);

	if (ret && !rs.nomem)
		pr_err("restore: cannot read /proc/self/maps: %s", strerror(-ret));
	return ret;
}

/* Every address the restored process will use: saved regions and the saved vdso block. */
int collect_saved_ranges(struct restore_req *req, struct range **r, size_t *n, size_t *cap)
{
	int ret;

	for (size_t i = 0; i < req->nr_vmas; i++) {
		ret = req_grow((void **)r, cap, *n + 1, sizeof(**r));
		if (ret)
			return ret;
		(*r)[*n].start = req->vmas[i].d.start;
		(*r)[(*n)++].end = req->vmas[i].d.end;
	}
	if (req->have_vdso) {
		uint64_t lo = req->vdso.vdso_start, hi = req->vdso.vdso_end;

		if (req->vdso.vvar_end) {
			lo = lo < req->vdso.vvar_start ? lo : req->vdso.vvar_start;
			hi = hi > req->vdso.vvar_end ? hi : req->vdso.vvar_end;
		}
		if (req->vdso.vclock_end) {
			lo = lo < req->vdso.vclock_start ? lo : req->vdso.vclock_start;
			hi = hi > req->vdso.vclock_end ? hi : req->vdso.vclock_end;
		}
		ret = req_grow((void **)r, cap, *n + 1, sizeof(**r));
		if (ret)
			return ret;
		(*r)[*n].start = lo;
		(*r)[(*n)++].end = hi;
	}
	return 0;
}

/*
 * Find len bytes clear of every saved range and current mapping (with a guard page either
 * side), highest hole first as the kernel does, and map them read+write there.
 */
void *map_clear_hole(struct restore_req *req, size_t len, int flags, int fd)
{
	struct range *r = NULL;
	size_t n = 0, cap = 0;
	uint64_t top = USER_HIGH;
	void *res = MAP_FAILED;
	int ret;

	ret = collect_saved_ranges(req, &r, &n, &cap);
	if (!ret)
		ret = collect_self_maps(&r, &n, &cap);
	if (ret) {
		free(r);
		errno = -ret;
		return NULL;
	}
	qsort(r, n, sizeof(*r), cmp_range);
	/* saved and current ranges overlap each other: merge into a disjoint union first */
	if (n) {
		size_t m = 0;

		for (size_t i = 1; i < n; i++) {
			if (r[i].start <= r[m].end) {
				if (r[i].end > r[m].end)
					r[m].end = r[i].end;
			} else {
				r[++m] = r[i];
			}
		}
		n = m + 1;
	}
	/* holes from the top: hole i lies between r[i-1].end and r[i].start */
	for (size_t i = n + 1; i-- > 0;) {
		uint64_t hole_hi = i == n ? USER_HIGH : r[i].start;
		uint64_t hole_lo = i == 0 ? USER_LOW : r[i - 1].end;
		uint64_t want;

		if (hole_hi > top)
			hole_hi = top;
		if (hole_lo < USER_LOW)
			hole_lo = USER_LOW;
		if (hole_hi <= hole_lo || hole_hi - hole_lo < len + 2 * GUARD)
			continue;
		want = hole_hi - GUARD - len;
		res = mmap((void *)want, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | (fd < 0 ? MAP_ANONYMOUS : 0) | MAP_FIXED_NOREPLACE | flags,
			   fd, 0);
		if (res != MAP_FAILED)
			break;
		if (errno != EEXIST)
			break;
		/* something appeared there meanwhile: try lower */
		top = want;
		i++;
	}
	free(r);
	if (res == MAP_FAILED) {
		if (errno == EEXIST || errno == 0)
			errno = ENOMEM;
		return NULL;
	}
	return res;
}

void *restore_stage_alloc(struct restore_req *req, size_t len, int flags)
{
	void *p;

	if (!len || len & (PAGE_SZ - 1) || flags & ~(MAP_GROWSDOWN | MAP_NORESERVE)) {
		pr_err("restore: stage of %zu bytes with flags %#x: length must be whole pages, "
		       "flags only MAP_GROWSDOWN|MAP_NORESERVE", len, flags);
		errno = EINVAL;
		return NULL;
	}
	if (req_grow((void **)&req->stages, &req->cap_stages, req->nr_stages + 1,
		     sizeof(*req->stages))) {
		errno = ENOMEM;
		return NULL;
	}
	p = map_clear_hole(req, len, flags, -1);
	if (!p) {
		pr_err("restore: no room for %zu bytes of staging memory clear of the saved "
		       "regions: %s", len, strerror(errno));
		return NULL;
	}
	req->stages[req->nr_stages].start = (uint64_t)p;
	req->stages[req->nr_stages].len = len;
	req->stages[req->nr_stages].used = 0;
	req->nr_stages++;
	return p;
}

struct stage *find_stage(struct restore_req *req, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < req->nr_stages; i++) {
		struct stage *s = &req->stages[i];

		if (addr >= s->start && addr + len <= s->start + s->len && addr + len >= addr)
			return s;
	}
	return NULL;
}

int count_self_maps(size_t *n)
{
	struct range *r = NULL;
	size_t cap = 0;
	int ret;

	*n = 0;
	ret = collect_self_maps(&r, n, &cap);
	free(r);
	return ret;
}

/* The unmap list: every current mapping minus the kept ranges. */
int build_unmap(struct restore_req *req, struct restore_plan *p, const struct area_layout *L,
		       const struct vdso_choice *vc)
{
	struct range *maps = NULL, *keep = NULL;
	size_t nm = 0, cm = 0, nk = 0, ck = 0;
	struct rp_range *out = RP_ARRAY(p, struct rp_range, p->unmap_off);
	int ret;

	ret = collect_self_maps(&maps, &nm, &cm);
	if (ret)
		goto out;
	ret = req_grow((void **)&keep, &ck, req->nr_stages + RP_MAX_VDSO_PARTS + 2, sizeof(*keep));
	if (ret)
		goto out;
	keep[nk++] = (struct range){ p->area_start, p->area_end };
	keep[nk++] = (struct range){ 0xffffffffff600000UL, 0xffffffffff601000UL }; /* [vsyscall] */
	for (size_t i = 0; i < req->nr_stages; i++)
		if (req->stages[i].used)
			keep[nk++] = (struct range){ req->stages[i].start,
						     req->stages[i].start + req->stages[i].len };
	for (unsigned int i = 0; vc->have_cur && i < vc->cur.nr_parts; i++)
		keep[nk++] = (struct range){ vc->cur.parts[i].start, vc->cur.parts[i].end };
	qsort(keep, nk, sizeof(*keep), cmp_range);
	qsort(maps, nm, sizeof(*maps), cmp_range);
	p->nr_unmap = 0;
	for (size_t i = 0; i < nm; i++) {
		uint64_t s = maps[i].start, e = maps[i].end;

		for (size_t k = 0; k < nk && s < e; k++) {
			if (keep[k].end <= s || keep[k].start >= e)
				continue;
			if (keep[k].start > s) {
				if (p->nr_unmap == L->max_unmap)
					goto full;
				out[p->nr_unmap++] = (struct rp_range){ s, keep[k].start };
			}
			s = keep[k].end;
		}
		if (s < e) {
			if (p->nr_unmap == L->max_unmap)
				goto full;
			out[p->nr_unmap++] = (struct rp_range){ s, e };
		}
	}
	goto out;
full:
	pr_err("restore: more mappings to unmap than the %zu planned", L->max_unmap);
	ret = -E2BIG;
out:
	free(maps);
	free(keep);
	return ret;
}

