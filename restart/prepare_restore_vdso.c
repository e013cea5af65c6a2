/*
 * Libc side of the restorer, the vdso: decide between moving the current [vvar]/[vvar_vclock]/
 * [vdso] block to the saved addresses (same kernel) and proxying (the saved vdso restored as
 * data with its entry points jumping into the current one), and fill the plan's part for it.
 * DMTCP_RESTORE_VDSO=auto|move|proxy overrides the caller's policy (tests force the proxy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "restart/prepare_restore_int.h"

/* ---- vdso ------------------------------------------------------------------------------ */

static int saved_layout_matches(const struct restore_vdso_desc *s, const struct vdso_block *c)
{
	uint64_t sv[3][2] = { { s->vvar_start, s->vvar_end },
			      { s->vclock_start, s->vclock_end },
			      { s->vdso_start, s->vdso_end } };
	static const char *const names[3] = { "[vvar]", "[vvar_vclock]", "[vdso]" };
	uint64_t sbase = 0;
	unsigned int found = 0;

	for (int k = 0; k < 3; k++)
		if (sv[k][1] && (!sbase || sv[k][0] < sbase))
			sbase = sv[k][0];
	for (int k = 0; k < 3; k++) {
		int match = 0;

		if (!sv[k][1])
			continue;
		for (unsigned int i = 0; i < c->nr_parts; i++)
			if (!strcmp(c->parts[i].name, names[k]) &&
			    c->parts[i].end - c->parts[i].start == sv[k][1] - sv[k][0] &&
			    c->parts[i].start - c->start == sv[k][0] - sbase)
				match = 1;
		if (!match)
			return 0;
		found++;
	}
	return found == c->nr_parts;
}

static int overlaps_saved(struct restore_req *req, uint64_t s, uint64_t e)
{
	struct range *r = NULL;
	size_t n = 0, cap = 0;
	int hit = 0;

	if (collect_saved_ranges(req, &r, &n, &cap)) {
		free(r);
		return 1;
	}
	for (size_t i = 0; i < n && !hit; i++)
		hit = r[i].start < e && s < r[i].end;
	free(r);
	return hit;
}

int prepare_vdso_choice(struct restore_req *req, struct vdso_choice *vc)
{
	const char *env = getenv("DMTCP_RESTORE_VDSO");
	enum restore_vdso_policy pol = req->vdso_policy;
	int ret, same;

	memset(vc, 0, sizeof(*vc));
	if (env && *env) {
		if (!strcmp(env, "auto"))
			pol = RESTORE_VDSO_AUTO;
		else if (!strcmp(env, "move"))
			pol = RESTORE_VDSO_MOVE;
		else if (!strcmp(env, "proxy"))
			pol = RESTORE_VDSO_PROXY;
		else {
			pr_err("restore: DMTCP_RESTORE_VDSO=%s: expected auto, move or proxy", env);
			return -EINVAL;
		}
	}
	ret = collect_vdso_block(&vc->cur);
	if (ret == -ENOENT) {
		if (req->have_vdso) {
			pr_err("restore: the saved process had a vdso but this one has none");
			return -ENOENT;
		}
		vc->mode = RP_VDSO_NONE;
		return 0;
	}
	if (ret)
		return ret;
	vc->have_cur = 1;
	if (!req->have_vdso) {
		/* nothing saved to match: the block must merely keep out of the way */
		vc->mode = RP_VDSO_PROXY;
		vc->relocate = overlaps_saved(req, vc->cur.start, vc->cur.end);
		return 0;
	}
	same = saved_layout_matches(&req->vdso, &vc->cur);
	if (same && req->vdso.vdso_image) {
		const void *cur = (const void *)vc->cur.vdso_start;

		same = req->vdso.vdso_image_len == vc->cur.vdso_end - vc->cur.vdso_start &&
		       !memcmp(cur, req->vdso.vdso_image, req->vdso.vdso_image_len);
	}
	if (pol == RESTORE_VDSO_AUTO)
		pol = same ? RESTORE_VDSO_MOVE : RESTORE_VDSO_PROXY;
	if (pol == RESTORE_VDSO_MOVE && !saved_layout_matches(&req->vdso, &vc->cur)) {
		pr_err("restore: the saved vdso/vvar layout differs from this kernel's: cannot move "
		       "the vdso block to the saved addresses");
		return -EINVAL;
	}
	if (pol == RESTORE_VDSO_PROXY && !req->vdso.vdso_image) {
		pr_err("restore: the vdso must be proxied but the saved vdso pages are missing");
		return -EINVAL;
	}
	vc->mode = pol == RESTORE_VDSO_MOVE ? RP_VDSO_MOVE : RP_VDSO_PROXY;
	if (vc->mode == RP_VDSO_PROXY)
		vc->relocate = overlaps_saved(req, vc->cur.start, vc->cur.end);
	return 0;
}

