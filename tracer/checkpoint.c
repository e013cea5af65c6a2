/*
 * The checkpoint steps the tracer's barrier handler calls (see checkpoint.h), for each traced
 * process, every thread of which is held in a ptrace-stop.
 *
 *   checkpoint  collect the process (dump_collect) and write its image under the temporary
 *               name (dump_image: records, file data, pages, fsync); F_IMAGE is the final path
 *   commit      rename it to ckpt_<prog>_<uniquepid>.dmtcp
 *   abort       drop the temporary image; the previous image was never touched
 *
 * Any failure (disk full, the process exiting under us, an unreadable mapping) fails the step
 * with a reason; the coordinator then aborts the checkpoint everywhere and the program runs on.
 *
 * The tracer traces a whole tree, so the things that the tree shares are decided here, once
 * per checkpoint generation: which process stores a shared memory object (the first that
 * shows it), and which key names a shared open file description (the first pid:fd that shows
 * it, matched across processes with kcmp(KCMP_FILE)). Pipe bytes are copied without being
 * consumed, so drain and refill have nothing to do for them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "dump.h"
#include "image.h"
#include "log.h"
#include "tracer.h"

#define KCMP_FILE 0

struct ckpt_priv {
	struct image_writer *w;
	uint64_t generation;
};

/* ---- tree-wide tables, reset for each generation ------------------------------------- */

struct shm_obj {
	uint64_t dev, ino;
	int32_t owner;
};

struct shared_file {
	pid_t pid;
	int fd;
	uint64_t dev, ino;
	uint64_t key;
};

static struct {
	uint64_t generation;
	struct shm_obj *shm;
	uint32_t nshm, shm_cap;
	struct shared_file *files;
	uint32_t nfiles, files_cap;
} tree;

static void tree_reset(uint64_t generation)
{
	if (tree.generation == generation)
		return;
	free(tree.shm);
	free(tree.files);
	memset(&tree, 0, sizeof(tree));
	tree.generation = generation;
}

static int tree_shm_owner(void *arg, const struct ckpt_vma *v, int32_t *owner_pid)
{
	pid_t pid = *(pid_t *)arg;
	uint32_t i;

	for (i = 0; i < tree.nshm; i++) {
		if (tree.shm[i].dev == v->dev && tree.shm[i].ino == v->ino) {
			*owner_pid = tree.shm[i].owner;
			return tree.shm[i].owner == pid;
		}
	}
	if (tree.nshm == tree.shm_cap) {
		uint32_t cap = tree.shm_cap ? tree.shm_cap * 2 : 16;
		struct shm_obj *n = realloc(tree.shm, cap * sizeof(*n));

		if (!n)
			return 1; /* store it here: correct, only not deduplicated */
		tree.shm = n;
		tree.shm_cap = cap;
	}
	tree.shm[tree.nshm].dev = v->dev;
	tree.shm[tree.nshm].ino = v->ino;
	tree.shm[tree.nshm].owner = pid;
	tree.nshm++;
	*owner_pid = pid;
	return 1;
}

static uint64_t tree_fd_share(void *arg, pid_t pid, int fd, const struct ckpt_file *f)
{
	uint64_t key = (uint64_t)(uint32_t)pid << 32 | (uint32_t)fd;
	uint32_t i;

	(void)arg;
	for (i = 0; i < tree.nfiles; i++) {
		struct shared_file *s = &tree.files[i];

		if (s->dev != f->dev || s->ino != f->ino)
			continue;
		if (syscall(SYS_kcmp, s->pid, pid, KCMP_FILE, s->fd, fd) == 0)
			return s->key;
	}
	if (tree.nfiles == tree.files_cap) {
		uint32_t cap = tree.files_cap ? tree.files_cap * 2 : 64;
		struct shared_file *n = realloc(tree.files, cap * sizeof(*n));

		if (!n)
			return key;
		tree.files = n;
		tree.files_cap = cap;
	}
	tree.files[tree.nfiles++] = (struct shared_file){ pid, fd, f->dev, f->ino, key };
	return key;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- steps --------------------------------------------------------------------------- */

static struct ckpt_priv *priv_of(struct tracee_proc *p)
{
	if (!p->ckpt_priv)
		p->ckpt_priv = calloc(1, sizeof(struct ckpt_priv));
	return p->ckpt_priv;
}

static void drop_image(struct tracee_proc *p)
{
	struct ckpt_priv *c = p->ckpt_priv;

	if (c && c->w) {
		image_discard(c->w);
		c->w = NULL;
	}
}

int ckpt_drain(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)p;
	(void)step;
	return 0;
}

