/*
 * Coordinator peers (see peer.h).
 */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "coordauth.h"
#include "coordclient.h"
#include "core.h"
#include "ids.h"
#include "log.h"
#include "procfs.h"
#include "loop.h"
#include "sockports.h"

#define PEER_CONNECT_TIMEOUT_MS 2000
/* A coordinator that accepted a connection but has not welcomed it by then (a stuck or
 * fake one) is given up on, and looked for again later. */
#define WELCOME_TIMEOUT_MS 10000
#define PEER_CLOSE_FLUSH_MS	200
#define RESTART_CONNECT_TIMEOUT_MS 5000
#define PEER_HANDLERS		8

/* A process's peer (its process slot). */
struct peer {
	struct tracee_proc *p;
	struct proto_conn conn;
	int open;
	int connecting; /* non-blocking connect under way: no WELCOME read yet */
	int welcomed;
	int handle;	/* in the loop, while open */
	int lost;	/* the connection ended (or failed): close once what was read is served */
	int lost_err;
	int paused;	/* the handler paused serving (peer_serve() resumes it) */
	int orphan;	/* no coordinator: the connection broke or could not be made; retried
			   (not after a REFUSE, a deliberate close or dmtcp_nocheckpoint) */
	int hello_pending; /* new: not announced to the coordinator yet */
	int authed;	   /* the coordinator proved the key and we answered its CHALLENGE */
	struct proto_conn held; /* messages sent before authed: they follow our AUTH */
	long welcome_by_us; /* open and not welcomed: given up on (and retried) after this */
	char cnonce[COORD_HEX_LEN + 1]; /* our nonce of this connection's HELLO */
	long hello_due_us; /* when it is announced if still alive */
	uint64_t peer_id;
	char compid[128];
	char ckptdir[PATH_MAX];
	uint64_t interval;
	struct loop_job serve;
};

struct peer_state {
	int slot;
	int connect_failed;		    /* the last connection failed (warned once) */
	struct sockaddr_storage coord_addr; /* resolved once for new peers */
	socklen_t coord_addrlen;	    /* 0: not resolved yet */
	int hello_pending;		    /* some new process still has to announce itself */
	int orphans;			    /* processes whose connection is to be made again */
	long retry_at_us;		    /* when the next attempt is due */
	long retry_wait_us;		    /* the wait after a failed attempt: doubles, bounded */
	struct {
		uint16_t type;
		peer_msg_fn fn;
		void *arg;
	} handler[PEER_HANDLERS];
	int nhandlers;
	struct coord_key key;	    /* the coordinator's (coordauth.h), read when first needed */
	int key_loaded;
	int handshakes;		    /* some connection may still wait for its WELCOME */
	int key_warned;		    /* a key problem was reported (once per kind of problem) */
	void (*announced_fn)(struct tracer *tr, void *arg);
	void *announced_arg;
	struct loop_job settle_job; /* runs announced_fn */
};

/* A lost coordinator is looked for again after this long, doubling up to the bound. */
#define RETRY_FIRST_US 500000L
#define RETRY_MAX_US   8000000L

static void serve_job(struct tracer *tr, struct loop_job *job);

static struct peer *peer_of(const struct tracee_proc *p)
{
	return p->slot[p->tracer->peer->slot];
}

/* The coordinator knows pe's process now, or never will: one fewer unannounced. From the
 * loop, so that the callback never runs inside a peer or table operation. */
static void settled(struct peer *pe)
{
	loop_submit(pe->p->tracer, &pe->p->tracer->peer->settle_job);
}

static void settle_job(struct tracer *tr, struct loop_job *job)
{
	struct peer_state *ps = tr->peer;

	(void)job;
	if (ps->announced_fn)
		ps->announced_fn(tr, ps->announced_arg);
}

void peer_on_announced(struct tracer *tr, void (*fn)(struct tracer *tr, void *arg), void *arg)
{
	tr->peer->announced_fn = fn;
	tr->peer->announced_arg = arg;
}

static int unannounced(const struct peer *pe)
{
	return pe->hello_pending || (pe->open && !pe->welcomed);
}

int peer_unannounced(struct tracer *tr)
{
	const struct tracee_proc *p;
	const struct peer *pe;
	int n = 0;

	for (p = ptable_first(tr); p; p = p->next)
		if ((pe = peer_of(p)) && unannounced(pe))
			n++;
	return n;
}

static struct peer *peer_make(struct tracee_proc *p)
{
	struct peer *pe = peer_of(p);

	if (pe)
		return pe;
	pe = calloc(1, sizeof(*pe));
	if (!pe) {
		pr_err("pid %d: out of memory for its coordinator peer", p->pid);
		return NULL;
	}
	pe->p = p;
	pe->conn.fd = -1;
	pe->held.fd = -1;
	pe->handle = -1;
	pe->serve.run = serve_job;
	p->slot[p->tracer->peer->slot] = pe;
	return pe;
}