/* Proxy path: the saved vdso comes back as data, the saved vvar parts as reservations. */
int prepare_vdso_proxy_vmas(struct restore_req *req)
{
	struct restore_vdso_desc *s = &req->vdso;
	struct restore_vma_desc v;
	void *p;
	uint64_t len = s->vdso_end - s->vdso_start;
	int ret;

	p = restore_stage_alloc(req, len, 0);
	if (!p)
		return -errno;
	memcpy(p, s->vdso_image, len);
	memset(&v, 0, sizeof(v));
	v.start = s->vdso_start;
	v.end = s->vdso_end;
	v.prot = PROT_READ | PROT_EXEC;
	v.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	v.src = RESTORE_SRC_STAGED;
	v.staged = p;
	v.fd = -1;
	ret = req_push_vma(req, &v, 1);
	/*
	 * Nothing may read the old vvar pages (the patched entry points never get that far), but
	 * their addresses stay reserved so the program's later mmaps do not land in them.
	 */
	for (int k = 0; k < 2 && !ret; k++) {
		uint64_t a = k ? s->vclock_start : s->vvar_start;
		uint64_t b = k ? s->vclock_end : s->vvar_end;

		if (!b)
			continue;
		memset(&v, 0, sizeof(v));
		v.start = a;
		v.end = b;
		v.prot = PROT_NONE;
		v.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
		v.src = RESTORE_SRC_ZERO;
		v.fd = -1;
		ret = req_push_vma(req, &v, 1);
	}
	return ret;
}

int prepare_plan_vdso(struct restore_req *req, struct restore_plan *p, char *area,
		     const struct area_layout *L, const struct vdso_choice *vc)
{
	struct rp_vdso *v = &p->vdso;
	uint64_t vdso_dest;
	int n;

	memset(v, 0, sizeof(*v));
	v->mode = vc->mode;
	if (!vc->have_cur)
		return 0;
	v->nr_parts = vc->cur.nr_parts;
	v->block_len = L->block_len;
	for (unsigned int i = 0; i < vc->cur.nr_parts; i++) {
		v->parts[i].cur_start = vc->cur.parts[i].start;
		v->parts[i].len = vc->cur.parts[i].end - vc->cur.parts[i].start;
		v->parts[i].off = vc->cur.parts[i].start - vc->cur.start;
	}
	v->scratch = (uint64_t)area + L->scratch_off;
	if (vc->mode == RP_VDSO_MOVE) {
		uint64_t lo = req->vdso.vdso_start;

		if (req->vdso.vvar_end && req->vdso.vvar_start < lo)
			lo = req->vdso.vvar_start;
		if (req->vdso.vclock_end && req->vdso.vclock_start < lo)
			lo = req->vdso.vclock_start;
		v->dest = lo;
		return 0;
	}
	v->dest = vc->relocate ? (uint64_t)area + L->home_off : vc->cur.start;
	if (!req->have_vdso)
		return 0;
	vdso_dest = v->dest + (vc->cur.vdso_start - vc->cur.start);
	n = prepare_vdso_patches(req->vdso.vdso_image, req->vdso.vdso_image_len,
				 req->vdso.vdso_start, (const void *)vc->cur.vdso_start,
				 vc->cur.vdso_end - vc->cur.vdso_start, vdso_dest, v->patches,
				 RP_MAX_VDSO_PATCH);
	if (n < 0)
		return n;
	v->nr_patches = (uint32_t)n;
	pr_info("restore: vdso proxied: %d entry points patched%s", n,
		vc->relocate ? ", current vdso block relocated" : "");
	return 0;
}