/* The directory for images: the tracer's --ckptdir (dmtcp_launch/dmtcp_restart, which also
 * take DMTCP_CHECKPOINT_DIR), else the environment's, else the coordinator's (WELCOME), else
 * the current directory; made absolute for F_IMAGE. */
static int image_dir(const struct tracee_proc *p, char *buf, size_t len)
{
	const char *d = p->tracer ? p->tracer->cfg.ckptdir : NULL;

	if (!d || !*d)
		d = getenv("DMTCP_CHECKPOINT_DIR");
	if (!d || !*d)
		d = p->ckptdir[0] ? p->ckptdir : ".";
	if (!realpath(d, buf)) {
		int err = -errno;

		pr_err("checkpoint directory %s: %s", d, strerror(-err));
		return err;
	}
	(void)len;
	return 0;
}

static int collect_tids(struct tracee_proc *p, pid_t **tidsp, uint32_t *np)
{
	struct tracee_thread *t;
	uint32_t n = 0, cap = 0;
	pid_t *tids;

	for (t = p->threads; t; t = t->next) {
		if (t->state != TS_HELD)
			return -EAGAIN;
		cap++;
	}
	tids = calloc(cap ? cap : 1, sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	/* The thread-group leader first: the restorer treats threads[0] as the main thread. */
	for (t = p->threads; t; t = t->next)
		if (t->tid == p->pid)
			tids[n++] = t->tid;
	for (t = p->threads; t; t = t->next)
		if (t->tid != p->pid)
			tids[n++] = t->tid;
	if (!n) {
		free(tids);
		return -ESRCH;
	}
	*tidsp = tids;
	*np = n;
	return 0;
}

int ckpt_write(struct tracee_proc *p, struct ckpt_step *step)
{
	struct ckpt_priv *c = priv_of(p);
	struct dump_tree dt = { tree_shm_owner, tree_fd_share, NULL, 1 };
	char dir[PATH_MAX], name[512];
	struct ckpt_proc cp;
	const char *prog;
	const char *par = getenv("DMTCP_PARASITE");
	pid_t *tids = NULL, pid = p->pid;
	uint32_t ntids = 0;
	uint64_t t0 = now_ms(), t1;
	int rc;

	step->image[0] = '\0';
	if (!c) {
		snprintf(step->reason, sizeof(step->reason), "out of memory");
		return -ENOMEM;
	}
	drop_image(p); /* a leftover of an interrupted generation */
	c->generation = step->generation;
	tree_reset(step->generation);
	dt.arg = &pid;
	dt.use_parasite = !(par && !strcmp(par, "0"));

	prog = p->prog[0] ? p->prog : "unknown";
	rc = dump_image_name(name, sizeof(name), prog, ptable_uniquepid(p));
	if (!rc)
		rc = image_dir(p, dir, sizeof(dir));
	if (rc) {
		snprintf(step->reason, sizeof(step->reason), "no usable image name or directory: %s",
			 strerror(-rc));
		return rc;
	}
	rc = collect_tids(p, &tids, &ntids);
	if (rc) {
		snprintf(step->reason, sizeof(step->reason), "pid %d: %s", p->pid,
			 rc == -EAGAIN ? "a thread is not held" : "no threads to checkpoint");
		return rc;
	}

	ckpt_proc_init(&cp);
	cp.uniquepid = strdup(ptable_uniquepid(p));
	rc = cp.uniquepid ? collect_process(p->pid, tids, ntids, &dt, &cp) : -ENOMEM;
	if (rc) {
		snprintf(step->reason, sizeof(step->reason), "pid %d: %s: %s", p->pid,
			 rc == -ESRCH ? "process exited during the checkpoint" :
					"cannot collect its state",
			 strerror(-rc));
		goto out;
	}
	t1 = now_ms();
	/* compression as the launcher/restarter decided (--gzip/--no-gzip, DMTCP_GZIP) */
	rc = dump_image(p->pid, &cp, dir, name, prog, p->uniquepid, p->compid,
			p->tracer ? !!p->tracer->cfg.gzip : -1, &c->w);
	if (rc) {
		snprintf(step->reason, sizeof(step->reason), "pid %d: %s %.100s/%.80s: %s", p->pid,
			 rc == -ESRCH ? "exited while writing" : "cannot write image", dir, name,
			 strerror(-rc));
		goto out;
	}
	snprintf(step->image, sizeof(step->image), "%s", image_writer_final_path(c->w));
	pr_info("pid %d: image %s written (%llu bytes, %llu pages found with %s; collect %llu ms, "
		"write %llu ms)", p->pid, step->image, (unsigned long long)image_writer_size(c->w),
		(unsigned long long)cp.pages_stored, collect_mem_method(),
		(unsigned long long)(t1 - t0), (unsigned long long)(now_ms() - t1));
out:
	ckpt_proc_free(&cp);
	free(tids);
	return rc;
}

static void *close_fd_main(void *arg)
{
	close((int)(intptr_t)arg);
	return NULL;
}

/*
 * The rename in image_commit() drops the last link of the previous image, and the kernel frees
 * its pages right there (about 0.15 s per GiB on tmpfs) while the program is still stopped.
 * Holding the old file open across the rename moves that work to the final close, which a
 * short-lived thread does while the program runs again.
 */
static int hold_previous(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC);
}

