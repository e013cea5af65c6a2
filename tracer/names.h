/*
 * Names of the constants the tracer prints in its logs (signals, ptrace events, the trapped
 * syscalls), table-driven, as strace's xlat tables.
 */
#ifndef DMTCP_TRACER_NAMES_H
#define DMTCP_TRACER_NAMES_H

const char *name_signal(int sig);
const char *name_ptrace_event(int ev);
const char *name_syscall(long nr);

#endif
