/*
 * File descriptors of the restored processes.
 *
 * Every open file description of the computation is recreated once, in the restart, before
 * any process is created (prepare_fds_shared()): all processes inherit all of them at high fd
 * numbers, so descriptions shared between processes (a pipe between a shell's children, a
 * file offset shared after fork) stay shared. Each process then puts its own at their saved
 * numbers and closes the rest (prepare_fds_install()).
 *
 *  - regular files: reopened with their status flags and offset; a deleted one is recreated
 *    from the image's copy as an unnamed file (O_TMPFILE) in its old directory, so it is open
 *    and deleted, as the program had it;
 *  - directories and devices: reopened; FIFOs: reopened (a holder keeps both ends possible
 *    while opening), with their saved bytes put back;
 *  - pipes: a new pipe per saved pipe, its saved bytes put back, both ends shared as saved;
 *  - terminals: the restart's own terminal takes the place of the old one, and gets the saved
 *    termios;
 *  - files under /proc/<pid> of a restored process (a program reading its own maps): opened
 *    by that process once it exists (in its own namespace's /proc), at the saved offset;
 *  - sockets: unix in prepare_socks.c (pairs made again with socketpair, names bound again,
 *    listeners with their waiting connections, queues refilled), TCP and UDP in
 *    prepare_socks_inet.c (connections made again with their addresses before any listener,
 *    outside peers as closed connections, datagrams from their senders); the checkpoint
 *    refuses the other kinds, so an image never holds one;
 *  - eventfd, timerfd, signalfd and epoll sets from their records (prepare_anon.c); an epoll
 *    set's watches are added in the restored process once all its fds are in place. The
 *    checkpoint refuses every other anonymous inode, and a kind the restart does not know
 *    fails it: nothing takes the place of an fd that cannot be made again;
 *  - fds 0-2 that held the files the computation's starting command had there
 *    (CKPT_FDF_STDIO) take the restart command's own fds 0-2 instead, as DMTCP does: the
 *    restarted program writes where the restart's output goes.
 */
#ifndef DMTCP_PREPARE_FDS_H
#define DMTCP_PREPARE_FDS_H

#include <stdint.h>

#include "restart/restart_images.h"

struct fd_obj {
	uint32_t type;	/* enum ckpt_file_type */
	uint64_t key_a; /* share key (or pipe inode) */
	uint64_t key_b; /* pipe end */
	int fd;		/* in the restart, >= fd_shared.base, close-on-exec */
};

/* file_obj value of a /proc file of a restored process: opened by that process itself */
#define FD_OBJ_OWN_PROC (UINT32_MAX - 1)
/* file_obj value of a pidfd: opened by the restored process itself, once the tree exists */
#define FD_OBJ_PIDFD (UINT32_MAX - 2)

/*
 * fd_obj.type of a memfd itself (keys: its saved device and inode): every description of it
 * and every shared mapping of it (prepare_image_shm()) come from this one object.
 */
#define FD_OBJ_MEMFD (CKPT_FILE__MAX + 1)
/* fd_obj.type of the channel that passes a pidfd shared by several processes from the one
 * that opens it to the others (keys: the share key, and 0 the sending end, 1 the receiving). */
#define FD_OBJ_PIDFD_CHAN (CKPT_FILE__MAX + 2)

struct fd_shared {
	struct fd_obj *obj;
	int n, cap;
	int base;	    /* every fd we hold is at least this: above every saved fd number */
	uint32_t **file_obj; /* file_obj[image][file id] = index into obj */
	int nimg;
	/* The restart command's own fd N (0-2), for the fds marked CKPT_FDF_STDIO: index into
	 * obj + 1; 0 when the restart had that fd closed (the saved file is opened instead). */
	int stdio_obj[3];
};

/* In the restart, before the tree is created. Returns 0 or -errno (logged, naming the image
 * and fd); on failure everything opened is closed again. */
int prepare_fds_shared(struct restart_set *s, struct fd_shared *fs);

/*
 * In restored process img (after its memory is staged and the image readers closed): put its
 * fds at their numbers with their FD_CLOEXEC flags, and close every other fd but keep[].
 */
int prepare_fds_install(const struct restart_set *s, int img, const struct fd_shared *fs,
			const int *keep, int nkeep);

void prepare_fds_free(struct fd_shared *fs);

#endif
