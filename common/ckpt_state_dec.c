/*
 * Validating decoding of the checkpoint content model (common/ckpt_state.h); the encoders
 * are in ckpt_state_enc.c.
 *
 * Every section body is a flat little-endian sequence: fixed-width integers, strings as
 * u32 length + bytes (no NUL), arrays as u32 count + elements. The decoders trust nothing:
 * each count is checked against its CKPT_MAX_* limit and against the bytes left before any
 * allocation, each enum against its range, each string for length and embedded NULs, and the
 * body must be consumed exactly. A checksummed but corrupt image thus fails with a reason that
 * names the field instead of misrestoring a process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_state.h"
#include "ckpt_state_dec_int.h"

static void free_thread(struct ckpt_thread *t)
{
	free(t->xsave);
	free(t->pending);
	t->xsave = NULL;
	t->pending = NULL;
}


int ckpt_decode_proc(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;
	int rc;

	dec_init(&d, buf, len);
	ckpt_proc_init(p);
	p->version = get_u32(&d, "version");
	if (!d.why && p->version != CKPT_STATE_VERSION)
		dec_failf(&d, "process record version %lu is not %s", p->version,
			  "supported");
	p->pid = get_i32(&d, "pid");
	p->ppid = get_i32(&d, "ppid");
	p->pgid = get_i32(&d, "pgid");
	p->sid = get_i32(&d, "sid");
	if (!d.why && (p->pid <= 0 || p->ppid < 0 || p->pgid < 0 || p->sid < 0))
		dec_fail(&d, "negative or zero process id");
	p->ns_levels = get_count(&d, CKPT_MAX_NS_LEVELS, 12, "pid namespace levels");
	for (i = 0; i < p->ns_levels; i++) {
		p->ns_pid[i] = get_i32(&d, "NSpid");
		p->ns_pgid[i] = get_i32(&d, "NSpgid");
		p->ns_sid[i] = get_i32(&d, "NSsid");
	}
	get(&d, p->comm, sizeof(p->comm), "comm");
	if (!d.why)
		check_comm(&d, p->comm, "process name is not NUL-terminated");
	p->uniquepid = get_str(&d, "uniquepid");
	p->exe = get_str(&d, "exe path");
	p->cwd = get_str(&d, "cwd");
	p->root = get_str(&d, "root");
	p->cmdline = get_blob(&d, CKPT_MAX_ARGS, &p->cmdline_len, "command line");
	p->environ = get_blob(&d, CKPT_MAX_ARGS, &p->environ_len, "environment");
	p->umask = get_u32(&d, "umask");
	if (!d.why && p->umask != ~0u && p->umask > 0777)
		dec_failf(&d, "umask %lo is not a %s", p->umask, "permission mask");
	p->personality = get_u32(&d, "personality");
	p->start_time = get_u64(&d, "start time");
	get(&d, &p->mm, sizeof(p->mm), "mm boundaries");
	if (!d.why && (p->mm.start_code > p->mm.end_code || p->mm.start_brk > p->mm.brk ||
		       p->mm.arg_start > p->mm.arg_end || p->mm.env_start > p->mm.env_end))
		dec_fail(&d, "mm boundaries: an end is before its start");
	get(&d, p->creds.uid, sizeof(p->creds.uid), "uids");
	get(&d, p->creds.gid, sizeof(p->creds.gid), "gids");
	n = get_count(&d, CKPT_MAX_GROUPS, 4, "supplementary groups");
	if (!d.why && n) {
		p->creds.groups = calloc(n, 4);
		if (!p->creds.groups)
			dec_fail(&d, "out of memory");
		else
			p->creds.ngroups = n;
		get(&d, p->creds.groups, (size_t)p->creds.ngroups * 4, "groups");
	}
	p->creds.cap_inh = get_u64(&d, "CapInh");
	p->creds.cap_prm = get_u64(&d, "CapPrm");
	p->creds.cap_eff = get_u64(&d, "CapEff");
	p->creds.cap_bnd = get_u64(&d, "CapBnd");
	p->creds.cap_amb = get_u64(&d, "CapAmb");
	p->creds.no_new_privs = get_u32(&d, "NoNewPrivs");
	p->creds.seccomp_mode = get_u32(&d, "Seccomp");
	if (!d.why && (p->creds.no_new_privs > 1 || p->creds.seccomp_mode > 2))
		dec_fail(&d, "NoNewPrivs or Seccomp mode out of range");
	for (i = 0; i < CKPT_NRLIMITS; i++) {
		p->rlim[i].cur = get_u64(&d, "rlimit");
		p->rlim[i].max = get_u64(&d, "rlimit");
		if (!d.why && p->rlim[i].cur > p->rlim[i].max)
			dec_failf(&d, "rlimit %lu: soft limit above %s", i, "hard limit");
	}
	n = get_count(&d, CKPT_MAX_ZOMBIES, 8, "zombies");
	if (!d.why && n) {
		p->zombies = calloc(n, sizeof(*p->zombies));
		if (!p->zombies)
			dec_fail(&d, "out of memory");
		else
			p->nzombies = n;
	}
	for (i = 0; i < p->nzombies; i++) {
		p->zombies[i].pid = get_i32(&d, "zombie pid");
		p->zombies[i].exit_code = get_i32(&d, "zombie status");
		if (!d.why && p->zombies[i].pid <= 0)
			dec_failf(&d, "zombie %lu has a bad %s", i, "pid");
	}
	/* Declared counts; the arrays come with their own sections. */
	n = get_u32(&d, "thread count");
	if (!d.why && (n == 0 || n > CKPT_MAX_THREADS))
		dec_failf(&d, "thread count %lu out of %s", n, "range");
	/*
	 * Stash the declared counts in the fields the later sections fill; callers of the
	 * section decoders compare against them (ckpt_validate_proc). No array is allocated
	 * here, threads[] included: its size would come from this 4-byte field alone (65536
	 * threads are 32 MB), so the caller allocates it once it has counted the THREAD
	 * sections, and a small image cannot ask for more memory than its size justifies.
	 */
	p->nthreads = d.why ? 0 : n;
	p->threads = NULL;
	p->nfiles = get_u32(&d, "file count");
	p->nfds = get_u32(&d, "fd count");
	p->nvmas = get_u32(&d, "vma count");
	p->nruns = get_u32(&d, "page run count");
	p->pages_stored = get_u64(&d, "pages stored");
	if (!d.why && (p->nfiles > CKPT_MAX_FILES || p->nfds > CKPT_MAX_FDS ||
		       p->nvmas > CKPT_MAX_VMAS || p->nruns > CKPT_MAX_RUNS))
		dec_fail(&d, "file, fd, vma or page run count over the limit");
	rc = dec_end(&d, why, "PROC");
	/* The arrays of files/fds/vmas/runs are not allocated yet: their decoders do it. Keep the
	 * declared counts in the decoded record and let the section decoders check them. */
	return rc;
}

