/*
 * Content-aware text for `dmtcp_restart --show`: printers for our sections, plugged into the
 * container's image_show() (which prints the header, the section table, checksums and page
 * statistics), then a full content load (ckpt_load) whose verdict ends the output.
 *
 * The text is for people and for tests that grep it: one fact per line, "key value" pairs,
 * constants by name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_show.h"
#include "ckpt_state.h"
#include "image.h"

static void print_lim(FILE *f, uint64_t v)
{
	if (v == UINT64_MAX)
		fputs(" unlimited", f);
	else
		fprintf(f, " %" PRIu64, v);
}

static void print_mask(FILE *f, const char *what, uint64_t m)
{
	char b[24];
	int i;

	fprintf(f, "  %s %#018" PRIx64, what, m);
	for (i = 0; i < CKPT_NSIG; i++)
		if (m & (1ull << i))
			fprintf(f, " %s", ckpt_sig_name(i + 1, b, sizeof(b)));
	fputc('\n', f);
}

static void print_siginfos(FILE *f, const char *what, const struct ckpt_siginfo *si,
			   uint32_t n)
{
	uint32_t i;
	char b[24];

	for (i = 0; i < n; i++) {
		int32_t signo, code;
		int32_t pid, uid;

		memcpy(&signo, si[i].raw, 4);
		memcpy(&code, si[i].raw + 8, 4);
		memcpy(&pid, si[i].raw + 16, 4);
		memcpy(&uid, si[i].raw + 20, 4);
		fprintf(f, "  %s %s code %d pid %d uid %d\n", what,
			ckpt_sig_name(signo, b, sizeof(b)), code, pid, uid);
	}
}

static void show_proc(FILE *f, const struct ckpt_proc *p)
{
	uint32_t i;

	fprintf(f, "  process pid %d ppid %d pgid %d sid %d comm \"%s\"\n", p->pid, p->ppid,
		p->pgid, p->sid, p->comm);
	fprintf(f, "  nspid");
	for (i = 0; i < p->ns_levels; i++)
		fprintf(f, " %d/%d/%d", p->ns_pid[i], p->ns_pgid[i], p->ns_sid[i]);
	fprintf(f, "\n  uniquepid %s\n  exe %s\n  cwd %s\n  root %s\n", p->uniquepid, p->exe,
		p->cwd, p->root);
	fprintf(f, "  cmdline");
	for (i = 0; i < p->cmdline_len;) {
		const char *a = (const char *)p->cmdline + i;

		fprintf(f, " %s", a);
		i += (uint32_t)strnlen(a, p->cmdline_len - i) + 1;
	}
	fprintf(f, "\n  environ %u bytes\n", p->environ_len);
	fprintf(f, "  uid %u %u %u %u gid %u %u %u %u groups", p->creds.uid[0], p->creds.uid[1],
		p->creds.uid[2], p->creds.uid[3], p->creds.gid[0], p->creds.gid[1],
		p->creds.gid[2], p->creds.gid[3]);
	for (i = 0; i < p->creds.ngroups; i++)
		fprintf(f, " %u", p->creds.groups[i]);
	fprintf(f, "\n  caps inh %#" PRIx64 " prm %#" PRIx64 " eff %#" PRIx64 " bnd %#" PRIx64
		   " amb %#" PRIx64 " no_new_privs %u seccomp %u\n",
		p->creds.cap_inh, p->creds.cap_prm, p->creds.cap_eff, p->creds.cap_bnd,
		p->creds.cap_amb, p->creds.no_new_privs, p->creds.seccomp_mode);
	if (p->umask == ~0u)
		fprintf(f, "  umask unknown");
	else
		fprintf(f, "  umask %04o", p->umask);
	fprintf(f, " personality %#x start_time %" PRIu64 "\n", p->personality, p->start_time);
	fprintf(f, "  mm code %#" PRIx64 "-%#" PRIx64 " data %#" PRIx64 "-%#" PRIx64
		   " brk %#" PRIx64 "-%#" PRIx64 " stack %#" PRIx64 "\n",
		p->mm.start_code, p->mm.end_code, p->mm.start_data, p->mm.end_data,
		p->mm.start_brk, p->mm.brk, p->mm.start_stack);
	fprintf(f, "  mm args %#" PRIx64 "-%#" PRIx64 " env %#" PRIx64 "-%#" PRIx64 "\n",
		p->mm.arg_start, p->mm.arg_end, p->mm.env_start, p->mm.env_end);
	for (i = 0; i < CKPT_NRLIMITS; i++) {
		fprintf(f, "  rlimit %s", ckpt_rlimit_name(i));
		print_lim(f, p->rlim[i].cur);
		print_lim(f, p->rlim[i].max);
		fputc('\n', f);
	}
	for (i = 0; i < p->nzombies; i++)
		fprintf(f, "  zombie pid %d status %d\n", p->zombies[i].pid,
			p->zombies[i].exit_code);
	fprintf(f, "  counts threads %u files %u fds %u vmas %u runs %u pages %" PRIu64 "\n",
		p->nthreads, p->nfiles, p->nfds, p->nvmas, p->nruns, p->pages_stored);
}

static void show_thread(FILE *f, const struct ckpt_thread *t)
{
	const struct ckpt_regs *r = &t->regs;

	fprintf(f, "  thread tid %d comm \"%s\"\n", t->tid, t->comm);
	fprintf(f, "  regs rip %#" PRIx64 " rsp %#" PRIx64 " rbp %#" PRIx64 " rax %#" PRIx64
		   " orig_rax %" PRId64 " eflags %#" PRIx64 "\n",
		r->rip, r->rsp, r->rbp, r->rax, (int64_t)r->orig_rax, r->eflags);
	fprintf(f, "  regs rdi %#" PRIx64 " rsi %#" PRIx64 " rdx %#" PRIx64 " r10 %#" PRIx64
		   " r12 %#" PRIx64 " r13 %#" PRIx64 " r14 %#" PRIx64 " r15 %#" PRIx64 "\n",
		r->rdi, r->rsi, r->rdx, r->r10, r->r12, r->r13, r->r14, r->r15);
	fprintf(f, "  fs_base %#" PRIx64 " gs_base %#" PRIx64 "\n", r->fs_base, r->gs_base);
	fprintf(f, "  syscall-fixup %s (stopped rax %" PRId64 ")\n", ckpt_sysfix_name(t->sysfix),
		(int64_t)t->stopped_ret);
	fprintf(f, "  xsave %u bytes\n", t->xsave_size);
	print_mask(f, "sigmask", t->sigmask);
	if (t->have_altstack)
		fprintf(f, "  sigaltstack sp %#" PRIx64 " size %" PRIu64 " flags %#x\n", t->ss_sp,
			t->ss_size, t->ss_flags);
	else
		fprintf(f, "  sigaltstack unknown\n");
	if (t->rseq_len)
		fprintf(f, "  rseq %#" PRIx64 " len %u sig %#x flags %#x\n", t->rseq_addr,
			t->rseq_len, t->rseq_sig, t->rseq_flags);
	else
		fprintf(f, "  rseq none\n");
	fprintf(f, "  robust_list %#" PRIx64 " len %" PRIu64 "\n", t->robust_head, t->robust_len);
	if (t->have_clear_tid)
		fprintf(f, "  clear_tid %#" PRIx64 "\n", t->clear_tid);
	else
		fprintf(f, "  clear_tid unknown\n");
	print_siginfos(f, "pending", t->pending, t->npending);
}

static void show_signals(FILE *f, const struct ckpt_signals *s)
{
	uint32_t i;
	char b[24];

	fprintf(f, "  dispositions from %s\n", ckpt_sigsrc_name(s->act_source));
	for (i = 0; i < CKPT_NSIG; i++) {
		const struct ckpt_sigaction *a = &s->act[i];

		if (!a->handler && !a->flags && !a->mask)
			continue;
		fprintf(f, "  sigaction %s handler ", ckpt_sig_name((int)i + 1, b, sizeof(b)));
		if (a->handler == 0)
			fputs("SIG_DFL", f);
		else if (a->handler == 1)
			fputs("SIG_IGN", f);
		else
			fprintf(f, "%#" PRIx64, a->handler);
		fprintf(f, " flags %#" PRIx64 " mask %#" PRIx64 "\n", a->flags, a->mask);
	}
	print_mask(f, "ignored", s->sig_ignored);
	print_mask(f, "caught", s->sig_caught);
	print_siginfos(f, "shared-pending", s->pending, s->npending);
	fprintf(f, "  timers from %s\n", ckpt_sigsrc_name(s->timer_source));
	for (i = 0; i < 3; i++)
		if (s->itimer[i].interval_ns || s->itimer[i].value_ns)
			fprintf(f, "  itimer %s interval_ns %" PRIu64 " value_ns %" PRIu64 "\n",
				ckpt_itimer_name(i), s->itimer[i].interval_ns,
				s->itimer[i].value_ns);
	for (i = 0; i < s->ntimers; i++) {
		const struct ckpt_posix_timer *t = &s->timers[i];

		fprintf(f, "  posix-timer id %d clock %d signal %s notify %d tid %d interval_ns %"
			   PRIu64 " value_ns %" PRIu64 " overrun %d\n",
			t->id, t->clock, ckpt_sig_name(t->signo, b, sizeof(b)), t->notify,
			t->notify_tid, t->interval_ns, t->value_ns, t->overrun);
	}
}

static void show_sock(FILE *f, uint32_t id, const struct ckpt_sock *s)
{
	char a[256], pa[256];

	ckpt_sock_addr_text(a, sizeof(a), s->addr, s->addr_len);
	ckpt_sock_addr_text(pa, sizeof(pa), s->peer_addr, s->peer_addr_len);
	fprintf(f, "  socket file %u %s %s %s ino %" PRIu64 " peer %" PRIu64 " addr %s peer-addr %s",
		id, ckpt_sock_family_name(s->family), ckpt_sock_type_name(s->type),
		ckpt_sock_state_name(s->state), s->ino,
		s->peer_ino, a, pa);
	if (s->state == CKPT_SOCK_LISTENING)
		fprintf(f, " backlog %u waiting %u", s->backlog, s->npending);
	if (s->shutdown)
		fprintf(f, " shutdown %s%s", s->shutdown & 1 ? "rd" : "", s->shutdown & 2 ? "wr" : "");
	if (s->nmsgs)
		fprintf(f, " messages %u", s->nmsgs);
	if (s->flags & CKPT_SF_PASSCRED)
		fputs(" passcred", f);
	if (s->flags & CKPT_SF_PEEK_OFF)
		fprintf(f, " peek-off %d", s->peek_off);
	if (s->nopts)
		fprintf(f, " options %u", s->nopts);
	fprintf(f, " sndbuf %d rcvbuf %d\n", s->sndbuf, s->rcvbuf);
	/* the runs of its queue that carry fds or credentials */
	for (uint32_t i = 0; i < s->nscm; i++) {
		const struct ckpt_sock_scm *c = &s->scm[i];

		fprintf(f, "  scm file %u", id);
		if (s->type != SOCK_STREAM)
			fprintf(f, " message %u", c->msg);
		fprintf(f, " at %" PRIu64 " bytes %" PRIu64, c->off, c->len);
		if (c->nfiles) {
			fputs(" files", f);
			for (uint32_t j = 0; j < c->nfiles; j++)
				fprintf(f, "%c%u", j ? ',' : ' ', c->files[j]);
		}
		if (c->flags & CKPT_SCM_CREDS)
			fprintf(f, " creds pid %d uid %u gid %u", c->pid, c->uid, c->gid);
		fputc('\n', f);
	}
}

