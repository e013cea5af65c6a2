/*
 * dmtcp_command --where on the coordinator's side: ask every process where its threads are
 * (MSG_WHERE), gather the answers for at most WHERE_TIMEOUT_MS, then give each client that
 * asked one MSG_WHERE_PART per process, in the list's order, and the COMMAND_REPLY. A process
 * that does not answer in time, or leaves first, is reported as such: the command never waits
 * longer than the bound. One request gathers at a time; a client that asks meanwhile gets the
 * same answer. See docs/protocol.md, "Where the threads are".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "coord.h"
#include "log.h"

/* How long the coordinator waits for the answers, and how long a tracer may wait for the
 * threads to stop (less, so that a slow thread is reported by its tracer, not as silence). */
#define WHERE_TIMEOUT_MS 5000
#define WHERE_STOP_MS	 2000
/* A part stays inside PROTO_MAX_PAYLOAD with room for the process's list line; the parts of
 * one answer stay well inside a connection's output bound (MAX_PENDING_OUT in conn.c). */
#define WHERE_PART_MAX	(PROTO_MAX_PAYLOAD - (16u << 10))
#define WHERE_TOTAL_MAX (8u << 20)

struct where_slot {
	uint64_t peer_id;
	bool done;		/* its part is built: answered, left, or timed out */
	struct proto_msg part;
};

static struct where_slot *slot_of(const struct coord *co, const struct conn *c)
{
	for (int i = 0; i < co->where.nslots; i++)
		if (co->where.slots[i].peer_id == c->id)
			return &co->where.slots[i];
	return NULL;
}

/*
 * s's part: the process's list line, status, reason, and from its tracer's answer (in, may be
 * NULL) its note and lines. Lines that would pass the part's or the whole answer's bound are
 * left out, and the note says so.
 */
static void build_part(struct coord *co, struct where_slot *s, const struct conn *c, int64_t status,
		       const char *reason, const struct proto_in *in)
{
	struct proto_msg *m = &s->part;
	const char *peer_note = in ? proto_get_str(in, F_NOTE) : NULL;
	const char *cut = NULL;
	char line[PATH_MAX + 1024];

	proto_msg_init(m, MSG_WHERE_PART);
	coord_peer_line(c, line, sizeof(line));
	proto_put_str(m, F_PEER, line);
	proto_put_u64(m, F_STATUS, (uint64_t)status);
	if (reason)
		proto_put_strn(m, F_REASON, reason, strnlen(reason, 512));
	if (in && co->where.bytes >= WHERE_TOTAL_MAX)
		cut = "lines left out: the whole answer passed 8 MiB";
	for (uint32_t i = 0; in && !cut && i < in->nfields; i++) {
		const struct proto_field *f = &in->fields[i];

		if (f->tag != F_THREAD && f->tag != F_FRAME)
			continue;
		if (m->len + 8 + f->len > WHERE_PART_MAX) {
			cut = "lines left out: the answer is too long";
			break;
		}
		proto_put_strn(m, f->tag, (const char *)f->val, f->len);
	}
	if (peer_note || cut) {
		char note[600];

		snprintf(note, sizeof(note), "%.256s%s%s", peer_note ? peer_note : "",
			 peer_note && cut ? "; " : "", cut ? cut : "");
		proto_put_str(m, F_NOTE, note);
	}
	if (proto_finish(m)) {
		/* Cannot happen within the bounds above; never send a broken part. */
		proto_msg_free(m);
		proto_msg_init(m, MSG_WHERE_PART);
		proto_put_str(m, F_PEER, line);
		proto_put_u64(m, F_STATUS, (uint64_t)(int64_t)-ENOMEM);
		proto_put_str(m, F_REASON, "cannot build this process's part of the answer");
		proto_finish(m);
	}
	co->where.bytes += m->len;
	s->done = true;
	co->where.nwaiting--;
}

static void free_run(struct coord *co)
{
	for (int i = 0; i < co->where.nslots; i++)
		proto_msg_free(&co->where.slots[i].part);
	free(co->where.slots);
	co->where.slots = NULL;
	co->where.nslots = 0;
	co->where.active = false;
}

