/*
 * Libc-side vdso helpers of the restorer; see vdso.h.
 *
 * The proxy path exists because a saved program holds addresses inside its old vdso (glibc
 * caches __vdso_clock_gettime & co. at startup, and AT_SYSINFO_EHDR in its auxv): when the
 * kernel's vdso differs, the old code is restored as plain data and each exported function is
 * overwritten with a jump to the same-named function of the current vdso. Symbols are taken
 * from .dynsym, whose values are offsets from the image's load address (vdsos link at 0).
 */
#include "restart/vdso.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "procfs.h"

/* The patch written by the blob: movabs $target, %r11; jmp *%r11 */
#define VDSO_PATCH_LEN 13

struct vdso_scan {
	struct vdso_block *b;
	int err; /* set when a mapping of the block is wrong (logged) */
};

static int add_vdso_part(const struct procfs_map *m, void *arg)
{
	struct vdso_scan *sc = arg;
	struct vdso_block *b = sc->b;
	const char *name = m->path;

	if (strcmp(name, "[vvar]") && strcmp(name, "[vvar_vclock]") && strcmp(name, "[vdso]"))
		return 0;
	if (b->nr_parts == RP_MAX_VDSO_PARTS) {
		pr_err("more than %d vdso/vvar mappings in /proc/self/maps", RP_MAX_VDSO_PARTS);
		return sc->err = -E2BIG;
	}
	if (b->nr_parts && m->start != b->parts[b->nr_parts - 1].end) {
		pr_err("vdso/vvar mappings are not adjacent (%s at %#llx)", name,
		       (unsigned long long)m->start);
		return sc->err = -EINVAL;
	}
	b->parts[b->nr_parts].start = m->start;
	b->parts[b->nr_parts].end = m->end;
	snprintf(b->parts[b->nr_parts].name, sizeof(b->parts[0].name), "%s", name);
	b->nr_parts++;
	if (!strcmp(name, "[vdso]")) {
		b->vdso_start = m->start;
		b->vdso_end = m->end;
	}
	return 0;
}

int collect_vdso_block(struct vdso_block *b)
{
	struct vdso_scan sc = { .b = b };
	int ret;

	memset(b, 0, sizeof(*b));
	ret = procfs_each_map(0, add_vdso_part, &sc);
	if (ret) {
		if (!sc.err)
			pr_err("cannot read /proc/self/maps: %s", strerror(-ret));
		return ret;
	}
	if (!b->nr_parts || !b->vdso_start)
		return -ENOENT;
	b->start = b->parts[0].start;
	b->end = b->parts[b->nr_parts - 1].end;
	return 0;
}

struct vdso_sym {
	char name[64];
	uint64_t value;
	uint64_t size;
};

static int cmp_sym_value(const void *a, const void *b)
{
	const struct vdso_sym *x = a, *y = b;

	return x->value < y->value ? -1 : x->value > y->value;
}

/* Exported functions of an in-memory vdso image; returns the count or -errno. */
static int collect_vdso_syms(const void *img, size_t len, const char *which,
			     struct vdso_sym **out)
{
	char *copy;
	Elf *e;
	Elf_Scn *scn = NULL;
	struct vdso_sym *syms = NULL;
	int n = 0, ret = -ENOEXEC;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	/* libelf wants a writable buffer it may keep pointers into */
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, img, len);
	e = elf_memory(copy, len);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		pr_err("%s vdso: not an ELF image: %s", which, elf_errmsg(-1));
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t count;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			break;
		count = sh.sh_size / sh.sh_entsize;
		syms = calloc(count ? count : 1, sizeof(*syms));
		if (!syms) {
			ret = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < count; i++) {
			GElf_Sym s;
			const char *name;

			if (!gelf_getsym(d, (int)i, &s))
				continue;
			if (GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF ||
			    GELF_ST_BIND(s.st_info) == STB_LOCAL)
				continue;
			name = elf_strptr(e, sh.sh_link, s.st_name);
			if (!name || strlen(name) >= sizeof(syms[0].name))
				continue;
			snprintf(syms[n].name, sizeof(syms[n].name), "%s", name);
			syms[n].value = s.st_value;
			syms[n].size = s.st_size;
			n++;
		}
		break;
	}
	if (!syms) {
		pr_err("%s vdso: no .dynsym section", which);
		goto out;
	}
	*out = syms;
	syms = NULL;
	ret = n;
out:
	free(syms);
	if (e)
		elf_end(e);
	free(copy);
	return ret;
}

int prepare_vdso_patches(const void *saved, size_t saved_len, uint64_t saved_base,
			 const void *cur, size_t cur_len, uint64_t cur_base,
			 struct rp_vdso_patch *out, unsigned int max)
{
	struct vdso_sym *ss = NULL, *cs = NULL;
	int ns, nc, ret;
	unsigned int np = 0;

	ns = collect_vdso_syms(saved, saved_len, "saved", &ss);
	if (ns < 0)
		return ns;
	nc = collect_vdso_syms(cur, cur_len, "current", &cs);
	if (nc < 0) {
		free(ss);
		return nc;
	}
	/* in address order, so that aliases (clock_gettime / __vdso_clock_gettime) fold */
	qsort(ss, ns, sizeof(*ss), cmp_sym_value);
	for (int i = 0; i < ns; i++) {
		const struct vdso_sym *match = NULL;

		if (np && out[np - 1].at == saved_base + ss[i].value)
			continue;
		for (int j = 0; j < nc && !match; j++)
			if (!strcmp(ss[i].name, cs[j].name))
				match = &cs[j];
		if (!match) {
			/* an alias at the same address may still match: look ahead */
			int k;

			for (k = i + 1; k < ns && ss[k].value == ss[i].value; k++)
				for (int j = 0; j < nc && !match; j++)
					if (!strcmp(ss[k].name, cs[j].name))
						match = &cs[j];
			if (!match) {
				pr_warn("saved vdso function %s has no counterpart in this kernel's "
					"vdso; it is left unpatched", ss[i].name);
				continue;
			}
		}
		if (ss[i].value + VDSO_PATCH_LEN > saved_len ||
		    (ss[i].size && ss[i].size < VDSO_PATCH_LEN)) {
			pr_err("saved vdso function %s (%llu bytes) cannot hold a %d-byte jump",
			       ss[i].name, (unsigned long long)ss[i].size, VDSO_PATCH_LEN);
			ret = -EINVAL;
			goto out;
		}
		if (np && out[np - 1].at + VDSO_PATCH_LEN > saved_base + ss[i].value) {
			pr_err("saved vdso functions at %#llx and %#llx are too close for a jump each",
			       (unsigned long long)out[np - 1].at,
			       (unsigned long long)(saved_base + ss[i].value));
			ret = -EINVAL;
			goto out;
		}
		if (match->value >= cur_len) {
			pr_err("current vdso symbol %s lies outside its image", match->name);
			ret = -ENOEXEC;
			goto out;
		}
		if (np == max) {
			pr_err("saved vdso exports more than %u functions", max);
			ret = -ENOSPC;
			goto out;
		}
		out[np].at = saved_base + ss[i].value;
		out[np].target = cur_base + match->value;
		pr_debug("vdso proxy: %s %#llx -> %#llx", ss[i].name,
			 (unsigned long long)out[np].at, (unsigned long long)out[np].target);
		np++;
	}
	ret = (int)np;
out:
	free(ss);
	free(cs);
	return ret;
}
