/*
 * The JSON form of `dmtcp_restart --show`: one object per image with the facts the text form
 * (common/ckpt_show.c) prints, from the same decoded model (ckpt_load_reader() fills a struct
 * ckpt_proc; nothing is decoded here). The container part is image_show_json()'s.
 *
 * Conventions (docs/dmtcp_restart.1 describes the document): addresses, register values,
 * 64-bit masks, device numbers and sharing keys are strings "0x..." so that they survive a
 * reader that keeps numbers as doubles; counts, ids, sizes, offsets and 32-bit flags are
 * numbers; constants are given by name as in the text form; "unknown" is null.
 */
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>

#include "ckpt_show.h"
#include "ckpt_state.h"
#include "image.h"
#include "json.h"

/* A signal set: its mask and the names of its members. */
static void sigset_json(struct json_writer *jw, const char *key, uint64_t m)
{
	char b[24];
	int i;

	json_object_begin(jw, key);
	json_hex(jw, "mask", m);
	json_array_begin(jw, "signals");
	for (i = 0; i < CKPT_NSIG; i++)
		if (m & (1ull << i))
			json_string(jw, NULL, ckpt_sig_name(i + 1, b, sizeof(b)));
	json_array_end(jw);
	json_object_end(jw);
}

static void signal_json(struct json_writer *jw, int sig)
{
	char b[24];

	json_string(jw, "signal", ckpt_sig_name(sig, b, sizeof(b)));
	json_int(jw, "signo", sig);
}

/* Queued signals: the siginfo fields the text form shows (signo, code, pid, uid). */
static void siginfos_json(struct json_writer *jw, const char *key, const struct ckpt_siginfo *si,
			  uint32_t n)
{
	uint32_t i;

	json_array_begin(jw, key);
	for (i = 0; i < n; i++) {
		int32_t signo, code, pid, uid;

		memcpy(&signo, si[i].raw, 4);
		memcpy(&code, si[i].raw + 8, 4);
		memcpy(&pid, si[i].raw + 16, 4);
		memcpy(&uid, si[i].raw + 20, 4);
		json_object_begin(jw, NULL);
		signal_json(jw, signo);
		json_int(jw, "code", code);
		json_int(jw, "pid", pid);
		json_int(jw, "uid", uid);
		json_object_end(jw);
	}
	json_array_end(jw);
}

/* NUL-separated strings (cmdline, environ) as an array of strings. */
static void strings_json(struct json_writer *jw, const char *key, const uint8_t *buf,
			 uint32_t len)
{
	uint32_t i, n;

	json_array_begin(jw, key);
	for (i = 0; i < len; i += n + 1) {
		n = (uint32_t)strnlen((const char *)buf + i, len - i);
		json_string_len(jw, NULL, buf + i, n);
	}
	json_array_end(jw);
}

static void u32s_json(struct json_writer *jw, const char *key, const uint32_t *v, uint32_t n)
{
	uint32_t i;

	json_array_begin(jw, key);
	for (i = 0; i < n; i++)
		json_uint(jw, NULL, v[i]);
	json_array_end(jw);
}

static void lim_json(struct json_writer *jw, const char *key, uint64_t v)
{
	if (v == UINT64_MAX)
		json_string(jw, key, "unlimited");
	else
		json_uint(jw, key, v);
}

