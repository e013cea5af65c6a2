/*
 * Symbolized backtraces of a traced thread (libunwind-ptrace): where a restored program that
 * crashes was, so that a user can tell a restore bug from a program bug, and where a running
 * computation's threads are (dmtcp_command --where).
 */
#ifndef DMTCP_TRACER_BACKTRACE_H
#define DMTCP_TRACER_BACKTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BACKTRACE_MAX_FRAMES 32

/* One frame of a backtrace. */
struct bt_frame {
	uint64_t ip;	/* the frame's instruction pointer (a return address past frame 0) */
	uint64_t off;	/* ip minus the start of func; 0 when func is unknown */
	char func[128]; /* the symbol that holds ip, "??" when none is known */
	char obj[256];	/* the mapping that holds ip: its path, "anonymous", or "?" */
};

/*
 * The backtrace of thread tid of process pid, which must be in a ptrace-stop, innermost frame
 * first, into f[max]. Returns the number of frames, or -errno when the thread could not be
 * unwound at all.
 */
int backtrace_frames(pid_t pid, pid_t tid, struct bt_frame *f, int max);

/*
 * The same as lines "  #N 0xADDR in function+0xOFF (object)" into buf (NUL-terminated, cut at
 * n). Returns the number of lines, or -errno when the thread could not be unwound at all.
 */
int backtrace_thread(pid_t pid, pid_t tid, char *buf, size_t n);

#endif
