/*
 * What the running checkpoint has done and what it waits for, and what the last one left:
 * per process, the image it wrote (F_IMAGE_SIZE of its checkpoint answer) and the bytes it
 * reported while writing (MSG_CKPT_PROGRESS); its last committed image (path, size, commit
 * time), kept across checkpoints for the list; the one-line reason a barrier waits (which
 * barrier, for which processes, and each one's own reason when it gave one); and the reason
 * the last checkpoint failed. barrier.c and conn.c feed it; status.c reads it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "coord.h"

void coord_progress_init_peer(struct conn *c)
{
	c->image_size = -1;
	c->bytes = -1;
	c->last_image_size = -1;
	c->last_image_time = -1;
}

void coord_progress_reset_peer(struct conn *c)
{
	free(c->image);
	c->image = NULL;
	c->image_written = false;
	c->image_size = -1;
	c->bytes = -1;
}

void coord_progress_image(struct conn *c, const struct proto_in *in)
{
	uint64_t size;

	c->image_written = true;
	if (!proto_get_u64(in, F_IMAGE_SIZE, &size) && size <= INT64_MAX)
		c->image_size = (int64_t)size;
}

void coord_progress_bytes(struct coord *co, struct conn *c, uint64_t generation, uint64_t bytes)
{
	/* A report for another run, or after its answer, says nothing about this one. */
	if (co->run.kind != RUN_CKPT || !c->in_run || generation != co->run.generation ||
	    c->image_written || bytes > INT64_MAX)
		return;
	c->bytes = (int64_t)bytes;
}

/* Every image of the run is committed and the restart script written: each becomes its
 * process's last image. */
void coord_progress_commit(struct coord *co)
{
	int64_t now = (int64_t)time(NULL);

	for (struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead || !c->in_run)
			continue;
		/* The run is done with the path (the restart script is written): move it. A
		 * process that wrote no image has none in this checkpoint. */
		free(c->last_image);
		c->last_image = c->image;
		c->image = NULL;
		c->last_image_size = c->last_image ? c->image_size : -1;
		c->last_image_time = c->last_image ? now : -1;
	}
}

void coord_progress_failed(struct coord *co, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(co->last_error, sizeof(co->last_error), fmt, ap);
	va_end(ap);
	/* One line, whatever a peer put in its F_REASON. */
	for (char *s = co->last_error; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void coord_progress_succeeded(struct coord *co)
{
	co->last_error[0] = '\0';
}

bool coord_progress_get(const struct coord *co, struct ckpt_progress *p)
{
	bool reported = false;
	long now = mono_now_ms();

	memset(p, 0, sizeof(*p));
	p->bytes = -1;
	if (co->run.kind != RUN_CKPT)
		return false;
	p->generation = co->run.generation;
	p->elapsed_ms = now > co->run.start_ms ? (uint64_t)(now - co->run.start_ms) : 0;
	for (const struct conn *c = co->conns; c; c = c->next) {
		int64_t b;

		if (c->role != ROLE_PEER || c->dead || !c->in_run)
			continue;
		p->total++;
		if (c->image_written)
			p->done++;
		/* A finished image counts with its size; one being written, with its progress. */
		b = c->image_written && c->image_size >= 0 ? c->image_size : c->bytes;
		if (b >= 0) {
			reported = true;
			p->bytes = (p->bytes < 0 ? 0 : p->bytes) + b;
		}
	}
	if (!reported)
		p->bytes = -1;
	return true;
}

/* The processes a barrier run waits for: those with a reason first, each group in order of
 * arrival. Fills at most WAIT_MAX_NAMED entries of h; returns how many there are. */
static uint64_t collect_holds(const struct coord *co, struct wait_hold *h, uint64_t *total)
{
	uint64_t nh = 0, filled = 0;

	*total = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (const struct conn *c = co->conns; c; c = c->next) {
			bool has_why;

			if (c->role != ROLE_PEER || c->dead || !c->in_run)
				continue;
			if (pass == 0)
				(*total)++;
			if (c->done)
				continue;
			has_why = c->waiting[0] != '\0' || c->exited;
			if (has_why != (pass == 0))
				continue;
			nh++;
			if (filled < WAIT_MAX_NAMED)
				h[filled++] = (struct wait_hold){ c->prog, c->pid, c->host,
								  !has_why ? NULL
								  : c->waiting[0] ? c->waiting
										  : "exited" };
		}
	}
	return nh;
}

bool coord_waiting_line(const struct coord *co, char *buf, size_t n)
{
	struct wait_hold h[WAIT_MAX_NAMED];
	uint64_t nh, total;
	char what[sizeof(co->run.why) + 64];
	const char *barrier;

	if (co->run.kind == RUN_NONE && co->state == CS_RESTARTING) {
		uint64_t got = 0;

		for (const struct conn *c = co->conns; c; c = c->next)
			if (c->role == ROLE_PEER && !c->dead && c->restarted)
				got++;
		if (got >= co->num_expected)
			return false;
		snprintf(buf, n, "restart of computation %s: waiting for %llu of %llu processes to "
			 "connect", co->compid, (unsigned long long)(co->num_expected - got),
			 (unsigned long long)co->num_expected);
		return true;
	}
	if (co->run.kind == RUN_NONE)
		return false;
	nh = collect_holds(co, h, &total);
	if (nh == 0)
		return false;
	if (co->run.kind == RUN_RESTART)
		snprintf(what, sizeof(what), "restart");
	else if (co->run.aborting)
		snprintf(what, sizeof(what), "checkpoint %llu aborting (%s)",
			 (unsigned long long)co->run.generation, co->run.why);
	else
		snprintf(what, sizeof(what), "checkpoint %llu", (unsigned long long)co->run.generation);
	barrier = co->run.aborting ? BARRIER_ABORT : co->run.seq[co->run.idx];
	fmt_waiting(buf, n, what, barrier, total, h, nh);
	return true;
}
