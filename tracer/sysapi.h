/*
 * Serving the dmtcp.h API's virtual syscall (common/api_abi.h) at its seccomp stop: a trap of
 * the hook table. The call is skipped and returns the answer.
 */
#ifndef DMTCP_TRACER_SYSAPI_H
#define DMTCP_TRACER_SYSAPI_H

struct tracer;

int sysapi_init(struct tracer *tr);

#endif
