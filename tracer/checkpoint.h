/*
 * The checkpoint steps of one traced process (every thread held in a ptrace-stop), subscribed
 * to the hook table's steps (hooks.h) and run at the coordinator's barriers (barriers.c):
 *
 *   checkpoint  collect the process (collect.h) and write its image under the temporary name
 *               (dump.h: records, file data, pages, fsync); step->image is the final path
 *   commit      rename it to ckpt_<prog>_<uniquepid>.dmtcp, the last complete image kept as
 *               ckpt_<...>.dmtcp.prev until this checkpoint completes
 *   resume      this checkpoint is complete: the .prev goes; or drop a temporary image left
 *               by a generation that did not complete
 *   abort       drop the temporary image; what was committed stays beside the .prev, and a
 *               restart takes a complete set (restart/restart_images.c)
 *
 * Any failure (disk full, the process exiting under us, an unreadable mapping) fails the step
 * with a reason; the coordinator then aborts the checkpoint everywhere and the program runs on.
 * Drain and refill have nothing to do yet: pipe bytes are copied without being consumed.
 */
#ifndef DMTCP_TRACER_CHECKPOINT_H
#define DMTCP_TRACER_CHECKPOINT_H

#include <stdint.h>

struct tracer;
struct tracee_proc;

int checkpoint_init(struct tracer *tr);
void checkpoint_fini(struct tracer *tr);

/* p was restored from an image of checkpoint ckpt_id (0 unknown): that image is its last
 * complete one, kept as .prev at its next commit. */
void checkpoint_restored(struct tracee_proc *p, uint64_t ckpt_id);

#endif
