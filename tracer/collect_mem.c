/*
 * Collecting the memory map of a suspended process and the page runs worth storing.
 *
 * /proc/PID/smaps gives every mapping with its protection, sharing, offset, device, inode and
 * path, plus VmFlags (growsdown, locked, dontdump, noreserve). Which pages to store is decided by kind:
 * private anonymous memory, [heap] and stacks store their present or swapped pages except
 * those mapping the shared zero page; private file mappings only their anonymous
 * (copy-on-write, i.e. written) pages; shared anonymous objects and deleted shared files their
 * populated pages, once per object in the tree; shared files, [vdso], [vvar] and device
 * mappings nothing. Pages are found with the PAGEMAP_SCAN ioctl when the kernel has it
 * (tracer/probe.h; DMTCP_PAGEMAP_SCAN=0 turns it off), else by reading /proc/PID/pagemap
 * entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "collect.h"
#include "log.h"
#include "pagemap_scan.h"
#include "probe.h"
#include "procfs.h"
#include "regs.h"

/* /proc/PID/pagemap entry bits */
#define PME_PRESENT (1ull << 63)
#define PME_SWAPPED (1ull << 62)
#define PME_FILE    (1ull << 61) /* file page or shared anonymous */

const char *collect_mem_method(void)
{
	return kfeat()->pagemap_scan ? "PAGEMAP_SCAN" : "pagemap";
}

/* What to look for in one vma. */
enum want {
	WANT_NONE,
	WANT_PRIVATE, /* present or swapped, not the zero page */
	WANT_COW,     /* the above, and anonymous (not a page-cache page) */
	WANT_OBJECT,  /* every populated page of a shared object */
};

struct run_list {
	struct ckpt_pagerun *r;
	uint32_t n, cap;
};

static int add_run(struct ckpt_proc *p, struct run_list *l, uint32_t vma, uint64_t start,
		   uint64_t end)
{
	uint64_t npages = (end - start) / CKPT_PAGE_SIZE;

	if (end <= start)
		return 0;
	/* Extend the previous run when contiguous and in the same vma. */
	if (l->n && l->r[l->n - 1].vma == vma &&
	    l->r[l->n - 1].vaddr + l->r[l->n - 1].npages * CKPT_PAGE_SIZE == start &&
	    l->r[l->n - 1].npages + npages <= UINT32_MAX) {
		l->r[l->n - 1].npages += (uint32_t)npages;
	} else {
		if (l->n == l->cap) {
			uint32_t cap = l->cap ? l->cap * 2 : 256;
			struct ckpt_pagerun *nr;

			if (l->n >= CKPT_MAX_RUNS)
				return -E2BIG;
			nr = realloc(l->r, cap * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			l->r = nr;
			l->cap = cap;
		}
		l->r[l->n].vaddr = start;
		l->r[l->n].npages = (uint32_t)npages;
		l->r[l->n].vma = vma;
		l->n++;
	}
	p->vmas[vma].npages_stored += (uint32_t)npages;
	p->pages_stored += npages;
	return 0;
}

static int scan_ioctl(int pmfd, struct ckpt_proc *p, struct run_list *l, uint32_t vi,
		      enum want w)
{
	struct ckpt_vma *v = &p->vmas[vi];
	struct pm_page_region reg[512];
	struct pm_scan_arg a;
	uint64_t pos = v->start;
	int i, n;

	while (pos < v->end) {
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.start = pos;
		a.end = v->end;
		a.vec = (uint64_t)(uintptr_t)reg;
		a.vec_len = sizeof(reg) / sizeof(reg[0]);
		/* page matches if not the zero page (and not a file page for COW) and present or
		 * swapped */
		a.category_inverted = PM_PAGE_IS_PFNZERO;
		a.category_mask = PM_PAGE_IS_PFNZERO;
		if (w == WANT_COW) {
			a.category_inverted |= PM_PAGE_IS_FILE;
			a.category_mask |= PM_PAGE_IS_FILE;
		}
		a.category_anyof_mask = PM_PAGE_IS_PRESENT | PM_PAGE_IS_SWAPPED;
		a.return_mask = PM_PAGE_IS_PRESENT | PM_PAGE_IS_SWAPPED;
		n = ioctl(pmfd, PM_PAGEMAP_SCAN, &a);
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++) {
			int rc = add_run(p, l, vi, reg[i].start, reg[i].end);

			if (rc)
				return rc;
		}
		if (a.walk_end <= pos)
			break; /* no progress: should not happen, do not loop forever */
		pos = a.walk_end;
	}
	return 0;
}

