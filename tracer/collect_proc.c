/*
 * Collecting the process-wide part of the content model from /proc and prlimit: ids in every
 * PID namespace, credentials and capabilities, names, cwd/root/exe, command line and
 * environment, mm boundaries, personality, umask, rlimits and zombie children.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "collect.h"
#include "log.h"

int collect_read_file(const char *path, char **bufp, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1), *nb;
	int fd, err;
	ssize_t n;

	*bufp = NULL;
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
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
		len += n;
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
	buf[len] = 0;
	*bufp = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

char *collect_readlink(const char *path)
{
	char buf[CKPT_MAX_PATH];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

/* The value text after "Key:\t" in /proc/PID/status, or NULL. */
static const char *status_field(const char *status, const char *key)
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

/* Up to max integers from a status line; returns how many. */
static int status_ints(const char *status, const char *key, int32_t *v, int max)
{
	const char *s = status_field(status, key);
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

static uint64_t status_hex(const char *status, const char *key)
{
	const char *s = status_field(status, key);

	return s ? strtoull(s, NULL, 16) : 0;
}

static int parse_status(pid_t pid, const char *st, struct ckpt_proc *p)
{
	int32_t v[CKPT_MAX_NS_LEVELS];
	int n, i;
	const char *s;

	if (status_ints(st, "Uid", v, 4) != 4)
		goto bad;
	for (i = 0; i < 4; i++)
		p->creds.uid[i] = (uint32_t)v[i];
	if (status_ints(st, "Gid", v, 4) != 4)
		goto bad;
	for (i = 0; i < 4; i++)
		p->creds.gid[i] = (uint32_t)v[i];
	s = status_field(st, "Umask");
	p->umask = s ? (uint32_t)strtoul(s, NULL, 8) : ~0u;

	n = status_ints(st, "NSpid", p->ns_pid, CKPT_MAX_NS_LEVELS);
	if (n < 1)
		goto bad;
	p->ns_levels = n;
	if (status_ints(st, "NSpgid", p->ns_pgid, CKPT_MAX_NS_LEVELS) != n ||
	    status_ints(st, "NSsid", p->ns_sid, CKPT_MAX_NS_LEVELS) != n)
		goto bad;

	/* Groups: a space-separated list, possibly empty. */
	s = status_field(st, "Groups");
	if (s) {
		uint32_t cap = 16;
		char *end;

		p->creds.groups = malloc(cap * sizeof(uint32_t));
		if (!p->creds.groups)
			return -ENOMEM;
		while (*s && *s != '\n' && p->creds.ngroups < CKPT_MAX_GROUPS) {
			unsigned long g = strtoul(s, &end, 10);

			if (end == s)
				break;
			if (p->creds.ngroups == cap) {
				uint32_t *ng = realloc(p->creds.groups, 2 * cap * sizeof(uint32_t));

				if (!ng)
					return -ENOMEM;
				p->creds.groups = ng;
				cap *= 2;
			}
			p->creds.groups[p->creds.ngroups++] = (uint32_t)g;
			s = end;
			while (*s == ' ' || *s == '\t')
				s++;
		}
	}
	p->creds.cap_inh = status_hex(st, "CapInh");
	p->creds.cap_prm = status_hex(st, "CapPrm");
	p->creds.cap_eff = status_hex(st, "CapEff");
	p->creds.cap_bnd = status_hex(st, "CapBnd");
	p->creds.cap_amb = status_hex(st, "CapAmb");
	s = status_field(st, "NoNewPrivs");
	p->creds.no_new_privs = s ? (uint32_t)strtoul(s, NULL, 10) : 0;
	s = status_field(st, "Seccomp");
	p->creds.seccomp_mode = s ? (uint32_t)strtoul(s, NULL, 10) : 0;
	return 0;
bad:
	pr_err("pid %d: cannot parse /proc/%d/status", pid, pid);
	return -EIO;
}

/*
 * /proc/PID/stat: the comm field may hold spaces and parentheses, so fields are counted from
 * the last ')'. Field numbers below are those of proc(5), 1-based.
 */
static int parse_stat(const char *stat, uint64_t *f, int max)
{
	const char *s = strrchr(stat, ')');
	int n = 3; /* the next field is number 3, the state */
	char *end;

	if (!s)
		return 0;
	s += 2;
	f[3] = (uint64_t)(unsigned char)*s; /* state letter */
	s++;
	while (*s == ' ' && ++n <= max) {
		s++;
		f[n] = strtoull(s, &end, 10);
		if (*s == '-') /* tty_nr etc. may be negative */
			f[n] = (uint64_t)strtoll(s, &end, 10);
		s = end;
	}
	return n - 1;
}

static int collect_stat(pid_t pid, struct ckpt_proc *p)
{
	char path[64], *buf;
	uint64_t f[53] = { 0 };
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	rc = collect_read_file(path, &buf, NULL);
	if (rc)
		return rc == -ENOENT ? -ESRCH : rc;
	rc = parse_stat(buf, f, 52);
	free(buf);
	if (rc < 51) {
		pr_err("pid %d: /proc/%d/stat has %d fields, expected 52", pid, pid, rc);
		return -EIO;
	}
	p->ppid = (int32_t)f[4];
	p->pgid = (int32_t)f[5];
	p->sid = (int32_t)f[6];
	p->start_time = f[22];
	p->mm.start_code = f[26];
	p->mm.end_code = f[27];
	p->mm.start_stack = f[28];
	p->mm.start_data = f[45];
	p->mm.end_data = f[46];
	p->mm.start_brk = f[47];
	p->mm.arg_start = f[48];
	p->mm.arg_end = f[49];
	p->mm.env_start = f[50];
	p->mm.env_end = f[51];
	/* The current brk is not in /proc; collect_mem sets it from the [heap] vma. */
	p->mm.brk = p->mm.start_brk;
	return 0;
}

int collect_list_tids(pid_t pid, pid_t **tidsp, uint32_t *np)
{
	char path[64];
	struct dirent *de;
	pid_t *tids = NULL, *nt;
	uint32_t n = 0, cap = 0;
	DIR *d;

	*tidsp = NULL;
	*np = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nt = realloc(tids, cap * sizeof(*tids));
			if (!nt) {
				free(tids);
				closedir(d);
				return -ENOMEM;
			}
			tids = nt;
		}
		tids[n++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	*tidsp = tids;
	*np = n;
	return 0;
}

static int add_zombie(struct ckpt_proc *p, uint32_t *cap, int32_t pid, int32_t code)
{
	if (p->nzombies == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 8;
		struct ckpt_zombie *nz = realloc(p->zombies, ncap * sizeof(*nz));

		if (!nz)
			return -ENOMEM;
		p->zombies = nz;
		*cap = ncap;
	}
	p->zombies[p->nzombies].pid = pid;
	p->zombies[p->nzombies].exit_code = code;
	p->nzombies++;
	return 0;
}

/* Children in state Z: /proc/PID/task/TID/children lists the children of each thread. */
static int collect_zombies(pid_t pid, struct ckpt_proc *p)
{
	char path[96], *kids, *s, *end, *st;
	pid_t *tids;
	uint32_t nt, i, cap = 0;
	int rc;

	rc = collect_list_tids(pid, &tids, &nt);
	if (rc)
		return rc;
	for (i = 0; i < nt && !rc; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tids[i]);
		if (collect_read_file(path, &kids, NULL))
			continue; /* the thread ended meanwhile */
		for (s = kids; *s && !rc;) {
			long c = strtol(s, &end, 10);
			uint64_t f[53] = { 0 };

			if (end == s)
				break;
			s = end;
			snprintf(path, sizeof(path), "/proc/%ld/stat", c);
			if (collect_read_file(path, &st, NULL))
				continue;
			if (parse_stat(st, f, 52) >= 51 && f[3] == 'Z')
				rc = add_zombie(p, &cap, (int32_t)c, (int32_t)f[52]);
			free(st);
		}
		free(kids);
	}
	free(tids);
	return rc;
}

