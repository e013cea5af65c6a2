/*
 * The set of images a restart works from: finding them (-r DIR), loading and validating every
 * one of them completely before anything irreversible, and the process list for
 * prepare_tree.
 */
#ifndef DMTCP_RESTART_IMAGES_H
#define DMTCP_RESTART_IMAGES_H

#include <sys/types.h>

#include "ckpt_state.h"
#include "image.h"
#include "restart/prepare_tree.h"

struct restart_img {
	char *path;
	struct ckpt_proc proc;
	struct image_reader *rd; /* open until the memory is staged */
	struct image_info info;
	pid_t *tids;		 /* thread ids but the main one, for prepare_tree */
};

struct restart_set {
	struct restart_img *img;
	int n;
	struct tree_proc *tp; /* tp[i] describes img[i] */
	struct tree_zombie *zombies;
	int nzombies;
	char compid[IMAGE_STR_LEN];
	int max_fd;	      /* highest fd number of any image, -1 when none */
	int host_pids;	      /* the processes get their pids in the restart's own PID
			       * namespace (TREE_HOST): a saved pid may be taken for a moment */
};

/*
 * The ids as the program saw them: the innermost level of the saved NSpid/NSpgid/NSsid (a
 * process checkpointed after a restart in a new PID namespace was seen by the tracer with its
 * outer pid). The parent's pid is translated through the parent's own image when it is there.
 */
pid_t restart_img_pid(const struct ckpt_proc *p);
pid_t restart_thread_tid(const struct ckpt_proc *p, const struct ckpt_thread *t);

/* Every "ckpt_*.dmtcp" in dir, sorted by name; *paths malloc'ed (free each and the array). */
int restart_list_dir(const char *dir, char ***paths, int *n);

/*
 * Load and validate every image: the container and content (ckpt_load), architecture,
 * that every image belongs to the same computation and no process is there twice, that every
 * file and mapped file the processes had open still exists, and (strict) that the images are
 * ours. Logs each problem naming the image; returns 0 or -errno after freeing what it loaded.
 */
int restart_load_images(struct restart_set *s, char *const paths[], int n, int strict);

/* Fill s->tp (and pick the main process: the first image whose parent is not restored). */
int restart_build_tree(struct restart_set *s);

/* Close every image reader (in a restored process, once its memory is staged). */
void restart_close_readers(struct restart_set *s);
void restart_set_free(struct restart_set *s);

/* N if path is /proc/N or under /proc/N/ (a process's own files), else 0. */
long restart_proc_pid(const char *path);

#endif
