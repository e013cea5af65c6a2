/*
 * The socket part of the checkpoint's drain and refill steps (every process of the
 * computation suspended).
 *
 * Drain: bytes on their way over a TCP connection between two local sockets must be in the
 * receiver's queue when its checkpoint peeks it (collect_sock_inet.c). Bytes held by Nagle's
 * algorithm or a delayed ACK get there within tens of milliseconds: the step waits for them.
 * Bytes that a full receive window holds back on the sender's side never would: the step then
 * takes the receiver's queue out (through a duplicate of its fd), which opens the window, until
 * everything the sender had has arrived and is taken too; the checkpoint saves what was taken
 * (sockdrain_taken), the queue being empty then. The sender must be a process of the
 * computation (of this tracer or, found in /proc by its tracer's name, of another one): its
 * bytes are given back through it; or a socket its program closed already (an orphan in the
 * kernel). From a local sender outside the computation nothing is taken: what has arrived is
 * saved, and a restart brings that connection back closed, as any outside peer's.
 *
 * Refill (and abort): what was taken goes back. Through the sender's socket when the sender
 * is alive, so the receiver's queue holds the same bytes in the same order again; when the
 * sender had closed, the receiver's socket is replaced at its fd number by a loopback
 * connection holding those bytes and then the end of the stream, as the old one had (the
 * parasite installs it; status flags and close-on-exec kept).
 */
#ifndef DMTCP_TRACER_SOCKDRAIN_H
#define DMTCP_TRACER_SOCKDRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tracer;

/* Subscribe the drain, refill and abort steps (tracer_create). */
int sockdrain_init(struct tracer *tr);
void sockdrain_fini(struct tracer *tr);

/* The bytes the drain step took out of socket ino (its inode) in this checkpoint, or NULL:
 * the same for every process that holds it (fork, SCM_RIGHTS), so that every image agrees. */
const uint8_t *sockdrain_taken(struct tracer *tr, uint64_t ino, size_t *len);

#endif
