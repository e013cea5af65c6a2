/*
 * Inside the fd preparation of the restart (prepare_fds.c and the kinds it hands off, such as
 * prepare_socks.c): the table of recreated objects.
 */
#ifndef DMTCP_PREPARE_FDS_INT_H
#define DMTCP_PREPARE_FDS_INT_H

#include <sys/socket.h>

#include "restart/prepare_fds.h"

/* fd moved to base or above (close-on-exec), the old number closed; -1 with errno set. */
int fd_move_high(int fd, int base);
/* Record an object (fd at or above fs->base); returns its index or -ENOMEM. */
int fd_obj_add(struct fd_shared *fs, uint32_t type, uint64_t a, uint64_t b, int fd);
/* The index of the object of these keys, or -1. */
int fd_obj_find(const struct fd_shared *fs, uint32_t type, uint64_t a, uint64_t b);
/* The restart's fd of file id of image im, opened now when no fd showed it before (a file
 * in flight on a socket); -errno (logged, naming fdno, the socket that carries it). */
int prepare_file_open(struct fd_shared *fs, const struct restart_set *s, int im, uint32_t id,
		      int fdno);

/*
 * A socket of image im (prepare_socks.c): recreated once, with its peer when it had one in
 * the restart's images, its queue refilled; returns its obj index or -errno (logged, naming
 * the image and fd).
 */
int prepare_sock_open(struct fd_shared *fs, const struct restart_set *s, int im,
		      const struct ckpt_file *f, int fdno);

/* An eventfd, timerfd, signalfd or (empty) epoll set made again from f->anon
 * (prepare_anon.c), close-on-exec; returns the fd or -errno (logged, naming the image and fd). */
int prepare_anon_open(const struct ckpt_file *f, const char *img, int fdno);
/* Before the tree: a channel for pidfd file f of image im when another image holds the same
 * description (one is opened and passed to the others); 0 or -errno, logged. */
int prepare_anon_pidfd_chan(struct fd_shared *fs, const struct restart_set *s, int im,
			    const struct ckpt_file *f);
/* In restored process im, before any pidfd is received: the shared pidfds it is the first
 * holder of, opened and sent to the others; made[file id] gets each fd (-1 elsewhere). */
int prepare_anon_pidfds_send(const struct fd_shared *fs, const struct restart_set *s, int im,
			     int *made);
/* In the restored process, once every saved process exists: pidfd file f opened again on its
 * pid, or received from its first holder when shared; close-on-exec; the fd or -errno
 * (logged, naming the image, fd and pid). */
int prepare_anon_pidfd(const struct fd_shared *fs, const struct restart_set *s,
		       const struct ckpt_file *f, const char *img, int fdno);
/* The watches of epoll file f, whose fd in this process is fd, added again through their fd
 * numbers (every saved fd must be in place); 0 for other files. -errno, logged. */
int prepare_anon_epoll_fill(const struct ckpt_file *f, int fd, const char *img);

/* The OFD and flock locks of file f taken on fd, its new description (prepare_locks.c);
 * -errno, logged with the image, fd, range and holder. */
int prepare_locks_desc(int fd, const struct ckpt_file *f, const char *img, int fdno);
/* Whether someone already holds what conflicts with f's POSIX locks (F_GETLK on fd, a
 * description of the file): -EAGAIN, logged like a lock that cannot be taken. */
int prepare_locks_probe(int fd, const struct ckpt_file *f, const char *img, int fdno);
/* In the restored process, once its fds are in place and the others closed: its POSIX locks
 * taken again through its fds; -errno, logged. keep: fds the restore still holds. */
int prepare_locks_posix(const struct ckpt_proc *p, const char *img, const int *keep, int nkeep);

/* ---- shared by the socket kinds (prepare_socks.c) ---- */

/* Where a socket is in the restart's images. */
struct sock_at {
	int im;
	const struct ckpt_file *f;
};
/* fn for every socket file of the images, in image and file order, until it returns nonzero
 * (which psock_each returns; 0 when fn never did). */
int psock_each(const struct restart_set *s, int (*fn)(const struct sock_at *at, void *arg),
	       void *arg);
/* The file of the socket whose saved inode is ino, in any image; 0 if none. */
int psock_find(const struct restart_set *s, uint64_t ino, struct sock_at *at);
/* The listener that socket ino was waiting on (its pending list), if any. */
int psock_listener_of(const struct restart_set *s, uint64_t ino, struct sock_at *at);
/* The end of making a socket (r: how it went so far): its options set, then recorded under
 * its inode; on any failure fd is closed. Returns the obj index or -errno. */
int psock_finish(struct fd_shared *fs, const struct ckpt_file *f, int fd, int r, const char *img,
		 int fdno);
/* A new socket of k's family, type and protocol above the saved fd numbers, buffers set. */
int psock_new(struct fd_shared *fs, const struct ckpt_sock *k, const char *img, int fdno);
/* Record it under k's inode (closes fd on failure); returns the obj index. */
int psock_register(struct fd_shared *fs, const struct ckpt_sock *k, int fd);
/* Where the files a socket's queue carries (SCM_RIGHTS) are: image im of s. */
struct psock_src {
	struct fd_shared *fs;
	const struct restart_set *s;
	int im;
};
/* f's queued data sent through to (message by message when f's socket keeps boundaries;
 * dest: sendto that address), each run with the fds and credentials it carried (src: where
 * its files are; NULL when the socket cannot carry any). Waits a bounded time for a stream
 * receiver's window. */
int psock_refill(int to, const struct ckpt_file *f, const char *img, int fdno);
int psock_refill_to(int to, const struct ckpt_file *f, const void *dest, socklen_t dlen,
		    const struct psock_src *src, const char *img, int fdno);
/* The sender's buffers as saved (so that what is refilled fits as it did). */
void psock_set_buffers(int fd, const struct ckpt_sock *k);
/* The saved options and status flags, once the socket is complete. */
int psock_apply_options(int fd, const struct ckpt_file *f, const char *img, int fdno);

/* A TCP or UDP socket (prepare_socks_inet.c). prepare_socks_tcp_early first makes every TCP
 * connection whose two ends are in the images, before any listener takes their ports;
 * prepare_socks_inet_late, once every socket exists, sends queued UDP datagrams again from
 * their senders and connects connected UDP sockets. */
int prepare_inet_open(struct fd_shared *fs, const struct restart_set *s, int im,
		      const struct ckpt_file *f, int fdno);
int prepare_socks_tcp_early(struct fd_shared *fs, const struct restart_set *s);
int prepare_socks_inet_late(struct fd_shared *fs, const struct restart_set *s);

#endif
