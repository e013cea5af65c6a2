/*
 * The coordinator's barriers, per traced process: the checkpoint's sequence as the tracer
 * runs it (the coordinator's side is coord/barrier.c).
 *
 *   suspend     stop every thread (suspend.c); the first suspend that reaches the tracer stops
 *               every other process of its tree too (held for the coordinator, born_held),
 *               so that none runs on while the others are stopped
 *   drain, checkpoint, commit, refill
 *               run as jobs of the loop: the hook table's steps (hooks.h), e.g. checkpoint.c
 *               writing the image; later messages wait until the step is done
 *   resume, abort
 *               the resume/abort steps, then the threads are let go (suspend.c)
 *   others      named barriers served by a handler (tracer_on_barrier(): the restart's); a
 *               barrier nobody serves is answered with -EINVAL
 *
 * A BARRIER without its name or generation, of generation 0, or whose name is not a word of
 * 1 to BARRIER_NAME_MAX printable characters is invalid (the peer's connection is closed).
 *
 * A process that exits before the suspend reaches it is not part of the checkpoint: rather
 * than leave in the middle of the barriers (which abandons the checkpoint), its peer stays as
 * a ghost that answers them without an image and goes at resume; every ghost waits a little
 * (GHOST_GRACE_MS) in case a checkpoint whose suspend is on its way counted it. One killed
 * after its image was written stays a ghost too, and its image is committed with the others;
 * one killed while stopped, before its image, fails the checkpoint (its state is lost).
 */
#ifndef DMTCP_TRACER_BARRIERS_H
#define DMTCP_TRACER_BARRIERS_H

#include <stdint.h>

#include "ptable.h"
#include "tracer_types.h"

/* How long the peer of an exited process lingers in case a checkpoint counted it. */
#ifndef GHOST_GRACE_MS
#define GHOST_GRACE_MS 20
#endif

int barriers_init(struct tracer *tr);
void barriers_fini(struct tracer *tr);

#define BARRIER_NAME_MAX 31

/* Serve barrier name with fn (tracer_on_barrier). */
int barriers_add_named(struct tracer *tr, const char *name, tracer_barrier_fn fn, void *arg);

/* Checkpoints of p completed and abandoned since it is traced (the dmtcp.h API's counts). */
void barriers_counts(const struct tracee_proc *p, uint64_t *done, uint64_t *failed);

#endif
