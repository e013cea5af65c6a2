/*
 * Backtraces of stopped tracees with libunwind-ptrace (see backtrace.h). libunwind reads the
 * thread's registers and memory through ptrace and finds each frame's unwind rules through
 * the .eh_frame_hdr index of the object the frame is in; the object's name comes from
 * /proc/PID/maps.
 *
 * A statically linked program usually has .eh_frame but no .eh_frame_hdr (gcc asks the linker
 * for the index only when it links dynamically), and libunwind-ptrace then knows nothing past
 * the first frame. For such an object the index is built here from its .eh_frame (read with
 * libelf): one entry per FDE, sorted by start address, in the "remote table" form libunwind's
 * DWARF search takes. The table lives in the tracer; the accessors serve reads of it at an
 * address no tracee uses, and everything else from the tracee as libunwind-ptrace does.
 */
#include "backtrace.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <libunwind-ptrace.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

/* libunwind's DWARF search over an index table, the entry point its own ptrace accessors use
 * (not in its public headers; perf declares it the same way). */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
					      unw_dyn_info_t *di, unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

/* Where the built table seems to be for libunwind: a kernel address, never a tracee's. */
#define TABLE_ADDR 0xffffff0000000000ull

/* One entry of libunwind's remote table: offsets from the segment base. */
struct table_entry {
	int32_t start_ip_offset;
	int32_t fde_offset;
};

/* The .eh_frame index of the object a frame is in (one at a time, rebuilt when it moves). */
struct eh_index {
	char path[256];
	uint64_t text_start, text_end; /* the object's executable mapping */
	uint64_t segbase;	       /* .eh_frame's address in the tracee */
	struct table_entry *table;
	size_t n;
};

struct bt_ctx {
	void *upt; /* libunwind-ptrace's own argument */
	pid_t pid;
	struct eh_index idx;
};

/* ---- reading .eh_frame ----------------------------------------------------------------- */

struct reader {
	const uint8_t *p, *end;
	uint64_t addr; /* the tracee address of p */
	int bad;
};

