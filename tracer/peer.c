/*
 * One coordinator peer per traced process: its connection, what it announces (HELLO, updates
 * on exec and stop/continue) and the barriers the coordinator runs on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "coordclient.h"
#include "log.h"
#include "proto.h"
#include "tracer_int.h"

#define PEER_CONNECT_TIMEOUT_MS 2000
#define PEER_CLOSE_FLUSH_MS	200

static const char *proc_state(const struct tracee_proc *p)
{
	if (p->group_stopped)
		return "STOPPED";
	return p->phase == PP_RUNNING ? "RUNNING" : "SUSPENDED";
}

/* The connection failed or ended: warn (a failed connect once per tracer) and close it. */
static void peer_fail(struct tracee_proc *p, const char *what, int err)
{
	struct tracer *tr = p->tracer;

	if (p->connecting) {
		/* Could not reach the coordinator: the next new peer resolves it again and
		 * connects the blocking way, which also tries its other addresses. */
		if (!tr->connect_failed)
			pr_warn("pid %d: cannot connect to the coordinator at %s:%d: %s; "
				"new processes are not checkpointable", p->pid, tr->cfg.coord_host,
				tr->cfg.coord_port, strerror(err));
		tr->connect_failed = 1;
		tr->coord_addrlen = 0;
	} else {
		pr_warn("pid %d: %s: %s", p->pid, what, strerror(err));
	}
	peer_close(p);
}

/*
 * A new peer's connection, without waiting for it: the hello is queued and goes when the
 * socket is writable (the event loop polls for it), so neither the tracer nor the process
 * waits for the coordinator's accept. Returns the fd or -errno.
 */
