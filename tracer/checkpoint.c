/*
 * The checkpoint steps (see checkpoint.h).
 *
 * The tracer traces a whole tree, so the things that the tree shares are decided here, once
 * per checkpoint generation: which process stores a shared memory object (the first that
 * shows it), and which key names a shared open file description (the first pid:fd that shows
 * it, matched across processes with kcmp(KCMP_FILE)).
 */
#include "checkpoint.h"

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

#include "clock.h"
#include "core.h"
#include "dump.h"
#include "image.h"
#include "log.h"
#include "procfs.h"
#include "sockdrain.h"

#define KCMP_FILE 0

/*
 * A process's image being written, and which of its images must survive (its process slot).
 *
 * The images of one checkpoint form a set; a restart needs a whole set. Commit renames each
 * process's new image over its final name one process at a time, so a fault in the middle (the
 * coordinator killed, a rename failing, the tracer killed) leaves some final names holding the
 * new checkpoint and others the old one. So the last complete image of each process is kept as
 * <final>.prev until the new checkpoint completes (the coordinator resumes after writing its
 * restart script), and dmtcp_restart picks a complete set among finals and .prevs by the
 * checkpoint id in their headers (restart_images.c).
 */
struct ckpt_priv {
	struct image_writer *w;
	uint64_t generation;
	uint64_t done_id;	/* the checkpoint id of this process's last complete image; 0 unknown */
	uint64_t committed_id;	/* committed but not yet complete (0: none) */
	char prev[PATH_MAX];	/* its .prev while a commit is not complete */
};

