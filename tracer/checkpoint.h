/*
 * The checkpoint steps of one traced process (every thread held in a ptrace-stop), subscribed
 * to the hook table's steps (hooks.h) and run at the coordinator's barriers (barriers.c):
 *
 *   checkpoint  collect the process (collect.h) and write its image under the temporary name
 *               (dump.h: records, file data, pages, fsync); step->image is the final path
 *   commit      rename it to ckpt_<prog>_<uniquepid>.dmtcp
 *   resume      drop a temporary image left by a generation that did not complete
 *   abort       drop the temporary image; the previous image was never touched
 *
 * Any failure (disk full, the process exiting under us, an unreadable mapping) fails the step
 * with a reason; the coordinator then aborts the checkpoint everywhere and the program runs on.
 * Drain and refill have nothing to do yet: pipe bytes are copied without being consumed.
 */
#ifndef DMTCP_TRACER_CHECKPOINT_H
#define DMTCP_TRACER_CHECKPOINT_H

struct tracer;

int checkpoint_init(struct tracer *tr);
void checkpoint_fini(struct tracer *tr);

#endif