static void peer_destroy(struct tracee_proc *p, void *data)
{
	struct peer *pe = data;

	if (pe->orphan)
		p->tracer->peer->orphans--;
	if (pe->hello_pending)
		settled(pe); /* gone before it was announced */
	peer_close(p);
	proto_conn_free(&pe->held);
	loop_cancel(p->tracer, &pe->serve);
	free(pe);
}

int peer_connected(const struct tracee_proc *p)
{
	const struct peer *pe = peer_of(p);

	return pe && pe->open;
}

const char *peer_compid(const struct tracee_proc *p)
{
	const struct peer *pe = peer_of(p);

	return pe ? pe->compid : "";
}

const char *peer_ckptdir(const struct tracee_proc *p)
{
	const struct peer *pe = peer_of(p);

	return pe ? pe->ckptdir : "";
}

static const char *proc_state(const struct tracee_proc *p)
{
	if (p->group_stopped)
		return "STOPPED";
	/* A process stopped for a look (--where) runs as far as the coordinator knows. */
	return p->phase == PP_RUNNING || p->peeking ? "RUNNING" : "SUSPENDED";
}

/*
 * A coordinator never has this much to say to a process whose serving is paused (a suspend
 * or a step under way): past it, nothing more is read until the serving goes on, so a
 * flooding peer cannot grow the buffer without bound.
 */
#define PAUSED_READ_MAX (1u << 20)

static int reading(const struct peer *pe)
{
	return !pe->lost && !(pe->paused && pe->conn.rlen >= PAUSED_READ_MAX);
}

/* Poll for readable while reading, for writable only while something is queued. */
static void watch(struct peer *pe)
{
	if (pe->open)
		loop_set_events(pe->p->tracer, pe->handle,
				(short)((reading(pe) ? POLLIN : 0) | (pe->conn.wlen ? POLLOUT : 0)));
}

/*
 * No coordinator for p any more (or not yet): its connection is made again later (see
 * retry_tick()), and the modules hear of it (a checkpoint it was in is abandoned locally).
 */
static void orphan(struct peer *pe)
{
	struct tracer *tr = pe->p->tracer;
	struct peer_state *ps = tr->peer;

	if (!pe->orphan && !pe->p->ghost && !pe->p->nocheckpoint) {
		pe->orphan = 1;
		ps->orphans++;
		if (!ps->retry_at_us) {
			ps->retry_wait_us = RETRY_FIRST_US;
			ps->retry_at_us = mono_now_us() + ps->retry_wait_us;
		}
	}
	hooks_fire_proc(tr, TEV_DISCONNECTED, pe->p);
}

/*
 * The coordinator sent what it must not (logged by the caller): that connection only is
 * closed, as if the coordinator had gone, so that a checkpoint it was running is abandoned
 * (the program is never left stopped) and the tracer connects again later. The bytes after
 * the bad ones cannot be trusted to be messages, and a coordinator that sends them is broken,
 * or is not ours.
 */
static void drop_invalid(struct peer *pe)
{
	peer_close(pe->p);
	orphan(pe);
}

/* The connection failed or ended: warn (a failed connect once per tracer) and close it. */
static void peer_fail(struct peer *pe, const char *what, int err)
{
	struct tracer *tr = pe->p->tracer;
	struct peer_state *ps = tr->peer;

	if (pe->connecting) {
		/* Could not reach the coordinator: the next new peer resolves it again and
		 * connects the blocking way, which also tries its other addresses. */
		if (!ps->connect_failed)
			pr_warn("pid %d: cannot connect to the coordinator at %s:%d: %s; "
				"new processes are not checkpointable", pe->p->pid,
				tracer_cfg(tr)->coord_host, tracer_cfg(tr)->coord_port,
				strerror(err));
		ps->connect_failed = 1;
		ps->coord_addrlen = 0;
	} else {
		pr_warn("pid %d: %s: %s", pe->p->pid, what, strerror(err));
	}
	peer_close(pe->p);
	orphan(pe);
}

/*
 * A new peer's connection, without waiting for it: the hello is queued and goes when the
 * socket is writable (the loop polls for it), so neither the tracer nor the process waits
 * for the coordinator's accept. Returns the fd or -errno.
 */
