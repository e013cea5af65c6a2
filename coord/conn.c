/*
 * The coordinator's connections: accepting, reading and validating messages, the HELLO
 * handshake that makes a connection a peer (one process of the computation) or a client
 * (dmtcp_command), and dispatching what each side may send. A connection that sends anything
 * malformed or out of place is closed with one log line naming the reason; for a peer that
 * counts as the process leaving.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "coord.h"
#include "log.h"
#include "testhook.h"

#define MAX_PENDING_OUT (16u << 20)
/* A connection has this long to prove it knows the key, so that silent ones do not pile up. */
#define AUTH_TIMEOUT_MS 10000

/* "127.0.0.1:40404", "[::1]:40404" */
static void format_addr(const struct sockaddr_storage *sa, socklen_t len, char *buf, size_t n)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(buf, n, "%s:%d", host, port);
	} else if (sa->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		port = ntohs(a->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			/* an IPv4 client of our dual-stack socket: shown as IPv4 */
			inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(buf, n, "%s:%d", host, port);
		} else {
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			snprintf(buf, n, "[%s]:%d", host, port);
		}
	} else {
		snprintf(buf, n, "an unknown address");
	}
}

struct conn *coord_accept(struct coord *co)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	struct conn *c, **pp;
	int fd, one = 1;

	fd = accept4(co->listen_fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			pr_warn("accept on port %d: %s", co->port, strerror(errno));
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	if (!c) {
		pr_err("out of memory accepting a connection");
		close(fd);
		return NULL;
	}
	proto_conn_init(&c->pc, fd);
	c->sent_upto = -1;
	c->auth = AUTH_HELLO;
	c->auth_deadline_ms = mono_now_ms() + AUTH_TIMEOUT_MS;
	format_addr(&sa, salen, c->addr, sizeof(c->addr));
	coord_progress_init_peer(c);
	snprintf(c->name, sizeof(c->name), "connection from %s", c->addr);
	/* Appended, so that lists and the restart script follow the order of arrival. */
	for (pp = &co->conns; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	return c;
}

void coord_send(struct coord *co, struct conn *c, struct proto_msg *m)
{
	int ret;

	if (c->dead)
		return;
	/* A connection that does not read what it is sent must not make us hoard memory. */
	if (c->pc.wlen > MAX_PENDING_OUT) {
		coord_close_conn(co, c, "not reading its messages (output queue full)");
		return;
	}
	ret = proto_finish(m);
	if (!ret)
		ret = proto_conn_queue(&c->pc, m);
	if (ret) {
		coord_close_conn(co, c, "cannot queue a message");
		return;
	}
	/* Try at once; the rest goes out when poll says the socket is writable. */
	ret = proto_conn_flush(&c->pc);
	if (ret < 0)
		coord_close_conn(co, c, strerror(-ret));
}

void coord_close_conn(struct coord *co, struct conn *c, const char *why)
{
	if (c->dead)
		return;
	if (why)
		pr_info("%s closed: %s", c->name, why);
	c->dead = true;
	close(c->pc.fd);
	c->pc.fd = -1;
	proto_in_free(&c->hello);
	memset(&c->hello, 0, sizeof(c->hello));
	coord_kv_forget_conn(co, c);
	if (c->role == ROLE_PEER) {
		coord_where_peer_left(co, c);
		coord_peer_left(co, c);
	}
}

int coord_num_peers(const struct coord *co)
{
	int n = 0;

	for (const struct conn *c = co->conns; c; c = c->next)
		if (c->role == ROLE_PEER && !c->dead)
			n++;
	return n;
}

bool coord_all_running(const struct coord *co)
{
	int n = 0;

	if (co->state != CS_RUNNING || co->run.kind != RUN_NONE)
		return false;
	for (const struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead || c->exited)
			continue;
		if (strcmp(c->state, "RUNNING"))
			return false;
		n++;
	}
	return n > 0;
}

