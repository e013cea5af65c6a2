/*
 * selfrestore: a test-only capture that exercises the restorer without the dumper or images.
 *
 *	selfrestore [-n CYCLES] [-d DIR] [-x] VICTIM [ARGS...]
 *
 * The supervisor (this process) starts VICTIM (tests/progs/rst_victim) and, each time it stops
 * itself with SIGSTOP, forks a capturer. The capturer seizes every thread of the stopped
 * process, reads its maps, memory (/proc/PID/mem, /proc/PID/pagemap), registers, XSAVE state,
 * signal mask, rseq and robust list (ptrace) plus what only the process knows (its hints file:
 * clear-tid addresses, sigaltstack, the SIGUSR1 handler, brk), stages all of it through the
 * prepare_restore() API, kills the original and turns itself into it. The restored victim runs
 * on in the capturer's process, checks itself, and stops again for the next cycle. The
 * supervisor exits with the last victim's status: 0 when it printed PASS.
 *
 * The restore area each restore leaves mapped (reported on a pipe) is left out of the next
 * capture, as a restart tracer would unmap it.
 *
 * -x asks for exact thread IDs (clone3 set_tid: root only). DMTCP_RESTORE_VDSO=proxy forces
 * the vdso proxy path. Exit 99 on a harness failure (timeouts, capture errors).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <elf.h>

#include "log.h"
#include "restart/prepare_restore.h"

#define HARNESS_RC 99
#define MAX_TASKS  64
#define PAGE       4096UL

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#endif

struct rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

struct hint_thread {
	int tid;
	uint64_t ctid, ss_sp, ss_size;
	int ss_flags;
};

struct hints {
	int pid;
	int nr;
	struct hint_thread t[MAX_TASKS];
	int sig;
	struct rp_sigaction act;
	uint64_t brk;
};

static int read_hints(const char *path, struct hints *h)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int end = 0;

	memset(h, 0, sizeof(*h));
	if (!f) {
		pr_err("cannot open hints %s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, c, d;
		int x, y;

		if (sscanf(line, "P %d", &x) == 1)
			h->pid = x;
		else if (sscanf(line, "T %d %llx %llx %d %llx", &x, &a, &b, &y, &c) == 5 &&
			 h->nr < MAX_TASKS)
			h->t[h->nr++] = (struct hint_thread){ x, a, b, c, y };
		else if (sscanf(line, "S %d %llx %llx %llx %llx", &x, &a, &b, &c, &d) == 5) {
			h->sig = x;
			h->act = (struct rp_sigaction){ a, b, c, d };
		} else if (sscanf(line, "B %llx", &a) == 1)
			h->brk = a;
		else if (line[0] == 'E')
			end = 1;
	}
	fclose(f);
	if (!end || !h->pid) {
		pr_err("hints %s are incomplete", path);
		return -EINVAL;
	}
	return 0;
}

static const struct hint_thread *hint_for(const struct hints *h, int tid)
{
	for (int i = 0; i < h->nr; i++)
		if (h->t[i].tid == tid)
			return &h->t[i];
	return NULL;
}

/* Seize and interrupt every thread, rescanning until no new one shows up. */
static int seize_all(int pid, int *tids, int *n)
{
	int changed = 1;

	*n = 0;
	while (changed) {
		char dir[64];
		DIR *d;
		struct dirent *e;

		changed = 0;
		snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
		d = opendir(dir);
		if (!d) {
			pr_err("pid %d: cannot list %s: %s", pid, dir, strerror(errno));
			return -errno;
		}
		while ((e = readdir(d))) {
			int tid = atoi(e->d_name), known = 0, st;

			if (tid <= 0)
				continue;
			for (int i = 0; i < *n; i++)
				known |= tids[i] == tid;
			if (known)
				continue;
			if (*n == MAX_TASKS) {
				closedir(d);
				pr_err("pid %d: more than %d threads", pid, MAX_TASKS);
				return -E2BIG;
			}
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) || ptrace(PTRACE_INTERRUPT, tid, 0, 0) ||
			    waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st)) {
				pr_err("tid %d: cannot seize and stop: %s", tid, strerror(errno));
				closedir(d);
				return -ESRCH;
			}
			tids[(*n)++] = tid;
			changed = 1;
		}
		closedir(d);
	}
	/* the main thread first: it is the one prepare_restore() runs as */
	for (int i = 0; i < *n; i++)
		if (tids[i] == pid) {
			tids[i] = tids[0];
			tids[0] = pid;
		}
	return 0;
}