static int connect_async(struct tracer *tr)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct peer_state *ps = tr->peer;
	struct addrinfo *res;
	char service[16];
	int fd, one = 1;

	if (!ps->coord_addrlen) {
		snprintf(service, sizeof(service), "%d", tracer_cfg(tr)->coord_port);
		if (getaddrinfo(tracer_cfg(tr)->coord_host, service, &hints, &res) != 0)
			return -EHOSTUNREACH;
		if (res->ai_addrlen > sizeof(ps->coord_addr)) {
			freeaddrinfo(res);
			return -EAFNOSUPPORT;
		}
		memcpy(&ps->coord_addr, res->ai_addr, res->ai_addrlen);
		ps->coord_addrlen = res->ai_addrlen;
		freeaddrinfo(res);
	}
	fd = socket(ps->coord_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ps->coord_addr, ps->coord_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/*
 * Queue m for the coordinator. Until the coordinator has proved the key and we have answered
 * (pe->authed), only HELLO and AUTH go out: anything else the tracer has to say by then (a
 * state change, a checkpoint request from the program) waits in pe->held and follows the AUTH,
 * as the coordinator closes a connection that speaks before it is authenticated.
 */
static void peer_send(struct peer *pe, struct proto_msg *m)
{
	uint16_t type = m->type;
	int r = proto_finish(m);

	if (r == 0 && !pe->authed && type != MSG_HELLO && type != MSG_AUTH) {
		r = proto_conn_queue(&pe->held, m);
		proto_msg_free(m);
		if (r < 0)
			peer_fail(pe, "cannot keep a message for the coordinator", -r);
		return;
	}
	if (r == 0)
		r = proto_conn_queue(&pe->conn, m);
	if (r == 0 && type == MSG_AUTH)
		r = proto_conn_take(&pe->conn, &pe->held);
	if (r == 0) {
		r = proto_conn_flush(&pe->conn);
		if (r > 0)
			r = 0; /* the rest goes when poll says the socket is writable */
	}
	proto_msg_free(m);
	if (r < 0) {
		char what[64];

		snprintf(what, sizeof(what), "cannot send %s to the coordinator",
			 proto_type_name(type));
		peer_fail(pe, what, -r);
		return;
	}
	watch(pe);
}

static void on_fd(struct tracer *tr, int fd, short revents, void *arg);

/* Take fd as pe's connection (non-blocking, close-on-exec) and watch it. */
static int attach_conn(struct peer *pe, int fd, int async)
{
	struct tracer *tr = pe->p->tracer;

	if (!async) {
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	pe->handle = loop_add_fd(tr, fd, POLLIN, on_fd, pe);
	if (pe->handle < 0) {
		close(fd);
		return pe->handle;
	}
	proto_conn_init(&pe->conn, fd);
	proto_conn_free(&pe->held);
	proto_conn_init(&pe->held, -1);
	pe->open = 1;
	pe->welcomed = 0;
	pe->authed = 0;
	pe->welcome_by_us = mono_now_us() + WELCOME_TIMEOUT_MS * 1000L;
	tr->peer->handshakes = 1;
	coord_nonce_hex(pe->cnonce);
	pe->connecting = async;
	pe->lost = 0;
	pe->paused = 0;
	if (pe->orphan) {
		pe->orphan = 0;
		tr->peer->orphans--;
	}
	return 0;
}

/* The first message of a peer connection. */
static void send_hello(struct peer *pe, const char *state)
{
	struct tracee_proc *p = pe->p;
	struct tracer *tr = p->tracer;
	struct proto_msg m;

	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "peer");
	proto_put_str(&m, F_NONCE, pe->cnonce);
	proto_put_str(&m, F_PROG, p->prog);
	proto_put_u64(&m, F_PID, (uint64_t)p->pid);
	proto_put_u64(&m, F_PPID, (uint64_t)p->ppid);
	proto_put_str(&m, F_UNIQUEPID, ptable_uniquepid(p));
	proto_put_str(&m, F_HOST, tr->hostname);
	proto_put_str(&m, F_STATE, state ? state : proc_state(p));
	if (p->nofilter)
		proto_put_u64(&m, F_DETACHABLE, 1);
	if (tracer_cfg(tr)->interval >= 0 && p->pid == tr->root_pid)
		proto_put_u64(&m, F_INTERVAL, (uint64_t)tracer_cfg(tr)->interval);
	peer_send(pe, &m);
}

int peer_open(struct tracee_proc *p, int fd, const char *state)
{
	struct tracer *tr = p->tracer;
	struct peer_state *ps = tr->peer;
	struct peer *pe = peer_make(p);
	int async = 0, r;

	if (!pe) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	if (fd < 0 && !ps->connect_failed) {
		fd = connect_async(tr);
		async = fd >= 0;
	}
	if (fd < 0) {
		fd = coord_tcp_connect(tracer_cfg(tr)->coord_host, tracer_cfg(tr)->coord_port,
				       PEER_CONNECT_TIMEOUT_MS);
		if (fd < 0) {
			/* Once is enough: a busy tree would repeat it for every new process. */
			if (!ps->connect_failed)
				pr_warn("pid %d: cannot connect to the coordinator at %s:%d: %s; "
					"new processes are not checkpointable", p->pid,
					tracer_cfg(tr)->coord_host, tracer_cfg(tr)->coord_port,
					strerror(-fd));
			ps->connect_failed = 1;
			orphan(pe);
			return fd;
		}
		ps->connect_failed = 0;
	}
	r = attach_conn(pe, fd, async);
	if (r < 0)
		return r;
	send_hello(pe, state);
	return pe->open ? 0 : -ECONNRESET;
}

/* A process that lost its coordinator (retry_tick()): a non-blocking connect, the hello
 * queued; a failure leaves it an orphan, quietly. */
static void reopen(struct peer *pe)
{
	int fd = connect_async(pe->p->tracer);

	if (fd < 0 || attach_conn(pe, fd, 1) < 0)
		return;
	send_hello(pe, NULL);
}

int peer_open_restarted(struct tracee_proc *p, const struct restart_peer *rp)
{
	struct tracer *tr = p->tracer;
	struct peer *pe = peer_make(p);
	struct proto_msg m;
	int fd, r;

	if (!pe)
		return -ENOMEM;
	fd = coord_tcp_connect(tracer_cfg(tr)->coord_host, tracer_cfg(tr)->coord_port,
			       RESTART_CONNECT_TIMEOUT_MS);
	if (fd < 0) {
		pr_err("pid %d: cannot connect to the coordinator at %s:%d: %s", rp->pid,
		       tracer_cfg(tr)->coord_host, tracer_cfg(tr)->coord_port, strerror(-fd));
		return fd;
	}
	r = attach_conn(pe, fd, 0);
	if (r < 0)
		return r;

	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "peer");
	proto_put_str(&m, F_NONCE, pe->cnonce);
	proto_put_str(&m, F_PROG, p->prog);
	proto_put_u64(&m, F_PID, (uint64_t)rp->pid);
	if (rp->real_pid != rp->pid)
		proto_put_u64(&m, F_REAL_PID, (uint64_t)rp->real_pid);
	proto_put_u64(&m, F_PPID, (uint64_t)rp->ppid);
	proto_put_str(&m, F_UNIQUEPID, ptable_uniquepid(p));
	proto_put_str(&m, F_HOST, tr->hostname);
	proto_put_str(&m, F_STATE, "RESTARTING");
	proto_put_str(&m, F_COMPID, rp->compid);
	proto_put_u64(&m, F_RESTART, 1);
	proto_put_u64(&m, F_NUM_EXPECTED, rp->num_expected);
	proto_put_u64(&m, F_VIRT_PID, (uint64_t)rp->pid);
	if (p->nofilter)
		proto_put_u64(&m, F_DETACHABLE, 1);
	if (tracer_cfg(tr)->interval >= 0)
		proto_put_u64(&m, F_INTERVAL, (uint64_t)tracer_cfg(tr)->interval);
	r = proto_finish(&m);
	if (!r)
		r = proto_conn_queue(&pe->conn, &m);
	proto_msg_free(&m);
	if (!r && proto_conn_flush(&pe->conn) < 0)
		r = -ECONNRESET;
	if (r) {
		pr_err("pid %d: cannot say hello to the coordinator: %s", rp->pid, strerror(-r));
		peer_close(p);
		return r;
	}
	watch(pe);
	return 0;
}

