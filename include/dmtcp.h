/*
 * dmtcp.h: the programmatic interface to checkpointing, DMTCP-compatible.
 *
 * Link with -ldmtcp (static or shared). A program linked with it runs anywhere: outside
 * dmtcp_launch / dmtcp_restart every call reports that dmtcp is not present. The calls reach the
 * tracer through a virtual system call that only its seccomp filter traps, so no library is
 * preloaded and static binaries work the same.
 */
#ifndef DMTCP_H
#define DMTCP_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Return values of dmtcp_checkpoint(), with DMTCP's numbers so that a program written for DMTCP
 * that compares against literal values behaves the same. DMTCP_IS_PRESENT is the value DMTCP
 * gives for "running under dmtcp" in its status calls; defined for such programs, not yet
 * returned by any call here.
 */
#define DMTCP_AFTER_CHECKPOINT 1 /* the checkpoint was taken; this is the original process */
#define DMTCP_AFTER_RESTART    2 /* this process was restarted from that checkpoint */
#define DMTCP_NOT_PRESENT      3 /* not running under dmtcp */
#define DMTCP_IS_PRESENT       4

/* 1 when the calling process is under checkpoint control, 0 otherwise. */
int dmtcp_is_enabled(void);

/*
 * Checkpoint the whole computation now and wait for it: returns DMTCP_AFTER_CHECKPOINT once
 * this process's image is written and it runs again, DMTCP_AFTER_RESTART when it returns in a
 * process restarted from that image, DMTCP_NOT_PRESENT outside dmtcp, or -1 with errno set
 * when the checkpoint could not be taken (EAGAIN: the coordinator abandoned it; ENOTCONN: the
 * tracer went away).
 */
int dmtcp_checkpoint(void);

/*
 * This process's checkpoint counts under its current tracer: completed and abandoned ones.
 * Returns 0, or -1 with errno ENOSYS when not under dmtcp.
 */
int dmtcp_get_local_status(int *num_checkpoints, int *num_failed);

#ifdef __cplusplus
}
#endif

#endif
