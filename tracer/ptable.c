/*
 * The process table (see ptable.h): lookup by tid (hash) and pid, adding and removing
 * processes and threads, module slots, the unique pid.
 */
#include "ptable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"
#include "ids.h"
#include "log.h"
#include "procfs.h"

static unsigned tid_bucket(pid_t tid)
{
	return (unsigned)tid % TRACER_TID_HASH;
}

int ptable_proc_slot_new(struct tracer *tr, ptable_proc_destroy_fn destroy)
{
	struct ptable *pt = &tr->pt;

	if (pt->nproc_slots == PTABLE_SLOTS)
		return -ENOSPC;
	pt->proc_destroy[pt->nproc_slots] = destroy;
	return pt->nproc_slots++;
}

int ptable_thread_slot_new(struct tracer *tr, ptable_thread_destroy_fn destroy)
{
	struct ptable *pt = &tr->pt;

	if (pt->nthread_slots == PTABLE_SLOTS)
		return -ENOSPC;
	pt->thread_destroy[pt->nthread_slots] = destroy;
	return pt->nthread_slots++;
}

struct tracee_thread *ptable_thread(struct tracer *tr, pid_t tid)
{
	struct tracee_thread *t;

	for (t = tr->pt.thash[tid_bucket(tid)]; t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct tracee_proc *ptable_proc(struct tracer *tr, pid_t pid)
{
	struct tracee_thread *t = ptable_thread(tr, pid);

	/* A process's leader is in the table while the process lives (a ghost has no
	 * threads, so a recycled pid never finds it). */
	if (t && t->proc->pid == pid)
		return t->proc;
	return NULL;
}

struct tracee_proc *ptable_first(struct tracer *tr)
{
	return tr->pt.procs;
}

int ptable_count(struct tracer *tr)
{
	return tr->pt.nprocs;
}

struct tracee_proc *ptable_add_proc(struct tracer *tr, pid_t pid, pid_t ppid, const char *prog)
{
	struct tracee_proc *p = calloc(1, sizeof(*p));

	if (!p) {
		pr_err("pid %d: out of memory for the process table", pid);
		return NULL;
	}
	p->pid = pid;
	p->ppid = ppid;
	p->tracer = tr;
	snprintf(p->prog, sizeof(p->prog), "%s", prog);
	/* uniquepid: filled when first needed (ptable_uniquepid), saving a /proc read on
	 * every fork of a process that may be gone before anyone asks. */
	p->next = tr->pt.procs;
	tr->pt.procs = p;
	tr->pt.nprocs++;
	return p;
}

struct tracee_thread *ptable_add_thread(struct tracer *tr, struct tracee_proc *p, pid_t tid,
					enum thread_state st)
{
	struct tracee_thread *t = calloc(1, sizeof(*t));
	unsigned b = tid_bucket(tid);

	if (!t) {
		pr_err("tid %d: out of memory for the process table", tid);
		return NULL;
	}
	t->tid = tid;
	t->proc = p;
	t->state = st;
	t->exit_nr = -1;
	t->memo = (struct sysrestart_memo)SYSRESTART_MEMO_NONE;
	t->next = p->threads;
	p->threads = t;
	p->nthreads++;
	t->hnext = tr->pt.thash[b];
	tr->pt.thash[b] = t;
	return t;
}

void ptable_del_thread(struct tracer *tr, struct tracee_thread *t)
{
	struct tracee_thread **pp;
	int i;

	for (i = 0; i < tr->pt.nthread_slots; i++)
		if (t->slot[i] && tr->pt.thread_destroy[i])
			tr->pt.thread_destroy[i](t, t->slot[i]);
	for (pp = &tr->pt.thash[tid_bucket(t->tid)]; *pp; pp = &(*pp)->hnext)
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	for (pp = &t->proc->threads; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->proc->nthreads--;
	free(t);
}

void ptable_del_proc(struct tracer *tr, struct tracee_proc *p)
{
	struct tracee_proc **pp;
	int i;

	while (p->threads)
		ptable_del_thread(tr, p->threads);
	for (i = 0; i < tr->pt.nproc_slots; i++)
		if (p->slot[i] && tr->pt.proc_destroy[i])
			tr->pt.proc_destroy[i](p, p->slot[i]);
	for (pp = &tr->pt.procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	tr->pt.nprocs--;
	free(p);
}

/* Read while the process is ours (traced, not reaped), so the pid is its own. */
const char *ptable_uniquepid(struct tracee_proc *p)
{
	if (!p->uniquepid[0] && format_uniquepid(p->pid, p->uniquepid, sizeof(p->uniquepid)) < 0)
		snprintf(p->uniquepid, sizeof(p->uniquepid), "%lx-%d-0", read_hostid(), p->pid);
	return p->uniquepid;
}

struct new_task_walk {
	struct tracer *tr;
	struct tracee_proc *p;
	new_task_fn fn;
	int added;
};

static int visit_task(pid_t tid, void *arg)
{
	struct new_task_walk *w = arg;
	int r;

	if (ptable_thread(w->tr, tid))
		return 0;
	r = w->fn(w->p, tid);
	if (r > 0)
		w->added += r;
	return r < 0 ? r : 0;
}

int ptable_new_tasks(struct tracee_proc *p, new_task_fn fn)
{
	struct new_task_walk w = { p->tracer, p, fn, 0 };
	int r = procfs_each_task(p->pid, visit_task, &w);

	return r < 0 ? r : w.added;
}