/* Registers as the thread will resume: undo an interrupted syscall's -ERESTART* state. */
static void fixup_restart(struct user_regs_struct *r)
{
	if ((long)r->orig_rax < 0)
		return;
	switch ((long)r->rax) {
	case -512: /* ERESTARTSYS */
	case -513: /* ERESTARTNOINTR */
	case -514: /* ERESTARTNOHAND */
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case -516: /* ERESTART_RESTARTBLOCK */
		r->rax = (unsigned long)-EINTR;
		break;
	}
}

static int collect_thread(struct restore_req *req, int tid, const struct hints *h, int exact,
			  void *xbuf, size_t xcap)
{
	struct restore_thread_desc t;
	struct iovec iov = { xbuf, xcap };
	struct rseq_conf rc;
	const struct hint_thread *ht = hint_for(h, tid);
	long head = 0;
	size_t hlen = 0;

	memset(&t, 0, sizeof(t));
	if (!ht) {
		pr_err("tid %d: not in the victim's hints", tid);
		return -EINVAL;
	}
	t.tid = tid;
	t.exact_tid = exact;
	if (ptrace(PTRACE_GETREGS, tid, 0, &t.regs)) {
		pr_err("tid %d: PTRACE_GETREGS: %s", tid, strerror(errno));
		return -errno;
	}
	fixup_restart(&t.regs);
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov)) {
		pr_err("tid %d: PTRACE_GETREGSET NT_X86_XSTATE: %s", tid, strerror(errno));
		return -errno;
	}
	t.xsave = xbuf;
	t.xsave_len = iov.iov_len;
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof(t.sigmask), &t.sigmask)) {
		pr_err("tid %d: PTRACE_GETSIGMASK: %s", tid, strerror(errno));
		return -errno;
	}
	memset(&rc, 0, sizeof(rc));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(rc), &rc) > 0 && rc.rseq_abi_pointer) {
		t.rseq = rc.rseq_abi_pointer;
		t.rseq_len = rc.rseq_abi_size;
		t.rseq_sig = rc.signature;
	}
	if (syscall(SYS_get_robust_list, tid, &head, &hlen) == 0 && head) {
		t.robust_list = (uint64_t)head;
		t.robust_len = hlen;
	}
	t.clear_tid = ht->ctid;
	t.altstack.ss_sp = (void *)ht->ss_sp;
	t.altstack.ss_size = ht->ss_size;
	t.altstack.ss_flags = ht->ss_flags;
	return restore_req_add_thread(req, &t);
}

struct map_ent {
	uint64_t start, end, off, inode;
	char perms[8];
	char path[512];
	int idx; /* region index in the request, -1 if not a region */
	int kind;
	int fd;     /* ENT_SHARED_MEM: the memfd to fill */
	int staged; /* ENT_ANON: has pages to copy */
};

/* ENT_ANON_SPARSE: fewer than half its pages present, restored from runs (RESTORE_SRC_SPARSE) */
enum { ENT_SKIP, ENT_VDSO, ENT_ANON, ENT_ANON_SPARSE, ENT_FILE_PRIV, ENT_SHARED_FILE,
       ENT_SHARED_MEM };

static int parse_maps(int pid, struct map_ent **out, int *n)
{
	char path[64], line[700];
	FILE *f;
	int cap = 0;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f) {
		pr_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		struct map_ent m;
		unsigned long long s, e, off, ino;
		int pos = 0;

		memset(&m, 0, sizeof(m));
		if (sscanf(line, "%llx-%llx %7s %llx %*s %llu %n", &s, &e, m.perms, &off, &ino,
			   &pos) < 5)
			continue;
		m.start = s;
		m.end = e;
		m.off = off;
		m.inode = ino;
		snprintf(m.path, sizeof(m.path), "%s", line + pos);
		m.path[strcspn(m.path, "\n")] = 0;
		m.idx = -1;
		if (*n == cap) {
			struct map_ent *nn = realloc(*out, (cap ? cap * 2 : 64) * sizeof(m));

			if (!nn) {
				fclose(f);
				return -ENOMEM;
			}
			*out = nn;
			cap = cap ? cap * 2 : 64;
		}
		(*out)[(*n)++] = m;
	}
	fclose(f);
	return 0;
}