void peer_close(struct tracee_proc *p)
{
	struct peer *pe = peer_of(p);
	int was_unannounced;
	long deadline;

	if (!pe || !pe->open)
		return;
	was_unannounced = unannounced(pe);
	/* A BARRIER_DONE or update still queued is worth a short wait. */
	deadline = mono_now_us() + PEER_CLOSE_FLUSH_MS * 1000L;
	while (pe->conn.wlen && mono_now_us() < deadline) {
		struct pollfd pfd = { pe->conn.fd, POLLOUT, 0 };

		if (proto_conn_flush(&pe->conn) <= 0)
			break;
		poll(&pfd, 1, PEER_CLOSE_FLUSH_MS);
	}
	loop_del_fd(p->tracer, pe->handle);
	pe->handle = -1;
	close(pe->conn.fd);
	proto_conn_free(&pe->conn);
	proto_conn_free(&pe->held);
	pe->conn.fd = -1;
	pe->open = 0;
	pe->connecting = 0;
	if (was_unannounced && !unannounced(pe))
		settled(pe);
}

void peer_update(struct tracee_proc *p, const char *state)
{
	struct peer *pe = peer_of(p);
	struct proto_msg m;

	if (!pe || !pe->open)
		return;
	proto_msg_init(&m, MSG_PEER_UPDATE);
	proto_put_str(&m, F_PROG, p->prog);
	proto_put_u64(&m, F_PID, (uint64_t)p->pid);
	proto_put_str(&m, F_STATE, state ? state : proc_state(p));
	peer_send(pe, &m);
}

void peer_waiting(struct tracee_proc *p, const char *why)
{
	struct peer *pe = peer_of(p);
	struct proto_msg m;

	if (!pe || !pe->open || !pe->welcomed)
		return;
	proto_msg_init(&m, MSG_PEER_UPDATE);
	proto_put_str(&m, F_WAITING, why);
	peer_send(pe, &m);
}

void peer_barrier_done(struct tracee_proc *p, uint64_t generation, const char *barrier,
		       int status, const char *reason, const char *image, uint64_t image_size)
{
	struct peer *pe = peer_of(p);
	struct proto_msg m;

	if (!pe || !pe->open)
		return;
	proto_msg_init(&m, MSG_BARRIER_DONE);
	proto_put_str(&m, F_BARRIER, barrier);
	proto_put_u64(&m, F_GENERATION, generation);
	proto_put_u64(&m, F_STATUS, (uint64_t)(int64_t)status);
	if (status < 0)
		proto_put_str(&m, F_REASON, reason && *reason ? reason : strerror(-status));
	if (image && *image)
		proto_put_str(&m, F_IMAGE, image);
	if (image_size)
		proto_put_u64(&m, F_IMAGE_SIZE, image_size);
	peer_send(pe, &m);
}

