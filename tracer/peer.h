/*
 * One coordinator peer per traced process: its connection, what it announces (HELLO, updates
 * on exec and stop/continue, BARRIER_DONE, CKPT_REQUEST), and the messages it receives.
 *
 * New processes are announced once they have lived PEER_HELLO_DELAY_MS, so that a fork+exit
 * child (shells, make) never costs the coordinator a connection; peer_announce_all() does it
 * at once where that matters (a checkpoint starting, an API request, a process of the tree
 * going). Connections are non-blocking: the HELLO is queued and goes when the socket is
 * writable.
 *
 * Messages are read when the loop says the connection is readable and served by a job of the
 * loop, in order: CHALLENGE, WELCOME, REFUSE and KILL here; every other message goes to the
 * handler set for its type with peer_on_message() (BARRIER: barriers.c, WHERE: where.c), which
 * may pause the serving of that peer's later messages until peer_serve() (a suspend that is
 * not complete yet, a checkpoint step running, threads being stopped for --where).
 *
 * What the coordinator sends is checked before anything is done with it (docs/protocol.md, "A
 * tracer and its coordinator's input"): bytes the codec refuses, a message out of the
 * handshake's order (anything but the CHALLENGE first, then WELCOME or REFUSE), a type a
 * coordinator never sends to a process, or a message its handler finds invalid close that
 * connection only, as if the coordinator had gone: a checkpoint it was running is abandoned
 * and the connection is made again later.
 */
#ifndef DMTCP_TRACER_PEER_H
#define DMTCP_TRACER_PEER_H

#include <stdint.h>

#include "proto.h"
#include "ptable.h"

/* How long a new process runs before the coordinator hears of it. */
#ifndef PEER_HELLO_DELAY_MS
#define PEER_HELLO_DELAY_MS 100
#endif

struct tracer;
struct restart_peer;

int peer_init(struct tracer *tr);
void peer_fini(struct tracer *tr);

/*
 * Open p's peer on fd (connected to the coordinator), or on a new non-blocking connection when
 * fd < 0, and queue its HELLO with state (NULL: from the process's phase). Returns 0 or -errno
 * (a failed connect is warned about once per tracer).
 */
int peer_open(struct tracee_proc *p, int fd, const char *state);
/* A restored process's peer: a blocking connect and a restart HELLO (see tracer.h). */
int peer_open_restarted(struct tracee_proc *p, const struct restart_peer *rp);
/* Close the connection, after a short wait for what is still queued. */
void peer_close(struct tracee_proc *p);
int peer_connected(const struct tracee_proc *p);

void peer_update(struct tracee_proc *p, const char *state);
/* Why p's answer to the current barrier will be late (F_WAITING; "" clears it), once. */
void peer_waiting(struct tracee_proc *p, const char *why);
/* image and image_size (0: unknown) go with the checkpoint barrier's answer. */
void peer_barrier_done(struct tracee_proc *p, uint64_t generation, const char *barrier,
		       int status, const char *reason, const char *image, uint64_t image_size);
/* Bytes of the image being written so far (CKPT_PROGRESS). */
void peer_ckpt_progress(struct tracee_proc *p, uint64_t generation, uint64_t bytes);
int peer_ckpt_request(struct tracee_proc *p);
/* Send m, built by the caller (a module's answer: WHERE_REPLY); m is freed. 0 or -errno. */
int peer_send_msg(struct tracee_proc *p, struct proto_msg *m);

/* What the coordinator's WELCOME said: the computation id and its checkpoint directory
 * ("" until then). */
const char *peer_compid(const struct tracee_proc *p);
const char *peer_ckptdir(const struct tracee_proc *p);

/* Announce now every new process whose announcement is still pending. */
void peer_announce_all(struct tracer *tr);
/*
 * Processes of the tree the coordinator does not know yet: announcement pending, or HELLO
 * sent and no WELCOME read. fn runs (as a loop job) each time that number went down: the
 * coordinator welcomed one, or one will never be known (its connection failed, or it went
 * before it was announced).
 */
int peer_unannounced(struct tracer *tr);
void peer_on_announced(struct tracer *tr, void (*fn)(struct tracer *tr, void *arg), void *arg);

/* The handlers of the messages peer.c does not serve itself, one per message type. */
enum peer_verdict {
	PEER_NEXT,    /* serve the next message */
	PEER_PAUSE,   /* hold p's later messages until peer_serve(p) */
	PEER_INVALID, /* the message is invalid (peer_invalid() said why): the connection is
			 closed, as for bytes the codec refuses, and made again later */
};
/* Log why p's message from the coordinator is invalid; returns PEER_INVALID. */
enum peer_verdict peer_invalid(struct tracee_proc *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
typedef enum peer_verdict (*peer_msg_fn)(struct tracee_proc *p, const struct proto_in *in,
					 void *arg);
/* Returns 0, -EEXIST (the type has a handler) or -ENOSPC. A type without one is ignored. */
int peer_on_message(struct tracer *tr, uint16_t type, peer_msg_fn fn, void *arg);
/* Serve p's buffered messages again (from the loop, as a job). */
void peer_serve(struct tracee_proc *p);

#endif
