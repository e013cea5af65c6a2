/*
 * The drain step for sockets (STEP_DRAIN, every process of the computation suspended): wait,
 * bounded, until what each process sent on a TCP connection to a local peer has reached that
 * peer's receive queue, where the peer's checkpoint peeks it (collect_sock_tcp.c). Bytes held
 * by Nagle's algorithm or waiting for a delayed ACK leave within tens of milliseconds; bytes
 * that a full receive window holds back never do, and fail the checkpoint by name.
 */
#ifndef DMTCP_TRACER_SOCKDRAIN_H
#define DMTCP_TRACER_SOCKDRAIN_H

struct tracer;

/* Subscribe the drain step (tracer_create). */
int sockdrain_init(struct tracer *tr);

#endif