int ckpt_decode_thread(const uint8_t *buf, size_t len, struct ckpt_thread *t, const char **why)
{
	struct dec d;
	uint32_t i;

	dec_init(&d, buf, len);
	memset(t, 0, sizeof(*t));
	t->tid = get_i32(&d, "tid");
	if (!d.why && t->tid <= 0)
		dec_failf(&d, "thread id %lu is not %s", (unsigned long)(uint32_t)t->tid,
			  "positive");
	t->ns_levels = get_count(&d, CKPT_MAX_NS_LEVELS, 4, "thread pid namespace levels");
	for (i = 0; i < t->ns_levels; i++)
		t->ns_tid[i] = get_i32(&d, "NStid");
	get(&d, t->comm, sizeof(t->comm), "thread comm");
	if (!d.why)
		check_comm(&d, t->comm, "thread name is not NUL-terminated");
	get(&d, &t->regs, sizeof(t->regs), "registers");
	t->stopped_ret = get_u64(&d, "stopped rax");
	t->sysfix = get_u32(&d, "syscall fix-up");
	if (!d.why && t->sysfix > CKPT_SYSFIX_EINTR)
		dec_failf(&d, "syscall fix-up %lu is not a known %s", t->sysfix, "value");
	t->xsave = get_blob(&d, CKPT_MAX_XSAVE, &t->xsave_size, "xsave area");
	/* The xsave area starts with the 512-byte legacy FXSAVE region and a 64-byte header. */
	if (!d.why && t->xsave_size && t->xsave_size < 576)
		dec_failf(&d, "xsave area of %lu bytes is shorter than %s", t->xsave_size,
			  "its 576-byte header");
	t->sigmask = get_u64(&d, "signal mask");
	t->ss_sp = get_u64(&d, "sigaltstack sp");
	t->ss_size = get_u64(&d, "sigaltstack size");
	t->ss_flags = get_u32(&d, "sigaltstack flags");
	t->have_altstack = get_u32(&d, "sigaltstack presence");
	t->rseq_addr = get_u64(&d, "rseq address");
	t->rseq_len = get_u32(&d, "rseq length");
	t->rseq_sig = get_u32(&d, "rseq signature");
	t->rseq_flags = get_u32(&d, "rseq flags");
	if (!d.why && t->rseq_len && (t->rseq_len < 32 || t->rseq_len > 4096 || !t->rseq_addr))
		dec_failf(&d, "rseq area of %lu bytes %s", t->rseq_len, "is not valid");
	t->robust_head = get_u64(&d, "robust list head");
	t->robust_len = get_u64(&d, "robust list length");
	t->clear_tid = get_u64(&d, "clear-tid address");
	t->have_clear_tid = get_u32(&d, "clear-tid presence");
	if (!d.why && (t->have_altstack > 1 || t->have_clear_tid > 1))
		dec_fail(&d, "thread presence flag out of range");
	t->pending = get_siginfos(&d, &t->npending, "thread pending signals");
	if (dec_end(&d, why, "THREAD")) {
		free_thread(t);
		return -EINVAL;
	}
	return 0;
}