static int scan_pagemap(int pmfd, struct ckpt_proc *p, struct run_list *l, uint32_t vi,
			enum want w)
{
	struct ckpt_vma *v = &p->vmas[vi];
	uint64_t ent[4096], addr = v->start, start = 0;
	int in_run = 0, rc;

	while (addr < v->end) {
		uint64_t npages = (v->end - addr) / CKPT_PAGE_SIZE, i;
		ssize_t got;

		if (npages > 4096)
			npages = 4096;
		got = pread(pmfd, ent, npages * 8, (off_t)(addr / CKPT_PAGE_SIZE * 8));
		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		npages = (uint64_t)got / 8;
		for (i = 0; i < npages; i++, addr += CKPT_PAGE_SIZE) {
			/* Without the zero-page category (PFNs are hidden from non-root) a page
			 * that was only read is stored: correct, just not free. */
			int want = (ent[i] & (PME_PRESENT | PME_SWAPPED)) &&
				   !(w == WANT_COW && (ent[i] & PME_FILE));

			if (want && !in_run) {
				start = addr;
				in_run = 1;
			} else if (!want && in_run) {
				if ((rc = add_run(p, l, vi, start, addr)))
					return rc;
				in_run = 0;
			}
		}
	}
	if (in_run)
		return add_run(p, l, vi, start, addr);
	return 0;
}

/*
 * A shared object (shmem, memfd, deleted shared file) holds pages that this process may never
 * have touched: its pagemap does not show them. Open the object through
 * /proc/PID/map_files and ask the file system where data is (SEEK_DATA/SEEK_HOLE); when that
 * is not allowed (map_files needs CAP_CHECKPOINT_RESTORE), store the whole range.
 */
static int scan_object(pid_t pid, struct ckpt_proc *p, struct run_list *l, uint32_t vi)
{
	struct ckpt_vma *v = &p->vmas[vi];
	char name[64];
	off_t off, data, hole, lim = (off_t)(v->pgoff + (v->end - v->start));
	int fd, rc = 0;

	snprintf(name, sizeof(name), "map_files/%llx-%llx", (unsigned long long)v->start,
		 (unsigned long long)v->end);
	fd = procfs_open(pid, 0, name, O_RDONLY);
	if (fd < 0)
		return add_run(p, l, vi, v->start, v->end);
	for (off = (off_t)v->pgoff; off < lim && !rc; off = hole) {
		data = lseek(fd, off, SEEK_DATA);
		if (data < 0 || data >= lim)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > lim)
			hole = lim;
		data &= ~(off_t)(CKPT_PAGE_SIZE - 1);
		hole = (hole + (off_t)CKPT_PAGE_SIZE - 1) & ~(off_t)(CKPT_PAGE_SIZE - 1);
		if (hole > lim)
			hole = lim;
		rc = add_run(p, l, vi, v->start + (uint64_t)(data - (off_t)v->pgoff),
			     v->start + (uint64_t)(hole - (off_t)v->pgoff));
	}
	close(fd);
	return rc;
}

static uint32_t classify(struct ckpt_vma *v, char shared)
{
	char *path = v->path;
	size_t len = strlen(path);
	static const char del[] = " (deleted)";

	if (len > sizeof(del) - 1 && !strcmp(path + len - (sizeof(del) - 1), del)) {
		v->flags |= CKPT_VMA_F_DELETED;
		path[len - (sizeof(del) - 1)] = 0;
	}
	if (shared == 's')
		v->flags |= CKPT_VMA_F_SHARED;
	if (!strcmp(path, "[heap]"))
		return CKPT_VMA_HEAP;
	if (!strcmp(path, "[stack]"))
		return CKPT_VMA_STACK;
	if (!strcmp(path, "[vdso]"))
		return CKPT_VMA_VDSO;
	if (!strcmp(path, "[vvar]"))
		return CKPT_VMA_VVAR;
	if (!strcmp(path, "[vvar_vclock]"))
		return CKPT_VMA_VVAR_VCLOCK;
	if (!strcmp(path, "[vsyscall]"))
		return CKPT_VMA_VSYSCALL;
	if (v->flags & CKPT_VMA_F_SHARED) {
		/* Shared anonymous memory is a file of the internal shmem mount, shown as
		 * "/dev/zero (deleted)"; memfds as "/memfd:NAME (deleted)"; SysV segments as
		 * "/SYSV<key> (deleted)". */
		if (!strcmp(path, "/dev/zero") || !strncmp(path, "/memfd:", 7) ||
		    !strncmp(path, "/SYSV", 5) || v->ino == 0)
			return CKPT_VMA_SHMEM;
		return CKPT_VMA_FILE_SHARED;
	}
	if (v->ino == 0)
		return path[0] == '[' && strncmp(path, "[anon", 5) ? CKPT_VMA_OTHER : CKPT_VMA_ANON;
	if (!strncmp(path, "/dev/", 5) && !(v->flags & CKPT_VMA_F_DELETED))
		return CKPT_VMA_OTHER; /* a private device mapping: not plain data */
	return CKPT_VMA_FILE_PRIV;
}

