/*
 * Building the whole restore request of a restored process from its image: every region with
 * its data source and its stored pages staged, the threads with their saved state, the signal
 * dispositions, the vdso, the mm fields and the executable, described to the restorer through
 * restart/prepare_restore.h (whose prepare_restore_req.c only copies a description it is
 * given into the request, from whatever source).
 *
 * Page data is decompressed straight into staging mappings that the restorer later mremap()s
 * into place, so the bytes are written once. Shared memory objects (shared anonymous memory,
 * deleted files mapped shared) are memfds created in the restart before the processes are
 * created (prepare_image_shm()), so every process that shared one maps the same object again.
 */
#ifndef DMTCP_PREPARE_IMAGE_REQ_H
#define DMTCP_PREPARE_IMAGE_REQ_H

#include <stdint.h>

#include "restart/prepare_fds.h"
#include "restart/prepare_restore.h"
#include "restart/restart_images.h"

struct shm_obj {
	uint64_t id;   /* ckpt_vma.shm_id */
	uint64_t size; /* bytes: the largest pgoff + length any mapping of it covers */
	int fd;	       /* memfd, in the restart, >= the fd base, close-on-exec */
	uint64_t dev;  /* ckpt_vma.dev of its first mapping */
	const char *name; /* a memfd's name ("/memfd:NAME" mapped), else NULL */
	int preset;    /* the program's own memfd, already holding the contents (prepare_fds.c):
			  its mappings' pages are not written again */
};

struct shm_shared {
	struct shm_obj *obj;
	int n;
};

/* In the restart, before the tree is created: one memfd per shared object of any image. */
int prepare_image_shm(const struct restart_set *s, const struct fd_shared *fs,
		      struct shm_shared *sh);
void prepare_image_shm_free(struct shm_shared *sh);

/*
 * In restored process img: build its restore request, staging every stored page. fds the
 * request keeps open for the restorer are placed at or above fd_base and appended to
 * keep[*nkeep] (room for one per vma). Returns 0 and *out, or -errno (logged).
 */
int prepare_image_req(const struct restart_set *s, int img, const struct shm_shared *sh,
		      int fd_base, struct restore_req **out, int *keep, int *nkeep);

#endif