static int connect_async(struct tracer *tr)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char service[16];
	int fd, one = 1;

	if (!tr->coord_addrlen) {
		snprintf(service, sizeof(service), "%d", tr->cfg.coord_port);
		if (getaddrinfo(tr->cfg.coord_host, service, &hints, &res) != 0)
			return -EHOSTUNREACH;
		if (res->ai_addrlen > sizeof(tr->coord_addr)) {
			freeaddrinfo(res);
			return -EAFNOSUPPORT;
		}
		memcpy(&tr->coord_addr, res->ai_addr, res->ai_addrlen);
		tr->coord_addrlen = res->ai_addrlen;
		freeaddrinfo(res);
	}
	fd = socket(tr->coord_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&tr->coord_addr, tr->coord_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void peer_send(struct tracee_proc *p, struct proto_msg *m)
{
	uint16_t type = m->type;
	int r = proto_finish(m);

	if (r == 0)
		r = proto_conn_queue(&p->conn, m);
	if (r == 0) {
		r = proto_conn_flush(&p->conn);
		if (r > 0)
			r = 0; /* the rest goes when poll says the socket is writable */
	}
	proto_msg_free(m);
	if (r < 0) {
		char what[64];

		snprintf(what, sizeof(what), "cannot send %s to the coordinator",
			 proto_type_name(type));
		peer_fail(p, what, -r);
	}
}

int peer_open(struct tracee_proc *p, int fd, const char *state)
{
	struct tracer *tr = p->tracer;
	struct proto_msg m;
	int fl, async = 0;

	if (fd < 0 && !tr->connect_failed) {
		fd = connect_async(tr);
		async = fd >= 0;
	}
	if (fd < 0) {
		fd = coord_tcp_connect(tr->cfg.coord_host, tr->cfg.coord_port,
				       PEER_CONNECT_TIMEOUT_MS);
		if (fd < 0) {
			/* Once is enough: a busy tree would repeat it for every new process. */
			if (!tr->connect_failed)
				pr_warn("pid %d: cannot connect to the coordinator at %s:%d: %s; "
					"new processes are not checkpointable", p->pid,
					tr->cfg.coord_host, tr->cfg.coord_port, strerror(-fd));
			tr->connect_failed = 1;
			return fd;
		}
		tr->connect_failed = 0;
	}
	if (!async) {
		fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	proto_conn_init(&p->conn, fd);
	p->conn_open = 1;
	p->connecting = async;

	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "peer");
	proto_put_str(&m, F_PROG, p->prog);
	proto_put_u64(&m, F_PID, (uint64_t)p->pid);
	proto_put_u64(&m, F_PPID, (uint64_t)p->ppid);
	proto_put_str(&m, F_UNIQUEPID, ptable_uniquepid(p));
	proto_put_str(&m, F_HOST, tr->hostname);
	proto_put_str(&m, F_STATE, state ? state : proc_state(p));
	if (tr->cfg.interval >= 0 && p->pid == tr->root_pid)
		proto_put_u64(&m, F_INTERVAL, (uint64_t)tr->cfg.interval);
	peer_send(p, &m);
	return p->conn_open ? 0 : -ECONNRESET;
}

void peer_close(struct tracee_proc *p)
{
	long deadline;

	if (!p->conn_open)
		return;
	/* A BARRIER_DONE or update still queued is worth a short wait. */
	deadline = now_us() + PEER_CLOSE_FLUSH_MS * 1000L;
	while (p->conn.wlen && now_us() < deadline) {
		struct pollfd pfd = { p->conn.fd, POLLOUT, 0 };

		if (proto_conn_flush(&p->conn) <= 0)
			break;
		poll(&pfd, 1, PEER_CLOSE_FLUSH_MS);
	}
	close(p->conn.fd);
	proto_conn_free(&p->conn);
	p->conn.fd = -1;
	p->conn_open = 0;
	p->connecting = 0;
}

void peer_update(struct tracee_proc *p, const char *state)
{
	struct proto_msg m;

	if (!p->conn_open)
		return;
	proto_msg_init(&m, MSG_PEER_UPDATE);
	proto_put_str(&m, F_PROG, p->prog);
	proto_put_u64(&m, F_PID, (uint64_t)p->pid);
	proto_put_str(&m, F_STATE, state ? state : proc_state(p));
	peer_send(p, &m);
}

void peer_barrier_done(struct tracee_proc *p, const char *barrier, int status, const char *reason,
		       const char *image)
{
	struct proto_msg m;

	if (!p->conn_open)
		return;
	proto_msg_init(&m, MSG_BARRIER_DONE);
	proto_put_str(&m, F_BARRIER, barrier);
	proto_put_u64(&m, F_GENERATION, p->generation);
	proto_put_u64(&m, F_STATUS, (uint64_t)(int64_t)status);
	if (status < 0)
		proto_put_str(&m, F_REASON, reason && *reason ? reason : strerror(-status));
	if (image && *image)
		proto_put_str(&m, F_IMAGE, image);
	peer_send(p, &m);
}

int peer_ckpt_request(struct tracee_proc *p)
{
	struct proto_msg m;

	if (!p->conn_open)
		return -ENOTCONN;
	proto_msg_init(&m, MSG_CKPT_REQUEST);
	proto_put_u64(&m, F_PID, (uint64_t)p->pid);
	peer_send(p, &m);
	return p->conn_open ? 0 : -ECONNRESET;
}

typedef int (*ckpt_hook)(struct tracee_proc *, struct ckpt_step *);

static void run_step(struct tracee_proc *p, const char *name, ckpt_hook hook)
{
	struct ckpt_step step;
	int r;

	memset(&step, 0, sizeof(step));
	step.generation = p->generation;
	if (p->phase != PP_SUSPENDED) {
		peer_barrier_done(p, name, -EINVAL, "process is not suspended", NULL);
		return;
	}
	r = hook(p, &step);
	if (r < 0)
		pr_err("pid %d: checkpoint step '%s' failed: %s", p->pid, name,
		       step.reason[0] ? step.reason : strerror(-r));
	peer_barrier_done(p, name, r, step.reason, step.image);
}

/*
 * The coordinator sends 'suspend' to every peer at once, but each arrives on its own
 * connection: stop every other process of the tree now rather than when its own message is
 * read, so that none runs on (forks, exits, writes to a peer) while the others are stopped.
 * They are held for the coordinator (born_held) until it takes them over with their own
 * barrier, or are let go with the resume of the others.
 */
static void suspend_tree(struct tracer *tr, uint64_t gen)
{
	struct tracee_proc *q;

	/* A newborn of the wait statuses being handled right now is not announced yet (the
	 * event loop does it after them): it is part of the tree all the same. */
	if (tr->hello_pending)
		events_open_new_peers(tr, 1);
	for (q = tr->procs; q; q = q->next) {
		if (q->phase != PP_RUNNING || q->nocheckpoint || !q->conn_open || q->ghost)
			continue;
		q->generation = gen;
		q->born_held = 1;
		suspend_begin(q);
	}
}

/* Ghosts kept in case the checkpoint included them, which it did not: they can go now. */
static void close_idle_ghosts(struct tracer *tr)
{
	struct tracee_proc *q;

	for (q = tr->procs; q; q = q->next)
		if (q->ghost && !q->in_barrier)
			peer_close(q); /* tracer_run() frees it */
}

static void on_barrier(struct tracee_proc *p, const char *name, uint64_t gen)
{
	struct tracer *tr = p->tracer;
	struct ckpt_step step;
	int r = 0;

	pr_debug("pid %d: barrier %s (generation %llu)", p->pid, name, (unsigned long long)gen);
	if (p->ghost) {
		/* Gone before it was stopped: nothing to suspend, save or resume. */
		if (!strcmp(name, BARRIER_SUSPEND))
			p->generation = gen;
		peer_barrier_done(p, name, 0, NULL, NULL);
		p->in_barrier = strcmp(name, BARRIER_RESUME) && strcmp(name, BARRIER_ABORT);
		if (!p->in_barrier)
			peer_close(p); /* tracer_run() frees it */
		return;
	}
	p->in_barrier = strcmp(name, BARRIER_RESUME) && strcmp(name, BARRIER_ABORT);
	/* The coordinator has taken this process over: it follows its own barriers now. */
	p->born_held = 0;
	if (!strcmp(name, BARRIER_SUSPEND)) {
		p->generation = gen;
		p->suspend_pending = 1;
		if (p->phase == PP_RUNNING) {
			suspend_begin(p);
		} else if (p->phase == PP_SUSPENDED) {
			/* held from birth, or a repeated suspend: already there */
			p->suspend_pending = 0;
			peer_barrier_done(p, BARRIER_SUSPEND, 0, NULL, NULL);
		} else {
			suspend_check(p);
		}
		suspend_tree(tr, gen);
		return;
	}
	if (!strcmp(name, BARRIER_RESUME) || !strcmp(name, BARRIER_ABORT)) {
		memset(&step, 0, sizeof(step));
		step.generation = p->generation;
		if (p->phase == PP_SUSPENDED) {
			r = !strcmp(name, BARRIER_ABORT) ? ckpt_abort(p, &step)
							 : ckpt_resume(p, &step);
			if (r < 0)
				pr_err("pid %d: checkpoint step '%s' failed: %s", p->pid, name,
				       step.reason[0] ? step.reason : strerror(-r));
		}
		if (!strcmp(name, BARRIER_ABORT))
			p->ckpts_failed++;
		else if (p->committed)
			p->ckpts_done++;
		p->committed = 0;
		/* Let go whatever is held even if the hook failed: never leave it stopped. */
		resume_proc(p);
		peer_barrier_done(p, name, r, step.reason, NULL);
		close_idle_ghosts(tr);
		return;
	}
	if (!strcmp(name, BARRIER_DRAIN))
		run_step(p, name, ckpt_drain);
	else if (!strcmp(name, BARRIER_CHECKPOINT))
		run_step(p, name, ckpt_write);
	else if (!strcmp(name, BARRIER_COMMIT)) {
		p->committed = 1;
		run_step(p, name, ckpt_commit);
	}
	else if (!strcmp(name, BARRIER_REFILL))
		run_step(p, name, ckpt_refill);
	else if (!(tr->on_barrier && tr->on_barrier(tr, p, name, gen, tr->on_barrier_arg))) {
		char why[128];

		snprintf(why, sizeof(why), "unknown barrier '%s'", name);
		pr_warn("pid %d: %s", p->pid, why);
		peer_barrier_done(p, name, -EINVAL, why, NULL);
	}
}

static void on_message(struct tracee_proc *p, const struct proto_in *in)
{
	const char *s;
	uint64_t v;

	switch (in->type) {
	case MSG_WELCOME:
		p->welcomed = 1;
		p->connecting = 0;
		p->tracer->connect_failed = 0;
		if (proto_get_u64(in, F_PEER_ID, &v) == 0)
			p->peer_id = v;
		if ((s = proto_get_str(in, F_COMPID)))
			snprintf(p->compid, sizeof(p->compid), "%s", s);
		if ((s = proto_get_str(in, F_CKPTDIR)))
			snprintf(p->ckptdir, sizeof(p->ckptdir), "%s", s);
		if (proto_get_u64(in, F_INTERVAL, &v) == 0)
			p->interval = v;
		break;
	case MSG_REFUSE:
		s = proto_get_str(in, F_REASON);
		pr_err("pid %d: the coordinator refused this process: %s", p->pid, s ? s : "?");
		peer_close(p);
		break;
	case MSG_BARRIER:
		s = proto_get_str(in, F_BARRIER);
		if (!s || proto_get_u64(in, F_GENERATION, &v) < 0) {
			pr_warn("pid %d: BARRIER without a name or generation; ignored", p->pid);
			break;
		}
		on_barrier(p, s, v);
		break;
	case MSG_KILL:
		if (p->ghost)
			break; /* gone already, and its pid may be someone else's by now */
		pr_debug("pid %d: killed on the coordinator's request", p->pid);
		kill(p->pid, SIGKILL);
		break;
	default:
		pr_debug("pid %d: ignoring %s from the coordinator", p->pid,
			 proto_type_name(in->type));
		break;
	}
}

/*
 * Serve the messages already read. A late joiner gets its missed barriers all at once
 * (suspend, drain, ...): while its suspend is still under way the rest wait in the buffer,
 * and suspend_check() calls this again once the process is stopped.
 */
void peer_serve_buffered(struct tracee_proc *p)
{
	struct proto_in in;
	const char *why = NULL;
	int r;

	while (p->conn_open && !(p->phase == PP_SUSPENDING && p->suspend_pending)) {
		r = proto_conn_next(&p->conn, &in, &why);
		if (r == 0)
			break;
		if (r < 0) {
			pr_err("pid %d: invalid message from the coordinator: %s", p->pid,
			       why ? why : strerror(-r));
			peer_close(p);
			return;
		}
		on_message(p, &in);
		proto_in_free(&in);
	}
}

void peer_input(struct tracee_proc *p)
{
	int r, lost;

	r = proto_conn_fill(&p->conn);
	lost = r == 0 || (r < 0 && r != -EAGAIN);
	/* Messages already buffered are served even when the connection just ended. */
	peer_serve_buffered(p);
	if (lost && p->conn_open) {
		/* The program keeps running; it is just no longer checkpointable. */
		if (p->connecting) {
			peer_fail(p, NULL, r < 0 ? -r : ECONNRESET);
		} else {
			pr_warn("pid %d: lost the connection to the coordinator", p->pid);
			peer_close(p);
		}
	}
}

void peer_output(struct tracee_proc *p)
{
	int r = proto_conn_flush(&p->conn);

	if (r < 0)
		peer_fail(p, "cannot write to the coordinator", -r);
}