void peer_ckpt_progress(struct tracee_proc *p, uint64_t generation, uint64_t bytes)
{
	struct peer *pe = peer_of(p);
	struct proto_msg m;

	if (!pe || !pe->open)
		return;
	proto_msg_init(&m, MSG_CKPT_PROGRESS);
	proto_put_u64(&m, F_GENERATION, generation);
	proto_put_u64(&m, F_BYTES, bytes);
	peer_send(pe, &m);
}

int peer_send_msg(struct tracee_proc *p, struct proto_msg *m)
{
	struct peer *pe = peer_of(p);

	if (!pe || !pe->open) {
		proto_msg_free(m);
		return -ENOTCONN;
	}
	peer_send(pe, m);
	return pe->open ? 0 : -ECONNRESET;
}

int peer_ckpt_request(struct tracee_proc *p)
{
	struct peer *pe = peer_of(p);
	struct proto_msg m;

	if (!pe || !pe->open)
		return -ENOTCONN;
	proto_msg_init(&m, MSG_CKPT_REQUEST);
	proto_put_u64(&m, F_PID, (uint64_t)p->pid);
	peer_send(pe, &m);
	return pe->open ? 0 : -ECONNRESET;
}

/* ---- receiving ------------------------------------------------------------------------- */

int peer_on_message(struct tracer *tr, uint16_t type, peer_msg_fn fn, void *arg)
{
	struct peer_state *ps = tr->peer;
	int i;

	for (i = 0; i < ps->nhandlers; i++)
		if (ps->handler[i].type == type)
			return -EEXIST;
	if (ps->nhandlers == PEER_HANDLERS)
		return -ENOSPC;
	ps->handler[ps->nhandlers].type = type;
	ps->handler[ps->nhandlers].fn = fn;
	ps->handler[ps->nhandlers].arg = arg;
	ps->nhandlers++;
	return 0;
}

void peer_serve(struct tracee_proc *p)
{
	struct peer *pe = peer_of(p);

	if (!pe)
		return;
	pe->paused = 0;
	watch(pe);
	loop_submit(p->tracer, &pe->serve);
}

/* The key of our coordinator, read again when asked (a coordinator started anew has a new
 * one). 0, or -errno after a warning (once). */
static int load_key(struct tracer *tr, int again)
{
	struct peer_state *ps = tr->peer;
	char path[PATH_MAX], err[PATH_MAX + 200];
	int r;

	if (ps->key_loaded && !again)
		return 0;
	r = coord_key_load(tracer_cfg(tr)->coord_port, &ps->key, path, sizeof(path), err,
			   sizeof(err));
	ps->key_loaded = r == 0;
	if (r && !(ps->key_warned & 1)) {
		pr_warn("%s: processes cannot join the coordinator at %s:%d without its key", err,
			tracer_cfg(tr)->coord_host, tracer_cfg(tr)->coord_port);
		ps->key_warned |= 1;
	}
	return r;
}

/*
 * The coordinator's CHALLENGE (coordauth.h): it must prove it knows the key before we prove
 * we do. A coordinator that cannot (another coordinator now on that port, or one started
 * anew whose key we read again) is not obeyed: the connection is closed and tried again
 * later, like a coordinator that went away.
 */
static enum peer_verdict answer_challenge(struct peer *pe, const struct proto_in *in)
{
	struct tracee_proc *p = pe->p;
	struct tracer *tr = p->tracer;
	struct peer_state *ps = tr->peer;
	const char *sn = proto_get_str(in, F_NONCE), *proof = proto_get_str(in, F_AUTH);
	char mine[COORD_HEX_LEN + 1];
	struct proto_msg m;

	if (!sn || !proof)
		return peer_invalid(p, "CHALLENGE without F_NONCE or F_AUTH");
	if (load_key(tr, 0) < 0) {
		peer_close(p);
		orphan(pe);
		return PEER_NEXT;
	}
	if (!coord_auth_check(&ps->key, true, sn, pe->cnonce, proof) &&
	    (load_key(tr, 1) < 0 || !coord_auth_check(&ps->key, true, sn, pe->cnonce, proof))) {
		if (!(ps->key_warned & 2))
			pr_warn("pid %d: the coordinator at %s:%d does not know this computation's "
				"key: not joining it", p->pid, tracer_cfg(tr)->coord_host,
				tracer_cfg(tr)->coord_port);
		ps->key_warned |= 2;
		peer_close(p);
		orphan(pe);
		return PEER_NEXT;
	}
	if (coord_auth_proof(&ps->key, false, sn, pe->cnonce, mine)) {
		peer_close(p);
		orphan(pe);
		return PEER_NEXT;
	}
	pe->authed = 1;
	proto_msg_init(&m, MSG_AUTH);
	proto_put_str(&m, F_AUTH, mine);
	peer_send(pe, &m);
	return PEER_NEXT;
}