static void proc_json(struct json_writer *jw, const struct ckpt_proc *p)
{
	const struct ckpt_creds *c = &p->creds;
	const struct ckpt_mm *mm = &p->mm;
	uint32_t i;

	json_object_begin(jw, "process");
	json_int(jw, "pid", p->pid);
	json_int(jw, "ppid", p->ppid);
	json_int(jw, "pgid", p->pgid);
	json_int(jw, "sid", p->sid);
	json_string_len(jw, "comm", p->comm, strnlen(p->comm, sizeof(p->comm)));
	/* As seen in each PID namespace, outermost first (the text's "nspid pid/pgid/sid"). */
	json_array_begin(jw, "ns");
	for (i = 0; i < p->ns_levels; i++) {
		json_object_begin(jw, NULL);
		json_int(jw, "pid", p->ns_pid[i]);
		json_int(jw, "pgid", p->ns_pgid[i]);
		json_int(jw, "sid", p->ns_sid[i]);
		json_object_end(jw);
	}
	json_array_end(jw);
	json_string(jw, "uniquepid", p->uniquepid);
	json_string(jw, "exe", p->exe);
	json_string(jw, "cwd", p->cwd);
	json_string(jw, "root", p->root);
	strings_json(jw, "cmdline", p->cmdline, p->cmdline_len);
	strings_json(jw, "environ", p->environ, p->environ_len);
	json_uint(jw, "environ_bytes", p->environ_len);
	u32s_json(jw, "uid", c->uid, 4);
	u32s_json(jw, "gid", c->gid, 4);
	u32s_json(jw, "groups", c->groups, c->ngroups);
	json_object_begin(jw, "caps");
	json_hex(jw, "inheritable", c->cap_inh);
	json_hex(jw, "permitted", c->cap_prm);
	json_hex(jw, "effective", c->cap_eff);
	json_hex(jw, "bounding", c->cap_bnd);
	json_hex(jw, "ambient", c->cap_amb);
	json_object_end(jw);
	json_uint(jw, "no_new_privs", c->no_new_privs);
	json_uint(jw, "seccomp_mode", c->seccomp_mode);
	if (p->umask == ~0u)
		json_null(jw, "umask");
	else
		json_uint(jw, "umask", p->umask);
	if (p->personality == ~0u)
		json_null(jw, "personality");
	else
		json_uint(jw, "personality", p->personality);
	json_uint(jw, "start_time", p->start_time);
	json_object_begin(jw, "mm");
	json_hex(jw, "start_code", mm->start_code);
	json_hex(jw, "end_code", mm->end_code);
	json_hex(jw, "start_data", mm->start_data);
	json_hex(jw, "end_data", mm->end_data);
	json_hex(jw, "start_brk", mm->start_brk);
	json_hex(jw, "brk", mm->brk);
	json_hex(jw, "start_stack", mm->start_stack);
	json_hex(jw, "arg_start", mm->arg_start);
	json_hex(jw, "arg_end", mm->arg_end);
	json_hex(jw, "env_start", mm->env_start);
	json_hex(jw, "env_end", mm->env_end);
	json_object_end(jw);
	json_object_begin(jw, "rlimits");
	for (i = 0; i < CKPT_NRLIMITS; i++) {
		json_object_begin(jw, ckpt_rlimit_name(i));
		lim_json(jw, "cur", p->rlim[i].cur);
		lim_json(jw, "max", p->rlim[i].max);
		json_object_end(jw);
	}
	json_object_end(jw);
	json_array_begin(jw, "zombies");
	for (i = 0; i < p->nzombies; i++) {
		json_object_begin(jw, NULL);
		json_int(jw, "pid", p->zombies[i].pid);
		json_int(jw, "status", p->zombies[i].exit_code);
		json_object_end(jw);
	}
	json_array_end(jw);
	json_object_begin(jw, "counts");
	json_uint(jw, "threads", p->nthreads);
	json_uint(jw, "files", p->nfiles);
	json_uint(jw, "fds", p->nfds);
	json_uint(jw, "vmas", p->nvmas);
	json_uint(jw, "runs", p->nruns);
	json_uint(jw, "pages_stored", p->pages_stored);
	json_object_end(jw);
	json_object_end(jw);
}

/* struct ckpt_regs, field by field (user_regs_struct order). */
static const struct {
	const char *name;
	size_t off;
} regs[] = {
#define REG(r) { #r, offsetof(struct ckpt_regs, r) }
	REG(r15), REG(r14), REG(r13), REG(r12), REG(rbp), REG(rbx), REG(r11),
	REG(r10), REG(r9), REG(r8), REG(rax), REG(rcx), REG(rdx), REG(rsi),
	REG(rdi), REG(orig_rax), REG(rip), REG(cs), REG(eflags), REG(rsp), REG(ss),
	REG(fs_base), REG(gs_base), REG(ds), REG(es), REG(fs), REG(gs),
#undef REG
};