void coord_kill_peers(struct coord *co)
{
	for (struct conn *c = co->conns; c; c = c->next) {
		struct proto_msg m;

		if (c->role != ROLE_PEER || c->dead)
			continue;
		proto_msg_init(&m, MSG_KILL);
		coord_send(co, c, &m);
		proto_msg_free(&m);
	}
}

int coord_detach_peers(struct coord *co, const char **why)
{
	static char msg[600];
	struct conn *c;
	int n = 0;

	if (co->state != CS_RUNNING || co->run.kind != RUN_NONE) {
		*why = "a checkpoint or a restart is running: detach once it is over";
		return -EBUSY;
	}
	for (c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead || c->exited)
			continue;
		if (!c->detachable) {
			snprintf(msg, sizeof(msg),
				 "%.60s[%llu]@%.60s runs under the seccomp filter of dmtcp_launch or "
				 "dmtcp_restart, which cannot be taken off: it cannot run without its "
				 "tracer (only processes taken with dmtcp_launch --attach, and their "
				 "restarts, can be let go); nothing was detached",
				 c->prog, (unsigned long long)c->pid, c->host);
			*why = msg;
			return -EPERM;
		}
		n++;
	}
	if (!n) {
		*why = "no process to detach";
		return -ESRCH;
	}
	for (c = co->conns; c; c = c->next) {
		struct proto_msg m;

		if (c->role != ROLE_PEER || c->dead || c->exited)
			continue;
		proto_msg_init(&m, MSG_DETACH);
		coord_send(co, c, &m);
		proto_msg_free(&m);
	}
	return n;
}

static void send_refuse(struct coord *co, struct conn *c, const char *reason)
{
	struct proto_msg m;

	pr_warn("%s refused: %s", c->name, reason);
	proto_msg_init(&m, MSG_REFUSE);
	proto_put_str(&m, F_REASON, reason);
	coord_send(co, c, &m);
	proto_msg_free(&m);
	c->closing = true;
}

/*
 * Names end up in tab-separated F_PEER lines, the list, JSON and the restart script: keep
 * control characters out of them (a comm may hold anything).
 */
static void copy_printable(char *dst, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < n && s[i]; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	dst[i] = '\0';
}

/* Copy a required string field; false (with *why) when missing or too long. */
static bool take_str(const struct proto_in *in, uint16_t tag, char *dst, size_t n, bool need,
		     const char **why)
{
	const char *s = proto_get_str(in, tag);

	if (!s) {
		if (need) {
			*why = "peer HELLO without a required field";
			return false;
		}
		return true;
	}
	if (strlen(s) >= n || (need && !*s)) {
		*why = "peer HELLO field empty or too long";
		return false;
	}
	copy_printable(dst, n, s);
	return true;
}

static bool valid_state(const char *s)
{
	static const char *const ok[] = { "RUNNING", "SUSPENDED", "CHECKPOINTED", "RESTARTING",
					  "STOPPED", "EXITED" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(s, ok[i]))
			return true;
	return false;
}

