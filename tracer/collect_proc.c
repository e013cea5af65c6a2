/*
 * Collecting the process-wide part of the content model from /proc and prlimit: ids in every
 * PID namespace, credentials and capabilities, names, cwd/root/exe, command line and
 * environment, mm boundaries, personality, umask, rlimits and zombie children.
 */
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
#include "procfs.h"

static int parse_status(pid_t pid, const char *st, struct ckpt_proc *p)
{
	int32_t v[CKPT_MAX_NS_LEVELS];
	int n, i;
	const char *s;

	if (procfs_status_ints(st, "Uid", v, 4) != 4)
		goto bad;
	for (i = 0; i < 4; i++)
		p->creds.uid[i] = (uint32_t)v[i];
	if (procfs_status_ints(st, "Gid", v, 4) != 4)
		goto bad;
	for (i = 0; i < 4; i++)
		p->creds.gid[i] = (uint32_t)v[i];
	s = procfs_status_field(st, "Umask");
	p->umask = s ? (uint32_t)strtoul(s, NULL, 8) : ~0u;

	n = procfs_status_ints(st, "NSpid", p->ns_pid, CKPT_MAX_NS_LEVELS);
	if (n < 1)
		goto bad;
	p->ns_levels = n;
	if (procfs_status_ints(st, "NSpgid", p->ns_pgid, CKPT_MAX_NS_LEVELS) != n ||
	    procfs_status_ints(st, "NSsid", p->ns_sid, CKPT_MAX_NS_LEVELS) != n)
		goto bad;

	/* Groups: a space-separated list, possibly empty. */
	s = procfs_status_field(st, "Groups");
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
	p->creds.cap_inh = procfs_status_hex(st, "CapInh");
	p->creds.cap_prm = procfs_status_hex(st, "CapPrm");
	p->creds.cap_eff = procfs_status_hex(st, "CapEff");
	p->creds.cap_bnd = procfs_status_hex(st, "CapBnd");
	p->creds.cap_amb = procfs_status_hex(st, "CapAmb");
	s = procfs_status_field(st, "NoNewPrivs");
	p->creds.no_new_privs = s ? (uint32_t)strtoul(s, NULL, 10) : 0;
	s = procfs_status_field(st, "Seccomp");
	p->creds.seccomp_mode = s ? (uint32_t)strtoul(s, NULL, 10) : 0;
	return 0;
bad:
	pr_err("pid %d: cannot parse /proc/%d/status", pid, pid);
	return -EIO;
}

static int collect_stat(pid_t pid, struct ckpt_proc *p)
{
	struct procfs_stat st;
	int rc;

	rc = procfs_stat(pid, 0, &st);
	if (rc && rc != -EPROTO)
		return rc;
	if (rc || st.nfields < PROCFS_STAT_MAX) {
		pr_err("pid %d: /proc/%d/stat has %d fields, expected %d", pid, pid,
		       rc ? 0 : st.nfields, PROCFS_STAT_MAX);
		return -EIO;
	}
	p->ppid = (int32_t)st.f[4];
	p->pgid = (int32_t)st.f[5];
	p->sid = (int32_t)st.f[6];
	p->start_time = st.f[22];
	p->mm.start_code = st.f[26];
	p->mm.end_code = st.f[27];
	p->mm.start_stack = st.f[28];
	p->mm.start_data = st.f[45];
	p->mm.end_data = st.f[46];
	p->mm.start_brk = st.f[47];
	p->mm.arg_start = st.f[48];
	p->mm.arg_end = st.f[49];
	p->mm.env_start = st.f[50];
	p->mm.env_end = st.f[51];
	/* The current brk is not in /proc; collect_mem sets it from the [heap] vma. */
	p->mm.brk = p->mm.start_brk;
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
	pid_t *tids, *kids;
	uint32_t nt, nk, i, k, cap = 0;
	int rc;

	rc = procfs_list_tasks(pid, &tids, &nt);
	if (rc)
		return rc;
	for (i = 0; i < nt && !rc; i++) {
		if (procfs_list_children(pid, tids[i], &kids, &nk))
			continue; /* the thread ended meanwhile */
		for (k = 0; k < nk && !rc; k++) {
			struct procfs_stat st;

			if (procfs_stat(kids[k], 0, &st))
				continue;
			if (st.nfields >= PROCFS_STAT_MAX && st.f[3] == 'Z')
				rc = add_zombie(p, &cap, kids[k], (int32_t)st.f[52]);
		}
		free(kids);
	}
	free(tids);
	return rc;
}

static int read_blob(pid_t pid, const char *what, uint8_t **bufp, uint32_t *lenp)
{
	char *buf;
	size_t len;
	int rc;

	rc = procfs_read(pid, 0, what, &buf, &len);
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

/* A link of /proc/PID (exe, cwd, root), malloc'ed. */
static int read_link(pid_t pid, const char *name, char **out)
{
	char buf[CKPT_MAX_PATH];
	int rc = procfs_readlink(pid, 0, name, buf, sizeof(buf));

	if (rc)
		return rc;
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

int collect_proc(pid_t pid, struct ckpt_proc *p)
{
	char *buf;
	int rc, i;

	p->pid = pid;
	rc = procfs_read(pid, 0, "status", &buf, NULL);
	if (rc)
		return rc;
	rc = parse_status(pid, buf, p);
	free(buf);
	if (rc)
		return rc;
	if ((rc = collect_stat(pid, p)))
		return rc;

	procfs_comm(pid, 0, p->comm, sizeof(p->comm));
	rc = read_link(pid, "exe", &p->exe);
	if (!rc)
		rc = read_link(pid, "cwd", &p->cwd);
	if (!rc)
		rc = read_link(pid, "root", &p->root);
	if (rc) {
		if (kill(pid, 0) && errno == ESRCH)
			return -ESRCH;
		pr_err("pid %d: cannot read its exe, cwd or root link: %s", pid, strerror(-rc));
		return rc;
	}
	read_blob(pid, "cmdline", &p->cmdline, &p->cmdline_len);
	/* environ is for information only: a process may have made it unreadable. */
	read_blob(pid, "environ", &p->environ, &p->environ_len);

	if (!procfs_read(pid, 0, "personality", &buf, NULL)) {
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
