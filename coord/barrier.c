/*
 * Barrier runs: the checkpoint (suspend, drain, checkpoint, commit, refill, resume) and the
 * restart (restart, refill, resume). For each barrier the coordinator sends MSG_BARRIER to
 * every peer taking part and waits for MSG_BARRIER_DONE from each. Until commit completes, a
 * failure or a departure aborts the checkpoint: the remaining peers get BARRIER_ABORT (drop
 * the temporary image, refill, resume) and no restart script is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "coord.h"
#include "log.h"
#include "testhook.h"

static const char *const ckpt_seq[] = { BARRIER_SUSPEND, BARRIER_DRAIN,	 BARRIER_CHECKPOINT,
					BARRIER_COMMIT,	 BARRIER_REFILL, BARRIER_RESUME };
static const char *const restart_seq[] = { BARRIER_RESTART, BARRIER_REFILL, BARRIER_RESUME };

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char *coord_state_name(enum comp_state s)
{
	switch (s) {
	case CS_RUNNING:
		return "RUNNING";
	case CS_SUSPENDED:
		return "SUSPENDED";
	case CS_CHECKPOINTED:
		return "CHECKPOINTED";
	case CS_RESTARTING:
		return "RESTARTING";
	}
	return "?";
}

static const char *current_barrier(const struct coord *co)
{
	return co->run.aborting ? BARRIER_ABORT : co->run.seq[co->run.idx];
}

/* The images this checkpoint wrote: one per member that reported one at the checkpoint
 * barrier (a process that exited before it was stopped answers without). */
static uint64_t run_images(const struct coord *co)
{
	uint64_t n = 0;

	for (const struct conn *c = co->conns; c; c = c->next)
		if (c->role == ROLE_PEER && !c->dead && c->in_run && c->image)
			n++;
	return n;
}

/*
 * The checkpoint barrier carries the checkpoint's id, stored in every image; the commit
 * barrier the number of images, known only then, which each process records in its image
 * before the rename: a restart can tell a complete set from a partly committed one.
 */
static void send_barrier(struct coord *co, struct conn *c, const char *name)
{
	struct proto_msg m;

	proto_msg_init(&m, MSG_BARRIER);
	proto_put_str(&m, F_BARRIER, name);
	proto_put_u64(&m, F_GENERATION, co->run.generation);
	if (co->run.kind == RUN_CKPT && !strcmp(name, BARRIER_CHECKPOINT))
		proto_put_u64(&m, F_CKPT_ID, co->run.ckpt_id);
	if (co->run.kind == RUN_CKPT && !strcmp(name, BARRIER_COMMIT)) {
		proto_put_u64(&m, F_CKPT_ID, co->run.ckpt_id);
		proto_put_u64(&m, F_NUM_PEERS, run_images(co));
	}
	coord_send(co, c, &m);
	proto_msg_free(&m);
}

/* Send the current barrier to every peer of the run, and forget who answered the last. */
static void broadcast_barrier(struct coord *co)
{
	const char *name = current_barrier(co);
	bool aborting = co->run.aborting;
	int idx = co->run.idx;

	pr_debug("barrier %s, generation %llu", name, (unsigned long long)co->run.generation);
	/*
	 * Forget every answer first: a send that fails closes its connection, and the departure
	 * re-checks completion, which must not see answers to the previous barrier.
	 */
	for (struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead || !c->in_run)
			continue;
		c->done = false;
		c->sent_upto = co->run.idx;
	}
	for (struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead || !c->in_run)
			continue;
		send_barrier(co, c, name);
		/* A departure above may have aborted or ended the run: stop sending this one. */
		if (co->run.kind == RUN_NONE || co->run.aborting != aborting || co->run.idx != idx)
			return;
	}
}

/* Tell the clients waiting for this checkpoint (bc/kc) how it ended. */
static void reply_waiters(struct coord *co, int status, const char *reason)
{
	for (struct conn *c = co->conns; c; c = c->next) {
		struct proto_msg m;

		if (c->role != ROLE_CLIENT || c->dead || c->wait != WAIT_CKPT_DONE)
			continue;
		c->wait = WAIT_NONE;
		proto_msg_init(&m, MSG_COMMAND_REPLY);
		proto_put_u64(&m, F_STATUS, (uint64_t)(int64_t)status);
		if (reason)
			proto_put_str(&m, F_REASON, reason);
		coord_put_status(co, &m);
		coord_send(co, c, &m);
		proto_msg_free(&m);
	}
}