static int prot_of(const char *perms)
{
	return (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
	       (perms[2] == 'x' ? PROT_EXEC : 0);
}

static int is_plain_file(const struct map_ent *m)
{
	return m->path[0] == '/' && m->inode && !strstr(m->path, " (deleted)") &&
	       strncmp(m->path, "/dev/", 5) && strncmp(m->path, "/SYSV", 5) &&
	       strncmp(m->path, "/memfd:", 7);
}

static int read_mem(int memfd, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(memfd, (char *)buf + done, len - done, (off_t)(addr + done));

		if (r <= 0) {
			pr_err("read of victim memory at %#llx: %s", (unsigned long long)(addr + done),
			       r ? strerror(errno) : "short read");
			return r ? -errno : -EIO;
		}
		done += (size_t)r;
	}
	return 0;
}

/* pagemap: bit 63 present, 62 swapped, 61 file page or shared anonymous */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP    (1ULL << 62)
#define PM_FILE    (1ULL << 61)

static int read_pagemap(int pmfd, uint64_t start, uint64_t end, uint64_t **out)
{
	size_t n = (end - start) / PAGE;
	uint64_t *pm = malloc(n * 8);
	ssize_t r;

	*out = NULL;
	if (!pm)
		return -ENOMEM;
	r = pread(pmfd, pm, n * 8, (off_t)(start / PAGE * 8));
	if (r != (ssize_t)(n * 8)) {
		pr_err("pagemap of %#llx-%#llx: %s", (unsigned long long)start,
		       (unsigned long long)end, r < 0 ? strerror(errno) : "short read");
		free(pm);
		return -EIO;
	}
	*out = pm;
	return 0;
}

