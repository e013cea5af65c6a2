/*
 * The checkpoint steps the tracer's barrier handler calls (see checkpoint.h).
 *
 * Until the checkpoint work lands, the step between suspend and resume is empty: every hook
 * succeeds without touching the process, no image is written (step->image stays empty, so no
 * F_IMAGE is reported), and the coordinator still runs its whole barrier sequence.
 */
#include "checkpoint.h"

int ckpt_drain(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)p;
	(void)step;
	return 0;
}

int ckpt_write(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)p;
	step->image[0] = '\0';
	return 0;
}

int ckpt_commit(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)p;
	(void)step;
	return 0;
}

int ckpt_refill(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)p;
	(void)step;
	return 0;
}

int ckpt_resume(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)p;
	(void)step;
	return 0;
}

int ckpt_abort(struct tracee_proc *p, struct ckpt_step *step)
{
	(void)p;
	(void)step;
	return 0;
}

void ckpt_forget(struct tracee_proc *p)
{
	p->ckpt_priv = 0;
}