static uint64_t rd_uleb(struct reader *r)
{
	uint64_t v = 0;
	int shift = 0;

	while (r->p < r->end) {
		uint8_t b = *r->p++;

		r->addr++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

static void rd_skip(struct reader *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		r->p = r->end;
		return;
	}
	r->p += n;
	r->addr += n;
}

static uint64_t rd_fixed(struct reader *r, size_t n, int is_signed)
{
	uint64_t v = 0;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, n); /* x86_64: little-endian, as the tracee */
	if (is_signed && n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~0ull << (8 * n);
	rd_skip(r, n);
	return v;
}

/* A DW_EH_PE_* encoded pointer (absolute, or relative to where it is stored). */
static uint64_t rd_encoded(struct reader *r, uint8_t enc)
{
	uint64_t at = r->addr, v;

	switch (enc & 0x0f) {
	case 0x00: v = rd_fixed(r, 8, 0); break; /* absptr */
	case 0x02: v = rd_fixed(r, 2, 0); break; /* udata2 */
	case 0x03: v = rd_fixed(r, 4, 0); break; /* udata4 */
	case 0x04: v = rd_fixed(r, 8, 0); break; /* udata8 */
	case 0x0a: v = rd_fixed(r, 2, 1); break; /* sdata2 */
	case 0x0b: v = rd_fixed(r, 4, 1); break; /* sdata4 */
	case 0x0c: v = rd_fixed(r, 8, 1); break; /* sdata8 */
	default: r->bad = 1; return 0;
	}
	if ((enc & 0x70) == 0x10) /* pcrel */
		v += at;
	else if (enc & 0x70)
		r->bad = 1; /* textrel, datarel, funcrel: not produced for .eh_frame on x86_64 */
	return v;
}

/* The FDE pointer encoding of the CIE at cie (its 'R' augmentation; absptr without one). */
static int cie_encoding(const uint8_t *sec, size_t size, uint64_t sec_addr, size_t cie,
			uint8_t *enc)
{
	struct reader r = { sec + cie, sec + size, sec_addr + cie, 0 };
	uint32_t len = (uint32_t)rd_fixed(&r, 4, 0);
	const char *aug;
	uint8_t version;

	if (len == 0xffffffff || len == 0 || rd_fixed(&r, 4, 0) != 0)
		return -EINVAL; /* not a 32-bit CIE */
	version = (uint8_t)rd_fixed(&r, 1, 0);
	aug = (const char *)r.p;
	while (r.p < r.end && *r.p)
		rd_skip(&r, 1);
	rd_skip(&r, 1);
	rd_uleb(&r);			     /* code alignment */
	rd_uleb(&r);			     /* data alignment (sleb: same length) */
	if (version == 1)
		rd_skip(&r, 1);		     /* return address register */
	else
		rd_uleb(&r);
	*enc = 0x00;
	if (aug[0] != 'z')
		return r.bad ? -EINVAL : 0;
	rd_uleb(&r); /* augmentation data length */
	for (aug++; *aug && !r.bad; aug++) {
		switch (*aug) {
		case 'R':
			*enc = (uint8_t)rd_fixed(&r, 1, 0);
			return r.bad ? -EINVAL : 0;
		case 'P': {
			uint8_t penc = (uint8_t)rd_fixed(&r, 1, 0);

			rd_encoded(&r, penc & 0x7f);
			break;
		}
		case 'L':
			rd_skip(&r, 1);
			break;
		case 'S':
		case 'B':
			break;
		default:
			return -EINVAL;
		}
	}
	return r.bad ? -EINVAL : 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct table_entry *x = a, *y = b;

	return (x->start_ip_offset > y->start_ip_offset) - (x->start_ip_offset < y->start_ip_offset);
}

/* Every FDE of .eh_frame (at sec_addr in the tracee) as a table entry. */
static int index_eh_frame(struct eh_index *ix, const uint8_t *sec, size_t size, uint64_t sec_addr)
{
	size_t off = 0, cap = 0;

	ix->segbase = sec_addr;
	while (off + 8 <= size) {
		struct reader r = { sec + off, sec + size, sec_addr + off, 0 };
		uint32_t len = (uint32_t)rd_fixed(&r, 4, 0), id;
		size_t cie_at, next;
		uint8_t enc;
		uint64_t start;

		if (len == 0)
			break; /* the terminator */
		if (len == 0xffffffff)
			return -ENOTSUP; /* 64-bit entries: never in practice on x86_64 */
		next = off + 4 + len;
		if (next > size)
			return -EINVAL;
		id = (uint32_t)rd_fixed(&r, 4, 0);
		if (id != 0) {
			/* an FDE: id is the distance back to its CIE from the id field */
			cie_at = off + 4 - id;
			if (id > off + 4 || cie_encoding(sec, size, sec_addr, cie_at, &enc))
				return -EINVAL;
			start = rd_encoded(&r, enc);
			if (r.bad)
				return -EINVAL;
			if (ix->n == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct table_entry *t = realloc(ix->table, ncap * sizeof(*t));

				if (!t)
					return -ENOMEM;
				ix->table = t;
				cap = ncap;
			}
			ix->table[ix->n].start_ip_offset = (int32_t)(start - sec_addr);
			ix->table[ix->n].fde_offset = (int32_t)off;
			ix->n++;
		}
		off = next;
	}
	qsort(ix->table, ix->n, sizeof(*ix->table), cmp_entry);
	return ix->n ? 0 : -ENOENT;
}

struct which_obj {
	uint64_t ip;
	struct procfs_map m;
	char path[256];
	uint64_t base; /* the address of file offset 0 (the object's load base) */
	int found;
};

static int which_obj(const struct procfs_map *m, void *arg)
{
	struct which_obj *w = arg;

	if (w->ip < m->start || w->ip >= m->end)
		return 0;
	w->m = *m;
	snprintf(w->path, sizeof(w->path), "%s", m->path);
	w->found = 1;
	return -1;
}

/* Build the index of the object that holds ip from its file's .eh_frame. */
static int build_index(struct bt_ctx *c, uint64_t ip)
{
	struct which_obj w = { .ip = ip };
	struct eh_index *ix = &c->idx;
	Elf *e = NULL;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstr;
	uint64_t bias = 0;
	int fd, r = -ENOENT;

	procfs_each_map(c->pid, which_obj, &w);
	if (!w.found || w.path[0] != '/')
		return -ENOENT;
	if (!strcmp(ix->path, w.path) && ip >= ix->text_start && ip < ix->text_end)
		return ix->n ? 0 : -ENOENT;
	free(ix->table);
	memset(ix, 0, sizeof(*ix));
	snprintf(ix->path, sizeof(ix->path), "%s", w.path);
	ix->text_start = w.m.start;
	ix->text_end = w.m.end;
	fd = open(w.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || !gelf_getehdr(e, &eh) || elf_getshdrstrndx(e, &shstr))
		goto out;
	/* a position-independent object is loaded at a bias: its executable mapping's
	 * address minus the vaddr its file offset has in the text segment */
	if (eh.e_type == ET_DYN) {
		size_t i, nph;

		if (elf_getphdrnum(e, &nph))
			goto out;
		for (i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			if (w.m.offset >= ph.p_offset && w.m.offset < ph.p_offset + ph.p_filesz) {
				bias = w.m.start - (ph.p_vaddr + (w.m.offset - ph.p_offset));
				break;
			}
		}
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh))
			break;
		name = elf_strptr(e, shstr, sh.sh_name);
		if (!name || strcmp(name, ".eh_frame") || sh.sh_type != SHT_PROGBITS)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && d->d_buf && d->d_size)
			r = index_eh_frame(ix, d->d_buf, d->d_size, sh.sh_addr + bias);
		break;
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return r;
}