struct ckpt_state {
	int slot;
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

/* The tracer's copies of files in flight, once every image is collected: a copy held on
 * would keep, say, a pipe's write end open after the program resumes. */
static void tree_close_inflight(void)
{
	for (uint32_t i = 0; i < tree.nfiles; i++) {
		if (tree.files[i].pid == getpid() && tree.files[i].fd >= 0) {
			close(tree.files[i].fd);
			tree.files[i].fd = -1;
		}
	}
}

static void tree_reset(uint64_t generation)
{
	if (tree.generation == generation)
		return;
	tree_close_inflight();
	free(tree.shm);
	free(tree.files);
	memset(&tree, 0, sizeof(tree));
	tree.generation = generation;
}

/* What the collectors' callbacks get as arg: the process being collected, and its tracer. */
struct tree_arg {
	pid_t pid;
	struct tracer *tr;
};

static int tree_shm_owner(void *arg, const struct ckpt_vma *v, int32_t *owner_pid)
{
	pid_t pid = ((struct tree_arg *)arg)->pid;
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

/* What the drain step took out of a socket's queue (sockdrain.c). */
static const uint8_t *tree_sock_taken(void *arg, uint64_t ino, size_t *len)
{
	return sockdrain_taken(((struct tree_arg *)arg)->tr, ino, len);
}

static const struct sysrestart_memo *tree_sys_memo(void *arg, pid_t tid)
{
	struct tracee_thread *t = ptable_thread(((struct tree_arg *)arg)->tr, tid);

	return t ? &t->memo : NULL;
}

/* A traced process (a zombie is not: a restart in a new PID namespace may leave it out). */
static int tree_pid_in_tree(void *arg, pid_t pid)
{
	return ptable_proc(((struct tree_arg *)arg)->tr, pid) != NULL;
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
	if (pid == getpid()) {
		/* A file in flight, the tracer's copy: kept open while the tree is collected so
		 * that a later process's fd can be compared with it, and keyed apart from every
		 * pid:fd key (the tracer's fd numbers are reused from one process to the next). */
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return key | 1ull << 63;
		key = 1ull << 63 | tree.nfiles;
	}
	tree.files[tree.nfiles++] = (struct shared_file){ pid, fd, f->dev, f->ino, key };
	return key;
}

/* ---- steps --------------------------------------------------------------------------- */

static struct ckpt_priv *priv_peek(struct tracee_proc *p)
{
	return p->slot[p->tracer->ckpt->slot];
}

static struct ckpt_priv *priv_of(struct tracee_proc *p)
{
	int slot = p->tracer->ckpt->slot;

	if (!p->slot[slot])
		p->slot[slot] = calloc(1, sizeof(struct ckpt_priv));
	return p->slot[slot];
}

static void drop_image(struct tracee_proc *p)
{
	struct ckpt_priv *c = priv_peek(p);

	if (c && c->w) {
		image_discard(c->w);
		c->w = NULL;
	}
}

/* The directory for images: the tracer's --ckptdir (dmtcp_launch/dmtcp_restart, which also
 * take DMTCP_CHECKPOINT_DIR), else the environment's, else the coordinator's (WELCOME), else
 * the current directory; made absolute for F_IMAGE. */
static int image_dir(const struct tracee_proc *p, const struct ckpt_step *step, char *buf,
		     size_t len)
{
	const char *d = tracer_cfg(p->tracer)->ckptdir;

	if (!d || !*d)
		d = getenv("DMTCP_CHECKPOINT_DIR");
	if (!d || !*d)
		d = step->ckptdir && step->ckptdir[0] ? step->ckptdir : ".";
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

/* The dumpers' page-byte count, on to whoever runs the step. */
static void pass_progress(void *arg, uint64_t bytes)
{
	struct ckpt_step *step = arg;

	if (step->progress)
		step->progress(step, bytes);
}

/* How many seccomp filters the tracer itself runs under (from where it was started), read
 * once; -1 when the kernel does not say. */
static int tracer_seccomp_filters(void)
{
	static int n = -2;
	int32_t v;
	char *st;

	if (n == -2) {
		n = -1;
		if (procfs_read(getpid(), 0, "status", &st, NULL) == 0) {
			if (procfs_status_ints(st, "Seccomp_filters", &v, 1) == 1)
				n = v;
			free(st);
		}
	}
	return n;
}

static int ckpt_write(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *step,
		      void *arg)
{
	struct dump_progress progress = { pass_progress, step };
	struct ckpt_priv *c = priv_of(p);
	char why[200] = "";
	struct tree_arg ta = { p->pid, tr };
	struct collect_tree dt = { tree_shm_owner, tree_fd_share, &ta, 1, why, sizeof(why),
				   tree_sock_taken, tree_sys_memo, tracer_cfg(tr)->stdio,
				   tree_pid_in_tree, -1 };
	char dir[PATH_MAX], name[512];
	struct ckpt_proc cp;
	const char *prog;
	const char *par = getenv("DMTCP_PARASITE");
	pid_t *tids = NULL;
	uint32_t ntids = 0;
	long t0 = mono_now_ms(), t1;
	int rc;

	(void)tr;
	(void)arg;
	step->image[0] = '\0';
	if (!c) {
		snprintf(step->reason, sizeof(step->reason), "out of memory");
		return -ENOMEM;
	}
	drop_image(p); /* a leftover of an interrupted generation */
	c->generation = step->generation;
	tree_reset(step->generation);
	dt.use_parasite = !(par && !strcmp(par, "0"));
	dt.seccomp_expected = tracer_seccomp_filters() < 0 ? -1
			      : tracer_seccomp_filters() + (p->nofilter ? 0 : 1);

	prog = p->prog[0] ? p->prog : "unknown";
	rc = dump_image_name(name, sizeof(name), prog, ptable_uniquepid(p));
	if (!rc)
		rc = image_dir(p, step, dir, sizeof(dir));
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
	if (rc && rc != -ESRCH && why[0]) {
		snprintf(step->reason, sizeof(step->reason), "pid %d (%.40s): %.190s", p->pid, prog, why);
		goto out;
	}
	if (rc) {
		snprintf(step->reason, sizeof(step->reason), "pid %d: %s: %s", p->pid,
			 rc == -ESRCH ? "process exited during the checkpoint" :
					"cannot collect its state",
			 strerror(-rc));
		goto out;
	}
	t1 = mono_now_ms();
	{
		struct dump_image_opts o = {
			.dir = dir,
			.final_name = name,
			.prog = prog,
			.uniquepid = p->uniquepid,
			.compid = step->compid,
			.ckpt_id = step->ckpt_id,
			/* as the launcher/restarter decided (--gzip/--no-gzip, DMTCP_GZIP) */
			.compress = !!tracer_cfg(tr)->gzip,
			.nofilter = p->nofilter,
			.progress = &progress,
		};

		rc = dump_image(p->pid, &cp, &o, &c->w);
	}
	if (rc) {
		snprintf(step->reason, sizeof(step->reason), "pid %d: %s %.100s/%.80s: %s", p->pid,
			 rc == -ESRCH ? "exited while writing" : "cannot write image", dir, name,
			 strerror(-rc));
		goto out;
	}
	snprintf(step->image, sizeof(step->image), "%s", image_writer_final_path(c->w));
	step->image_size = image_writer_size(c->w);
	pr_info("pid %d: image %s written (%llu bytes, %llu pages found with %s; collect %llu ms, "
		"write %llu ms)", p->pid, step->image, (unsigned long long)image_writer_size(c->w),
		(unsigned long long)cp.pages_stored, collect_mem_method(),
		(unsigned long long)(t1 - t0), (unsigned long long)(mono_now_ms() - t1));
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

/*
 * Before the new image takes the final name: the image there now is kept as <final>.prev
 * when it is the last complete one (or nothing says otherwise); an image there from a
 * checkpoint that never completed is simply replaced, the complete one being the .prev already.
 * link() then rename(): the .prev appears whole or not at all.
 */
static int keep_previous(struct ckpt_priv *c, const char *final, struct ckpt_step *step)
{
	struct image_info in;
	char tmp[PATH_MAX + 16];

	snprintf(c->prev, sizeof(c->prev), "%s.prev", final);
	if (access(final, F_OK) < 0)
		return 0; /* none: the first checkpoint of this process */
	if (image_peek(final, &in) < 0)
		return 0; /* unreadable (the reader said why): nothing worth keeping */
	if (c->done_id && in.ckpt_id != c->done_id)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->prev);
	unlink(tmp);
	if (link(final, tmp) < 0 || rename(tmp, c->prev) < 0) {
		int err = -errno;

		unlink(tmp);
		snprintf(step->reason, sizeof(step->reason), "cannot keep the previous image as %.180s: %s",
			 c->prev, strerror(-err));
		return err;
	}
	return 0;
}

static int ckpt_commit(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *step,
		       void *arg)
{
	struct ckpt_priv *c = priv_peek(p);
	int rc, old;

	(void)tr;
	(void)arg;
	tree_close_inflight();
	if (!c || !c->w) {
		if (p->ghost)
			return 0; /* it exited before it was stopped: not in this checkpoint */
		snprintf(step->reason, sizeof(step->reason), "pid %d: no image to commit", p->pid);
		return -ENOENT;
	}
	/* How many images the set has is known only now: into the header before the rename. */
	rc = step->nprocs ? image_set_nprocs(c->w, step->nprocs) : 0;
	if (rc)
		snprintf(step->reason, sizeof(step->reason), "pid %d: cannot complete %.180s: %s",
			 p->pid, image_writer_tmp_path(c->w), strerror(-rc));
	else
		rc = keep_previous(c, image_writer_final_path(c->w), step);
	if (rc) {
		drop_image(p);
		return rc;
	}
	old = hold_previous(image_writer_final_path(c->w));
	rc = image_commit(c->w);
	release_previous(old);
	if (!rc)
		c->committed_id = step->ckpt_id ? step->ckpt_id : (uint64_t)-1;
	if (rc)
		snprintf(step->reason, sizeof(step->reason), "pid %d: cannot rename %.180s: %s", p->pid,
			 image_writer_tmp_path(c->w), strerror(-rc));
	else
		snprintf(step->image, sizeof(step->image), "%s", image_writer_final_path(c->w));
	/* After a commit discard only frees; after a failed one it removes the temp file. */
	drop_image(p);
	return rc;
}

/* abort: the checkpoint was abandoned; its temporary image goes, and what was committed of it
 * stays incomplete (the .prev is what a restart takes). */
static int ckpt_drop(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *step,
		     void *arg)
{
	struct ckpt_priv *c = priv_peek(p);

	(void)tr;
	(void)step;
	(void)arg;
	tree_close_inflight();
	drop_image(p);
	if (c)
		c->committed_id = 0;
	return 0;
}

/*
 * resume: a writer still here was never committed (this generation did not complete); a
 * commit of this generation is complete now (the coordinator has written its restart
 * script): its image is the one to keep from now on, and the .prev goes.
 */
static int ckpt_complete(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *step,
			 void *arg)
{
	struct ckpt_priv *c = priv_peek(p);
	int fd;

	drop_image(p);
	if (!c || !c->committed_id)
		return ckpt_drop(tr, p, step, arg);
	c->done_id = c->committed_id == (uint64_t)-1 ? 0 : c->committed_id;
	c->committed_id = 0;
	if (c->prev[0]) {
		/* its pages are freed at the last close, after the program runs again */
		fd = hold_previous(c->prev);
		if (unlink(c->prev) < 0 && errno != ENOENT)
			pr_warn("pid %d: cannot remove %s: %s", p->pid, c->prev, strerror(errno));
		release_previous(fd);
		c->prev[0] = '\0';
	}
	return 0;
}

void checkpoint_restored(struct tracee_proc *p, uint64_t ckpt_id)
{
	struct ckpt_priv *c = priv_of(p);

	if (c)
		c->done_id = ckpt_id;
}

static void ckpt_forget(struct tracee_proc *p, void *data)
{
	drop_image(p);
	free(data);
}

int checkpoint_init(struct tracer *tr)
{
	struct ckpt_state *cs = calloc(1, sizeof(*cs));
	int r;

	if (!cs)
		return -ENOMEM;
	tr->ckpt = cs;
	cs->slot = ptable_proc_slot_new(tr, ckpt_forget);
	if (cs->slot < 0)
		return cs->slot;
	r = hooks_on_step(tr, STEP_CHECKPOINT, ckpt_write, cs);
	if (!r)
		r = hooks_on_step(tr, STEP_COMMIT, ckpt_commit, cs);
	if (!r)
		r = hooks_on_step(tr, STEP_RESUME, ckpt_complete, cs);
	if (!r)
		r = hooks_on_step(tr, STEP_ABORT, ckpt_drop, cs);
	return r;
}

void checkpoint_fini(struct tracer *tr)
{
	tree_reset((uint64_t)-1);
	free(tr->ckpt);
	tr->ckpt = NULL;
}