/* Every process answered, left, or ran out of time: tell the clients that wait. */
static void finish(struct coord *co)
{
	char why[64];
	int answered = co->where.nslots - co->where.nwaiting;

	snprintf(why, sizeof(why), "no answer within %.1f s", WHERE_TIMEOUT_MS / 1000.0);
	for (int i = 0; i < co->where.nslots; i++) {
		struct where_slot *s = &co->where.slots[i];

		if (s->done)
			continue;
		for (struct conn *c = co->conns; c; c = c->next)
			if (c->role == ROLE_PEER && !c->dead && c->id == s->peer_id) {
				pr_warn("%s did not answer --where within %.1f s", c->name,
					WHERE_TIMEOUT_MS / 1000.0);
				build_part(co, s, c, -ETIMEDOUT, why, NULL);
				break;
			}
	}
	pr_info("--where %llu: %d of %d processes answered in %ld ms",
		(unsigned long long)co->where.id, answered, co->where.nslots,
		mono_now_ms() - co->where.start_ms);
	for (struct conn *c = co->conns; c; c = c->next) {
		struct proto_msg m;

		if (c->role != ROLE_CLIENT || c->dead || c->wait != WAIT_WHERE)
			continue;
		c->wait = WAIT_NONE;
		for (int i = 0; i < co->where.nslots; i++)
			if (co->where.slots[i].done)
				coord_send(co, c, &co->where.slots[i].part);
		proto_msg_init(&m, MSG_COMMAND_REPLY);
		proto_put_u64(&m, F_STATUS, 0);
		coord_put_status(co, &m);
		coord_send(co, c, &m);
		proto_msg_free(&m);
	}
	free_run(co);
}

static void check_done(struct coord *co)
{
	if (co->where.active && !co->where.starting && co->where.nwaiting == 0)
		finish(co);
}

int coord_where_start(struct coord *co, struct conn *client, const char **why)
{
	int n = 0, npeers = coord_num_peers(co);

	if (co->where.active) {
		client->wait = WAIT_WHERE; /* the answer being gathered is theirs too */
		return 0;
	}
	if (co->run.kind == RUN_CKPT) {
		*why = "a checkpoint is in progress; ask again when it is over";
		return -EBUSY;
	}
	if (co->run.kind == RUN_RESTART || co->state == CS_RESTARTING) {
		*why = "a restart is in progress; ask again when it is over";
		return -EBUSY;
	}
	if (npeers == 0) {
		*why = "no processes are connected";
		return -ENOENT;
	}
	co->where.slots = calloc((size_t)npeers, sizeof(*co->where.slots));
	if (!co->where.slots) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (struct conn *c = co->conns; c; c = c->next)
		if (c->role == ROLE_PEER && !c->dead && n < npeers)
			co->where.slots[n++].peer_id = c->id;
	co->where.active = true;
	co->where.starting = true;
	co->where.id = ++co->where_requests;
	co->where.nslots = co->where.nwaiting = n;
	co->where.bytes = 0;
	co->where.start_ms = mono_now_ms();
	co->where.deadline_ms = co->where.start_ms + WHERE_TIMEOUT_MS;
	client->wait = WAIT_WHERE;
	pr_info("--where %llu: asking %d processes", (unsigned long long)co->where.id, n);
	for (int i = 0; i < n; i++) {
		struct proto_msg m;

		for (struct conn *c = co->conns; c; c = c->next) {
			if (c->role != ROLE_PEER || c->dead || c->id != co->where.slots[i].peer_id)
				continue;
			proto_msg_init(&m, MSG_WHERE);
			proto_put_u64(&m, F_WHERE_ID, co->where.id);
			proto_put_u64(&m, F_TIMEOUT_MS, WHERE_STOP_MS);
			coord_send(co, c, &m); /* a failure closes c: it counts as left */
			proto_msg_free(&m);
			break;
		}
	}
	co->where.starting = false;
	check_done(co);
	return 0;
}

void coord_where_reply(struct coord *co, struct conn *c, const struct proto_in *in)
{
	uint64_t id = 0, st = 0;
	struct where_slot *s;

	proto_get_u64(in, F_WHERE_ID, &id);
	proto_get_u64(in, F_STATUS, &st);
	if (!co->where.active || id != co->where.id || !(s = slot_of(co, c))) {
		pr_debug("%s: late --where answer %llu ignored", c->name, (unsigned long long)id);
		return;
	}
	if (s->done) {
		pr_warn("%s answered --where %llu twice; ignored", c->name, (unsigned long long)id);
		return;
	}
	build_part(co, s, c, (int64_t)st, st ? proto_get_str(in, F_REASON) : NULL, in);
	check_done(co);
}

void coord_where_peer_left(struct coord *co, struct conn *c)
{
	struct where_slot *s;

	if (!co->where.active || !(s = slot_of(co, c)) || s->done)
		return;
	build_part(co, s, c, -ECONNRESET, "the process left before answering", NULL);
	check_done(co);
}

long coord_where_deadline(const struct coord *co)
{
	return co->where.active ? co->where.deadline_ms : -1;
}

void coord_where_expire(struct coord *co, long now_ms)
{
	if (co->where.active && !co->where.starting && now_ms >= co->where.deadline_ms)
		finish(co);
}
