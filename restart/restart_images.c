/*
 * Loading and validating the images of a restart (see restart_images.h). Everything that can
 * be checked without touching a process is checked here, so that a bad image stops the
 * restart with a message naming the file before any process is created.
 */
#include "restart/restart_images.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define IMAGE_EM_X86_64 62

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int restart_list_dir(const char *dir, char ***paths, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	int cnt = 0, cap = 0;

	*paths = NULL;
	*n = 0;
	if (!d) {
		int e = errno;

		pr_err("--restartdir %s: %s", dir, strerror(e));
		return -e;
	}
	while ((de = readdir(d))) {
		char *p;

		if (fnmatch("ckpt_*.dmtcp", de->d_name, 0))
			continue;
		if (cnt == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
		}
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			goto nomem;
		v[cnt++] = p;
	}
	closedir(d);
	if (!cnt) {
		free(v);
		pr_err("--restartdir %s: no checkpoint image (ckpt_*.dmtcp) in it", dir);
		return -ENOENT;
	}
	qsort(v, cnt, sizeof(*v), cmp_str);
	*paths = v;
	*n = cnt;
	return 0;
nomem:
	closedir(d);
	while (cnt)
		free(v[--cnt]);
	free(v);
	pr_err("out of memory listing %s", dir);
	return -ENOMEM;
}

/* A file the process had open (or mapped) must still be there to be reopened. */
static int check_path(const char *img, const char *what, const char *path, mode_t want)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		pr_err("%s: %s %s: %s", img, what, path, strerror(errno));
		return -ENOENT;
	}
	if (want && (st.st_mode & S_IFMT) != want) {
		pr_err("%s: %s %s is no longer the same kind of file", img, what, path);
		return -ESTALE;
	}
	return 0;
}

long restart_proc_pid(const char *path)
{
	char *end;
	long n;

	if (!path || strncmp(path, "/proc/", 6) || path[6] < '1' || path[6] > '9')
		return 0;
	n = strtol(path + 6, &end, 10);
	return *end == '/' || *end == '\0' ? n : 0;
}

static int check_files(const struct restart_img *im)
{
	const struct ckpt_proc *p = &im->proc;
	char what[64];
	uint32_t i;
	int r;

	for (i = 0; i < p->nfiles; i++) {
		const struct ckpt_file *f = &p->files[i];
		mode_t want = 0;

		if (f->flags & CKPT_FF_DELETED)
			continue; /* recreated from the image's copy */
		switch (f->type) {
		case CKPT_FILE_REG:
			want = S_IFREG;
			break;
		case CKPT_FILE_DIR:
			want = S_IFDIR;
			break;
		case CKPT_FILE_CHR:
			want = S_IFCHR;
			break;
		case CKPT_FILE_BLK:
			want = S_IFBLK;
			break;
		case CKPT_FILE_FIFO:
			want = S_IFIFO;
			break;
		default:
			continue;
		}
		if (!f->path || f->path[0] != '/') {
			pr_err("%s: open %s file %u has no absolute path", im->path,
			       ckpt_file_type_name(f->type), i);
			return -EINVAL;
		}
		/* A process's /proc files: whose process it names is only known once the
		 * tree is rebuilt (prepare_fds.c). */
		if (restart_proc_pid(f->path))
			continue;
		snprintf(what, sizeof(what), "open %s", ckpt_file_type_name(f->type));
		r = check_path(im->path, what, f->path, want);
		if (r)
			return r;
	}
	for (i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];

		if (v->kind != CKPT_VMA_FILE_PRIV && v->kind != CKPT_VMA_FILE_SHARED)
			continue;
		if (v->flags & CKPT_VMA_F_DELETED)
			continue;
		if (!v->path || v->path[0] != '/') {
			pr_err("%s: mapping at 0x%llx has no file path", im->path,
			       (unsigned long long)v->start);
			return -EINVAL;
		}
		r = check_path(im->path, "mapped file", v->path, S_IFREG);
		if (r)
			return r;
	}
	return 0;
}