static void thread_json(struct json_writer *jw, const struct ckpt_thread *t)
{
	uint32_t i;

	json_object_begin(jw, NULL);
	json_int(jw, "tid", t->tid);
	json_array_begin(jw, "ns_tid");
	for (i = 0; i < t->ns_levels && i < CKPT_MAX_NS_LEVELS; i++)
		json_int(jw, NULL, t->ns_tid[i]);
	json_array_end(jw);
	json_string_len(jw, "comm", t->comm, strnlen(t->comm, sizeof(t->comm)));
	json_object_begin(jw, "regs");
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint64_t v;

		memcpy(&v, (const char *)&t->regs + regs[i].off, sizeof(v));
		json_hex(jw, regs[i].name, v);
	}
	json_object_end(jw);
	json_string(jw, "syscall_fixup", ckpt_sysfix_name(t->sysfix));
	json_int(jw, "stopped_rax", (int64_t)t->stopped_ret);
	json_uint(jw, "xsave_bytes", t->xsave_size);
	sigset_json(jw, "sigmask", t->sigmask);
	if (t->have_altstack) {
		json_object_begin(jw, "sigaltstack");
		json_hex(jw, "sp", t->ss_sp);
		json_uint(jw, "size", t->ss_size);
		json_uint(jw, "flags", t->ss_flags);
		json_object_end(jw);
	} else {
		json_null(jw, "sigaltstack");
	}
	if (t->rseq_len) {
		json_object_begin(jw, "rseq");
		json_hex(jw, "addr", t->rseq_addr);
		json_uint(jw, "len", t->rseq_len);
		json_uint(jw, "sig", t->rseq_sig);
		json_uint(jw, "flags", t->rseq_flags);
		json_object_end(jw);
	} else {
		json_null(jw, "rseq");
	}
	json_object_begin(jw, "robust_list");
	json_hex(jw, "head", t->robust_head);
	json_uint(jw, "len", t->robust_len);
	json_object_end(jw);
	if (t->have_clear_tid)
		json_hex(jw, "clear_tid", t->clear_tid);
	else
		json_null(jw, "clear_tid");
	siginfos_json(jw, "pending", t->pending, t->npending);
	json_object_end(jw);
}

static void signals_json(struct json_writer *jw, const struct ckpt_signals *s)
{
	uint32_t i;

	json_object_begin(jw, "signals");
	json_string(jw, "dispositions_from", ckpt_sigsrc_name(s->act_source));
	/* As in the text form, only the signals whose disposition is not the default. */
	json_array_begin(jw, "actions");
	for (i = 0; i < CKPT_NSIG; i++) {
		const struct ckpt_sigaction *a = &s->act[i];

		if (!a->handler && !a->flags && !a->mask)
			continue;
		json_object_begin(jw, NULL);
		signal_json(jw, (int)i + 1);
		if (a->handler == 0)
			json_string(jw, "handler", "SIG_DFL");
		else if (a->handler == 1)
			json_string(jw, "handler", "SIG_IGN");
		else
			json_hex(jw, "handler", a->handler);
		json_hex(jw, "flags", a->flags);
		json_hex(jw, "restorer", a->restorer);
		json_hex(jw, "mask", a->mask);
		json_object_end(jw);
	}
	json_array_end(jw);
	sigset_json(jw, "ignored", s->sig_ignored);
	sigset_json(jw, "caught", s->sig_caught);
	siginfos_json(jw, "pending", s->pending, s->npending);
	json_string(jw, "timers_from", ckpt_sigsrc_name(s->timer_source));
	json_array_begin(jw, "itimers");
	for (i = 0; i < 3; i++) {
		if (!s->itimer[i].interval_ns && !s->itimer[i].value_ns)
			continue;
		json_object_begin(jw, NULL);
		json_string(jw, "which", ckpt_itimer_name(i));
		json_uint(jw, "interval_ns", s->itimer[i].interval_ns);
		json_uint(jw, "value_ns", s->itimer[i].value_ns);
		json_object_end(jw);
	}
	json_array_end(jw);
	json_array_begin(jw, "posix_timers");
	for (i = 0; i < s->ntimers; i++) {
		const struct ckpt_posix_timer *t = &s->timers[i];

		json_object_begin(jw, NULL);
		json_int(jw, "id", t->id);
		json_int(jw, "clock", t->clock);
		signal_json(jw, t->signo);
		json_int(jw, "notify", t->notify);
		json_int(jw, "tid", t->notify_tid);
		json_hex(jw, "sigval", t->sigval);
		json_uint(jw, "interval_ns", t->interval_ns);
		json_uint(jw, "value_ns", t->value_ns);
		json_int(jw, "overrun", t->overrun);
		json_object_end(jw);
	}
	json_array_end(jw);
	json_object_end(jw);
}

