/*
 * Symbolized backtraces of a traced thread (libunwind-ptrace): where a restored program that
 * crashes was, so that a user can tell a restore bug from a program bug, and where a running
 * computation's threads are (dmtcp_command --where).
 */
#ifndef DMTCP_TRACER_BACKTRACE_H
#define DMTCP_TRACER_BACKTRACE_H

#include <stddef.h>
#include <sys/types.h>

#define BACKTRACE_MAX_FRAMES 32

/*
 * The backtrace of thread tid of process pid, which must be in a ptrace-stop, as lines
 * "  #N 0xADDR in function+0xOFF (object)" into buf (NUL-terminated, cut at n). Returns the
 * number of frames, or -errno when the thread could not be unwound at all.
 */
int backtrace_thread(pid_t pid, pid_t tid, char *buf, size_t n);

#endif