/* Decide whether a new peer may join, and which computation it joins. */
static const char *admit_peer(struct coord *co, struct conn *c, const char *compid,
			      uint64_t num_expected)
{
	static char reason[256];
	int npeers = coord_num_peers(co) - 1; /* not counting c itself */

	if (compid && !check_id_syntax(compid))
		return "malformed computation id";
	if (c->restarted) {
		if (!compid)
			return "restarted process without a computation id";
		if (num_expected == 0 || num_expected > 1000000)
			return "restarted process with an invalid number of expected processes";
		if (co->state == CS_RESTARTING && co->run.kind == RUN_NONE) {
			if (strcmp(co->compid, compid)) {
				snprintf(reason, sizeof(reason),
					 "restart of computation %s in progress; cannot also "
					 "restart %s",
					 co->compid, compid);
				return reason;
			}
			if (num_expected != co->num_expected)
				return "restarted processes disagree on the number of processes";
			return NULL;
		}
		if (npeers > 0 || co->run.kind != RUN_NONE) {
			snprintf(reason, sizeof(reason),
				 "computation %s is running here; cannot restart %s", co->compid,
				 compid);
			return reason;
		}
		/* A fresh (or idle) coordinator adopts the images' computation. */
		snprintf(co->compid, sizeof(co->compid), "%s", compid);
		coord_kv_clear(co);
		co->num_expected = num_expected;
		co->state = CS_RESTARTING;
		return NULL;
	}
	if (co->state == CS_RESTARTING || co->run.kind == RUN_RESTART)
		return "a restart is in progress; new processes cannot join until it completes";
	if (npeers == 0 && co->run.kind == RUN_NONE) {
		/* First process of a new computation. */
		if (compid)
			snprintf(co->compid, sizeof(co->compid), "%s", compid);
		else
			format_compid(co->compid, sizeof(co->compid));
		coord_kv_clear(co);
		return NULL;
	}
	if (compid && strcmp(compid, co->compid)) {
		snprintf(reason, sizeof(reason), "process of computation %s cannot join computation %s",
			 compid, co->compid);
		return reason;
	}
	return NULL;
}

static int handle_peer_hello(struct coord *co, struct conn *c, const struct proto_in *in,
			     const char **why)
{
	const char *compid = proto_get_str(in, F_COMPID);
	const char *refusal;
	uint64_t v = 0, num_expected = 0;
	struct proto_msg m;

	if (!take_str(in, F_PROG, c->prog, sizeof(c->prog), true, why) ||
	    !take_str(in, F_HOST, c->host, sizeof(c->host), true, why) ||
	    !take_str(in, F_UNIQUEPID, c->uniquepid, sizeof(c->uniquepid), true, why) ||
	    !take_str(in, F_STATE, c->state, sizeof(c->state), true, why))
		return -EPROTO;
	if (proto_get_u64(in, F_PID, &c->pid) || proto_get_u64(in, F_PPID, &c->ppid)) {
		*why = "peer HELLO without F_PID / F_PPID";
		return -EPROTO;
	}
	if (c->pid == 0 || c->pid > 0x7fffffff || c->ppid > 0x7fffffff) {
		*why = "peer HELLO with an invalid pid";
		return -EPROTO;
	}
	if (!valid_state(c->state)) {
		*why = "peer HELLO with an unknown F_STATE";
		return -EPROTO;
	}
	if (!check_id_syntax(c->uniquepid)) {
		*why = "peer HELLO with a malformed F_UNIQUEPID";
		return -EPROTO;
	}
	if (!proto_get_u64(in, F_RESTART, &v) && v > 1) {
		*why = "F_RESTART is neither 0 nor 1";
		return -EPROTO;
	}
	c->restarted = v == 1;
	v = 0;
	if (!proto_get_u64(in, F_DETACHABLE, &v) && v > 1) {
		*why = "F_DETACHABLE is neither 0 nor 1";
		return -EPROTO;
	}
	c->detachable = v == 1;
	proto_get_u64(in, F_NUM_EXPECTED, &num_expected);

	c->role = ROLE_PEER;
	c->id = ++co->next_peer_id;
	snprintf(c->name, sizeof(c->name), "peer %llu (%.20s pid %llu)", (unsigned long long)c->id,
		 c->prog, (unsigned long long)c->pid);
	refusal = admit_peer(co, c, compid, num_expected);
	if (refusal) {
		/* Not a member: it must not count as a peer leaving when it is closed. */
		c->role = ROLE_NONE;
		send_refuse(co, c, refusal);
		return 0;
	}
	co->ever_had_peer = true;
	co->stale_since_ms = -1;
	/* dmtcp_launch -i / dmtcp_restart -i: the computation asks for its interval. */
	if (!proto_get_u64(in, F_INTERVAL, &v) && v <= 100ULL * 365 * 24 * 3600 &&
	    (long)v != co->interval) {
		co->interval = (long)v;
		co->timer_dirty = true;
		pr_info("%s set the checkpoint interval to %ld s", c->name, co->interval);
	}
	proto_msg_init(&m, MSG_WELCOME);
	proto_put_u64(&m, F_PEER_ID, c->id);
	proto_put_str(&m, F_COMPID, co->compid);
	proto_put_str(&m, F_CKPTDIR, co->o.ckptdir);
	proto_put_u64(&m, F_INTERVAL, (uint64_t)co->interval);
	coord_send(co, c, &m);
	proto_msg_free(&m);
	pr_info("%s joined computation %s%s (%d peers)", c->name, co->compid,
		c->restarted ? " as a restarted process" : "", coord_num_peers(co));
	if (c->restarted) {
		coord_start_restart(co);
	} else if (co->run.kind == RUN_CKPT) {
		coord_peer_joined_run(co, c);
	}
	coord_state_changed(co);
	return 0;
}