static void files_json(struct json_writer *jw, const struct ckpt_proc *p)
{
	uint32_t i;

	json_array_begin(jw, "files");
	for (i = 0; i < p->nfiles; i++) {
		const struct ckpt_file *x = &p->files[i];

		json_object_begin(jw, NULL);
		json_uint(jw, "id", x->id);
		json_string(jw, "type", ckpt_file_type_name(x->type));
		json_uint(jw, "oflags", x->oflags);
		json_uint(jw, "pos", x->pos);
		json_uint(jw, "mnt_id", x->mnt_id);
		json_hex(jw, "dev", x->dev);
		json_uint(jw, "ino", x->ino);
		json_hex(jw, "share_key", x->share_key);
		json_string(jw, "path", x->path);
		json_bool(jw, "deleted", x->flags & CKPT_FF_DELETED);
		if (x->flags & CKPT_FF_MEMFD) {
			json_object_begin(jw, "memfd");
			json_uint(jw, "mfd_flags", x->mfd_flags);
			json_uint(jw, "seals", x->seals);
			json_object_end(jw);
		}
		if (x->type == CKPT_FILE_PIPE || x->type == CKPT_FILE_FIFO)
			json_string(jw, "pipe_end", ckpt_pipe_end_name(x->pipe_end));
		if (x->type == CKPT_FILE_SOCKET)
			json_uint(jw, "sock_type", x->sock_type);
		if (x->sock) {
			const struct ckpt_sock *k = x->sock;
			char a[256];

			json_object_begin(jw, "socket");
			json_string(jw, "family", ckpt_sock_family_name(k->family));
			json_string(jw, "type", ckpt_sock_type_name(k->type));
			json_string(jw, "state", ckpt_sock_state_name(k->state));
			json_uint(jw, "ino", k->ino);
			json_uint(jw, "peer_ino", k->peer_ino);
			ckpt_sock_addr_text(a, sizeof(a), k->addr, k->addr_len);
			json_string(jw, "addr", a);
			ckpt_sock_addr_text(a, sizeof(a), k->peer_addr, k->peer_addr_len);
			json_string(jw, "peer_addr", a);
			json_uint(jw, "backlog", k->backlog);
			json_uint(jw, "waiting", k->npending);
			json_uint(jw, "shutdown", k->shutdown);
			json_uint(jw, "messages", k->nmsgs);
			json_bool(jw, "passcred", k->flags & CKPT_SF_PASSCRED);
			json_int(jw, "peek_off", k->peek_off);
			json_int(jw, "sndbuf", k->sndbuf);
			json_int(jw, "rcvbuf", k->rcvbuf);
			json_uint(jw, "options", k->nopts);
			json_array_begin(jw, "scm");
			for (uint32_t m = 0; m < k->nscm; m++) {
				const struct ckpt_sock_scm *c = &k->scm[m];

				json_object_begin(jw, NULL);
				if (k->type != SOCK_STREAM)
					json_uint(jw, "message", c->msg);
				json_uint(jw, "offset", c->off);
				json_uint(jw, "bytes", c->len);
				json_array_begin(jw, "files");
				for (uint32_t j = 0; j < c->nfiles; j++)
					json_uint(jw, NULL, c->files[j]);
				json_array_end(jw);
				if (c->flags & CKPT_SCM_CREDS) {
					json_object_begin(jw, "creds");
					json_int(jw, "pid", c->pid);
					json_uint(jw, "uid", c->uid);
					json_uint(jw, "gid", c->gid);
					json_object_end(jw);
				}
				json_object_end(jw);
			}
			json_array_end(jw);
			json_object_end(jw);
		}
		if (x->anon) {
			const struct ckpt_anon *a = x->anon;

			json_object_begin(jw, "anon");
			json_string(jw, "kind", ckpt_anon_kind_name(a->kind));
			if (a->kind == CKPT_ANON_EVENTFD) {
				json_uint(jw, "count", a->count);
				json_bool(jw, "semaphore", a->flags & CKPT_AF_SEMAPHORE);
			} else if (a->kind == CKPT_ANON_TIMERFD) {
				json_int(jw, "clock", a->clock);
				json_bool(jw, "absolute", a->flags & CKPT_AF_ABSTIME);
				json_bool(jw, "cancel_on_set", a->flags & CKPT_AF_CANCEL);
				json_uint(jw, "value_ns", a->value_ns);
				json_uint(jw, "interval_ns", a->interval_ns);
				json_uint(jw, "ticks", a->count);
			} else if (a->kind == CKPT_ANON_SIGNALFD) {
				json_hex(jw, "sigmask", a->sigmask);
			} else if (a->kind == CKPT_ANON_EPOLL) {
				json_array_begin(jw, "watches");
				for (uint32_t k = 0; k < a->nitems; k++) {
					json_object_begin(jw, NULL);
					json_int(jw, "fd", a->items[k].tfd);
					json_uint(jw, "events", a->items[k].events);
					json_hex(jw, "data", a->items[k].data);
					json_object_end(jw);
				}
				json_array_end(jw);
			} else if (a->kind == CKPT_ANON_PIDFD) {
				json_int(jw, "pid", a->pid);
			} else if (a->kind == CKPT_ANON_INOTIFY) {
				json_uint(jw, "unread_bytes", a->count);
				json_array_begin(jw, "watches");
				for (uint32_t k = 0; k < a->nwatches; k++) {
					json_object_begin(jw, NULL);
					json_int(jw, "wd", a->watches[k].wd);
					json_hex(jw, "mask", a->watches[k].mask);
					json_uint(jw, "dev", a->watches[k].dev);
					json_uint(jw, "ino", a->watches[k].ino);
					json_string(jw, "path", a->watches[k].path);
					json_object_end(jw);
				}
				json_array_end(jw);
			}
			json_object_end(jw);
		}
		if (x->nlocks) {
			json_array_begin(jw, "locks");
			for (uint32_t k = 0; k < x->nlocks; k++) {
				const struct ckpt_lock *l = &x->locks[k];

				json_object_begin(jw, NULL);
				json_string(jw, "kind", ckpt_lock_kind_name(l->kind));
				json_string(jw, "type", ckpt_lock_type_name(l->type));
				json_uint(jw, "start", l->start);
				if (l->flags & CKPT_LKF_TO_EOF)
					json_string(jw, "end", "EOF");
				else
					json_uint(jw, "end", l->end);
				if (l->kind == CKPT_LOCK_POSIX)
					json_int(jw, "pid", l->pid);
				json_object_end(jw);
			}
			json_array_end(jw);
		}
		if (x->flags & CKPT_FF_HAS_DATA)
			json_uint(jw, "data_bytes", x->data_len);
		json_bool(jw, "data_incomplete", x->flags & CKPT_FF_DATA_TRUNC);
		if (x->flags & CKPT_FF_TERMIOS) {
			json_object_begin(jw, "termios");
			json_uint(jw, "iflag", x->tio.iflag);
			json_uint(jw, "oflag", x->tio.oflag);
			json_uint(jw, "cflag", x->tio.cflag);
			json_uint(jw, "lflag", x->tio.lflag);
			json_uint(jw, "rows", x->tio.ws_row);
			json_uint(jw, "cols", x->tio.ws_col);
			json_object_end(jw);
		}
		json_object_end(jw);
	}
	json_array_end(jw);
}