static int check_owner(const struct restart_img *im)
{
	struct stat st;
	uid_t me = getuid();

	if (stat(im->path, &st) < 0)
		return -errno;
	if (geteuid() == 0)
		return 0; /* root may restart anybody's computation */
	if (st.st_uid != geteuid()) {
		pr_err("%s: image is owned by uid %u, not by you (uid %u); "
		       "use --no-strict-checking to restart it anyway",
		       im->path, st.st_uid, geteuid());
		return -EPERM;
	}
	if (im->proc.creds.uid[0] != me) {
		pr_err("%s: the process ran as uid %u, not as you (uid %u); "
		       "use --no-strict-checking to restart it anyway",
		       im->path, im->proc.creds.uid[0], me);
		return -EPERM;
	}
	return 0;
}

static int load_one(struct restart_set *s, struct restart_img *im, int strict)
{
	uint32_t i, k = 0;
	int r;

	r = ckpt_load(im->path, &im->proc, &im->rd);
	if (r)
		return r; /* ckpt_load named the image and the reason */
	im->info = *image_get_info(im->rd);
	if (im->info.arch != IMAGE_EM_X86_64) {
		pr_err("%s: image is for %s, this machine is x86_64", im->path,
		       image_arch_name(im->info.arch));
		return -ENOEXEC;
	}
	if (im->info.page_size != (uint32_t)sysconf(_SC_PAGESIZE)) {
		pr_err("%s: image has %u-byte pages, this machine %ld", im->path,
		       im->info.page_size, sysconf(_SC_PAGESIZE));
		return -ENOEXEC;
	}
	if (im->proc.nthreads == 0 || im->proc.threads[0].tid != im->proc.pid) {
		pr_err("%s: the first thread is not the process's main thread", im->path);
		return -EINVAL;
	}
	if (strict && (r = check_owner(im)))
		return r;
	if ((r = check_files(im)))
		return r;
	im->tids = calloc(im->proc.nthreads, sizeof(pid_t));
	if (!im->tids)
		return -ENOMEM;
	for (i = 1; i < im->proc.nthreads; i++)
		im->tids[k++] = restart_thread_tid(&im->proc, &im->proc.threads[i]);
	for (i = 0; i < im->proc.nfds; i++)
		if (im->proc.fds[i].fd > s->max_fd)
			s->max_fd = im->proc.fds[i].fd;
	return 0;
}

static int load_images(struct restart_set *s, char *const paths[], int n, int strict);

/* ---- choosing a complete set ---------------------------------------------------------------- */

/* An image given, and the .prev kept beside it (checkpoint.c): each may be absent. */
struct candidate {
	const char *path;
	char prev[PATH_MAX];
	struct image_info fin, old;
	int has_fin, has_old;
};

/* The images of checkpoint id among the candidates: how many, and the newest creation time. */
static int count_set(const struct candidate *c, int n, uint64_t id, uint32_t *nprocs,
		     uint64_t *newest)
{
	int i, k = 0;

	*nprocs = 0;
	*newest = 0;
	for (i = 0; i < n; i++) {
		const struct image_info *in = c[i].has_fin && c[i].fin.ckpt_id == id ? &c[i].fin :
					      c[i].has_old && c[i].old.ckpt_id == id ? &c[i].old :
										       NULL;

		if (!in)
			continue;
		k++;
		*nprocs = in->nprocs;
		if (in->ctime_ns > *newest)
			*newest = in->ctime_ns;
	}
	return k;
}

/*
 * The images of one checkpoint form a set, and a restart needs a whole set. A fault during a
 * commit leaves some of the final names holding the new checkpoint and others the old one,
 * with each old image that was replaced kept as <final>.prev (tracer/checkpoint.c). Images
 * given that all belong to one checkpoint are taken as given (they may be this host's part of
 * a computation that spans several). Otherwise the newest checkpoint that is whole among them
 * and their .prevs is restarted instead, with a warning: whole when every image given has it
 * (as itself or its .prev), or when it has as many images as the checkpoint wrote (the rest
 * of what was given is left out: older images of processes that have gone since). None whole
 * is an error naming the images. Images from before checkpoint ids existed (id 0) are taken
 * as given.
 */
