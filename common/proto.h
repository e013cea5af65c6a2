/*
 * The coordinator protocol: message and field numbers, and the codec.
 *
 * Wire format (all integers little-endian), specified in docs/protocol.md:
 *
 *   header  (16 bytes)  u32 magic "DMTP" | u16 version | u16 type | u32 payload length | u32 zero
 *   payload (length)    a sequence of fields: u16 tag | u16 kind | u32 length | value
 *
 * A field's kind is PROTO_U64 (value: 8 bytes) or PROTO_STR (value: bytes without NUL, at most
 * PROTO_MAX_STR). Every known tag has one fixed kind (proto_field_kind()); a known tag with the
 * wrong kind or size, a non-repeatable tag given twice, a payload larger than PROTO_MAX_PAYLOAD,
 * a wrong magic or a version other than PROTO_VERSION make the whole message invalid, and the
 * receiver closes that connection. Unknown tags are skipped, so that a later minor addition
 * does not break an older peer.
 *
 * Connections: every connection's first message is MSG_HELLO with F_ROLE and F_NONCE; the
 * coordinator answers CHALLENGE, the connection AUTH (coordauth.h), and only then does the
 * coordinator act on the HELLO. A peer is one process of the computation and has its own
 * connection (a tracer holds one per traced process); a client is a dmtcp_command.
 */
#ifndef DMTCP_PROTO_H
#define DMTCP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC	   0x50544d44u /* the bytes "DMTP" read as a little-endian u32 */
#define PROTO_VERSION	   2 /* 2: authenticated connections (CHALLENGE, AUTH) */
#define PROTO_HDR_SIZE	   16
#define PROTO_MAX_PAYLOAD  (1u << 20)
#define PROTO_MAX_STR	   (64u << 10)

enum proto_msg_type {
	MSG_HELLO = 1,	      /* any -> coord: F_ROLE, then role-specific fields */
	MSG_WELCOME,	      /* coord -> any: F_PEER_ID, F_COMPID, F_CKPTDIR, F_INTERVAL, ... */
	MSG_REFUSE,	      /* coord -> any: F_REASON; the coordinator closes afterwards */
	MSG_PEER_UPDATE,      /* peer -> coord: changed F_PROG / F_STATE / F_PID (exec, stop) */
	MSG_BARRIER,	      /* coord -> peer: do F_BARRIER for checkpoint F_GENERATION; with the
				 checkpoint barrier F_CKPT_ID, with the commit barrier F_CKPT_ID
				 and F_NUM_PEERS (the checkpoint's images) */
	MSG_BARRIER_DONE,     /* peer -> coord: F_BARRIER, F_GENERATION, F_STATUS, [F_REASON,
				 F_IMAGE, F_IMAGE_SIZE] */
	MSG_KILL,	      /* coord -> peer: kill the process (k, q, --kill-after-ckpt) */
	MSG_COMMAND,	      /* client -> coord: F_CMD, [F_ARG] */
	MSG_COMMAND_REPLY,    /* coord -> client: F_STATUS, [F_REASON], status fields, F_PEER... */
	MSG_KV_PUT,	      /* peer -> coord: F_KEY, F_VALUE (replaces) */
	MSG_KV_GET,	      /* peer -> coord: F_KEY, [F_TIMEOUT_MS: wait that long for it] */
	MSG_KV_REPLY,	      /* coord -> peer: F_KEY, F_STATUS (0 or -ENOENT/-ETIMEDOUT), [F_VALUE] */
	MSG_CKPT_REQUEST,     /* peer -> coord: the program asked for a checkpoint (dmtcp.h API) */
	MSG_CKPT_PROGRESS,    /* peer -> coord: F_GENERATION, F_BYTES of its image written so far,
				 sent now and then while a large image is being written */
	MSG_CHALLENGE,	      /* coord -> any, the answer to HELLO: F_NONCE, F_AUTH (the
				 coordinator's proof of the key, coordauth.h) */
	MSG_AUTH,	      /* any -> coord, the answer to CHALLENGE: F_AUTH (the client's proof);
				 only then does the coordinator act on the HELLO */
	MSG_WHERE,	      /* coord -> peer: F_WHERE_ID, F_TIMEOUT_MS: say where each thread of
				 the process is (dmtcp_command --where), waiting at most
				 F_TIMEOUT_MS for the threads to stop */
	MSG_WHERE_REPLY,      /* peer -> coord: F_WHERE_ID, F_STATUS, [F_REASON], [F_NOTE],
				 F_THREAD..., F_FRAME... (common/where_line.h) */
	MSG_WHERE_PART,	      /* coord -> client: one process of a --where answer: F_PEER,
				 F_STATUS, [F_REASON], [F_NOTE], F_THREAD..., F_FRAME...; one per
				 process, then the COMMAND_REPLY */
	MSG_DETACH,	      /* coord -> peer: let the process go untraced (dmtcp_command --detach;
				 only sent when every peer's HELLO said F_DETACHABLE) */
	MSG__COUNT
};