static int parse_smaps(pid_t pid, struct ckpt_proc *p)
{
	char *buf, *line, *next;
	uint32_t cap = 0;
	int rc;

	rc = procfs_read(pid, 0, "smaps", &buf, NULL);
	if (rc)
		return rc;
	for (line = buf; line && *line; line = next) {
		struct procfs_map m;
		struct ckpt_vma *v;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, "VmFlags:", 8) && p->nvmas) {
			v = &p->vmas[p->nvmas - 1];
			if (strstr(line, " gd"))
				v->flags |= CKPT_VMA_F_GROWSDOWN;
			if (strstr(line, " lo"))
				v->flags |= CKPT_VMA_F_LOCKED;
			if (strstr(line, " dd"))
				v->flags |= CKPT_VMA_F_DONTDUMP;
			if (strstr(line, " nr"))
				v->flags |= CKPT_VMA_F_NORESERVE;
			continue;
		}
		if (!procfs_parse_map_line(line, &m))
			continue; /* a "Key: value" line of the previous vma */
		if (p->nvmas == cap) {
			uint32_t ncap = cap ? cap * 2 : 64;
			struct ckpt_vma *nv;

			if (p->nvmas >= CKPT_MAX_VMAS) {
				free(buf);
				pr_err("pid %d: more than %u mappings", pid, CKPT_MAX_VMAS);
				return -E2BIG;
			}
			nv = realloc(p->vmas, ncap * sizeof(*nv));
			if (!nv) {
				free(buf);
				return -ENOMEM;
			}
			p->vmas = nv;
			cap = ncap;
		}
		v = &p->vmas[p->nvmas];
		memset(v, 0, sizeof(*v));
		v->path = strdup(m.path);
		if (!v->path) {
			free(buf);
			return -ENOMEM;
		}
		p->nvmas++;
		v->start = m.start;
		v->end = m.end;
		v->pgoff = m.offset;
		v->dev = makedev(m.dev_major, m.dev_minor);
		v->ino = m.inode;
		v->prot = (m.perms[0] == 'r' ? PROT_READ : 0) | (m.perms[1] == 'w' ? PROT_WRITE : 0) |
			  (m.perms[2] == 'x' ? PROT_EXEC : 0);
		if (!v->prot)
			v->flags |= CKPT_VMA_F_GUARD;
		v->kind = classify(v, m.perms[3]);
		if (v->kind == CKPT_VMA_SHMEM ||
		    (v->kind == CKPT_VMA_FILE_SHARED && (v->flags & CKPT_VMA_F_DELETED)))
			v->shm_id = m.inode; /* with dev: tree-wide identity of the object */
	}
	free(buf);
	return 0;
}

/* Whether a thread of p (its saved registers) runs in, or has its stack in, [start, end). */
static int thread_inside(const struct ckpt_proc *p, uint64_t start, uint64_t end)
{
	uint32_t i;

	for (i = 0; i < p->nthreads; i++) {
		arch_regs_t r;
		uint64_t ip, sp;

		memcpy(&r, &p->threads[i].regs, sizeof(r));
		ip = regs_ip(&r);
		sp = regs_sp(&r);
		if ((ip >= start && ip < end) || (sp >= start && sp < end))
			return 1;
	}
	return 0;
}