static void show_anon(FILE *f, uint32_t id, const struct ckpt_anon *a)
{
	fprintf(f, "  anon file %u %s", id, ckpt_anon_kind_name(a->kind));
	switch (a->kind) {
	case CKPT_ANON_EVENTFD:
		fprintf(f, " count %" PRIu64 "%s", a->count,
			a->flags & CKPT_AF_SEMAPHORE ? " semaphore" : "");
		break;
	case CKPT_ANON_TIMERFD:
		fprintf(f, " clock %d %s value_ns %" PRIu64 " interval_ns %" PRIu64
			   " ticks %" PRIu64 "%s",
			a->clock, a->flags & CKPT_AF_ABSTIME ? "absolute" : "relative", a->value_ns,
			a->interval_ns, a->count, a->flags & CKPT_AF_CANCEL ? " cancel-on-set" : "");
		break;
	case CKPT_ANON_SIGNALFD:
		fprintf(f, " sigmask %#" PRIx64, a->sigmask);
		break;
	case CKPT_ANON_EPOLL:
		fprintf(f, " watches %u", a->nitems);
		for (uint32_t k = 0; k < a->nitems; k++)
			fprintf(f, " fd %d events %#x data %#" PRIx64, a->items[k].tfd,
				a->items[k].events, a->items[k].data);
		break;
	case CKPT_ANON_PIDFD:
		fprintf(f, " pid %d", a->pid);
		break;
	case CKPT_ANON_INOTIFY:
		fprintf(f, " unread %" PRIu64 " watches %u", a->count, a->nwatches);
		for (uint32_t k = 0; k < a->nwatches; k++)
			fprintf(f, " wd %d mask %#x ino %" PRIu64 " %s", a->watches[k].wd,
				a->watches[k].mask, a->watches[k].ino, a->watches[k].path);
		break;
	}
	fputc('\n', f);
}