static int read_blob(pid_t pid, const char *what, uint8_t **bufp, uint32_t *lenp)
{
	char path[64], *buf;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	rc = collect_read_file(path, &buf, &len);
	if (rc) {
		*bufp = NULL;
		*lenp = 0;
		return rc;
	}
	if (len > CKPT_MAX_ARGS)
		len = CKPT_MAX_ARGS;
	*bufp = (uint8_t *)buf;
	*lenp = (uint32_t)len;
	return 0;
}

int collect_proc(pid_t pid, struct ckpt_proc *p)
{
	char path[64], *buf;
	int rc, i;

	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	rc = collect_read_file(path, &buf, NULL);
	if (rc)
		return rc == -ENOENT ? -ESRCH : rc;
	rc = parse_status(pid, buf, p);
	free(buf);
	if (rc)
		return rc;
	if ((rc = collect_stat(pid, p)))
		return rc;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (!collect_read_file(path, &buf, NULL)) {
		buf[strcspn(buf, "\n")] = 0;
		snprintf(p->comm, sizeof(p->comm), "%s", buf);
		free(buf);
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	p->exe = collect_readlink(path);
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	p->cwd = collect_readlink(path);
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	p->root = collect_readlink(path);
	if (!p->exe || !p->cwd || !p->root) {
		rc = -errno;
		if (kill(pid, 0) && errno == ESRCH)
			return -ESRCH;
		pr_err("pid %d: cannot read its exe, cwd or root link: %s", pid, strerror(-rc));
		return rc;
	}
	read_blob(pid, "cmdline", &p->cmdline, &p->cmdline_len);
	/* environ is for information only: a process may have made it unreadable. */
	read_blob(pid, "environ", &p->environ, &p->environ_len);

	snprintf(path, sizeof(path), "/proc/%d/personality", pid);
	if (!collect_read_file(path, &buf, NULL)) {
		p->personality = (uint32_t)strtoul(buf, NULL, 16);
		free(buf);
	}

	for (i = 0; i < CKPT_NRLIMITS; i++) {
		struct rlimit rl;

		if (prlimit(pid, i, NULL, &rl)) {
			rc = -errno;
			if (rc == -ESRCH)
				return rc;
			pr_err("pid %d: cannot read rlimit %d: %s", pid, i, strerror(-rc));
			return rc;
		}
		p->rlim[i].cur = rl.rlim_cur;
		p->rlim[i].max = rl.rlim_max;
	}
	return collect_zombies(pid, p);
}