/* Each fd with the essentials of its file, so that a reader needs no join for them. */
static void fds_json(struct json_writer *jw, const struct ckpt_proc *p)
{
	uint32_t i;

	json_array_begin(jw, "fds");
	for (i = 0; i < p->nfds; i++) {
		const struct ckpt_fd *d = &p->fds[i];
		const struct ckpt_file *x = d->file < p->nfiles ? &p->files[d->file] : NULL;

		json_object_begin(jw, NULL);
		json_int(jw, "fd", d->fd);
		json_uint(jw, "file", d->file);
		json_bool(jw, "cloexec", d->fd_flags & CKPT_FDF_CLOEXEC);
		json_bool(jw, "stdio", d->fd_flags & CKPT_FDF_STDIO);
		if (x) {
			json_string(jw, "type", ckpt_file_type_name(x->type));
			json_string(jw, "path", x->path);
			json_uint(jw, "oflags", x->oflags);
			json_uint(jw, "pos", x->pos);
		}
		json_object_end(jw);
	}
	json_array_end(jw);
}

static void vmas_json(struct json_writer *jw, const struct ckpt_proc *p)
{
	uint32_t i, bit;

	json_array_begin(jw, "vmas");
	for (i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];

		json_object_begin(jw, NULL);
		json_hex(jw, "start", v->start);
		json_hex(jw, "end", v->end);
		json_stringf(jw, "prot", "%c%c%c%c", v->prot & 1 ? 'r' : '-',
			     v->prot & 2 ? 'w' : '-', v->prot & 4 ? 'x' : '-',
			     v->flags & CKPT_VMA_F_SHARED ? 's' : 'p');
		json_string(jw, "kind", ckpt_vma_kind_name(v->kind));
		json_uint(jw, "offset", v->pgoff);
		json_hex(jw, "dev", v->dev);
		json_uint(jw, "ino", v->ino);
		json_uint(jw, "pages", v->npages_stored);
		if (v->shm_id) {
			json_hex(jw, "object", v->shm_id);
			json_int(jw, "owner", v->owner_pid);
		}
		json_array_begin(jw, "flags");
		for (bit = 1; bit; bit <<= 1)
			if ((v->flags & bit) && ckpt_vma_flag_name(bit))
				json_string(jw, NULL, ckpt_vma_flag_name(bit));
		json_array_end(jw);
		json_string(jw, "path", v->path ? v->path : "");
		json_object_end(jw);
	}
	json_array_end(jw);
}