static int add_regions(struct restore_req *req, struct map_ent *m, int n, int memfd, int pmfd)
{
	struct restore_vdso_desc vd;
	int have_vdso = 0, nsparse = 0, ret;
	void *vimg = NULL;

	memset(&vd, 0, sizeof(vd));
	/* first every region (staging must keep clear of all of them), then the data */
	for (int i = 0; i < n; i++) {
		struct restore_vma_desc v;
		uint64_t *pm = NULL;
		uint64_t any = 0; /* pages present (anonymous regions) */

		memset(&v, 0, sizeof(v));
		v.start = m[i].start;
		v.end = m[i].end;
		v.prot = prot_of(m[i].perms);
		v.fd = -1;
		m[i].kind = ENT_SKIP;
		if (!strcmp(m[i].path, "[vsyscall]"))
			continue;
		if (!strcmp(m[i].path, "[vvar]")) {
			vd.vvar_start = m[i].start;
			vd.vvar_end = m[i].end;
			continue;
		}
		if (!strcmp(m[i].path, "[vvar_vclock]")) {
			vd.vclock_start = m[i].start;
			vd.vclock_end = m[i].end;
			continue;
		}
		if (!strcmp(m[i].path, "[vdso]")) {
			vd.vdso_start = m[i].start;
			vd.vdso_end = m[i].end;
			have_vdso = 1;
			m[i].kind = ENT_VDSO;
			continue;
		}
		if (m[i].perms[3] == 's') {
			v.flags = MAP_SHARED;
			v.src = RESTORE_SRC_FILE;
			v.close_fd = 1;
			if (is_plain_file(&m[i])) {
				v.fd = open(m[i].path, (v.prot & PROT_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC);
				v.pgoff = m[i].off;
				m[i].kind = ENT_SHARED_FILE;
			} else {
				/* shared anonymous / SysV / memfd: a memfd with its contents */
				v.fd = (int)syscall(SYS_memfd_create, "rst-shared", MFD_CLOEXEC);
				if (v.fd >= 0 && ftruncate(v.fd, (off_t)(v.end - v.start)))
					v.fd = -1;
				m[i].kind = ENT_SHARED_MEM;
				m[i].fd = v.fd;
			}
			if (v.fd < 0) {
				pr_err("shared region %#llx (%s): %s", (unsigned long long)v.start,
				       m[i].path, strerror(errno));
				return -errno;
			}
		} else if (is_plain_file(&m[i]) &&
			   (v.fd = open(m[i].path, O_RDONLY | O_CLOEXEC)) >= 0) {
			v.flags = MAP_PRIVATE;
			v.src = RESTORE_SRC_FILE;
			v.pgoff = m[i].off;
			v.close_fd = 1;
			m[i].kind = ENT_FILE_PRIV;
		} else {
			v.flags = MAP_PRIVATE | MAP_ANONYMOUS;
			if (!strcmp(m[i].path, "[stack]"))
				v.flags |= MAP_GROWSDOWN;
			ret = read_pagemap(pmfd, v.start, v.end, &pm);
			if (ret)
				return ret;
			for (uint64_t p = 0; p < (v.end - v.start) / PAGE; p++)
				any += !!(pm[p] & (PM_PRESENT | PM_SWAP));
			free(pm);
			v.src = any ? RESTORE_SRC_STAGED : RESTORE_SRC_ZERO;
			m[i].kind = ENT_ANON;
			m[i].staged = !!any;
			if (any && (uint64_t)any * PAGE * 2 < v.end - v.start) {
				v.src = RESTORE_SRC_SPARSE;
				m[i].kind = ENT_ANON_SPARSE;
				m[i].staged = 0;
				nsparse++;
			}
		}
		ret = restore_req_add_vma(req, &v);
		if (ret < 0)
			return ret;
		m[i].idx = ret;
	}
	if (have_vdso) {
		vimg = malloc(vd.vdso_end - vd.vdso_start);
		if (!vimg)
			return -ENOMEM;
		ret = read_mem(memfd, vd.vdso_start, vimg, vd.vdso_end - vd.vdso_start);
		if (!ret) {
			vd.vdso_image = vimg;
			vd.vdso_image_len = vd.vdso_end - vd.vdso_start;
			ret = restore_req_set_vdso(req, &vd, RESTORE_VDSO_AUTO);
		}
		free(vimg);
		if (ret)
			return ret;
	}

	for (int i = 0; i < n; i++) {
		uint64_t len = m[i].end - m[i].start;
		uint64_t *pm = NULL;
		void *p;

		switch (m[i].kind) {
		case ENT_ANON:
			if (!m[i].staged)
				break;
			p = restore_req_stage_vma(req, m[i].idx);
			if (!p)
				return -errno;
			ret = read_mem(memfd, m[i].start, p, len);
			if (ret)
				return ret;
			break;
		case ENT_SHARED_MEM:
			p = malloc(len);
			if (!p)
				return -ENOMEM;
			ret = read_mem(memfd, m[i].start, p, len);
			if (!ret && pwrite(m[i].fd, p, len, 0) != (ssize_t)len) {
				pr_err("filling the memfd of shared region %#llx: %s",
				       (unsigned long long)m[i].start, strerror(errno));
				ret = -EIO;
			}
			free(p);
			if (ret)
				return ret;
			break;
		case ENT_FILE_PRIV:
		case ENT_ANON_SPARSE:
			/* written (anonymous) pages, or the present ones of a sparse region */
			ret = read_pagemap(pmfd, m[i].start, m[i].end, &pm);
			if (ret)
				return ret;
			for (uint64_t a = 0; a < len / PAGE;) {
				uint64_t b = a;
				struct restore_run run;

				while (b < len / PAGE && (pm[b] & (PM_PRESENT | PM_SWAP)) &&
				       !(pm[b] & PM_FILE))
					b++;
				if (b == a) {
					a++;
					continue;
				}
				run.offset = a * PAGE;
				run.len = (b - a) * PAGE;
				run.data = restore_stage_alloc(req, run.len, 0);
				if (!run.data) {
					free(pm);
					return -errno;
				}
				ret = read_mem(memfd, m[i].start + run.offset, run.data, run.len);
				if (!ret)
					ret = restore_req_add_run(req, m[i].idx, &run);
				if (ret) {
					free(pm);
					return ret;
				}
				a = b;
			}
			free(pm);
			break;
		}
	}
	pr_info("sparse regions: %d (restored from their present pages)", nsparse);
	return 0;
}

/* mm boundaries from /proc/PID/stat (fields 26-28, 45-51) and the victim's brk. */
static int collect_mm(int pid, uint64_t brk, struct rp_mm *mm)
{
	char path[64], buf[2048], *p;
	unsigned long long f[64];
	int fd, n = 0;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -EIO;
	buf[r] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p += 2;
	/* f[k] is field k + 3; field 3 is the state letter */
	while (n < 64 && *p) {
		if (n == 0) {
			f[n++] = 0;
			p++;
		} else {
			f[n++] = strtoull(p, &p, 10);
		}
		while (*p == ' ')
			p++;
	}
	if (n < 49)
		return -EINVAL;
	mm->start_code = f[26 - 3];
	mm->end_code = f[27 - 3];
	mm->start_stack = f[28 - 3];
	mm->start_data = f[45 - 3];
	mm->end_data = f[46 - 3];
	mm->start_brk = f[47 - 3];
	mm->arg_start = f[48 - 3];
	mm->arg_end = f[49 - 3];
	mm->env_start = f[50 - 3];
	mm->env_end = f[51 - 3];
	mm->brk = brk;
	return 0;
}

/* Capture the stopped victim, kill it, become it. Returns only on failure. */
static int capture_and_restore(int pid, const char *hints_path, int exact, uint64_t skip_start,
			       uint64_t skip_end, int report_fd)
{
	struct restore_req *req = NULL;
	struct map_ent *maps = NULL;
	struct hints h;
	int tids[MAX_TASKS], nt = 0, nmaps = 0, memfd = -1, pmfd = -1, ret;
	char path[64];
	static char xbuf[65536] __attribute__((aligned(64)));

	ret = read_hints(hints_path, &h);
	if (ret)
		return ret;
	if (h.pid != pid) {
		pr_err("hints are for pid %d, the stopped victim is %d", h.pid, pid);
		return -EINVAL;
	}
	ret = seize_all(pid, tids, &nt);
	if (ret)
		return ret;
	ret = restore_req_new(&req);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pmfd = open(path, O_RDONLY | O_CLOEXEC);
	if (memfd < 0 || pmfd < 0) {
		ret = -errno;
		pr_err("pid %d: cannot open its mem/pagemap: %s", pid, strerror(errno));
		goto out;
	}
	ret = parse_maps(pid, &maps, &nmaps);
	/*
	 * The previous restore's area is not restored: a restart tracer would unmap it once the
	 * threads run (or the dumper skip it); leaving it out proves nothing in it is still used.
	 * Only anonymous mappings inside it: a relocated vdso block may live there too.
	 */
	for (int i = 0; !ret && i < nmaps; i++) {
		if (maps[i].start >= skip_start && maps[i].end <= skip_end && !maps[i].path[0]) {
			memmove(&maps[i], &maps[i + 1], (size_t)(nmaps - i - 1) * sizeof(*maps));
			nmaps--;
			i--;
		}
	}
	if (!ret)
		ret = add_regions(req, maps, nmaps, memfd, pmfd);
	for (int i = 0; !ret && i < nt; i++)
		ret = collect_thread(req, tids[i], &h, i > 0 && exact, xbuf, sizeof(xbuf));
	if (!ret && h.sig)
		ret = restore_req_set_sigaction(req, h.sig, &h.act);
	if (!ret) {
		struct rp_mm mm;

		if (collect_mm(pid, h.brk, &mm) == 0)
			ret = restore_req_set_mm(req, &mm);
	}
	if (ret)
		goto out;
	close(memfd);
	close(pmfd);
	memfd = pmfd = -1;

	/* the original goes; its TIDs become free once every thread is reaped */
	kill(pid, SIGKILL);
	/*
	 * Non-leader threads first: a traced leader's exit is reported only once the rest of
	 * its group is reaped, and those are ptrace zombies until we wait for them.
	 */
	for (int i = nt - 1; i >= 0; i--) {
		int st;

		while (waitpid(tids[i], &st, __WALL) == tids[i] && !WIFEXITED(st) &&
		       !WIFSIGNALED(st))
			;
	}
	restore_req_set_report_fd(req, report_fd);
	ret = prepare_restore(req);
	pr_err("prepare_restore: %s", strerror(-ret));
out:
	if (memfd >= 0)
		close(memfd);
	if (pmfd >= 0)
		close(pmfd);
	free(maps);
	restore_req_free(req);
	return ret;
}

static void on_alarm(int sig)
{
	static const char msg[] = "HARNESS: selfrestore: timed out waiting for the victim\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(HARNESS_RC);
	kill(0, SIGKILL);
	_exit(HARNESS_RC);
}

static void usage(void)
{
	fprintf(stderr, "usage: selfrestore [-n CYCLES] [-d DIR] [-x] VICTIM [ARGS...]\n");
	exit(HARNESS_RC);
}

int main(int argc, char **argv)
{
	int cycles = 1, exact = 0, opt, st;
	const char *dir = "/tmp";
	char hints[512], ncyc[16];
	pid_t target;
	uint64_t area_start = 0, area_end = 0;

	log_set_prog("selfrestore");
	while ((opt = getopt(argc, argv, "+n:d:x")) != -1) {
		switch (opt) {
		case 'n':
			cycles = atoi(optarg);
			if (cycles < 1 || cycles > 100)
				usage();
			break;
		case 'd':
			dir = optarg;
			break;
		case 'x':
			exact = 1;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	snprintf(hints, sizeof(hints), "%s/rst_hints.%d", dir, (int)getpid());
	snprintf(ncyc, sizeof(ncyc), "%d", cycles);
	setenv("RST_HINTS", hints, 1);
	setenv("RST_DIR", dir, 1);
	setenv("RST_CYCLES", ncyc, 1);
	setenv("RST_EXPECT_TID", exact ? "1" : "0", 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);

	target = fork();
	if (target < 0)
		die("fork: %s", strerror(errno));
	if (target == 0) {
		execv(argv[optind], argv + optind);
		fprintf(stderr, "selfrestore: exec %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	for (int c = 1; c <= cycles; c++) {
		pid_t capturer, w;
		int rep[2];

		/* readiness: the victim stopped itself (bounded by the alarm) */
		alarm(30);
		w = waitpid(target, &st, WUNTRACED);
		if (w != target || !WIFSTOPPED(st)) {
			printf("HARNESS: victim %d did not stop for cycle %d (status %#x)\n", target,
			       c, st);
			return WIFEXITED(st) && WEXITSTATUS(st) == 1 ? 1 : HARNESS_RC;
		}
		/* printed before the capturer exists, so it never lands after the victim's lines */
		printf("selfrestore: cycle %d: capturing %d\n", c, target);
		if (pipe2(rep, O_CLOEXEC))
			die("pipe: %s", strerror(errno));
		capturer = fork();
		if (capturer < 0)
			die("fork: %s", strerror(errno));
		if (capturer == 0) {
			int r;

			close(rep[0]);
			r = capture_and_restore(target, hints, exact, area_start, area_end, rep[1]);

			fprintf(stderr, "selfrestore: capture of %d failed: %s\n", target,
				strerror(-r));
			kill(target, SIGKILL);
			_exit(HARNESS_RC);
		}
		/* the area the restore leaves behind, reported just before the jump */
		close(rep[1]);
		area_start = area_end = 0;
		{
			char line[128];
			ssize_t n = read(rep[0], line, sizeof(line) - 1);
			unsigned long long a, b;

			if (n > 0) {
				line[n] = 0;
				if (sscanf(line, "restorer-area %llx %llx", &a, &b) == 2) {
					area_start = a;
					area_end = b;
				}
			}
		}
		close(rep[0]);
		/* the old victim dies by the capturer's SIGKILL; reap it */
		alarm(30);
		w = waitpid(target, &st, 0);
		if (w != target || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
			printf("HARNESS: victim %d ended with status %#x, not by the capture\n", target,
			       st);
			kill(capturer, SIGKILL);
			return HARNESS_RC;
		}
		target = capturer;
	}
	alarm(60);
	if (waitpid(target, &st, 0) != target) {
		printf("HARNESS: lost the restored victim %d\n", target);
		return HARNESS_RC;
	}
	alarm(0);
	unlink(hints);
	if (WIFSIGNALED(st)) {
		printf("FAIL: restored victim %d killed by signal %d\n", target, WTERMSIG(st));
		return 1;
	}
	return WEXITSTATUS(st);
}
