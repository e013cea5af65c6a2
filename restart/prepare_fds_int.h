/*
 * Inside the fd preparation of the restart (prepare_fds.c and the kinds it hands off, such as
 * prepare_socks.c): the table of recreated objects.
 */
#ifndef DMTCP_PREPARE_FDS_INT_H
#define DMTCP_PREPARE_FDS_INT_H

#include "restart/prepare_fds.h"

/* fd moved to base or above (close-on-exec), the old number closed; -1 with errno set. */
int fd_move_high(int fd, int base);
/* Record an object (fd at or above fs->base); returns its index or -ENOMEM. */
int fd_obj_add(struct fd_shared *fs, uint32_t type, uint64_t a, uint64_t b, int fd);
/* The index of the object of these keys, or -1. */
int fd_obj_find(const struct fd_shared *fs, uint32_t type, uint64_t a, uint64_t b);

/*
 * A socket of image im (prepare_socks.c): recreated once, with its peer when it had one in
 * the restart's images, its queue refilled; returns its obj index or -errno (logged, naming
 * the image and fd).
 */
int prepare_sock_open(struct fd_shared *fs, const struct restart_set *s, int im,
		      const struct ckpt_file *f, int fdno);

#endif
