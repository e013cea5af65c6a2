/*
 * The kernel's view of sockets, through NETLINK_SOCK_DIAG: every unix or TCP socket of the
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

/* A TCP socket (IPv4 or IPv6) as inet_diag shows it. A connection that waits on a listener
 * to be accepted is one with inode 0 whose local address is the listener's. */
struct sockdiag_inet {
	uint32_t ino;	  /* 0: no file yet (waiting to be accepted) or being torn down */
	uint8_t family;	  /* AF_INET, AF_INET6 */
	uint8_t state;	  /* TCP_ESTABLISHED (1), TCP_LISTEN (10), ... */
	uint8_t shutdown; /* 1 receive, 2 send */
	uint16_t sport, dport;	   /* host order */
	uint8_t src[16], dst[16];  /* network order; IPv4 in the first 4 bytes */
	uint32_t rqueue, wqueue;   /* listening: waiting connections and backlog */
};

struct sockdiag_inet_set {
	struct sockdiag_inet *v;
	size_t n;
};

/* Every TCP socket, IPv4 and IPv6, of this network namespace. Returns 0 or -errno. */
int sockdiag_tcp_dump(struct sockdiag_inet_set *set);
void sockdiag_inet_free(struct sockdiag_inet_set *set);
/* The socket of inode ino (not 0), or NULL. */
const struct sockdiag_inet *sockdiag_tcp_find(const struct sockdiag_inet_set *set, uint64_t ino);
/* The socket at the other end of me (its local and remote addresses swapped; IPv4 and
 * v4-mapped IPv6 compare equal), or NULL: a peer on another host. Listeners are skipped. */
const struct sockdiag_inet *sockdiag_tcp_mirror(const struct sockdiag_inet_set *set,
						const struct sockdiag_inet *me);
/* Is c (a connection) on listener l's address and port? */
int sockdiag_tcp_accepts(const struct sockdiag_inet *l, const struct sockdiag_inet *c);

#endif