enum peer_verdict peer_invalid(struct tracee_proc *p, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("pid %d: invalid message from the coordinator: %s", p->pid, why);
	return PEER_INVALID;
}

/*
 * What a coordinator sends a process, and when: the CHALLENGE first, then (after our AUTH)
 * WELCOME or REFUSE, then BARRIER, WHERE, KILL and KV_REPLY. NULL when type is in its place,
 * else what is wrong with it. Above all, nothing is obeyed from a coordinator that has not
 * proved the key, nor before it has taken the process in.
 */
static const char *out_of_place(const struct peer *pe, uint16_t type)
{
	switch (type) {
	case MSG_CHALLENGE:
		return pe->authed ? "a second time" : NULL;
	case MSG_WELCOME:
		if (!pe->authed)
			return "before the coordinator proved its key";
		return pe->welcomed ? "a second time" : NULL;
	case MSG_REFUSE:
		if (!pe->authed)
			return "before the coordinator proved its key";
		return pe->welcomed ? "after the WELCOME" : NULL;
	case MSG_BARRIER:
	case MSG_WHERE:
	case MSG_KILL:
	case MSG_DETACH:
	case MSG_KV_REPLY:
		if (!pe->authed)
			return "before the coordinator proved its key";
		return pe->welcomed ? NULL : "before the WELCOME";
	default:
		return "(a coordinator never sends it to a process)";
	}
}

/* The coordinator takes the process in: what its checkpoints go by, never half of it. */
static enum peer_verdict take_welcome(struct peer *pe, const struct proto_in *in)
{
	struct tracee_proc *p = pe->p;
	struct peer_state *ps = p->tracer->peer;
	const char *compid = proto_get_str(in, F_COMPID), *ckptdir = proto_get_str(in, F_CKPTDIR);
	uint64_t id, v;

	if (proto_get_u64(in, F_PEER_ID, &id) || id == 0)
		return peer_invalid(p, "WELCOME without F_PEER_ID");
	if (!compid || !check_id_syntax(compid))
		return peer_invalid(p, "WELCOME without a well-formed F_COMPID");
	if (!ckptdir || ckptdir[0] != '/' || strlen(ckptdir) >= sizeof(pe->ckptdir))
		return peer_invalid(p, "WELCOME without an absolute F_CKPTDIR");
	pe->welcomed = 1;
	pe->connecting = 0;
	if (ps->connect_failed || pe->orphan)
		pr_info("pid %d: connected to the coordinator at %s:%d", p->pid,
			tracer_cfg(p->tracer)->coord_host, tracer_cfg(p->tracer)->coord_port);
	ps->connect_failed = 0;
	ps->retry_wait_us = RETRY_FIRST_US;
	pe->peer_id = id;
	snprintf(pe->compid, sizeof(pe->compid), "%s", compid);
	snprintf(pe->ckptdir, sizeof(pe->ckptdir), "%s", ckptdir);
	if (proto_get_u64(in, F_INTERVAL, &v) == 0)
		pe->interval = v;
	settled(pe);
	return PEER_NEXT;
}

/* How many ancestors of p this tracer traces (bounded, should the links ever loop). */
static int depth_in_tree(struct tracer *tr, const struct tracee_proc *p)
{
	int d = 0, n = ptable_count(tr);

	while (d < n && (p = ptable_proc(tr, p->ppid)))
		d++;
	return d;
}

/*
 * The coordinator kills only whole computations (dmtcp_command -k, -kc, a dead interval's
 * kill...), one KILL per process: at the first, every process of this tree goes, parents
 * before children, so that no parent sees a child die of SIGKILL and acts on it before its
 * own KILL is read (a shell reporting "Killed", an oracle failing), and a child not announced
 * yet goes too. Processes outside checkpoint control (dmtcp_nocheckpoint) are left alone.
 */
static void kill_tree(struct tracer *tr)
{
	struct tracee_proc *q;
	int d, max = 0;

	for (q = ptable_first(tr); q; q = q->next)
		if (!q->ghost && !q->nocheckpoint && (d = depth_in_tree(tr, q)) > max)
			max = d;
	for (q = ptable_first(tr); q; q = q->next)
		if (!q->ghost && !q->nocheckpoint)
			sockports_release(q->pid); /* their ports free for a restart at once */
	for (d = 0; d <= max; d++)
		for (q = ptable_first(tr); q; q = q->next)
			if (!q->ghost && !q->nocheckpoint && depth_in_tree(tr, q) == d)
				kill(q->pid, SIGKILL);
}

static enum peer_verdict on_message(struct peer *pe, const struct proto_in *in)
{
	struct tracee_proc *p = pe->p;
	struct peer_state *ps = p->tracer->peer;
	const char *s;