static void finish_run(struct coord *co, bool ok)
{
	enum run_kind kind = co->run.kind;
	unsigned long long gen = co->run.generation;
	bool committed = co->run.committed;
	char why[sizeof(co->run.why)];

	snprintf(why, sizeof(why), "%s", co->run.why);
	for (struct conn *c = co->conns; c; c = c->next) {
		c->in_run = false;
		c->done = false;
		c->sent_upto = -1;
		coord_progress_reset_peer(c);
	}
	memset(&co->run, 0, sizeof(co->run));
	if (kind == RUN_CKPT && ok)
		coord_progress_succeeded(co);
	else if (kind == RUN_CKPT)
		coord_progress_failed(co, "checkpoint %llu %s: %s", gen,
				      committed ? "incomplete" : "aborted", why);
	co->state = CS_RUNNING;
	if (kind == RUN_RESTART && why[0]) {
		pr_warn("restart of computation %s failed: %s", co->compid, why);
	} else if (kind == RUN_RESTART) {
		pr_info("restart of computation %s complete", co->compid);
	} else if (ok) {
		pr_info("checkpoint %llu complete (%llu successful so far): %s", gen,
			(unsigned long long)co->ckpt_count, co->last_script);
		reply_waiters(co, 0, NULL);
	} else {
		reply_waiters(co, -ECANCELED, why);
	}
	coord_state_changed(co);
}

static void abort_ckpt(struct coord *co, const char *fmt, const char *a, const char *b)
{
	if (co->run.kind != RUN_CKPT || co->run.committed || co->run.aborting)
		return;
	snprintf(co->run.why, sizeof(co->run.why), fmt, a, b);
	pr_warn("checkpoint %llu aborted: %s", (unsigned long long)co->run.generation,
		co->run.why);
	co->run.aborting = true;
	co->state = CS_SUSPENDED;
	broadcast_barrier(co);
	coord_state_changed(co);
}

static int run_members(const struct coord *co, bool *all_done)
{
	int n = 0;

	*all_done = true;
	for (const struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead || !c->in_run)
			continue;
		n++;
		if (!c->done)
			*all_done = false;
	}
	return n;
}

/* The current barrier is complete: act on it and move to the next one. */
static void advance(struct coord *co)
{
	const char *name = current_barrier(co);
	char hook[48];
	int r;

	snprintf(hook, sizeof(hook), "coord-%s", name);
	testhook_step_delay(hook);
	if (co->run.aborting) {
		finish_run(co, false);
		return;
	}
	if (!strcmp(name, BARRIER_CHECKPOINT)) {
		co->state = CS_CHECKPOINTED;
	} else if (!strcmp(name, BARRIER_COMMIT)) {
		co->run.committed = true;
		co->ckpt_count++;
		r = coord_write_restart_script(co);
		if (r)
			snprintf(co->run.why, sizeof(co->run.why),
				 "images committed but the restart script could not be written: %s",
				 strerror(-r));
		coord_progress_commit(co);
		if (co->run.kill_after) {
			pr_info("checkpoint %llu done; killing the computation (kill after checkpoint)",
				(unsigned long long)co->ckpt_count);
			coord_kill_peers(co);
			finish_run(co, co->run.why[0] == '\0');
			return;
		}
	} else if (!strcmp(name, BARRIER_RESUME)) {
		finish_run(co, co->run.why[0] == '\0');
		return;
	}
	co->run.idx++;
	broadcast_barrier(co);
	coord_state_changed(co);
}

/* Check whether the current barrier is complete; handle a run left with no members. */
static void check_complete(struct coord *co)
{
	bool all_done;
	int n;

	if (co->run.kind == RUN_NONE)
		return;
	n = run_members(co, &all_done);
	if (n == 0) {
		if (co->run.kind == RUN_CKPT && !co->run.committed && !co->run.aborting) {
			snprintf(co->run.why, sizeof(co->run.why),
				 "every process left during the checkpoint");
			pr_warn("checkpoint %llu aborted: %s", (unsigned long long)co->run.generation,
				co->run.why);
		}
		finish_run(co, co->run.kind == RUN_RESTART || (co->run.committed && !co->run.why[0]));
		return;
	}
	/* advance() sends the next barrier to every member, so it cannot complete at once. */
	if (all_done)
		advance(co);
}

int coord_start_ckpt(struct coord *co, bool kill_after, const char **why)
{
	if (co->run.kind == RUN_CKPT) {
		*why = "a checkpoint is already in progress";
		return -EBUSY;
	}
	if (co->run.kind == RUN_RESTART || co->state == CS_RESTARTING) {
		*why = "a restart is in progress";
		return -EBUSY;
	}
	if (coord_num_peers(co) == 0) {
		*why = "no processes to checkpoint";
		return -ENOENT;
	}
	memset(&co->run, 0, sizeof(co->run));
	co->run.kind = RUN_CKPT;
	co->run.seq = ckpt_seq;
	co->run.nseq = NELEM(ckpt_seq);
	co->run.generation = ++co->generation;
	co->run.ckpt_id = (uint64_t)co->ckpt_epoch << 32 | (co->run.generation & 0xffffffffu);
	co->run.kill_after = kill_after;
	co->run.start_ms = mono_now_ms();
	for (struct conn *c = co->conns; c; c = c->next) {
		if (c->role == ROLE_PEER && !c->dead) {
			c->in_run = true;
			coord_progress_reset_peer(c);
		}
	}
	co->state = CS_SUSPENDED;
	pr_info("checkpoint %llu started (%d processes)", (unsigned long long)co->run.generation,
		coord_num_peers(co));
	broadcast_barrier(co);
	coord_state_changed(co);
	return 0;
}

