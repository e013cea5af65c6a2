/*
 * Reporting a traced program's crash: when a thread is about to die of a fatal signal it does
 * not handle (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, ...), its symbolized backtrace
 * is logged before the signal is delivered: as an error for a restored process (a restore bug
 * and a program bug look alike otherwise), at info level for one that was launched.
 */
#ifndef DMTCP_TRACER_CRASH_H
#define DMTCP_TRACER_CRASH_H

struct tracer;

int crash_init(struct tracer *tr);

#endif
