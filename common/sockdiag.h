/*
 * The kernel's view of sockets, through NETLINK_SOCK_DIAG: every socket of a family in the
 * caller's network namespace, with what only the kernel can tell (a unix socket's peer inode,
 * its bound name, its queue length, its shutdown state, the connections waiting on a
 * listener). Works unprivileged. One dump per checkpoint serves every fd of every process:
 * look a socket up by its inode (the N of "socket:[N]" in /proc/PID/fd).
 */
#ifndef DMTCP_SOCKDIAG_H
#define DMTCP_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

struct sockdiag_unix {
	uint32_t ino;
	uint8_t type;	  /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state;	  /* TCP_LISTEN (10), TCP_ESTABLISHED (1), TCP_CLOSE (7), ... */
	uint8_t shutdown; /* the socket's own sk_shutdown: 1 receive, 2 send */
	uint32_t peer;	  /* the peer's inode, 0 when none */
	/* The bound name as getsockname gives it after sun_family: a path, or a NUL and the
	 * abstract name; name_len 0 when unbound. */
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint32_t name_len;
	uint32_t vfs_ino, vfs_dev; /* the socket file of a path name (0 when none) */
	/* listening: connections waiting to be accepted, and the backlog; else the bytes
	 * (stream) or datagrams queued for reading, and the bytes being sent */
	uint32_t rqueue, wqueue;
	uint32_t nicons;  /* listening: the inodes of the connections waiting */
	uint32_t *icons;
};

struct sockdiag_unix_set {
	struct sockdiag_unix *v; /* sorted by inode */
	size_t n;
};

/* Every unix socket of this network namespace into *set. Returns 0 or -errno. */
int sockdiag_unix_dump(struct sockdiag_unix_set *set);
/* The socket of inode ino, or NULL. */
const struct sockdiag_unix *sockdiag_unix_find(const struct sockdiag_unix_set *set, uint32_t ino);
void sockdiag_unix_free(struct sockdiag_unix_set *set);

#endif
