/*
 * The ABI of the dmtcp.h API between a traced program and its tracer.
 *
 * libdmtcp issues the virtual syscall DMTCP_API_SYSCALL(op, arg1, arg2, arg3). The number is far
 * above the kernel's syscall table, so without a tracer the kernel answers -ENOSYS and the API
 * reports "not under dmtcp" (the program runs anywhere, statically linked too). Under
 * dmtcp_launch the seccomp filter traps the number and the tracer serves the op, returning its
 * result in rax: a value >= 0, or a negative errno (-EINVAL for an op it does not know).
 */
#ifndef DMTCP_API_ABI_H
#define DMTCP_API_ABI_H

#define DMTCP_API_SYSCALL 0x4d54 /* 19796: "MT" */

enum dmtcp_api_op {
	DMTCP_OP_IS_ENABLED = 1, /* returns 1 under the tracer */
	DMTCP_OP_CHECKPOINT = 2, /* asks the coordinator for a checkpoint of the computation;
				    returns 0 once the request is sent */
	DMTCP_OP_NOCHECKPOINT = 3, /* dmtcp_nocheckpoint: this process and what it starts leave
				      checkpoint control (no peer, never suspended) */
	DMTCP_OP_STATUS = 4,	   /* arg1: address of a struct dmtcp_api_status in the caller,
				      which the tracer fills in; returns 0 */
};

/*
 * What DMTCP_OP_STATUS writes. The incarnation is a random number chosen by each tracer, so a
 * program that finds it changed knows it was restarted (dmtcp_restart runs a new tracer); the
 * counts are this process's checkpoints under the current tracer, counted when the resume
 * after a commit (done) or an abort (failed) reaches the process.
 */
struct dmtcp_api_status {
	unsigned long long incarnation;
	unsigned long long ckpts_done;
	unsigned long long ckpts_failed;
};

#endif