/* ---- the accessors --------------------------------------------------------------------- */

/*
 * The accessors are called with the argument given to unw_init_remote() (our context), and
 * also, from inside _UPT_find_proc_info(), with libunwind-ptrace's own: so the context is
 * known here as the one backtrace under way (the tracer is single-threaded), and every
 * argument is passed on to libunwind-ptrace as its own.
 */
static struct bt_ctx *current;

static void *upt_arg(void *arg)
{
	return arg == current ? current->upt : arg;
}

static int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need,
			  void *arg)
{
	struct bt_ctx *c = current;
	unw_dyn_info_t di;
	int r = _UPT_find_proc_info(as, ip, pi, need, upt_arg(arg));

	if (r != -UNW_ENOINFO || !c || build_index(c, ip))
		return r;
	/* no .eh_frame_hdr: search the table built from .eh_frame */
	memset(&di, 0, sizeof(di));
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = c->idx.text_start;
	di.end_ip = c->idx.text_end;
	di.u.rti.segbase = c->idx.segbase;
	di.u.rti.table_data = TABLE_ADDR;
	/* in words; one 8-byte entry is one word */
	di.u.rti.table_len = c->idx.n * sizeof(struct table_entry) / sizeof(unw_word_t);
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need, arg);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	_UPT_put_unwind_info(as, pi, upt_arg(arg));
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	return _UPT_get_dyn_info_list_addr(as, addr, upt_arg(arg));
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
		      void *arg)
{
	struct bt_ctx *c = current;
	uint64_t size = c ? c->idx.n * sizeof(struct table_entry) : 0;

	if (addr >= TABLE_ADDR && addr - TABLE_ADDR + sizeof(*val) <= size) {
		if (write)
			return -UNW_EINVAL;
		memcpy(val, (const char *)c->idx.table + (addr - TABLE_ADDR), sizeof(*val));
		return 0;
	}
	return _UPT_access_mem(as, addr, val, write, upt_arg(arg));
}