static void show_files(FILE *f, const struct ckpt_proc *p)
{
	uint32_t i;

	for (i = 0; i < p->nfiles; i++) {
		const struct ckpt_file *x = &p->files[i];

		fprintf(f, "  file %u %s oflags %#o pos %" PRIu64 " mnt %u dev %#" PRIx64
			   " ino %" PRIu64 " share %#" PRIx64 " path %s",
			x->id, ckpt_file_type_name(x->type), x->oflags, x->pos, x->mnt_id, x->dev,
			x->ino, x->share_key, x->path);
		if (x->flags & CKPT_FF_DELETED)
			fputs(" deleted", f);
		if (x->flags & CKPT_FF_MEMFD)
			fprintf(f, " memfd mfd-flags %#x seals %#x", x->mfd_flags, x->seals);
		if (x->type == CKPT_FILE_PIPE || x->type == CKPT_FILE_FIFO)
			fprintf(f, " end %s", ckpt_pipe_end_name(x->pipe_end));
		if (x->type == CKPT_FILE_SOCKET)
			fprintf(f, " socktype %u", x->sock_type);
		if (x->flags & CKPT_FF_HAS_DATA)
			fprintf(f, " data %" PRIu64 " bytes", x->data_len);
		if (x->flags & CKPT_FF_DATA_TRUNC)
			fputs(" data-incomplete", f);
		fputc('\n', f);
		if (x->sock)
			show_sock(f, x->id, x->sock);
		if (x->anon)
			show_anon(f, x->id, x->anon);
		for (uint32_t k = 0; k < x->nlocks; k++) {
			const struct ckpt_lock *l = &x->locks[k];

			fprintf(f, "  lock file %u %s %s start %" PRIu64, x->id,
				ckpt_lock_kind_name(l->kind), ckpt_lock_type_name(l->type), l->start);
			if (l->flags & CKPT_LKF_TO_EOF)
				fputs(" end EOF", f);
			else
				fprintf(f, " end %" PRIu64, l->end);
			if (l->kind == CKPT_LOCK_POSIX)
				fprintf(f, " pid %d", l->pid);
			fputc('\n', f);
		}
		if (x->flags & CKPT_FF_TERMIOS)
			fprintf(f, "  termios file %u iflag %#o oflag %#o cflag %#o lflag %#o "
				   "rows %u cols %u\n",
				x->id, x->tio.iflag, x->tio.oflag, x->tio.cflag, x->tio.lflag,
				x->tio.ws_row, x->tio.ws_col);
	}
}