enum proto_kind { PROTO_U64 = 1, PROTO_STR = 2 };

enum proto_tag {
	F_ROLE = 1,	   /* str: "peer" | "client" */
	F_PROG,		   /* str: program name (comm or argv[0] basename) */
	F_PID,		   /* u64: pid as the program sees it */
	F_REAL_PID,	   /* u64: pid in the coordinator's host namespace, if different */
	F_PPID,		   /* u64 */
	F_UNIQUEPID,	   /* str: "<hostid-hex>-<pid>-<start-time-hex>", stable across restarts */
	F_HOST,		   /* str: hostname */
	F_STATE,	   /* str: "RUNNING" | "SUSPENDED" | "CHECKPOINTED" | "RESTARTING" | "STOPPED" */
	F_COMPID,	   /* str: computation id, "<hostid-hex>-<pid>-<time-hex>" */
	F_CKPTDIR,	   /* str: checkpoint directory (absolute) */
	F_INTERVAL,	   /* u64: checkpoint interval in seconds, 0 = none */
	F_BARRIER,	   /* str: barrier name, see proto_barrier */
	F_GENERATION,	   /* u64: checkpoint generation number, 1, 2, ... */
	F_STATUS,	   /* u64: 0 or a negative errno, as two's complement */
	F_REASON,	   /* str: human-readable reason for a failure */
	F_IMAGE,	   /* str: final absolute path of the image (checkpoint barrier) */
	F_CMD,		   /* str: "s" "l" "c" "bc" "kc" "i" "k" "q" "d" "where" */
	F_ARG,		   /* u64: argument of F_CMD (interval seconds) */
	F_NUM_PEERS,	   /* u64 */
	F_RUNNING,	   /* u64: 1 when every peer runs */
	F_PORT,		   /* u64: coordinator port */
	F_PEER_ID,	   /* u64: the coordinator's number for a peer, 1, 2, ... */
	F_PEER,		   /* str, repeatable: "id\tprog\tpid\thost\tstate\tuniquepid" */
	F_KEY,		   /* str */
	F_VALUE,	   /* str (binary-safe up to PROTO_MAX_STR; no NUL bytes) */
	F_TIMEOUT_MS,	   /* u64 */
	F_RESTART,	   /* u64: 1 when the hello comes from a restarted process */
	F_NUM_EXPECTED,	   /* u64: number of processes of the computation being restarted */
	F_COORD_STATE,	   /* str: "RUNNING" "SUSPENDED" ... the computation's state */
	F_CKPT_COUNT,	   /* u64: number of checkpoints completed */
	F_LAST_CKPT,	   /* str: path of the last restart script written */
	F_VIRT_PID,	   /* u64: pid saved in the image (restarts) */
	F_EXIT_STATUS,	   /* u64: wait status of a process that ended */
	F_IMAGE_SIZE,	   /* u64: bytes of the image (checkpoint barrier's BARRIER_DONE) */
	F_BYTES,	   /* u64: bytes of an image written so far (CKPT_PROGRESS) */
	F_CKPT_DONE,	   /* u64: status: processes whose image of the running checkpoint is written */
	F_CKPT_TOTAL,	   /* u64: status: processes in the running checkpoint */
	F_CKPT_BYTES,	   /* u64: status: image bytes written so far in the running checkpoint */
	F_CKPT_ELAPSED_MS, /* u64: status: how long the running checkpoint has taken */
	F_WAITING,	   /* str: status: why the running checkpoint waits, in one line */
	F_LAST_ERROR,	   /* str: status: why the last checkpoint failed, in one line */
	F_CKPT_ID,	   /* u64: BARRIER (checkpoint, commit): the checkpoint's unique id, stored
			      in the images (the coordinator's epoch << 32 | generation) */
	F_NONCE,	   /* str: HELLO, CHALLENGE: 64 hex digits, fresh random (coordauth.h) */
	F_AUTH,		   /* str: CHALLENGE, AUTH: 64 hex digits, HMAC-SHA256 proof of the key */
	F_WHERE_ID,	   /* u64: WHERE, WHERE_REPLY: which --where request */
	F_NOTE,		   /* str: WHERE_REPLY, WHERE_PART: the process's state, when worth saying
			      ("stopped (job control)", "exited") */
	F_THREAD,	   /* str, repeatable: "tid\tname\tnote" (common/where_line.h) */
	F_FRAME,	   /* str, repeatable: "tid\tn\tip\toffset\tfunction\tobject" */
	F_DETACHABLE,	   /* u64: HELLO: 1 when the process carries no seccomp filter of ours
			      (taken by dmtcp_launch --attach, or restarted from such an image)
			      and may run on untraced */
	F_TAG__COUNT
};