static void release_previous(int fd)
{
	pthread_attr_t a;
	pthread_t th;

	if (fd < 0)
		return;
	if (pthread_attr_init(&a) == 0) {
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &a, close_fd_main, (void *)(intptr_t)fd) == 0) {
			pthread_attr_destroy(&a);
			return;
		}
		pthread_attr_destroy(&a);
	}
	close(fd);
}

int ckpt_commit(struct tracee_proc *p, struct ckpt_step *step)
{
	struct ckpt_priv *c = p->ckpt_priv;
	int rc, old;

	if (!c || !c->w) {
		snprintf(step->reason, sizeof(step->reason), "pid %d: no image to commit", p->pid);
		return -ENOENT;
	}
	old = hold_previous(image_writer_final_path(c->w));
	rc = image_commit(c->w);
	release_previous(old);
	if (rc)
		snprintf(step->reason, sizeof(step->reason), "pid %d: cannot rename %.180s: %s", p->pid,
			 image_writer_tmp_path(c->w), strerror(-rc));
	else
		snprintf(step->image, sizeof(step->image), "%s", image_writer_final_path(c->w));
	/* After a commit discard only frees; after a failed one it removes the temp file. */
	drop_image(p);
	return rc;
}

int ckpt_refill(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)p;
	(void)step;
	return 0;
}

int ckpt_resume(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)step;
	/* A writer still here was never committed: this generation did not complete. */
	drop_image(p);
	return 0;
}

int ckpt_abort(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)step;
	drop_image(p);
	return 0;
}

void ckpt_forget(struct tracee_proc *p)
{
	drop_image(p);
	free(p->ckpt_priv);
	p->ckpt_priv = NULL;
}