static void show_fds(FILE *f, const struct ckpt_proc *p)
{
	uint32_t i;

	for (i = 0; i < p->nfds; i++)
		fprintf(f, "  fd %d file %u%s%s\n", p->fds[i].fd, p->fds[i].file,
			p->fds[i].fd_flags & CKPT_FDF_CLOEXEC ? " cloexec" : "",
			p->fds[i].fd_flags & CKPT_FDF_STDIO ? " stdio" : "");
}

static void show_vmas(FILE *f, const struct ckpt_proc *p)
{
	uint32_t i, bit;

	for (i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];

		fprintf(f, "  vma %#" PRIx64 "-%#" PRIx64 " %c%c%c%c %s off %#" PRIx64
			   " dev %#" PRIx64 " ino %" PRIu64 " pages %u",
			v->start, v->end, v->prot & 1 ? 'r' : '-', v->prot & 2 ? 'w' : '-',
			v->prot & 4 ? 'x' : '-', v->flags & CKPT_VMA_F_SHARED ? 's' : 'p',
			ckpt_vma_kind_name(v->kind), v->pgoff, v->dev, v->ino, v->npages_stored);
		if (v->shm_id)
			fprintf(f, " object %" PRIu64 " owner %d", v->shm_id, v->owner_pid);
		for (bit = 1; bit; bit <<= 1)
			if ((v->flags & bit) && ckpt_vma_flag_name(bit))
				fprintf(f, " %s", ckpt_vma_flag_name(bit));
		fprintf(f, " %s\n", v->path && *v->path ? v->path : "-");
	}
}