	s = out_of_place(pe, in->type);
	if (s)
		return peer_invalid(p, "%s %s", proto_type_name(in->type), s);
	switch (in->type) {
	case MSG_CHALLENGE:
		return answer_challenge(pe, in);
	case MSG_WELCOME:
		return take_welcome(pe, in);
	case MSG_REFUSE: {
		char why[256];
		size_t i;

		/* one line of our log, whatever the coordinator says */
		s = proto_get_str(in, F_REASON);
		snprintf(why, sizeof(why), "%s", s ? s : "?");
		for (i = 0; why[i]; i++)
			if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
				why[i] = '?';
		pr_err("pid %d: the coordinator refused this process: %s", p->pid, why);
		peer_close(p);
		return PEER_NEXT;
	}
	case MSG_KILL:
		if (p->ghost)
			return PEER_NEXT; /* gone already, and its pid may be someone else's */
		pr_debug("pid %d: killed on the coordinator's request, with its tree", p->pid);
		kill_tree(p->tracer);
		return PEER_NEXT;
	default:
		for (int i = 0; i < ps->nhandlers; i++)
			if (ps->handler[i].type == in->type)
				return ps->handler[i].fn(p, in, ps->handler[i].arg);
		pr_debug("pid %d: ignoring %s from the coordinator", p->pid,
			 proto_type_name(in->type));
		return PEER_NEXT;
	}
}

/*
 * Serve the messages already read, in order, until the handler pauses. A late joiner gets its
 * missed barriers all at once (suspend, drain, ...): while its suspend is still under way the
 * rest wait in the buffer. A connection that ended is closed once what was read is served.
 */
static void serve_job(struct tracer *tr, struct loop_job *job)
{
	struct peer *pe = (struct peer *)((char *)job - offsetof(struct peer, serve));
	struct tracee_proc *p = pe->p;
	struct proto_in in;
	const char *why = NULL;
	int r;

	(void)tr;
	while (pe->open && !pe->paused) {
		enum peer_verdict v;

		r = proto_conn_next(&pe->conn, &in, &why);
		if (r == 0)
			break;
		if (r < 0) {
			pr_err("pid %d: invalid message from the coordinator: %s", p->pid,
			       why ? why : strerror(-r));
			drop_invalid(pe);
			return;
		}
		v = on_message(pe, &in);
		proto_in_free(&in);
		if (v == PEER_INVALID) {
			drop_invalid(pe);
			return;
		}
		if (v == PEER_PAUSE)
			pe->paused = 1;
	}
	if (pe->lost && pe->open) {
		/* The program keeps running; it is just no longer checkpointable. */
		if (pe->connecting) {
			peer_fail(pe, NULL, pe->lost_err);
		} else {
			pr_warn("pid %d: lost the connection to the coordinator; the program runs "
				"on, and its tracer looks for a coordinator again", p->pid);
			peer_close(p);
			orphan(pe);
		}
	}
}

static void on_fd(struct tracer *tr, int fd, short revents, void *arg)
{
	struct peer *pe = arg;
	int r;

	(void)fd;
	if (pe->open && (revents & POLLOUT)) {
		r = proto_conn_flush(&pe->conn);
		if (r < 0) {
			peer_fail(pe, "cannot write to the coordinator", -r);
			return;
		}
		watch(pe);
	}
	if (pe->open && (revents & (POLLIN | POLLHUP | POLLERR)) && reading(pe)) {
		r = proto_conn_fill(&pe->conn);
		if (r == 0 || (r < 0 && r != -EAGAIN))
			pe->lost = 1; /* the fd stays readable at its end: not polled any more */
		if (pe->lost)
			pe->lost_err = r < 0 ? -r : ECONNRESET;
		watch(pe);
		loop_submit(tr, &pe->serve);
	}
}

/* ---- announcing new processes ---------------------------------------------------------- */

/*
 * Announce the new processes whose delay is over (every one with all). Run from the loop's
 * tick, once every ready wait status is handled, so that a child whose first stop is already
 * queued is let go before the tracer spends time on its connection. Returns the milliseconds
 * until the next is due, or -1.
 */
static int announce(struct tracer *tr, int all)
{
	struct peer_state *ps = tr->peer;
	struct tracee_proc *p;
	struct peer *pe;
	long now = mono_now_us(), wait = -1;

	ps->hello_pending = 0;
	for (p = ptable_first(tr); p; p = p->next) {
		pe = peer_of(p);
		if (!pe || !pe->hello_pending)
			continue;
		if (!all && now < pe->hello_due_us) {
			ps->hello_pending = 1;
			if (wait < 0 || pe->hello_due_us - now < wait)
				wait = pe->hello_due_us - now;
			continue;
		}
		pe->hello_pending = 0;
		if (!p->ghost && !p->nocheckpoint)
			peer_open(p, -1, NULL);
		if (!unannounced(pe))
			settled(pe); /* not announced after all, or its connection failed */
	}
	return wait < 0 ? -1 : (int)(wait / 1000) + 1;
}

void peer_announce_all(struct tracer *tr)
{
	if (tr->peer->hello_pending)
		announce(tr, 1);
}