static void handle_client_command(struct coord *co, struct conn *c, const struct proto_in *in)
{
	const char *cmd = proto_get_str(in, F_CMD);
	struct proto_msg m;
	uint64_t arg = 0;
	bool has_arg = proto_get_u64(in, F_ARG, &arg) == 0;
	bool deferred;

	proto_msg_init(&m, MSG_COMMAND_REPLY);
	if (!cmd) {
		proto_put_u64(&m, F_STATUS, (uint64_t)(int64_t)-EINVAL);
		proto_put_str(&m, F_REASON, "COMMAND without F_CMD");
		coord_send(co, c, &m);
		proto_msg_free(&m);
		return;
	}
	/* A deferred reply goes when what it waits for is over (c->wait says what). */
	deferred = coord_run_command(co, cmd, arg, has_arg, &m, c);
	if (!deferred)
		coord_send(co, c, &m);
	proto_msg_free(&m);
	if (co->quit)
		c->closing = true;
}

static int handle_msg(struct coord *co, struct conn *c, const struct proto_in *in,
		      const char **why)
{
	if (c->role == ROLE_NONE) {
		const char *role = proto_get_str(in, F_ROLE);

		if (in->type != MSG_HELLO) {
			*why = "first message is not HELLO";
			return -EPROTO;
		}
		if (!role) {
			*why = "HELLO without F_ROLE";
			return -EPROTO;
		}
		if (!strcmp(role, "client")) {
			c->role = ROLE_CLIENT;
			snprintf(c->name, sizeof(c->name), "client %s", c->addr);
			return 0;
		}
		if (!strcmp(role, "peer"))
			return handle_peer_hello(co, c, in, why);
		*why = "HELLO with an unknown F_ROLE";
		return -EPROTO;
	}
	if (in->type == MSG_HELLO) {
		*why = "second HELLO on one connection";
		return -EPROTO;
	}
	if (c->role == ROLE_CLIENT) {
		if (in->type != MSG_COMMAND) {
			*why = "a client may only send COMMAND";
			return -EPROTO;
		}
		handle_client_command(co, c, in);
		return 0;
	}
	switch (in->type) {
	case MSG_PEER_UPDATE: {
		const char *s;

		s = proto_get_str(in, F_STATE);
		if (s && !valid_state(s)) {
			*why = "PEER_UPDATE with an unknown F_STATE";
			return -EPROTO;
		}
		if (s && !c->exited)
			snprintf(c->state, sizeof(c->state), "%s", s);
		if (s && !strcmp(s, "EXITED"))
			c->exited = true;
		s = proto_get_str(in, F_PROG);
		if (s) {
			if (!*s || strlen(s) >= sizeof(c->prog)) {
				*why = "PEER_UPDATE with an empty or too long F_PROG";
				return -EPROTO;
			}
			copy_printable(c->prog, sizeof(c->prog), s);
		}
		/* Why its answer to the barrier will be late; "" clears it, an answer too. */
		s = proto_get_str(in, F_WAITING);
		if (s)
			copy_printable(c->waiting, sizeof(c->waiting), s);
		proto_get_u64(in, F_PID, &c->pid);
		coord_state_changed(co);
		return 0;
	}
	case MSG_BARRIER_DONE: {
		const char *b = proto_get_str(in, F_BARRIER);
		uint64_t g, st;

		if (!b || proto_get_u64(in, F_GENERATION, &g) || proto_get_u64(in, F_STATUS, &st)) {
			*why = "BARRIER_DONE without F_BARRIER, F_GENERATION or F_STATUS";
			return -EPROTO;
		}
		coord_barrier_done(co, c, in);
		return 0;
	}
	case MSG_KV_PUT: {
		const char *k = proto_get_str(in, F_KEY), *v = proto_get_str(in, F_VALUE);

		if (!k || !v || !*k) {
			*why = "KV_PUT without F_KEY or F_VALUE";
			return -EPROTO;
		}
		coord_kv_put(co, k, v);
		return 0;
	}
	case MSG_KV_GET: {
		const char *k = proto_get_str(in, F_KEY);
		uint64_t tmo = 0;
		bool wait = proto_get_u64(in, F_TIMEOUT_MS, &tmo) == 0;

		if (!k || !*k) {
			*why = "KV_GET without F_KEY";
			return -EPROTO;
		}
		coord_kv_get(co, c, k, wait, tmo);
		return 0;
	}
	case MSG_CKPT_PROGRESS: {
		uint64_t g, b;

		if (proto_get_u64(in, F_GENERATION, &g) || proto_get_u64(in, F_BYTES, &b)) {
			*why = "CKPT_PROGRESS without F_GENERATION or F_BYTES";
			return -EPROTO;
		}
		coord_progress_bytes(co, c, g, b);
		return 0;
	}
	case MSG_WHERE_REPLY: {
		uint64_t id, st;

		if (proto_get_u64(in, F_WHERE_ID, &id) || proto_get_u64(in, F_STATUS, &st)) {
			*why = "WHERE_REPLY without F_WHERE_ID or F_STATUS";
			return -EPROTO;
		}
		coord_where_reply(co, c, in);
		return 0;
	}
		case MSG_CKPT_REQUEST: {
		const char *err = NULL;

		if (coord_start_ckpt(co, co->o.kill_after_ckpt, &err))
			pr_warn("checkpoint requested by %s not started: %s", c->name, err);
		return 0;
	}
	default:
		*why = "message type a peer may not send";
		return -EPROTO;
	}
}

