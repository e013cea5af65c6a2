/*
 * Reading /proc (see procfs.h).
 */
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void procfs_path(char *buf, size_t n, pid_t pid, pid_t tid, const char *name)
{
	char base[48];

	if (pid > 0)
		snprintf(base, sizeof(base), "/proc/%d", (int)pid);
	else
		snprintf(base, sizeof(base), "/proc/self");
	if (tid > 0)
		snprintf(buf, n, "%s/task/%d%s%s", base, (int)tid, *name ? "/" : "", name);
	else
		snprintf(buf, n, "%s%s%s", base, *name ? "/" : "", name);
}

/* A file of a process that is gone reads as ENOENT (or ESRCH, for some files, mid-exit). */
static int gone(int err)
{
	return err == -ENOENT ? -ESRCH : err;
}

int procfs_read_file(const char *path, char **bufp, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf, *nb;
	ssize_t n;
	int fd, err;

	*bufp = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			close(fd);
			free(buf);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				close(fd);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

int procfs_read(pid_t pid, pid_t tid, const char *name, char **bufp, size_t *lenp)
{
	char path[96];

	procfs_path(path, sizeof(path), pid, tid, name);
	return gone(procfs_read_file(path, bufp, lenp));
}

int procfs_readlink(pid_t pid, pid_t tid, const char *name, char *buf, size_t n)
{
	char path[96];
	ssize_t r;

	if (!n)
		return -EINVAL;
	procfs_path(path, sizeof(path), pid, tid, name);
	r = readlink(path, buf, n - 1);
	if (r < 0)
		return gone(-errno);
	buf[r] = '\0';
	return 0;
}

/* Small files (comm, stat, the head of status) read with one read(). */
static int read_small(pid_t pid, pid_t tid, const char *name, char *buf, size_t n)
{
	char path[96];
	ssize_t r;
	int fd;

	procfs_path(path, sizeof(path), pid, tid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gone(-errno);
	do
		r = read(fd, buf, n - 1);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int err = -errno;

		close(fd);
		return gone(err);
	}
	close(fd);
	if (r == 0)
		return -ESRCH; /* an exiting task's files read empty */
	buf[r] = '\0';
	return 0;
}

int procfs_comm(pid_t pid, pid_t tid, char *buf, size_t n)
{
	char tmp[64];
	int r = read_small(pid, tid, "comm", tmp, sizeof(tmp));

	if (r)
		return r;
	tmp[strcspn(tmp, "\n")] = '\0';
	snprintf(buf, n, "%s", tmp);
	return 0;
}

int procfs_open(pid_t pid, pid_t tid, const char *name, int flags)
{
	char path[128];
	int fd;

	procfs_path(path, sizeof(path), pid, tid, name);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? gone(-errno) : fd;
}

/* ---- status ---------------------------------------------------------------------------- */

const char *procfs_status_field(const char *status, const char *key)
{
	size_t kl = strlen(key);
	const char *l = status;

	while (l && *l) {
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			l += kl + 1;
			while (*l == ' ' || *l == '\t')
				l++;
			return l;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return NULL;
}

int procfs_status_ints(const char *status, const char *key, int32_t *v, int max)
{
	const char *s = procfs_status_field(status, key);
	int n = 0;
	char *end;

	while (s && n < max && *s && *s != '\n') {
		long x = strtol(s, &end, 10);

		if (end == s)
			break;
		v[n++] = (int32_t)x;
		s = end;
		while (*s == ' ' || *s == '\t')
			s++;
	}
	return n;
}

uint64_t procfs_status_hex(const char *status, const char *key)
{
	const char *s = procfs_status_field(status, key);

	return s ? strtoull(s, NULL, 16) : 0;
}

int procfs_status_ids(pid_t tid, pid_t *tgid, pid_t *ppid)
{
	int32_t t, p;
	char *buf;
	int r;

	r = procfs_read(tid, 0, "status", &buf, NULL);
	if (r)
		return r;
	r = procfs_status_ints(buf, "Tgid", &t, 1) == 1 && procfs_status_ints(buf, "PPid", &p, 1) == 1;
	free(buf);
	if (!r)
		return -EPROTO;
	*tgid = (pid_t)t;
	*ppid = (pid_t)p;
	return 0;
}

pid_t procfs_tracer_pid(pid_t tid)
{
	int32_t v = 0;
	char *buf;
	int r;

	r = procfs_read(tid, 0, "status", &buf, NULL);
	if (r)
		return r;
	r = procfs_status_ints(buf, "TracerPid", &v, 1) == 1;
	free(buf);
	return r ? (pid_t)v : -EPROTO;
}

int procfs_status_sigs(pid_t pid, pid_t tid, struct procfs_sigs *s)
{
	char *buf;
	int r;

	r = procfs_read(pid, tid, "status", &buf, NULL);
	if (r)
		return r;
	if (!procfs_status_field(buf, "SigBlk")) {
		free(buf);
		return -EPROTO;
	}
	s->pnd = procfs_status_hex(buf, "SigPnd");
	s->shdpnd = procfs_status_hex(buf, "ShdPnd");
	s->blk = procfs_status_hex(buf, "SigBlk");
	s->ign = procfs_status_hex(buf, "SigIgn");
	s->cgt = procfs_status_hex(buf, "SigCgt");
	free(buf);
	return 0;
}

/* ---- stat ------------------------------------------------------------------------------ */

int procfs_parse_stat(const char *text, struct procfs_stat *st)
{
	/* comm may hold spaces and parentheses: fields are counted from the last ')'. */
	const char *s = strrchr(text, ')');
	char *end;
	int n = 3;

	memset(st, 0, sizeof(*st));
	if (!s || s[1] != ' ' || !s[2])
		return -EPROTO;
	s += 2;
	st->f[3] = (uint64_t)(unsigned char)*s++;
	while (*s == ' ' && n < PROCFS_STAT_MAX) {
		s++;
		n++;
		/* a few fields (tty_nr, priority, nice) may be negative */
		if (*s == '-')
			st->f[n] = (uint64_t)strtoll(s, &end, 10);
		else
			st->f[n] = strtoull(s, &end, 10);
		if (end == s)
			return -EPROTO;
		s = end;
	}
	st->nfields = n;
	return 0;
}

int procfs_stat(pid_t pid, pid_t tid, struct procfs_stat *st)
{
	char buf[1024];
	int r = read_small(pid, tid, "stat", buf, sizeof(buf));

	return r ? r : procfs_parse_stat(buf, st);
}

int procfs_task_state(pid_t pid, pid_t tid)
{
	struct procfs_stat st;
	int r = procfs_stat(pid, tid, &st);

	return r ? r : (int)st.f[3];
}

int procfs_task_ended(pid_t pid, pid_t tid)
{
	int st = procfs_task_state(pid, tid);

	return st < 0 || st == 'Z' || st == 'X';
}

int procfs_start_time(pid_t pid, unsigned long long *ticks)
{
	struct procfs_stat st;
	int r = procfs_stat(pid, 0, &st);

	if (r)
		return r;
	if (st.nfields < 22)
		return -EPROTO;
	*ticks = st.f[22];
	return 0;
}

/* ---- tasks ----------------------------------------------------------------------------- */

/* fn for every numeric entry of /proc/PID/DIR (task, fd), leaving out skip. */
static int each_number(pid_t pid, const char *dir, int skip_self, int (*fn)(int n, void *arg),
		       void *arg)
{
	char path[64];
	struct dirent *de;
	int r = 0, self_fd = -1;
	DIR *d;

	procfs_path(path, sizeof(path), pid, 0, dir);
	d = opendir(path);
	if (!d)
		return gone(-errno);
	if (skip_self && (pid <= 0 || pid == getpid()))
		self_fd = dirfd(d);
	while ((de = readdir(d))) {
		int n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		n = (int)strtol(de->d_name, NULL, 10);
		if (n == self_fd)
			continue;
		r = fn(n, arg);
		if (r < 0)
			break;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

int procfs_each_task(pid_t pid, procfs_task_fn fn, void *arg)
{
	return each_number(pid, "task", 0, fn, arg);
}

/* Numbers (tids, fds) collected into a malloc'ed array. */
struct int_list {
	int *v;
	uint32_t n, cap;
};

static int add_int(int x, void *arg)
{
	struct int_list *l = arg;

	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		int *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = x;
	return 0;
}

int procfs_list_tasks(pid_t pid, pid_t **tidsp, uint32_t *np)
{
	struct int_list l = { NULL, 0, 0 };
	int r = procfs_each_task(pid, add_int, &l);

	*tidsp = NULL;
	*np = 0;
	if (r) {
		free(l.v);
		return r;
	}
	*tidsp = l.v;
	*np = l.n;
	return 0;
}

/* A list of numbers separated by blanks ("123 456 "), as in a children file. */
static int parse_pids(const char *text, pid_t **pidsp, uint32_t *np)
{
	struct int_list l = { NULL, 0, 0 };
	const char *s = text;
	char *end;

	for (;;) {
		long v = strtol(s, &end, 10);

		if (end == s)
			break;
		if (v > 0 && add_int((int)v, &l)) {
			free(l.v);
			return -ENOMEM;
		}
		s = end;
	}
	*pidsp = l.v;
	*np = l.n;
	return 0;
}

int procfs_list_children(pid_t pid, pid_t tid, pid_t **kidsp, uint32_t *np)
{
	char *buf;
	int r;

	*kidsp = NULL;
	*np = 0;
	if (tid <= 0)
		tid = pid > 0 ? pid : getpid();
	r = procfs_read(pid, tid, "children", &buf, NULL);
	if (r)
		return r;
	r = parse_pids(buf, kidsp, np);
	free(buf);
	return r;
}

/* ---- maps ------------------------------------------------------------------------------ */

int procfs_parse_map_line(char *line, struct procfs_map *m)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, mnr;
	char perms[8];
	int pos = 0;
	char *nl = strchr(line, '\n');

	if (nl)
		*nl = '\0';
	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj, &mnr,
		   &ino, &pos) < 7 ||
	    !pos || strlen(perms) != 4)
		return 0;
	m->start = start;
	m->end = end;
	m->offset = off;
	m->inode = ino;
	m->dev_major = maj;
	m->dev_minor = mnr;
	memcpy(m->perms, perms, 5);
	m->path = line + pos;
	return 1;
}

int procfs_each_map(pid_t pid, procfs_map_fn fn, void *arg)
{
	struct procfs_map m;
	char *buf, *line, *next;
	int r;

	r = procfs_read(pid, 0, "maps", &buf, NULL);
	if (r)
		return r;
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (next[-1] == '\n')
			next[-1] = '\0';
		if (!procfs_parse_map_line(line, &m))
			continue;
		r = fn(&m, arg);
		if (r < 0)
			break;
		r = 0;
	}
	free(buf);
	return r;
}

