/*
 * Infection: run code inside a stopped, ptrace-seized process, and leave it exactly as it was.
 *
 * Mechanism only (after CRIU's compel): remote syscalls, a shared memfd area mapped both in the
 * target and in the tracer, the parasite blob loaded there and its commands
 * (parasite/parasite-cmd.h), fd transfer in both directions, and cure. What to read and what
 * to write to an image is the caller's business (collect_parasite.c, dump_pages_direct.c). See
 * docs/infection.md.
 *
 * Preconditions for every call: the caller (the tracer's only ptrace thread) has seized the
 * thread (PTRACE_SEIZE, any options) and it is in a ptrace stop (group stop, PTRACE_INTERRUPT
 * stop, or a signal-delivery stop), not in a syscall-entry or PTRACE_EVENT_SECCOMP stop: a
 * syscall about to run would be lost (finish handling it, then PTRACE_INTERRUPT). A thread
 * inside an rseq critical section must first be moved to its abort_ip (docs/infection.md). On
 * return the thread is in a PTRACE_EVENT_STOP (the stop PTRACE_INTERRUPT gives) with exactly its
 * original registers, FPU/xsave state and code bytes; the caller resumes it with
 * PTRACE_CONT/PTRACE_DETACH and signal 0. (A signal the original stop was about to deliver must be
 * re-sent by the caller.) A thread stopped inside a syscall keeps its restart state (rax =
 * -ERESTART*, orig_rax = nr): the kernel restarts the syscall when the caller resumes it, as if
 * nothing had happened. No signal is raised in the target (no int3): injected code runs under
 * PTRACE_SYSCALL and ends at a syscall-exit stop.
 *
 * Signals that the target receives while injected code runs are not delivered: they are
 * taken at their signal-delivery stop and queued again on the same thread when the
 * operation ends (see docs/infection.md for what is kept of their siginfo).
 *
 * All functions return 0 or a negative errno; -ESRCH means the target died (not logged).
 */
#ifndef DMTCP_INFECT_H
#define DMTCP_INFECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parasite/parasite-cmd.h"
#include "remote.h"


struct infect_ctx;

/*
 * Run one syscall in stopped thread tid without the parasite: patch a syscall instruction over
 * a few bytes of an executable mapping ([vdso] if present, else the first r-x mapping),
 * run, restore the bytes and the registers. *ret gets the syscall's raw return (-errno on
 * failure of the syscall itself); the function's own return says whether it could run it.
 */
int infect_syscall(pid_t tid, long nr, const uint64_t args[6], long *ret);

/*
 * Load the parasite into process pid, using its stopped thread tid: remote memfd_create,
 * ftruncate, mmap (one RWX MAP_SHARED mapping), the same memfd mapped in the tracer, the
 * remote fd closed again (the fd table is untouched from here on), blob copied in.
 */
int infect_start(pid_t pid, pid_t tid, struct infect_ctx **ctxp);

/* The tracer's view of the shared argument block: fill in a command's input before
 * infect_run*(), read its results after. */
struct parasite_args *infect_args(struct infect_ctx *ctx);

/* The remote area [start, start + len) as it appears in /proc/PID/maps
 * ("/memfd:dmtcp-parasite (deleted)"), so a dumper can leave it out. */
void infect_area(const struct infect_ctx *ctx, raddr_t *start, uint64_t *len);

/* Scratch memory in the area for the caller's remote syscalls: local view, remote address
 * and size. Reused by infect_give_fd(); not touched by parasite commands. */
void *infect_scratch(struct infect_ctx *ctx, raddr_t *remote, size_t *size);

/*
 * Run parasite command cmd in the infected thread (infect_run) or in another stopped,
 * seized thread tid of the same process (infect_run_thread: per-thread state such as
 * PARASITE_GET_THREAD_STATE). Returns a negative errno if the command could not be run,
 * else the command's own result (args->ret: 0 or -errno).
 */
int infect_run(struct infect_ctx *ctx, enum parasite_cmd cmd);
int infect_run_thread(struct infect_ctx *ctx, pid_t tid, enum parasite_cmd cmd);

/* A syscall in the infected thread through the blob's gadget (no code patching). */
int infect_remote_syscall(struct infect_ctx *ctx, long nr, const uint64_t args[6], long *ret);

/*
 * File descriptors across the boundary.
 * infect_getfd: a duplicate of pid's fd in the tracer (pidfd_getfd when kfeat() has it; else
 *   reopening /proc/PID/fd/N, which for pipes and files gives a new open file description).
 * infect_take_fd: the same through the ctx's pidfd.
 * infect_give_fd: install a duplicate of the tracer's local_fd in the target (SCM_RIGHTS
 *   over a remote socketpair); *remote_fd has FD_CLOEXEC. The caller closes it with
 *   infect_remote_close() before cure so the fd table is left as it was.
 */
int infect_getfd(pid_t pid, int remote_fd, int *local_fd);
int infect_take_fd(struct infect_ctx *ctx, int remote_fd, int *local_fd);
int infect_give_fd(struct infect_ctx *ctx, int local_fd, int *remote_fd);
int infect_remote_close(struct infect_ctx *ctx, int remote_fd);

/*
 * Remove the parasite: unmap the area in the target and the tracer, restore the infected
 * thread's registers, queue again the signals that arrived meanwhile, free ctx (always, even
 * on error). After it the target's registers, memory map and fd table are as before
 * infect_start.
 */
int infect_cure(struct infect_ctx *ctx);

#endif
