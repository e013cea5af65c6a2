/*
 * Recording what the socket syscalls of a traced process did, so that the checkpoint code can
 * tell listeners from connected sockets and match them with the kernel's view (the kernel
 * stays the source of truth: close() is not trapped, so between two checkpoints a record may
 * describe an fd that has been closed or reused since). Every suspend checks the records
 * against /proc/PID/fd first: inodes are filled in there, never on the syscall's path, and a
 * record whose fd is no longer that socket is dropped.
 *
 * The module traps the socket family (socket, socketpair, bind, listen, connect, accept,
 * accept4) through the hook table and keeps its records in its own process and thread slots.
 */
#ifndef DMTCP_TRACER_SOCKREC_H
#define DMTCP_TRACER_SOCKREC_H

#include <sys/socket.h>

#include "ptable.h"

enum sock_flags {
	SOCK_REC_BOUND = 1,
	SOCK_REC_LISTENING = 2,
	SOCK_REC_CONNECTED = 4, /* connect() succeeded (or is in progress: EINPROGRESS) */
	SOCK_REC_ACCEPTED = 8,	/* returned by accept/accept4 on listen_fd */
	SOCK_REC_PAIR = 16,	/* one end of a socketpair; pair_fd is the other */
	SOCK_REC_INPROGRESS = 32,
};

struct sock_rec {
	int fd;
	int domain, type, protocol; /* type includes SOCK_NONBLOCK/SOCK_CLOEXEC as given */
	unsigned long ino;	    /* socket inode ("socket:[ino]"); 0 until the next suspend */
	unsigned flags;		    /* enum sock_flags */
	int backlog;		    /* listen() */
	int pair_fd;		    /* socketpair: the other end */
	int listen_fd;		    /* accept: the listening fd it came from */
	struct sockaddr_storage bound;	/* bind() address */
	socklen_t bound_len;
	struct sockaddr_storage remote; /* connect() address, or accept()'s peer address */
	socklen_t remote_len;
	struct sock_rec *next;
};

struct tracer;

/* Subscribe the module's traps and events (tracer_create). */
int sockrec_init(struct tracer *tr);
void sockrec_fini(struct tracer *tr);

/* p's records (as of its last suspend), or NULL; iterate with ->next. */
const struct sock_rec *sockrec_first(const struct tracee_proc *p);
/* The record of fd in p, or NULL. */
const struct sock_rec *sockrec_find(const struct tracee_proc *p, int fd);

#endif