static void pagemap_json(struct json_writer *jw, const struct ckpt_proc *p)
{
	uint32_t i;

	json_array_begin(jw, "page_runs");
	for (i = 0; i < p->nruns; i++) {
		json_object_begin(jw, NULL);
		json_hex(jw, "start", p->runs[i].vaddr);
		json_uint(jw, "pages", p->runs[i].npages);
		json_uint(jw, "vma", p->runs[i].vma);
		json_object_end(jw);
	}
	json_array_end(jw);
}

int ckpt_show_json(struct json_writer *jw, const char *path, unsigned flags)
{
	struct image_reader *r = NULL;
	struct image_info info;
	struct ckpt_proc p;
	const char *why = NULL;
	char err[600];
	int peeked, rc;
	uint32_t i;

	/* Everything is checked before the first member, so that "valid" can lead. */
	ckpt_proc_init(&p);
	rc = image_peek(path, &info);
	peeked = !rc;
	if (!rc)
		rc = image_open(path, &r);
	if (rc) {
		if (*image_last_error())
			snprintf(err, sizeof(err), "%s", image_last_error());
		else
			snprintf(err, sizeof(err), "%s: %s", path, strerror(-rc));
	} else {
		rc = ckpt_load_reader(r, &p, &why);
		if (rc)
			snprintf(err, sizeof(err), "%s: %s", path, why);
	}

	json_object_begin(jw, NULL);
	json_string(jw, "path", path);
	json_bool(jw, "valid", !rc);
	if (rc)
		json_string(jw, "error", err);
	if (peeked)
		image_show_json(jw, r ? image_get_info(r) : &info, r, ckpt_show_hooks(), flags);
	if (!rc) {
		proc_json(jw, &p);
		json_array_begin(jw, "threads");
		for (i = 0; i < p.nthreads; i++)
			thread_json(jw, &p.threads[i]);
		json_array_end(jw);
		if (p.sig)
			signals_json(jw, p.sig);
		files_json(jw, &p);
		fds_json(jw, &p);
		vmas_json(jw, &p);
		pagemap_json(jw, &p);
		ckpt_proc_free(&p);
	}
	json_object_end(jw);
	image_close(r);
	return rc;
}
