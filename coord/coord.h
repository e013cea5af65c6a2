/*
 * The coordinator's internal state, shared by the files of coord/: connections, the
 * computation and its state machine, barrier runs (checkpoint, restart), the key-value store,
 * status output and the restart script. Everything runs in one thread, driven by the poll
 * loop of dmtcp_coordinator.c; nothing here blocks.
 */
#ifndef DMTCP_COORD_H
#define DMTCP_COORD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "coordauth.h"
#include "ids.h"
#include "proto.h"
#include "status_fmt.h"

enum comp_state { CS_RUNNING, CS_SUSPENDED, CS_CHECKPOINTED, CS_RESTARTING };

enum conn_role { ROLE_NONE, ROLE_PEER, ROLE_CLIENT };

/* Where a connection is in proving it knows the key (coordauth.h). */
enum conn_auth {
	AUTH_HELLO, /* nothing received yet */
	AUTH_WAIT,  /* HELLO held, CHALLENGE sent: waiting for AUTH */
	AUTH_OK,    /* authenticated: the HELLO was acted on */
};

/* What a client waits for after a command. */
enum client_wait { WAIT_NONE, WAIT_CKPT_DONE, WAIT_WHERE };

struct conn {
	struct proto_conn pc;
	char addr[64];		/* the remote address, for logs */
	enum conn_auth auth;
	long auth_deadline_ms;	/* closed if not authenticated by then */
	struct proto_in hello;	/* held while AUTH_WAIT */
	char snonce[COORD_HEX_LEN + 1], cnonce[COORD_HEX_LEN + 1];
	enum conn_role role;
	bool closing; /* close once the output queue is written (after REFUSE / q reply) */
	bool dead;    /* closed; reaped by the main loop */
	char name[96]; /* "peer 3 (prog pid 123)" or "client 127.0.0.1:40404", for logs */
	struct conn *next;

	/* peers */
	uint64_t id;
	char prog[256];
	char host[256];
	char uniquepid[IDS_MAX];
	char state[32];
	bool exited; /* its tracer said the process exited: a ghost, not in any checkpoint */
	uint64_t pid, ppid;
	bool restarted;
	bool detachable; /* HELLO F_DETACHABLE: may run on untraced (dmtcp_command --detach) */
	bool in_run;   /* takes part in the current barrier run */
	bool done;     /* answered the current barrier */
	int sent_upto; /* index of the last barrier sent to it in the current run, -1 none */
	char *image;   /* final image path reported at the checkpoint barrier */
	/* the running checkpoint (progress.c): reset when a run starts and ends */
	bool image_written;  /* answered the checkpoint barrier successfully */
	int64_t image_size;  /* F_IMAGE_SIZE of that answer; -1 not reported */
	int64_t bytes;	     /* last CKPT_PROGRESS F_BYTES of this run; -1 none */
	char waiting[256];   /* why its answer is late (PEER_UPDATE F_WAITING); "" none */
	/* its last committed image (progress.c), kept across runs */
	char *last_image;
	int64_t last_image_size; /* -1: not reported */
	int64_t last_image_time; /* seconds since the epoch; -1: none committed */

	/* clients */
	enum client_wait wait;
};

enum run_kind { RUN_NONE, RUN_CKPT, RUN_RESTART };

struct barrier_run {
	enum run_kind kind;
	const char *const *seq; /* barrier names */
	int nseq;
	int idx;	   /* current barrier in seq */
	uint64_t generation;
	uint64_t ckpt_id;  /* checkpoint: its unique id (coord.ckpt_epoch, then generation) */
	bool aborting;     /* the current barrier is BARRIER_ABORT */
	bool kill_after;   /* kc / --kill-after-ckpt: kill the peers after commit */
	bool committed;    /* commit completed: the checkpoint can no longer abort */
	char why[256];     /* abort reason */
	long start_ms;     /* when it started (mono_now_ms) */
};

/* A --where request gathering its answers (where.c). */
struct where_slot;
struct where_run {
	bool active;
	bool starting;		  /* the requests are being sent: no finish yet */
	uint64_t id;		  /* F_WHERE_ID */
	long start_ms, deadline_ms;
	struct where_slot *slots; /* one per process asked, in the list's order */
	int nslots, nwaiting;
	size_t bytes;		  /* of the parts built so far */
};

struct kv_entry {
	char *key, *value;
	struct kv_entry *next;
};
struct kv_waiter {
	struct conn *c;
	char *key;
	long deadline_ms;
	struct kv_waiter *next;
};

struct coord_opts_c {
	int port;
	const char *port_file;
	const char *status_file;
	const char *logfile;
	char ckptdir[PATH_MAX];
	bool exit_on_last;
	bool kill_after_ckpt;
	long timeout_s;	      /* 0: none */
	long stale_timeout_s; /* 0: none */
	bool daemon;
	bool quiet;
	long interval;
};