/* ---- fds ------------------------------------------------------------------------------- */

int procfs_fd_link(pid_t pid, int fd, char *buf, size_t n)
{
	char name[32];

	snprintf(name, sizeof(name), "fd/%d", fd);
	return procfs_readlink(pid, 0, name, buf, n);
}

unsigned long procfs_fd_socket_ino(pid_t pid, int fd)
{
	char link[64];
	unsigned long ino = 0;

	if (procfs_fd_link(pid, fd, link, sizeof(link)))
		return 0;
	if (sscanf(link, "socket:[%lu]", &ino) != 1)
		return 0;
	return ino;
}

int procfs_each_fd(pid_t pid, procfs_fd_fn fn, void *arg)
{
	return each_number(pid, "fd", 1, fn, arg);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int procfs_list_fds(pid_t pid, int **fdsp, uint32_t *np)
{
	struct int_list l = { NULL, 0, 0 };
	int r = procfs_each_fd(pid, add_int, &l);

	*fdsp = NULL;
	*np = 0;
	if (r) {
		free(l.v);
		return r;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_int);
	*fdsp = l.v;
	*np = l.n;
	return 0;
}

int procfs_fdinfo(pid_t pid, int fd, struct procfs_fdinfo *fi)
{
	char name[32], *buf;
	const char *s;
	int r;

	memset(fi, 0, sizeof(*fi));
	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	r = procfs_read(pid, 0, name, &buf, NULL);
	if (r)
		return r;
	if ((s = procfs_status_field(buf, "pos")))
		fi->pos = strtoull(s, NULL, 10);
	if ((s = procfs_status_field(buf, "flags")))
		fi->flags = (uint32_t)strtoul(s, NULL, 8);
	if ((s = procfs_status_field(buf, "mnt_id")))
		fi->mnt_id = (uint32_t)strtoul(s, NULL, 10);
	free(buf);
	return 0;
}