/*
 * The handshake (coordauth.h): the HELLO is held and answered with CHALLENGE; the AUTH that
 * follows must prove the key, and only then is the HELLO acted on. A wrong proof gets a
 * REFUSE and a log line naming the address, and nothing else. Takes *in (which the caller
 * must not free when it returns 1: held). Returns 0 handled, 1 held, -EPROTO with *why.
 */
static int authenticate(struct coord *co, struct conn *c, struct proto_in *in, const char **why)
{
	const char *s, *role;
	struct proto_msg m;
	char proof[COORD_HEX_LEN + 1];
	int r;

	if (c->auth == AUTH_HELLO) {
		role = proto_get_str(in, F_ROLE);
		s = proto_get_str(in, F_NONCE);
		if (in->type != MSG_HELLO) {
			*why = "first message is not HELLO";
			return -EPROTO;
		}
		if (!role || (strcmp(role, "peer") && strcmp(role, "client"))) {
			*why = "HELLO without a known F_ROLE";
			return -EPROTO;
		}
		if (!s || strlen(s) != COORD_HEX_LEN) {
			*why = "HELLO without F_NONCE (a client of an older protocol?)";
			return -EPROTO;
		}
		snprintf(c->cnonce, sizeof(c->cnonce), "%s", s);
		coord_nonce_hex(c->snonce);
		if (coord_auth_proof(&co->key, true, c->snonce, c->cnonce, proof)) {
			*why = "HELLO with a malformed F_NONCE";
			return -EPROTO;
		}
		c->hello = *in;
		memset(in, 0, sizeof(*in));
		c->auth = AUTH_WAIT;
		testhook_step_delay("coord-challenge");
		proto_msg_init(&m, MSG_CHALLENGE);
		proto_put_str(&m, F_NONCE, c->snonce);
		proto_put_str(&m, F_AUTH, proof);
		coord_send(co, c, &m);
		proto_msg_free(&m);
		return 1;
	}
	if (in->type != MSG_AUTH) {
		*why = "message before AUTH";
		return -EPROTO;
	}
	if (!coord_auth_check(&co->key, false, c->snonce, c->cnonce, proto_get_str(in, F_AUTH))) {
		pr_warn("%s refused: it does not know the coordinator's key (authentication "
			"failed)", c->name);
		proto_msg_init(&m, MSG_REFUSE);
		proto_put_str(&m, F_REASON, "authentication failed: wrong coordinator key");
		coord_send(co, c, &m);
		proto_msg_free(&m);
		c->closing = true;
		return 0;
	}
	c->auth = AUTH_OK;
	r = handle_msg(co, c, &c->hello, why);
	proto_in_free(&c->hello);
	memset(&c->hello, 0, sizeof(c->hello));
	if (r < 0) {
		char msg[200];

		/* the HELLO was what was wrong, not the AUTH that let it through */
		snprintf(msg, sizeof(msg), "invalid HELLO message: %s", *why);
		coord_close_conn(co, c, msg);
		return 0;
	}
	return r;
}