static void show_pagemap(FILE *f, const struct ckpt_proc *p)
{
	uint32_t i;

	fprintf(f, "  page-runs %u\n", p->nruns);
	for (i = 0; i < p->nruns; i++)
		fprintf(f, "  run %#" PRIx64 " pages %u vma %u\n", p->runs[i].vaddr,
			p->runs[i].npages, p->runs[i].vma);
}

static const char *type_name(uint32_t type, void *arg)
{
	(void)arg;
	return ckpt_sec_name(type);
}

/* Section-local decoding: the array sections carry their own count first. */
static void print_record(FILE *f, const struct image_section *s, const void *data, size_t len,
			 void *arg)
{
	struct ckpt_proc p;
	const char *why = NULL;
	uint32_t n = 0;
	int rc = 0;

	(void)arg;
	ckpt_proc_init(&p);
	if (len >= 4)
		memcpy(&n, data, 4);
	switch (s->type) {
	case CKPT_SEC_PROC:
		rc = ckpt_decode_proc(data, len, &p, &why);
		if (!rc)
			show_proc(f, &p);
		break;
	case CKPT_SEC_THREAD: {
		struct ckpt_thread t;

		rc = ckpt_decode_thread(data, len, &t, &why);
		if (!rc) {
			show_thread(f, &t);
			free(t.xsave);
			free(t.pending);
		}
		break;
	}
	case CKPT_SEC_SIGNALS: {
		struct ckpt_signals sg;

		rc = ckpt_decode_signals(data, len, &sg, &why);
		if (!rc) {
			show_signals(f, &sg);
			free(sg.pending);
			free(sg.timers);
		}
		break;
	}
	case CKPT_SEC_FILES:
		p.nfiles = n;
		rc = ckpt_decode_files(data, len, &p, &why);
		if (!rc)
			show_files(f, &p);
		break;
	case CKPT_SEC_FDS:
		p.nfds = n;
		p.nfiles = CKPT_MAX_FILES; /* checked against the real count by ckpt_load */
		rc = ckpt_decode_fds(data, len, &p, &why);
		if (!rc)
			show_fds(f, &p);
		p.nfiles = 0;
		break;
	case CKPT_SEC_VMAS:
		p.nvmas = n;
		rc = ckpt_decode_vmas(data, len, &p, &why);
		if (!rc)
			show_vmas(f, &p);
		break;
	case CKPT_SEC_PAGEMAP:
		p.nruns = n;
		rc = ckpt_decode_pagemap(data, len, &p, &why);
		if (!rc)
			show_pagemap(f, &p);
		break;
	case CKPT_SEC_FILEDATA: {
		uint32_t id;
		uint64_t dl;

		if (len < 12) {
			rc = -EINVAL;
			why = "FILEDATA section too short";
		} else if (!(rc = ckpt_decode_filedata_hdr(data, 12, &id, &dl, &why))) {
			fprintf(f, "  filedata file %u %" PRIu64 " bytes\n", id, dl);
		}
		break;
	}
	default:
		break;
	}
	if (rc)
		fprintf(f, "  INVALID: %s\n", why ? why : "cannot decode");
	ckpt_proc_free(&p);
}

static const struct image_show_hooks hooks = {
	.type_name = type_name,
	.print_record = print_record,
};

const struct image_show_hooks *ckpt_show_hooks(void)
{
	return &hooks;
}

int ckpt_show(FILE *f, const char *path, unsigned flags)
{
	struct ckpt_proc p;
	int rc;

	rc = image_show(f, path, &hooks, flags);
	if (rc)
		return rc;
	rc = ckpt_load(path, &p, NULL);
	if (rc) {
		fprintf(f, "content: INVALID (%s)\n", strerror(-rc));
		return rc;
	}
	fprintf(f, "content: valid (process %d, %u threads, %u fds, %u vmas, %" PRIu64
		   " pages stored)\n",
		p.pid, p.nthreads, p.nfds, p.nvmas, p.pages_stored);
	ckpt_proc_free(&p);
	return 0;
}
