/*
 * Encoding of the checkpoint content model (common/ckpt_state.h) into section bodies: flat
 * little-endian integers, strings as u32 length + bytes, arrays as u32 count + elements.
 * The matching validating decoders are in ckpt_state_dec.c; keep both in step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_state.h"

/* ---- encoder -------------------------------------------------------------------------- */

void ckpt_buf_free(struct ckpt_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void put(struct ckpt_buf *b, const void *v, size_t n)
{
	if (b->err || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

/* x86_64 only: host order is the image's little-endian order. */
static void put_u8(struct ckpt_buf *b, uint8_t v) { put(b, &v, 1); }
static void put_u16(struct ckpt_buf *b, uint16_t v) { put(b, &v, 2); }
static void put_u32(struct ckpt_buf *b, uint32_t v) { put(b, &v, 4); }
static void put_i32(struct ckpt_buf *b, int32_t v) { put(b, &v, 4); }
static void put_u64(struct ckpt_buf *b, uint64_t v) { put(b, &v, 8); }

static void put_bytes(struct ckpt_buf *b, const void *v, uint32_t n)
{
	put_u32(b, n);
	put(b, v, n);
}

static void put_str(struct ckpt_buf *b, const char *s)
{
	put_bytes(b, s ? s : "", s ? (uint32_t)strlen(s) : 0);
}

static void put_siginfos(struct ckpt_buf *b, const struct ckpt_siginfo *si, uint32_t n)
{
	put_u32(b, n);
	put(b, si, (size_t)n * sizeof(*si));
}

int ckpt_encode_proc(const struct ckpt_proc *p, struct ckpt_buf *b)
{
	uint32_t i;

	put_u32(b, p->version);
	put_i32(b, p->pid);
	put_i32(b, p->ppid);
	put_i32(b, p->pgid);
	put_i32(b, p->sid);
	put_u32(b, p->ns_levels);
	for (i = 0; i < p->ns_levels && i < CKPT_MAX_NS_LEVELS; i++) {
		put_i32(b, p->ns_pid[i]);
		put_i32(b, p->ns_pgid[i]);
		put_i32(b, p->ns_sid[i]);
	}
	put(b, p->comm, sizeof(p->comm));
	put_str(b, p->uniquepid);
	put_str(b, p->exe);
	put_str(b, p->cwd);
	put_str(b, p->root);
	put_bytes(b, p->cmdline, p->cmdline_len);
	put_bytes(b, p->environ, p->environ_len);
	put_u32(b, p->umask);
	put_u32(b, p->personality);
	put_u64(b, p->start_time);
	put(b, &p->mm, sizeof(p->mm));
	put(b, p->creds.uid, sizeof(p->creds.uid));
	put(b, p->creds.gid, sizeof(p->creds.gid));
	put_u32(b, p->creds.ngroups);
	put(b, p->creds.groups, (size_t)p->creds.ngroups * 4);
	put_u64(b, p->creds.cap_inh);
	put_u64(b, p->creds.cap_prm);
	put_u64(b, p->creds.cap_eff);
	put_u64(b, p->creds.cap_bnd);
	put_u64(b, p->creds.cap_amb);
	put_u32(b, p->creds.no_new_privs);
	put_u32(b, p->creds.seccomp_mode);
	for (i = 0; i < CKPT_NRLIMITS; i++) {
		put_u64(b, p->rlim[i].cur);
		put_u64(b, p->rlim[i].max);
	}
	put_u32(b, p->nzombies);
	for (i = 0; i < p->nzombies; i++) {
		put_i32(b, p->zombies[i].pid);
		put_i32(b, p->zombies[i].exit_code);
	}
	/* Counts of the other sections, so the loader can tell a missing one. */
	put_u32(b, p->nthreads);
	put_u32(b, p->nfiles);
	put_u32(b, p->nfds);
	put_u32(b, p->nvmas);
	put_u32(b, p->nruns);
	put_u64(b, p->pages_stored);
	return b->err;
}

int ckpt_encode_thread(const struct ckpt_thread *t, struct ckpt_buf *b)
{
	uint32_t i;

	put_i32(b, t->tid);
	put_u32(b, t->ns_levels);
	for (i = 0; i < t->ns_levels && i < CKPT_MAX_NS_LEVELS; i++)
		put_i32(b, t->ns_tid[i]);
	put(b, t->comm, sizeof(t->comm));
	put(b, &t->regs, sizeof(t->regs));
	put_u64(b, t->stopped_ret);
	put_u32(b, t->sysfix);
	put_bytes(b, t->xsave, t->xsave_size);
	put_u64(b, t->sigmask);
	put_u64(b, t->ss_sp);
	put_u64(b, t->ss_size);
	put_u32(b, t->ss_flags);
	put_u32(b, t->have_altstack);
	put_u64(b, t->rseq_addr);
	put_u32(b, t->rseq_len);
	put_u32(b, t->rseq_sig);
	put_u32(b, t->rseq_flags);
	put_u64(b, t->robust_head);
	put_u64(b, t->robust_len);
	put_u64(b, t->clear_tid);
	put_u32(b, t->have_clear_tid);
	put_siginfos(b, t->pending, t->npending);
	return b->err;
}

int ckpt_encode_signals(const struct ckpt_signals *s, struct ckpt_buf *b)
{
	uint32_t i;

	put_u32(b, s->act_source);
	for (i = 0; i < CKPT_NSIG; i++) {
		put_u64(b, s->act[i].handler);
		put_u64(b, s->act[i].flags);
		put_u64(b, s->act[i].restorer);
		put_u64(b, s->act[i].mask);
	}
	put_u64(b, s->sig_ignored);
	put_u64(b, s->sig_caught);
	put_siginfos(b, s->pending, s->npending);
	put_u32(b, s->timer_source);
	for (i = 0; i < 3; i++) {
		put_u64(b, s->itimer[i].interval_ns);
		put_u64(b, s->itimer[i].value_ns);
	}
	put_u32(b, s->ntimers);
	for (i = 0; i < s->ntimers; i++) {
		const struct ckpt_posix_timer *pt = &s->timers[i];

		put_i32(b, pt->id);
		put_i32(b, pt->clock);
		put_i32(b, pt->signo);
		put_i32(b, pt->notify);
		put_i32(b, pt->notify_tid);
		put_i32(b, pt->overrun);
		put_u64(b, pt->sigval);
		put_u64(b, pt->interval_ns);
		put_u64(b, pt->value_ns);
	}
	return b->err;
}

static void put_sock(struct ckpt_buf *b, const struct ckpt_sock *s)
{
	put_u32(b, s->family);
	put_u32(b, s->type);
	put_u32(b, s->protocol);
	put_u32(b, s->state);
	put_u32(b, s->shutdown);
	put_u32(b, s->flags);
	put_u64(b, s->ino);
	put_u64(b, s->peer_ino);
	put_u32(b, s->backlog);
	put_bytes(b, s->addr, s->addr_len);
	put_bytes(b, s->peer_addr, s->peer_addr_len);
	put_u32(b, s->addr_mode);
	put_i32(b, s->sndbuf);
	put_i32(b, s->rcvbuf);
	put_u64(b, (uint64_t)s->rcvtimeo_us);
	put_u64(b, (uint64_t)s->sndtimeo_us);
	put_i32(b, s->peek_off);
	put_u32(b, s->nmsgs);
	for (uint32_t i = 0; i < s->nmsgs; i++)
		put_u32(b, s->msg_len[i]);
	put_u32(b, s->msg_from ? s->nmsgs : 0);
	for (uint32_t i = 0; s->msg_from && i < s->nmsgs; i++)
		put_bytes(b, s->msg_from[i].addr, s->msg_from[i].len);
	put_u32(b, s->npending);
	for (uint32_t i = 0; i < s->npending; i++)
		put_u64(b, s->pending[i]);
	put_u32(b, s->nopts);
	for (uint32_t i = 0; i < s->nopts && i < CKPT_MAX_SOCK_OPTS; i++) {
		put_i32(b, s->opts[i].level);
		put_i32(b, s->opts[i].name);
		put_i32(b, s->opts[i].value);
	}
	put_u32(b, s->nscm);
	for (uint32_t i = 0; i < s->nscm; i++) {
		const struct ckpt_sock_scm *m = &s->scm[i];

		put_u64(b, m->off);
		put_u64(b, m->len);
		put_u32(b, m->msg);
		put_u32(b, m->flags);
		put_i32(b, m->pid);
		put_u32(b, m->uid);
		put_u32(b, m->gid);
		put_u32(b, m->nfiles);
		for (uint32_t k = 0; k < m->nfiles; k++)
			put_u32(b, m->files[k]);
	}
}

int ckpt_encode_files(const struct ckpt_proc *p, struct ckpt_buf *b)
{
	uint32_t i;

	put_u32(b, p->nfiles);
	for (i = 0; i < p->nfiles; i++) {
		const struct ckpt_file *f = &p->files[i];

		put_u32(b, f->id);
		put_u32(b, f->type);
		put_u32(b, f->oflags);
		put_u32(b, f->flags);
		put_u64(b, f->pos);
		put_u32(b, f->mnt_id);
		put_u32(b, f->mode);
		put_u64(b, f->dev);
		put_u64(b, f->ino);
		put_u64(b, f->rdev);
		put_u64(b, f->size);
		put_u64(b, f->share_key);
		put_i32(b, f->pipe_end);
		put_u32(b, f->sock_type);
		put_u64(b, f->data_len);
		put_u32(b, f->tio.iflag);
		put_u32(b, f->tio.oflag);
		put_u32(b, f->tio.cflag);
		put_u32(b, f->tio.lflag);
		put_u8(b, f->tio.line);
		put(b, f->tio.cc, sizeof(f->tio.cc));
		put_u16(b, f->tio.ws_row);
		put_u16(b, f->tio.ws_col);
		put_u16(b, f->tio.ws_xpixel);
		put_u16(b, f->tio.ws_ypixel);
		put_str(b, f->path);
		if (f->flags & CKPT_FF_MEMFD) {
			put_u32(b, f->mfd_flags);
			put_u32(b, f->seals);
		}
		put_u32(b, f->nlocks);
		for (uint32_t k = 0; k < f->nlocks; k++) {
			put_u32(b, f->locks[k].kind);
			put_u32(b, f->locks[k].type);
			put_u32(b, f->locks[k].flags);
			put_i32(b, f->locks[k].pid);
			put_u64(b, f->locks[k].start);
			put_u64(b, f->locks[k].end);
		}
		if (f->type == CKPT_FILE_SOCKET) {
			if (!f->sock)
				return b->err = -EINVAL; /* the collector always makes one */
			put_sock(b, f->sock);
		}
		if (f->type == CKPT_FILE_ANON) {
			if (!f->anon)
				return b->err = -EINVAL; /* the collector always makes one */
			put_u32(b, f->anon->kind);
			put_u32(b, f->anon->flags);
			put_i32(b, f->anon->clock);
			put_u64(b, f->anon->count);
			put_u64(b, f->anon->sigmask);
			put_u64(b, f->anon->value_ns);
			put_u64(b, f->anon->interval_ns);
			put_u32(b, f->anon->nitems);
			for (uint32_t k = 0; k < f->anon->nitems; k++) {
				put_i32(b, f->anon->items[k].tfd);
				put_u32(b, f->anon->items[k].events);
				put_u64(b, f->anon->items[k].data);
			}
			put_i32(b, f->anon->pid);
			put_u32(b, f->anon->nwatches);
			for (uint32_t k = 0; k < f->anon->nwatches; k++) {
				put_i32(b, f->anon->watches[k].wd);
				put_u32(b, f->anon->watches[k].mask);
				put_u64(b, f->anon->watches[k].dev);
				put_u64(b, f->anon->watches[k].ino);
				put_str(b, f->anon->watches[k].path);
			}
		}
	}
	return b->err;
}

int ckpt_encode_fds(const struct ckpt_proc *p, struct ckpt_buf *b)
{
	uint32_t i;

	put_u32(b, p->nfds);
	for (i = 0; i < p->nfds; i++) {
		put_i32(b, p->fds[i].fd);
		put_u32(b, p->fds[i].fd_flags);
		put_u32(b, p->fds[i].file);
	}
	return b->err;
}

int ckpt_encode_vmas(const struct ckpt_proc *p, struct ckpt_buf *b)
{
	uint32_t i;

	put_u32(b, p->nvmas);
	for (i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];

		put_u64(b, v->start);
		put_u64(b, v->end);
		put_u32(b, v->prot);
		put_u32(b, v->flags);
		put_u32(b, v->kind);
		put_u64(b, v->pgoff);
		put_u64(b, v->dev);
		put_u64(b, v->ino);
		put_u64(b, v->shm_id);
		put_i32(b, v->owner_pid);
		put_u32(b, v->npages_stored);
		put_str(b, v->path);
	}
	return b->err;
}

int ckpt_encode_pagemap(const struct ckpt_proc *p, struct ckpt_buf *b)
{
	uint32_t i;

	put_u32(b, p->nruns);
	for (i = 0; i < p->nruns; i++) {
		put_u64(b, p->runs[i].vaddr);
		put_u32(b, p->runs[i].npages);
		put_u32(b, p->runs[i].vma);
	}
	return b->err;
}

int ckpt_encode_filedata_hdr(uint32_t file_id, uint64_t len, struct ckpt_buf *b)
{
	put_u32(b, file_id);
	put_u64(b, len);
	return b->err;
}
