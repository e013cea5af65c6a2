/*
 * Letting a killed computation's TCP ports go: before the tracer kills its processes
 * (dmtcp_command -k), every TCP socket of theirs gets SO_REUSEADDR, which the TIME_WAIT
 * sockets their closing leaves behind inherit, so that a restart on this host can bind the
 * same ports at once (without it a listener of the program that did not set SO_REUSEADDR
 * could not be bound again for a minute). The programs never see it: they are killed next.
 */
#ifndef DMTCP_TRACER_SOCKPORTS_H
#define DMTCP_TRACER_SOCKPORTS_H

#include <sys/types.h>

/* Best effort: a socket that cannot be reached is left as it is. */
void sockports_release(pid_t pid);

#endif
