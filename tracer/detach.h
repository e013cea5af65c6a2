/*
 * dmtcp_command --detach (the coordinator's MSG_DETACH): the tracer lets every process it
 * traces go untraced, and ends. Only for processes that carry no filter of ours
 * (tracee_proc.nofilter: taken by dmtcp_launch --attach, or forked by one that was); the
 * coordinator asks only when every peer said so, and the tracer checks again.
 */
#ifndef DMTCP_TRACER_DETACH_H
#define DMTCP_TRACER_DETACH_H

struct tracer;

int detach_init(struct tracer *tr);
void detach_fini(struct tracer *tr);

#endif