struct coord {
	struct coord_opts_c o;
	int listen_fd;
	int port;
	char host[256];
	char compid[IDS_MAX];	 /* "" until the first peer arrives */
	enum comp_state state;
	uint64_t num_expected;	 /* restart: processes of the computation being restarted */
	long interval;		 /* seconds, 0 = none */
	uint64_t generation;	 /* last barrier run number */
	uint32_t ckpt_epoch;	 /* random, nonzero: this coordinator's checkpoint ids (ckpt_id) */
	struct coord_key key;	 /* every connection proves it knows it (coordauth.h) */
	char key_path[PATH_MAX];
	bool key_created;	 /* we wrote the key file: removed at exit */
	uint64_t ckpt_count;
	char last_script[PATH_MAX];
	char last_error[512];	 /* why the last checkpoint failed; "" once one succeeded */
	char self_dir[PATH_MAX]; /* directory of our executable (for the restart script) */
	uint64_t next_peer_id;
	bool ever_had_peer;
	bool quit;		/* leave the loop once output is flushed */
	int exit_code;
	long stale_since_ms;	/* when the peer count last became 0; -1 while peers exist */
	bool timer_dirty;	/* interval changed: re-arm the timerfd */
	struct barrier_run run;
	struct where_run where;
	uint64_t where_requests; /* --where requests so far (their ids) */
	struct conn *conns;
	struct kv_entry *kv;
	struct kv_waiter *kv_waiters;
};

/* conn.c */
struct conn *coord_accept(struct coord *co);
void coord_handle_input(struct coord *co, struct conn *c);
void coord_close_conn(struct coord *co, struct conn *c, const char *why);
void coord_send(struct coord *co, struct conn *c, struct proto_msg *m);
int coord_num_peers(const struct coord *co);
bool coord_all_running(const struct coord *co);
/* Run a command from a client or stdin; fills the reply (F_STATUS...). Returns true when
 * the reply must wait (bc/kc: for the end of the checkpoint; where: for the answers), and
 * then sets client->wait. */
bool coord_run_command(struct coord *co, const char *cmd, uint64_t arg, bool has_arg,
		       struct proto_msg *reply, struct conn *client);
void coord_kill_peers(struct coord *co);
/* dmtcp_command --detach: let every process go untraced, when each may (F_DETACHABLE).
 * Returns how many were asked, or -errno with *why. */
int coord_detach_peers(struct coord *co, const char **why);
/* Connections that have not proved the key in time are closed; the next such deadline. */
void coord_auth_expire(struct coord *co, long now_ms);
long coord_auth_next_deadline(const struct coord *co);

/* barrier.c */
int coord_start_ckpt(struct coord *co, bool kill_after, const char **why);
void coord_start_restart(struct coord *co);
void coord_barrier_done(struct coord *co, struct conn *c, const struct proto_in *in);
void coord_peer_joined_run(struct coord *co, struct conn *c);
void coord_peer_left(struct coord *co, struct conn *c);
const char *coord_state_name(enum comp_state s);

/* kvstore.c */
void coord_kv_put(struct coord *co, const char *key, const char *value);
void coord_kv_get(struct coord *co, struct conn *c, const char *key, bool wait,
		  uint64_t timeout_ms);
void coord_kv_expire(struct coord *co, long now_ms);
long coord_kv_next_deadline(const struct coord *co); /* -1: none */
void coord_kv_forget_conn(struct coord *co, struct conn *c);
void coord_kv_clear(struct coord *co);

/* progress.c */
void coord_progress_init_peer(struct conn *c);
void coord_progress_reset_peer(struct conn *c);
void coord_progress_image(struct conn *c, const struct proto_in *in);
void coord_progress_bytes(struct coord *co, struct conn *c, uint64_t generation, uint64_t bytes);
void coord_progress_commit(struct coord *co);
void coord_progress_failed(struct coord *co, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void coord_progress_succeeded(struct coord *co);
bool coord_progress_get(const struct coord *co, struct ckpt_progress *p);
bool coord_waiting_line(const struct coord *co, char *buf, size_t n);

/* status.c */
void coord_put_status(const struct coord *co, struct proto_msg *m);
/* Peer c's F_PEER line (status_fmt.h). */
void coord_peer_line(const struct conn *c, char *buf, size_t n);
void coord_print_status(const struct coord *co, FILE *f);
/* reasons: end with the WAITING / LAST_ERROR lines (not in the status file: the status is
 * there already). */
void coord_print_list(const struct coord *co, FILE *f, bool reasons);
void coord_write_status_file(const struct coord *co);
void coord_state_changed(struct coord *co);

/* where.c: dmtcp_command --where. start returns 0 (the client waits for the answer, c->wait)
 * or -errno with a reason. */
int coord_where_start(struct coord *co, struct conn *client, const char **why);
void coord_where_reply(struct coord *co, struct conn *c, const struct proto_in *in);
void coord_where_peer_left(struct coord *co, struct conn *c);
long coord_where_deadline(const struct coord *co); /* -1: none */
void coord_where_expire(struct coord *co, long now_ms);

/* restart_script.c */
int coord_write_restart_script(struct coord *co);

#endif