void coord_start_restart(struct coord *co)
{
	uint64_t n = 0;

	if (co->state != CS_RESTARTING || co->run.kind != RUN_NONE)
		return;
	for (struct conn *c = co->conns; c; c = c->next)
		if (c->role == ROLE_PEER && !c->dead && c->restarted)
			n++;
	if (n < co->num_expected) {
		pr_info("restart of %s: %llu of %llu processes connected", co->compid,
			(unsigned long long)n, (unsigned long long)co->num_expected);
		return;
	}
	memset(&co->run, 0, sizeof(co->run));
	co->run.kind = RUN_RESTART;
	co->run.seq = restart_seq;
	co->run.nseq = NELEM(restart_seq);
	co->run.generation = ++co->generation;
	co->run.start_ms = mono_now_ms();
	for (struct conn *c = co->conns; c; c = c->next)
		if (c->role == ROLE_PEER && !c->dead)
			c->in_run = true;
	pr_info("restart of %s: all %llu processes connected", co->compid, (unsigned long long)n);
	broadcast_barrier(co);
}

/* A member of the run with this pid on this host. */
static const struct conn *run_member(const struct coord *co, const char *host, uint64_t pid)
{
	for (const struct conn *c = co->conns; c; c = c->next)
		if (c->role == ROLE_PEER && !c->dead && c->in_run && c->pid == pid &&
		    !strcmp(c->host, host))
			return c;
	return NULL;
}

/*
 * A process that joins while a checkpoint runs takes part only while the suspend is under
 * way: it is stopped with the others and its image is in the set. Once every process is
 * stopped the set is closed (its size goes into the images at commit): a process joining
 * later was not part of the computation when it stopped and takes part from the next
 * checkpoint on. A tracer announces every child of a stopped process before it answers the
 * suspend, so a late child of a member means its state was not stopped with its parent's:
 * the checkpoint is abandoned rather than written without it.
 */
void coord_peer_joined_run(struct coord *co, struct conn *c)
{
	const struct conn *parent;

	if (co->run.kind != RUN_CKPT || co->run.aborting || co->run.committed)
		return; /* it runs already; nothing to catch up with */
	if (co->run.idx > 0) {
		parent = run_member(co, c->host, c->ppid);
		if (parent) {
			abort_ckpt(co, "%s, a child of %s, was announced after the processes were "
				       "stopped", c->name, parent->name);
			return;
		}
		pr_info("%s joined during checkpoint %llu (at barrier %s); it takes part from the "
			"next one", c->name, (unsigned long long)co->run.generation,
			co->run.seq[co->run.idx]);
		return;
	}
	c->in_run = true;
	c->done = false;
	coord_progress_reset_peer(c);
	send_barrier(co, c, co->run.seq[0]);
	c->sent_upto = 0;
	pr_info("%s joined checkpoint %llu at barrier %s", c->name,
		(unsigned long long)co->run.generation, co->run.seq[0]);
}