static int pick_images(char *const paths[], int n, const char ***outp)
{
	struct candidate *c = calloc(n, sizeof(*c));
	const char **out = calloc(n + 1, sizeof(*out));
	uint64_t best = 0, best_time = 0, id, t;
	uint32_t nprocs;
	int i, k, same = 1, r = 0;

	if (!c || !out) {
		free(c);
		free(out);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		out[i] = paths[i];
	for (i = 0; i < n; i++) {
		c[i].path = paths[i];
		/* (a missing file is for the loader to report, once) */
		c[i].has_fin = access(paths[i], F_OK) == 0 && image_peek(paths[i], &c[i].fin) == 0;
		snprintf(c[i].prev, sizeof(c[i].prev), "%s.prev", paths[i]);
		c[i].has_old = access(c[i].prev, F_OK) == 0 && image_peek(c[i].prev, &c[i].old) == 0;
		/* unreadable, or older than checkpoint ids: the loader says what is wrong */
		if (!c[i].has_fin || !c[i].fin.ckpt_id)
			goto as_given;
		if (c[i].fin.ckpt_id != c[0].fin.ckpt_id)
			same = 0;
	}
	if (same)
		goto as_given;
	/* the newest complete checkpoint among the finals and the .prevs */
	for (i = 0; i < 2 * n; i++) {
		const struct candidate *ci = &c[i / 2];

		if (i % 2 ? !ci->has_old : !ci->has_fin)
			continue;
		id = i % 2 ? ci->old.ckpt_id : ci->fin.ckpt_id;
		k = count_set(c, n, id, &nprocs, &t);
		if (id && (k == n || (nprocs && (uint32_t)k == nprocs)) && t > best_time) {
			best = id;
			best_time = t;
		}
	}
	if (!best) {
		pr_err("%s%s: these images are from different checkpoints, and no checkpoint is "
		       "whole among them and the .prev images kept beside them", paths[0],
		       n > 1 ? " ..." : "");
		r = -EINVAL;
		goto out;
	}
	for (i = 0, k = 0; i < n; i++) {
		if (c[i].has_fin && c[i].fin.ckpt_id == best)
			out[k++] = paths[i];
		else if (c[i].has_old && c[i].old.ckpt_id == best)
			out[k++] = strdup(c[i].prev);
		else
			pr_warn("%s: not part of checkpoint %016llx: left out", paths[i],
				(unsigned long long)best);
	}
	pr_warn("the images given are not one complete checkpoint (a checkpoint failed during "
		"its commit): restarting checkpoint %016llx, the newest complete one, with %d "
		"images", (unsigned long long)best, k);
	out[k] = NULL;
	*outp = out;
	free(c);
	return k;
as_given:
	*outp = out;
	free(c);
	return n;
out:
	free(c);
	free(out);
	return r;
}

int restart_load_images(struct restart_set *s, char *const given[], int ngiven, int strict)
{
	const char **paths = NULL;
	int i, j, n, r;

	n = pick_images(given, ngiven, &paths);
	if (n < 0)
		return n;
	r = load_images(s, (char *const *)paths, n, strict);
	for (i = 0; i < n; i++) {
		for (j = 0; j < ngiven; j++)
			if (paths[i] == given[j])
				break;
		if (j == ngiven)
			free((char *)paths[i]); /* a .prev path made here */
	}
	free(paths);
	return r;
}

static int load_images(struct restart_set *s, char *const paths[], int n, int strict)
{
	int i, j, r;

	memset(s, 0, sizeof(*s));
	s->max_fd = -1;
	s->img = calloc(n, sizeof(*s->img));
	if (!s->img)
		return -ENOMEM;
	s->n = n;
	for (i = 0; i < n; i++) {
		struct restart_img *im = &s->img[i];

		ckpt_proc_init(&im->proc);
		im->path = realpath(paths[i], NULL);
		if (!im->path) {
			r = -errno;
			pr_err("%s: %s", paths[i], strerror(errno));
			goto fail;
		}
		r = load_one(s, im, strict);
		if (r)
			goto fail;
		if (i == 0) {
			snprintf(s->compid, sizeof(s->compid), "%s", im->info.compid);
		} else if (strcmp(s->compid, im->info.compid)) {
			pr_err("%s: belongs to computation %s, %s to %s", im->path,
			       im->info.compid[0] ? im->info.compid : "(none)", s->img[0].path,
			       s->compid[0] ? s->compid : "(none)");
			r = -EINVAL;
			goto fail;
		}
		for (j = 0; j < i; j++)
			if (restart_img_pid(&s->img[j].proc) == restart_img_pid(&im->proc)) {
				pr_err("%s: pid %d is also in %s", im->path,
				       restart_img_pid(&im->proc), s->img[j].path);
				r = -EINVAL;
				goto fail;
			}
	}
	return 0;
fail:
	restart_set_free(s);
	return r;
}

static pid_t innermost(const int32_t *v, uint32_t levels, pid_t dflt)
{
	return levels >= 1 && levels <= CKPT_MAX_NS_LEVELS ? v[levels - 1] : dflt;
}

pid_t restart_img_pid(const struct ckpt_proc *p)
{
	return innermost(p->ns_pid, p->ns_levels, p->pid);
}

pid_t restart_thread_tid(const struct ckpt_proc *p, const struct ckpt_thread *t)
{
	/* A thread's levels are its process's (threads cannot change PID namespace). */
	if (t->ns_levels != p->ns_levels)
		return t->tid;
	return innermost(t->ns_tid, t->ns_levels, t->tid);
}

int restart_build_tree(struct restart_set *s)
{
	int i, j, main_idx = -1;

	s->tp = calloc(s->n, sizeof(*s->tp));
	if (!s->tp)
		return -ENOMEM;
	for (i = 0; i < s->n; i++) {
		const struct ckpt_proc *p = &s->img[i].proc;
		struct tree_proc *t = &s->tp[i];

		t->pid = restart_img_pid(p);
		t->ppid = p->ppid; /* as the tracer saw it; translated below */
		t->pgid = innermost(p->ns_pgid, p->ns_levels, p->pgid);
		t->sid = innermost(p->ns_sid, p->ns_levels, p->sid);
		t->tids = s->img[i].tids;
		t->ntids = p->nthreads - 1;
	}
	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->n; j++)
			if (s->img[j].proc.pid == s->img[i].proc.ppid) {
				s->tp[i].ppid = s->tp[j].pid;
				break;
			}
	for (i = 0; i < s->n && main_idx < 0; i++) {
		for (j = 0; j < s->n; j++)
			if (s->tp[j].pid == s->tp[i].ppid)
				break;
		if (j == s->n)
			main_idx = i;
	}
	if (main_idx >= 0)
		s->tp[main_idx].is_main = 1;
	for (i = 0; i < s->n; i++)
		s->nzombies += s->img[i].proc.nzombies;
	if (s->nzombies) {
		s->zombies = calloc(s->nzombies, sizeof(*s->zombies));
		if (!s->zombies)
			return -ENOMEM;
	}
	s->nzombies = 0;
	for (i = 0; i < s->n; i++) {
		const struct ckpt_proc *p = &s->img[i].proc;
		uint32_t k;

		for (k = 0; k < p->nzombies; k++) {
			/* Zombie pids were read in the tracer's namespace: right only when the
			 * process had no namespace of its own. */
			if (p->ns_levels > 1) {
				pr_warn("%s: zombie child %d is left out (its pid in the program's "
					"namespace is unknown)", s->img[i].path, p->zombies[k].pid);
				continue;
			}
			s->zombies[s->nzombies].pid = p->zombies[k].pid;
			s->zombies[s->nzombies].parent = i;
			s->zombies[s->nzombies].status = p->zombies[k].exit_code;
			s->nzombies++;
		}
	}
	return 0;
}

void restart_close_readers(struct restart_set *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->img[i].rd) {
			image_close(s->img[i].rd);
			s->img[i].rd = NULL;
		}
}

void restart_set_free(struct restart_set *s)
{
	int i;

	if (!s->img)
		return;
	restart_close_readers(s);
	for (i = 0; i < s->n; i++) {
		ckpt_proc_free(&s->img[i].proc);
		free(s->img[i].path);
		free(s->img[i].tids);
	}
	free(s->img);
	free(s->tp);
	free(s->zombies);
	memset(s, 0, sizeof(*s));
}