static int access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
		      void *arg)
{
	return _UPT_access_reg(as, reg, val, write, upt_arg(arg));
}

static int access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			void *arg)
{
	return _UPT_access_fpreg(as, reg, val, write, upt_arg(arg));
}

static int resume(unw_addr_space_t as, unw_cursor_t *cur, void *arg)
{
	return _UPT_resume(as, cur, upt_arg(arg));
}

static int get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t n,
			 unw_word_t *off, void *arg)
{
	return _UPT_get_proc_name(as, ip, buf, n, off, upt_arg(arg));
}

static unw_accessors_t accessors = {
	.find_proc_info = find_proc_info,
	.put_unwind_info = put_unwind_info,
	.get_dyn_info_list_addr = get_dyn_info_list_addr,
	.access_mem = access_mem,
	.access_reg = access_reg,
	.access_fpreg = access_fpreg,
	.resume = resume,
	.get_proc_name = get_proc_name,
};

/* ---- the backtrace --------------------------------------------------------------------- */

struct frame_objs {
	struct bt_frame *f;
	int n;
};

/* One pass over the maps names the object of every frame (a frame nothing maps stays "?"). */
static int frame_objs(const struct procfs_map *m, void *arg)
{
	struct frame_objs *fo = arg;

	for (int i = 0; i < fo->n; i++)
		if (fo->f[i].ip >= m->start && fo->f[i].ip < m->end)
			snprintf(fo->f[i].obj, sizeof(fo->f[i].obj), "%s",
				 *m->path ? m->path : "anonymous");
	return 0;
}

int backtrace_frames(pid_t pid, pid_t tid, struct bt_frame *f, int max)
{
	struct bt_ctx c = { .pid = pid };
	struct frame_objs fo = { f, 0 };
	unw_addr_space_t as;
	unw_cursor_t cur;
	int frames = 0;

	if (max <= 0)
		return -EINVAL;
	as = unw_create_addr_space(&accessors, 0);
	if (!as)
		return -ENOMEM;
	c.upt = _UPT_create(tid);
	if (!c.upt) {
		unw_destroy_addr_space(as);
		return -ENOMEM;
	}
	current = &c;
	if (unw_init_remote(&cur, as, &c) < 0) {
		frames = -EIO;
		goto out;
	}
	do {
		struct bt_frame *fr = &f[frames];
		unw_word_t ip = 0, off = 0;

		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0)
			break;
		memset(fr, 0, sizeof(*fr));
		fr->ip = ip;
		if (unw_get_proc_name(&cur, fr->func, sizeof(fr->func), &off) < 0) {
			snprintf(fr->func, sizeof(fr->func), "??");
			off = 0;
		}
		fr->off = off;
		snprintf(fr->obj, sizeof(fr->obj), "?");
		frames++;
	} while (frames < max && unw_step(&cur) > 0);
	fo.n = frames;
	if (frames > 0)
		procfs_each_map(pid, frame_objs, &fo);
out:
	current = NULL;
	_UPT_destroy(c.upt);
	unw_destroy_addr_space(as);
	free(c.idx.table);
	return frames;
}

int backtrace_thread(pid_t pid, pid_t tid, char *buf, size_t n)
{
	struct bt_frame *f;
	size_t used = 0;
	int frames, i;

	if (!n)
		return -EINVAL;
	buf[0] = '\0';
	f = calloc(BACKTRACE_MAX_FRAMES, sizeof(*f));
	if (!f)
		return -ENOMEM;
	frames = backtrace_frames(pid, tid, f, BACKTRACE_MAX_FRAMES);
	for (i = 0; i < frames; i++) {
		int w = snprintf(buf + used, n - used, "  #%d 0x%016llx in %s+0x%llx (%s)\n", i,
				 (unsigned long long)f[i].ip, f[i].func,
				 (unsigned long long)f[i].off, f[i].obj);

		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	free(f);
	return frames < 0 ? frames : i;
}