/* An image path goes into a shell script and is looked up by other hosts: keep it plain. */
static bool valid_image_path(const char *s)
{
	if (s[0] != '/' || strlen(s) >= PATH_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int seq_index(const struct coord *co, const char *name)
{
	for (int i = 0; i < co->run.nseq; i++)
		if (!strcmp(co->run.seq[i], name))
			return i;
	return -1;
}

void coord_barrier_done(struct coord *co, struct conn *c, const struct proto_in *in)
{
	const char *name = proto_get_str(in, F_BARRIER);
	const char *reason = proto_get_str(in, F_REASON);
	const char *image = proto_get_str(in, F_IMAGE);
	uint64_t gen = 0, st = 0;
	int64_t status;
	int i;

	proto_get_u64(in, F_GENERATION, &gen);
	proto_get_u64(in, F_STATUS, &st);
	status = (int64_t)st;
	if (co->run.kind == RUN_NONE || !c->in_run || gen != co->run.generation) {
		pr_debug("%s: stale BARRIER_DONE %s for generation %llu ignored", c->name, name,
			 (unsigned long long)gen);
		return;
	}
	i = seq_index(co, name);
	/* Whatever it waited for, it is over: it answered. */
	c->waiting[0] = '\0';
	if (co->run.kind == RUN_CKPT && !strcmp(name, BARRIER_CHECKPOINT) && !co->run.aborting &&
	    status == 0 && image && *image) {
		if (!valid_image_path(image)) {
			status = -EINVAL;
			reason = "image path is not absolute or holds control characters";
		} else {
			free(c->image);
			c->image = strdup(image);
			if (!c->image) {
				status = -ENOMEM;
				reason = "out of memory";
			}
		}
	}
	if (co->run.kind == RUN_CKPT && !strcmp(name, BARRIER_CHECKPOINT) && !co->run.aborting &&
	    status == 0)
		coord_progress_image(c, in);
	if (strcmp(name, current_barrier(co))) {
		/* A late joiner's answer to a barrier it was sent to catch up. */
		if (i >= 0 && i <= c->sent_upto && !co->run.aborting) {
			if (status && co->run.kind == RUN_CKPT)
				abort_ckpt(co, "%s failed at barrier %s while catching up", c->name,
					   name);
			return;
		}
		if (co->run.aborting && i >= 0)
			return; /* answers sent before it saw the abort */
		pr_warn("%s answered barrier %s, but %s is in progress; ignored", c->name, name,
			current_barrier(co));
		return;
	}
	if (c->done) {
		pr_warn("%s answered barrier %s twice; ignored", c->name, name);
		return;
	}
	c->done = true;
	if (c->exited)
		; /* a ghost's answers say nothing of a process */
	else if (!strcmp(name, BARRIER_SUSPEND))
		snprintf(c->state, sizeof(c->state), "SUSPENDED");
	else if (!strcmp(name, BARRIER_CHECKPOINT))
		snprintf(c->state, sizeof(c->state), "CHECKPOINTED");
	else if (!strcmp(name, BARRIER_RESUME) || !strcmp(name, BARRIER_ABORT))
		snprintf(c->state, sizeof(c->state), "RUNNING");
	if (status) {
		char what[300];

		snprintf(what, sizeof(what), "%s (%s)", name,
			 reason ? reason : strerror((int)-status));
		if (co->run.kind == RUN_CKPT && !co->run.committed && !co->run.aborting) {
			abort_ckpt(co, "%s failed at barrier %s", c->name, what);
			return;
		}
		pr_warn("%s failed at barrier %s", c->name, what);
		/* A restarted process that cannot go on: the restart is not whole (a reason
		 * cut short still names the process). */
		if (co->run.kind == RUN_RESTART && !co->run.why[0] &&
		    snprintf(co->run.why, sizeof(co->run.why), "%s failed at barrier %s",
			     c->name, what) >= (int)sizeof(co->run.why))
			pr_debug("restart failure reason cut to %zu bytes", sizeof(co->run.why) - 1);
	}
	check_complete(co);
}

void coord_peer_left(struct coord *co, struct conn *c)
{
	if (co->run.kind == RUN_CKPT && c->in_run && c->exited && !c->done &&
	    !strcmp(current_barrier(co), BARRIER_SUSPEND)) {
		/* Its process exited before it was stopped (its tracer said so, and has not
		 * answered the suspend): nothing of it is in the checkpoint, which goes on
		 * without it. One that leaves later took part, and its leaving aborts. */
		pr_debug("%s exited before barrier %s: not part of checkpoint %llu", c->name,
			 current_barrier(co), (unsigned long long)co->run.generation);
		c->in_run = false;
		check_complete(co);
	} else if (co->run.kind != RUN_NONE && c->in_run) {
		if (co->run.kind == RUN_CKPT && !co->run.committed && !co->run.aborting)
			abort_ckpt(co, "%s left during barrier %s", c->name, current_barrier(co));
		else
			pr_warn("%s left during barrier %s", c->name, current_barrier(co));
		/* A restarted process gone before its resume was answered never ran again:
		 * the restart is not whole (its tracer failed it, and says why). */
		if (co->run.kind == RUN_RESTART && !co->run.why[0] &&
		    (!c->done || strcmp(current_barrier(co), BARRIER_RESUME)))
			snprintf(co->run.why, sizeof(co->run.why), "%s left during barrier %s",
				 c->name, current_barrier(co));
		c->in_run = false;
		check_complete(co);
	}
	if (coord_num_peers(co) == 0 && co->run.kind == RUN_NONE) {
		if (co->state == CS_RESTARTING)
			pr_warn("every restarted process of %s left before the restart completed",
				co->compid);
		co->state = CS_RUNNING;
		co->num_expected = 0;
		co->stale_since_ms = -1; /* the main loop stamps it */
	}
	coord_state_changed(co);
}
