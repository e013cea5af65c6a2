/*
 * The process table: lookup by tid (hash) and pid, adding and removing processes and
 * threads, and the ids a peer announces (unique pid).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "log.h"
#include "tracer_int.h"

static unsigned tid_bucket(pid_t tid)
{
	return (unsigned)tid % TRACER_TID_HASH;
}

struct tracee_thread *ptable_thread(struct tracer *tr, pid_t tid)
{
	struct tracee_thread *t;

	for (t = tr->thash[tid_bucket(tid)]; t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct tracee_proc *ptable_proc(struct tracer *tr, pid_t pid)
{
	struct tracee_thread *t = ptable_thread(tr, pid);

	/* A process's leader is always in the table while the process is. */
	if (t && t->proc->pid == pid)
		return t->proc;
	return NULL;
}

struct tracee_proc *ptable_first(struct tracer *tr)
{
	return tr->procs;
}

struct sock_rec *ptable_sock(struct tracee_proc *p, int fd)
{
	struct sock_rec *s;

	for (s = p->socks; s; s = s->next)
		if (s->fd == fd)
			return s;
	return NULL;
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
	p->conn.fd = -1;
	snprintf(p->prog, sizeof(p->prog), "%s", prog);
	/* uniquepid: filled when first needed (ptable_uniquepid), saving a /proc read on
	 * every fork of a process that may be gone before anyone asks. */
	p->next = tr->procs;
	tr->procs = p;
	tr->nprocs++;
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
	t->next = p->threads;
	p->threads = t;
	p->nthreads++;
	t->hnext = tr->thash[b];
	tr->thash[b] = t;
	return t;
}

void ptable_del_thread(struct tracer *tr, struct tracee_thread *t)
{
	struct tracee_thread **pp;

	for (pp = &tr->thash[tid_bucket(t->tid)]; *pp; pp = &(*pp)->hnext)
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

	while (p->threads)
		ptable_del_thread(tr, p->threads);
	for (pp = &tr->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	tr->nprocs--;
	ckpt_forget(p);
	peer_close(p);
	sockrec_free(p);
	free(p);
}

/* Tgid and PPid of a task from /proc/TID/status; 0 or -errno (-ENOENT: gone). */
int read_proc_status_ids(pid_t tid, pid_t *tgid, pid_t *ppid)
{
	char path[64], buf[2048], *s;
	ssize_t n;
	int fd, found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	buf[n] = '\0';
	s = strstr(buf, "\nTgid:");
	if (s) {
		*tgid = (pid_t)strtol(s + 6, NULL, 10);
		found++;
	}
	s = strstr(buf, "\nPPid:");
	if (s) {
		*ppid = (pid_t)strtol(s + 6, NULL, 10);
		found++;
	}
	return found == 2 ? 0 : -EPROTO;
}

/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), 0 if gone. */
static unsigned long long read_start_time(pid_t pid)
{
	char path[64], buf[1024], *s;
	unsigned long long v = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: count from the last ')'. */
	s = strrchr(buf, ')');
	if (!s)
		return 0;
	for (field = 2; s && field < 22; field++)
		s = strchr(s + 1, ' ');
	if (s)
		v = strtoull(s + 1, NULL, 10);
	return v;
}

/* "<hostid-hex>-<pid>-<start-time-hex>": stable for the life of the process, unique on a host
 * even when pids wrap. Read while the process is ours (not reaped), so the pid is its own. */
const char *ptable_uniquepid(struct tracee_proc *p)
{
	if (!p->uniquepid[0])
		snprintf(p->uniquepid, sizeof(p->uniquepid), "%lx-%d-%llx", p->tracer->hostid,
			 p->pid, read_start_time(p->pid));
	return p->uniquepid;
}

int ptable_new_tasks(struct tracee_proc *p, new_task_fn fn)
{
	struct tracer *tr = p->tracer;
	char path[64];
	struct dirent *de;
	int added = 0, r = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);

		if (tid <= 0 || ptable_thread(tr, tid))
			continue;
		r = fn(p, tid);
		if (r < 0)
			break;
		added += r;
	}
	closedir(d);
	return r < 0 ? r : added;
}