/*
 * Leave out the restore area a restart left mapped in the process (CKPT_RESTORE_AREA_NAME,
 * ckpt_state.h): nothing of the program is in it, and carried along it would add one more
 * area to every image after each restart (the program's memory and its images grew by about
 * 90 KiB a process and cycle). It is kept, and saved like any mapping of a deleted file, only
 * while a thread still runs or keeps its stack on it: a checkpoint that stopped the process
 * before the restorer's last rt_sigreturn.
 */
static void drop_restore_area(pid_t pid, struct ckpt_proc *p)
{
	static const char name[] = "/memfd:" CKPT_RESTORE_AREA_NAME;
	uint32_t i, n = 0, dropped = 0;

	for (i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];

		if (!strcmp(v->path, name) && thread_inside(p, v->start, v->end)) {
			pr_debug("pid %d: a thread is still in the restore area: it is saved", pid);
			return;
		}
	}
	for (i = 0; i < p->nvmas; i++) {
		struct ckpt_vma *v = &p->vmas[i];

		if (!strcmp(v->path, name) && (v->flags & CKPT_VMA_F_DELETED)) {
			free(v->path);
			dropped++;
			continue;
		}
		p->vmas[n++] = *v;
	}
	p->nvmas = n;
	if (dropped)
		pr_debug("pid %d: restore area left out (%u mappings)", pid, dropped);
}

static enum want want_of(const struct ckpt_vma *v)
{
	switch (v->kind) {
	case CKPT_VMA_ANON:
	case CKPT_VMA_HEAP:
	case CKPT_VMA_STACK:
		return WANT_PRIVATE;
	case CKPT_VMA_FILE_PRIV:
		/* A deleted file cannot be mapped again at restart: keep every page. */
		return (v->flags & CKPT_VMA_F_DELETED) ? WANT_PRIVATE : WANT_COW;
	case CKPT_VMA_SHMEM:
		return WANT_OBJECT;
	case CKPT_VMA_FILE_SHARED:
		return (v->flags & CKPT_VMA_F_DELETED) ? WANT_OBJECT : WANT_NONE;
	default:
		return WANT_NONE;
	}
}

int collect_mem(pid_t pid, struct ckpt_proc *p, collect_shm_owner_fn owner, void *arg)
{
	struct run_list l = { 0 };
	uint32_t i;
	int pmfd, rc = 0;

	rc = parse_smaps(pid, p);
	if (rc)
		return rc;
	drop_restore_area(pid, p);
	pmfd = procfs_open(pid, 0, "pagemap", O_RDONLY);
	if (pmfd < 0) {
		rc = pmfd;
		if (rc != -ESRCH)
			pr_err("pid %d: cannot open /proc/%d/pagemap: %s", pid, pid, strerror(-rc));
		return rc;
	}
	for (i = 0; i < p->nvmas && !rc; i++) {
		struct ckpt_vma *v = &p->vmas[i];
		enum want w = want_of(v);

		/* Without the parasite's exact brk(0) (still the /proc placeholder start_brk), the
		 * end of [heap] is the best estimate: the break rounded up to a page. */
		if (v->kind == CKPT_VMA_HEAP && p->mm.brk == p->mm.start_brk)
			p->mm.brk = v->end;
		if (v->kind == CKPT_VMA_VDSO) {
			/*
			 * The whole [vdso] (two pages here), never mapped back as data: on
			 * another kernel the restorer finds its symbols in these pages and points
			 * them at the new vdso (the proxy path).
			 */
			rc = add_run(p, &l, i, v->start, v->end);
			continue;
		}
		if (w == WANT_NONE)
			continue;
		if (w == WANT_OBJECT) {
			int32_t opid = pid;

			if (!owner || owner(arg, v, &opid)) {
				v->flags |= CKPT_VMA_F_DATA_HERE;
				v->owner_pid = pid;
				rc = scan_object(pid, p, &l, i);
			} else {
				v->owner_pid = opid;
			}
			continue;
		}
		if (kfeat()->pagemap_scan)
			rc = scan_ioctl(pmfd, p, &l, i, w);
		else
			rc = scan_pagemap(pmfd, p, &l, i, w);
	}
	close(pmfd);
	p->runs = l.r;
	p->nruns = l.n;
	if (rc && rc != -ESRCH)
		pr_err("pid %d: cannot scan its pages: %s", pid, strerror(-rc));
	return rc;
}
