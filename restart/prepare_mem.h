/*
 * Staging a restored process's memory from its image and describing it, its threads and its
 * signal dispositions to the restorer (restart/prepare_restore.h).
 *
 * Page data is decompressed straight into staging mappings that the restorer later mremap()s
 * into place, so the bytes are written once. Shared memory objects (shared anonymous memory,
 * deleted files mapped shared) are memfds created in the restart before the processes are
 * created (prepare_mem_shared()), so every process that shared one maps the same object again.
 */
#ifndef DMTCP_PREPARE_MEM_H
#define DMTCP_PREPARE_MEM_H

#include <stdint.h>

#include "restart/prepare_restore.h"
#include "restart/restart_images.h"

struct shm_obj {
	uint64_t id;   /* ckpt_vma.shm_id */
	uint64_t size; /* bytes: the largest pgoff + length any mapping of it covers */
	int fd;	       /* memfd, in the restart, >= the fd base, close-on-exec */
};

struct shm_shared {
	struct shm_obj *obj;
	int n;
};

/* In the restart, before the tree is created: one memfd per shared object of any image. */
int prepare_mem_shared(const struct restart_set *s, int fd_base, struct shm_shared *sh);
void prepare_mem_shared_free(struct shm_shared *sh);

/*
 * In restored process img: build its restore request, staging every stored page. fds the
 * request keeps open for the restorer are placed at or above fd_base and appended to
 * keep[*nkeep] (room for one per vma). Returns 0 and *out, or -errno (logged).
 */
int prepare_mem(const struct restart_set *s, int img, const struct shm_shared *sh, int fd_base,
		struct restore_req **out, int *keep, int *nkeep);

#endif