static int announce_tick(struct tracer *tr, void *arg)
{
	(void)arg;
	return tr->peer->hello_pending ? announce(tr, 0) : -1;
}

/*
 * Look for the coordinator again for every process that lost it (or never had one): one
 * non-blocking connection each, the hello queued; an attempt that fails makes the process an
 * orphan again, and the next try waits twice as long (up to RETRY_MAX_US). So a coordinator
 * started again on the same address has the computation back within seconds, and the next
 * dmtcp_command works. Returns the milliseconds until the next attempt, or -1.
 */
static int retry_tick(struct tracer *tr, void *arg)
{
	struct peer_state *ps = arg;
	struct tracee_proc *p;
	struct peer *pe;
	long now;

	if (!ps->orphans) {
		ps->retry_at_us = 0;
		return -1;
	}
	now = mono_now_us();
	if (now < ps->retry_at_us)
		return (int)((ps->retry_at_us - now) / 1000) + 1;
	ps->retry_wait_us = ps->retry_wait_us * 2 < RETRY_MAX_US ? ps->retry_wait_us * 2
								   : RETRY_MAX_US;
	ps->retry_at_us = now + ps->retry_wait_us;
	/* resolve the address again: the coordinator may come back elsewhere */
	ps->coord_addrlen = 0;
	for (p = ptable_first(tr); p; p = p->next) {
		pe = peer_of(p);
		if (!pe || !pe->orphan || pe->open || p->ghost || p->nocheckpoint)
			continue;
		reopen(pe);
	}
	return ps->orphans ? (int)(ps->retry_wait_us / 1000) + 1 : -1;
}

/* Give up on connections whose coordinator has not welcomed them in time. Returns the
 * milliseconds until the next such deadline, or -1. */
static int welcome_tick(struct tracer *tr, void *arg)
{
	struct peer_state *ps = arg;
	struct tracee_proc *p;
	struct peer *pe;
	long now, wait = -1;

	if (!ps->handshakes)
		return -1;
	now = mono_now_us();
	ps->handshakes = 0;
	for (p = ptable_first(tr); p; p = p->next) {
		pe = peer_of(p);
		if (!pe || !pe->open || pe->welcomed)
			continue;
		if (now >= pe->welcome_by_us) {
			peer_fail(pe, "the coordinator did not welcome this process", ETIMEDOUT);
			continue;
		}
		ps->handshakes = 1;
		if (wait < 0 || pe->welcome_by_us - now < wait)
			wait = pe->welcome_by_us - now;
	}
	return wait < 0 ? -1 : (int)(wait / 1000) + 1;
}

static void on_event(struct tracer *tr, const struct tracer_ev *ev, void *arg)
{
	struct peer_state *ps = arg;
	struct peer *pe;

	switch (ev->type) {
	case TEV_PROC_BORN:
		if (ev->p->nocheckpoint)
			break;
		/* Announced later (announce()): the stopped parent need not wait for our
		 * connect, and a child that is gone within PEER_HELLO_DELAY_MS never costs the
		 * coordinator a connection. One born during a suspend is announced at once: the
		 * checkpoint waits for it. */
		pe = peer_make(ev->p);
		if (!pe)
			break;
		pe->hello_pending = 1;
		pe->hello_due_us =
			mono_now_us() + (ev->p->born_held ? 0 : PEER_HELLO_DELAY_MS * 1000L);
		ps->hello_pending = 1;
		break;
	case TEV_EXEC:
		peer_update(ev->p, NULL);
		break;
	case TEV_JOBCTL:
		peer_update(ev->p, ev->p->group_stopped ? "STOPPED" : NULL);
		break;
	case TEV_PROC_EXIT:
		/* Never let the coordinator see the computation smaller than it is: what this
		 * process started is announced before it goes. */
		if (peer_connected(ev->p) && !ev->p->nocheckpoint)
			peer_announce_all(tr);
		break;
	default:
		break;
	}
}

int peer_init(struct tracer *tr)
{
	static const enum tracer_event events[] = { TEV_PROC_BORN, TEV_EXEC, TEV_JOBCTL,
						    TEV_PROC_EXIT };
	struct peer_state *ps = calloc(1, sizeof(*ps));
	unsigned i;
	int r = 0;

	if (!ps)
		return -ENOMEM;
	tr->peer = ps;
	ps->settle_job.run = settle_job;
	ps->slot = ptable_proc_slot_new(tr, peer_destroy);
	if (ps->slot < 0)
		return ps->slot;
	for (i = 0; i < sizeof(events) / sizeof(events[0]) && !r; i++)
		r = hooks_on(tr, events[i], on_event, ps);
	if (!r)
		r = loop_add_tick(tr, announce_tick, ps);
	if (!r)
		r = loop_add_tick(tr, retry_tick, ps);
	if (!r)
		r = loop_add_tick(tr, welcome_tick, ps);
	return r;
}

void peer_fini(struct tracer *tr)
{
	if (tr->peer)
		loop_cancel(tr, &tr->peer->settle_job);
	free(tr->peer);
	tr->peer = NULL;
}