/* The checkpoint barriers, in the order the coordinator runs them. */
#define BARRIER_SUSPEND	   "suspend"	/* every thread of the process stopped */
#define BARRIER_DRAIN	   "drain"	/* in-flight socket/pipe data taken out */
#define BARRIER_CHECKPOINT "checkpoint" /* image written under its temporary name */
#define BARRIER_COMMIT	   "commit"	/* temporary image renamed to its real name */
#define BARRIER_REFILL	   "refill"	/* drained data put back */
#define BARRIER_RESUME	   "resume"	/* process running again */
#define BARRIER_ABORT	   "abort"	/* checkpoint abandoned: drop temp image, refill, resume */
/* Restart barriers, in order: restart, refill, resume (docs/protocol.md). */
#define BARRIER_RESTART	   "restart"	/* all connected: rebuild shared objects via the KV store */
#define BARRIER_RESTORED   "restored"	/* not used: 'restart' completing means the same */

/* An outgoing message under construction. */
struct proto_msg {
	uint16_t type;
	uint8_t *buf; /* header + payload, ready to send once proto_finish() ran */
	size_t len;   /* bytes used in buf, header included */
	size_t cap;
	int err;      /* first error of a put (-ENOMEM, -EMSGSIZE); proto_finish() returns it */
};

void proto_msg_init(struct proto_msg *m, uint16_t type);
void proto_put_u64(struct proto_msg *m, uint16_t tag, uint64_t v);
void proto_put_str(struct proto_msg *m, uint16_t tag, const char *s);
void proto_put_strn(struct proto_msg *m, uint16_t tag, const char *s, size_t n);
/* Fills in the header; returns 0 or the first error of the puts. */
int proto_finish(struct proto_msg *m);
void proto_msg_free(struct proto_msg *m);

/* A received, validated message. Field values point into the message's own buffer. */
#define PROTO_MAX_FIELDS 4096
struct proto_field {
	uint16_t tag;
	uint16_t kind;
	uint32_t len;
	const uint8_t *val;
};
struct proto_in {
	uint16_t type;
	uint32_t nfields;
	struct proto_field *fields;
	uint8_t *payload; /* owned */
	uint32_t len;
};

/*
 * Validate a header (exactly PROTO_HDR_SIZE bytes). Returns the payload length, or -EPROTO
 * (bad magic, nonzero reserved, unknown type), -EPROTONOSUPPORT (version), -EMSGSIZE (length).
 */
long proto_check_header(const uint8_t *hdr, uint16_t *type);
/*
 * Parse and validate a payload (takes ownership of payload, malloc'ed). Returns 0, or -EPROTO
 * with *why set to a static description of what was wrong.
 */
int proto_parse(uint16_t type, uint8_t *payload, uint32_t len, struct proto_in *in,
		const char **why);
void proto_in_free(struct proto_in *in);

int proto_get_u64(const struct proto_in *in, uint16_t tag, uint64_t *v); /* 0 / -ENOENT */
/* The string as a NUL-terminated copy in the message's storage; NULL when absent. */
const char *proto_get_str(const struct proto_in *in, uint16_t tag);
/* Iterate a repeatable field: pass *pos = 0 first; returns NULL at the end. */
const char *proto_next_str(const struct proto_in *in, uint16_t tag, uint32_t *pos);

enum proto_kind proto_field_kind(uint16_t tag); /* 0 for unknown tags */
const char *proto_type_name(uint16_t type);	/* "HELLO", ...; "?" for unknown */
const char *proto_tag_name(uint16_t tag);

/*
 * Buffered, non-blocking connection for poll loops. proto_conn_fill() reads what the socket
 * has; proto_conn_next() returns 1 with a message, 0 when more bytes are needed, or a negative
 * errno (with *why) when the stream is invalid and must be closed. Output is queued with
 * proto_conn_queue() and written by proto_conn_flush() when the fd is writable.
 */
struct proto_conn {
	int fd;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;
	size_t wlen, wcap;
};
void proto_conn_init(struct proto_conn *c, int fd);
void proto_conn_free(struct proto_conn *c); /* frees buffers; does not close fd */
int proto_conn_fill(struct proto_conn *c);  /* >0 read, 0 EOF, -EAGAIN, -errno */
int proto_conn_next(struct proto_conn *c, struct proto_in *in, const char **why);
int proto_conn_queue(struct proto_conn *c, const struct proto_msg *m);
int proto_conn_flush(struct proto_conn *c); /* 0 all written, 1 more pending, -errno */
/* Append what from has queued (and not written) to c's output; from's output is emptied. */
int proto_conn_take(struct proto_conn *c, struct proto_conn *from);

/* Blocking helpers for simple clients: send a whole message; receive one within timeout_ms
 * (-1 = forever). Return 0 or -errno (-ETIMEDOUT, -ECONNRESET on EOF, -EPROTO...). */
int proto_send(int fd, struct proto_msg *m);
int proto_recv(int fd, struct proto_in *in, int timeout_ms, const char **why);

#endif