void coord_auth_expire(struct coord *co, long now_ms)
{
	for (struct conn *c = co->conns; c; c = c->next)
		if (!c->dead && c->auth != AUTH_OK && !c->closing && now_ms >= c->auth_deadline_ms)
			coord_close_conn(co, c, "did not authenticate in time");
}

long coord_auth_next_deadline(const struct coord *co)
{
	long d = -1;

	for (const struct conn *c = co->conns; c; c = c->next)
		if (!c->dead && c->auth != AUTH_OK && !c->closing &&
		    (d < 0 || c->auth_deadline_ms < d))
			d = c->auth_deadline_ms;
	return d;
}

void coord_handle_input(struct coord *co, struct conn *c)
{
	struct proto_in in;
	const char *why;
	int r;

	r = proto_conn_fill(&c->pc);
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		coord_close_conn(co, c, strerror(-r));
		return;
	}
	/* Parse what is complete even when the peer closed right after sending it. */
	for (;;) {
		int n = proto_conn_next(&c->pc, &in, &why);

		if (n == 0)
			break;
		if (n < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "invalid input: %s", why ? why : strerror(-n));
			coord_close_conn(co, c, msg);
			return;
		}
		if (c->closing) {
			/* After REFUSE or q nothing more is read from it. */
			proto_in_free(&in);
			continue;
		}
		n = c->auth == AUTH_OK ? handle_msg(co, c, &in, &why) : authenticate(co, c, &in, &why);
		if (n < 0) {
			char msg[200];

			snprintf(msg, sizeof(msg), "invalid %s message: %s", proto_type_name(in.type),
				 why);
			proto_in_free(&in);
			coord_close_conn(co, c, msg);
			return;
		}
		proto_in_free(&in);
		if (c->dead)
			return;
	}
	if (r == 0) {
		if (c->pc.rlen)
			coord_close_conn(co, c, "connection closed in the middle of a message");
		else
			coord_close_conn(co, c, c->role == ROLE_PEER ? "disconnected" : NULL);
	}
}