int ckpt_decode_signals(const uint8_t *buf, size_t len, struct ckpt_signals *s,
			const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	memset(s, 0, sizeof(*s));
	s->act_source = get_u32(&d, "disposition source");
	if (!d.why && s->act_source > CKPT_SIGSRC_TRACEE)
		dec_fail(&d, "signal disposition source out of range");
	for (i = 0; i < CKPT_NSIG; i++) {
		s->act[i].handler = get_u64(&d, "sigaction handler");
		s->act[i].flags = get_u64(&d, "sigaction flags");
		s->act[i].restorer = get_u64(&d, "sigaction restorer");
		s->act[i].mask = get_u64(&d, "sigaction mask");
	}
	s->sig_ignored = get_u64(&d, "SigIgn");
	s->sig_caught = get_u64(&d, "SigCgt");
	s->pending = get_siginfos(&d, &s->npending, "shared pending signals");
	s->timer_source = get_u32(&d, "timer source");
	if (!d.why && s->timer_source > CKPT_SIGSRC_TRACEE)
		dec_fail(&d, "timer source out of range");
	for (i = 0; i < 3; i++) {
		s->itimer[i].interval_ns = get_u64(&d, "itimer interval");
		s->itimer[i].value_ns = get_u64(&d, "itimer value");
	}
	n = get_count(&d, CKPT_MAX_TIMERS, 48, "POSIX timers");
	if (!d.why && n) {
		s->timers = calloc(n, sizeof(*s->timers));
		if (!s->timers)
			dec_fail(&d, "out of memory");
		else
			s->ntimers = n;
	}
	for (i = 0; i < s->ntimers; i++) {
		struct ckpt_posix_timer *pt = &s->timers[i];

		pt->id = get_i32(&d, "timer id");
		pt->clock = get_i32(&d, "timer clock");
		pt->signo = get_i32(&d, "timer signal");
		pt->notify = get_i32(&d, "timer notify");
		pt->notify_tid = get_i32(&d, "timer thread");
		pt->overrun = get_i32(&d, "timer overrun");
		pt->sigval = get_u64(&d, "timer value");
		pt->interval_ns = get_u64(&d, "timer interval");
		pt->value_ns = get_u64(&d, "timer expiry");
		if (!d.why && (pt->id < 0 || pt->signo < 0 || pt->signo > CKPT_NSIG))
			dec_failf(&d, "POSIX timer %lu: id or %s out of range", i, "signal");
	}
	if (dec_end(&d, why, "SIGNALS")) {
		free(s->pending);
		free(s->timers);
		memset(s, 0, sizeof(*s));
		return -EINVAL;
	}
	return 0;
}

