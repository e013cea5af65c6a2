/*
 * The seam between the tracer's barrier handling and the checkpoint code.
 *
 * The tracer runs the coordinator's barriers per process: after 'suspend' every thread of the
 * process is held in a ptrace-stop (struct tracee_thread, state TS_HELD); then it calls these
 * hooks in barrier order and answers MSG_BARRIER_DONE with their result. Each hook returns 0
 * or a negative errno; on failure it may put a human-readable reason in step->reason (else the
 * tracer reports strerror). The hooks run in the tracer's single thread, which owns ptrace.
 *
 *   drain       in-flight pipe/socket data taken out (every process of the computation is
 *               suspended by now)
 *   checkpoint  ckpt_write(): write the image under its temporary name and put its final
 *               absolute path in step->image (sent as F_IMAGE; leave empty for no image)
 *   commit      rename the temporary image to its real name
 *   refill      put drained data back
 *   resume      ckpt_resume() runs just before the threads are let go (cure, unmap)
 *   abort       drop a temporary image, refill, then the tracer resumes the threads
 *
 * ckpt_forget() is called when a process leaves the table, to free p->ckpt_priv.
 */
#ifndef DMTCP_TRACER_CHECKPOINT_H
#define DMTCP_TRACER_CHECKPOINT_H

#include <limits.h>
#include <stdint.h>

#include "ptable.h"

struct ckpt_step {
	uint64_t generation; /* 1, 2, ... as sent by the coordinator */
	char image[PATH_MAX]; /* out (ckpt_write): absolute path of the image */
	char reason[256];     /* out on failure, optional */
};

int ckpt_drain(struct tracee_proc *p, struct ckpt_step *step);
int ckpt_write(struct tracee_proc *p, struct ckpt_step *step);
int ckpt_commit(struct tracee_proc *p, struct ckpt_step *step);
int ckpt_refill(struct tracee_proc *p, struct ckpt_step *step);
int ckpt_resume(struct tracee_proc *p, struct ckpt_step *step);
int ckpt_abort(struct tracee_proc *p, struct ckpt_step *step);
void ckpt_forget(struct tracee_proc *p);

#endif