int ckpt_decode_fds(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	n = get_count(&d, CKPT_MAX_FDS, 12, "fds");
	if (!d.why && n != p->nfds)
		dec_failf(&d, "FDS section has %lu fds, the %s", n,
			  "process record says otherwise");
	p->fds = dec_calloc(&d, n, sizeof(*p->fds));
	for (i = 0; i < n && !d.why; i++) {
		struct ckpt_fd *f = &p->fds[i];

		f->fd = get_i32(&d, "fd");
		f->fd_flags = get_u32(&d, "fd flags");
		f->file = get_u32(&d, "fd file");
		if (d.why)
			break;
		if (f->fd < 0)
			dec_failf(&d, "fd entry %lu has a %s", i, "negative number");
		else if (i && f->fd <= p->fds[i - 1].fd)
			dec_failf(&d, "fd %lu is out of order or %s", (unsigned long)f->fd,
				  "duplicated");
		else if (f->fd_flags & ~(uint32_t)(CKPT_FDF_CLOEXEC | CKPT_FDF_STDIO))
			dec_failf(&d, "fd %lu has unknown %s", (unsigned long)f->fd, "fd flags");
		else if ((f->fd_flags & CKPT_FDF_STDIO) && f->fd > 2)
			dec_failf(&d, "fd %lu is marked %s", (unsigned long)f->fd,
				  "a standard stream but is not 0, 1 or 2");
		else if (f->file >= p->nfiles)
			dec_failf(&d, "fd %lu points at a %s", (unsigned long)f->fd,
				  "file that does not exist");
	}
	return dec_end(&d, why, "FDS");
}

int ckpt_decode_vmas(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	n = get_count(&d, CKPT_MAX_VMAS, 72, "vmas");
	if (!d.why && n != p->nvmas)
		dec_failf(&d, "VMAS section has %lu vmas, the %s", n,
			  "process record says otherwise");
	p->vmas = dec_calloc(&d, n, sizeof(*p->vmas));
	for (i = 0; i < n && !d.why; i++) {
		struct ckpt_vma *v = &p->vmas[i];

		v->start = get_u64(&d, "vma start");
		v->end = get_u64(&d, "vma end");
		v->prot = get_u32(&d, "vma protection");
		v->flags = get_u32(&d, "vma flags");
		v->kind = get_u32(&d, "vma kind");
		v->pgoff = get_u64(&d, "vma offset");
		v->dev = get_u64(&d, "vma device");
		v->ino = get_u64(&d, "vma inode");
		v->shm_id = get_u64(&d, "shared object id");
		v->owner_pid = get_i32(&d, "shared object owner");
		v->npages_stored = get_u32(&d, "vma pages stored");
		v->path = get_str(&d, "vma path");
		if (d.why)
			break;
		if (v->start >= v->end || (v->start | v->end) % CKPT_PAGE_SIZE)
			dec_failf(&d, "vma %lu: bad %s", i, "range");
		else if (i && v->start < p->vmas[i - 1].end)
			dec_failf(&d, "vma %lu overlaps or is %s", i, "out of order");
		else if (v->end > (1ull << 57) && v->kind != CKPT_VMA_VSYSCALL)
			dec_failf(&d, "vma %lu: %s above the user address space", i, "end");
		else if (v->prot & ~7u)
			dec_failf(&d, "vma %lu: unknown %s bits", i, "protection");
		else if (v->flags & ~0xffu)
			dec_failf(&d, "vma %lu: unknown %s", i, "flags");
		else if (v->kind == 0 || v->kind >= CKPT_VMA__MAX)
			dec_failf(&d, "vma %lu: unknown %s", i, "kind");
		else if (v->pgoff % CKPT_PAGE_SIZE)
			dec_failf(&d, "vma %lu: %s not page aligned", i, "file offset");
		else if (v->npages_stored > (v->end - v->start) / CKPT_PAGE_SIZE)
			dec_failf(&d, "vma %lu: more pages stored than %s", i, "it has");
	}
	return dec_end(&d, why, "VMAS");
}

int ckpt_decode_pagemap(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	n = get_count(&d, CKPT_MAX_RUNS, 16, "page runs");
	if (!d.why && n != p->nruns)
		dec_failf(&d, "PAGEMAP section has %lu runs, the %s", n,
			  "process record says otherwise");
	p->runs = dec_calloc(&d, n, sizeof(*p->runs));
	for (i = 0; i < n && !d.why; i++) {
		p->runs[i].vaddr = get_u64(&d, "run address");
		p->runs[i].npages = get_u32(&d, "run length");
		p->runs[i].vma = get_u32(&d, "run vma");
	}
	return dec_end(&d, why, "PAGEMAP");
}

int ckpt_decode_filedata_hdr(const uint8_t *buf, size_t len, uint32_t *file_id, uint64_t *dlen,
			     const char **why)
{
	struct dec d;

	dec_init(&d, buf, len);
	*file_id = get_u32(&d, "file data id");
	*dlen = get_u64(&d, "file data length");
	return dec_end(&d, why, "FILEDATA header");
}
