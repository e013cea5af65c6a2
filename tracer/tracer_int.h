/*
 * Declarations shared by the tracer's own files (not part of its API).
 */
#ifndef DMTCP_TRACER_INT_H
#define DMTCP_TRACER_INT_H

#include <sys/user.h>

#include "tracer.h"

/* SECCOMP_RET_DATA values the filter returns with SECCOMP_RET_TRACE. */
#define FILTER_DATA_NATIVE  1 /* one of the trapped x86_64 syscalls */
#define FILTER_DATA_FOREIGN 2 /* a syscall of another ABI (i386 int 0x80, x32) */

/* How long the peer of an exited process lingers in case a checkpoint counted it. */
#ifndef GHOST_GRACE_MS
#define GHOST_GRACE_MS 20
#endif

/* How long a new process runs before the coordinator hears of it (events_open_new_peers). */
#ifndef PEER_HELLO_DELAY_MS
#define PEER_HELLO_DELAY_MS 100
#endif

/* DMTCP_TRACER_SPIN_US when unset: see spin_for_stop() in tracer.c. */
#ifndef TRACER_SPIN_US_DEFAULT
#define TRACER_SPIN_US_DEFAULT 200
#endif

/* The ptrace options every tracee gets. */
#define TRACER_PTRACE_OPTS                                                                        \
	(PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |    \
	 PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD)

/* names.c */
const char *name_signal(int sig);
const char *name_ptrace_event(int ev);
const char *name_syscall(long nr);

/* ptable.c */
struct tracee_proc *ptable_add_proc(struct tracer *tr, pid_t pid, pid_t ppid, const char *prog);
struct tracee_thread *ptable_add_thread(struct tracer *tr, struct tracee_proc *p, pid_t tid,
					enum thread_state st);
void ptable_del_thread(struct tracer *tr, struct tracee_thread *t);
void ptable_del_proc(struct tracer *tr, struct tracee_proc *p);
/*
 * Calls fn for every thread /proc/PID/task shows and the table does not have. fn returns 1
 * when it added the thread, 0 when it did not, -errno to stop. Returns how many were added,
 * or the -errno.
 */
typedef int (*new_task_fn)(struct tracee_proc *p, pid_t tid);
int ptable_new_tasks(struct tracee_proc *p, new_task_fn fn);
int read_proc_status_ids(pid_t tid, pid_t *tgid, pid_t *ppid);
/* PTRACE_SEIZE every thread of p not yet in the table, rescanning /proc/PID/task until a pass
 * finds none new (threads born meanwhile). Returns 0 or -errno; seized threads stay on failure. */
int seize_all_threads(struct tracee_proc *p);

/* filter.c */
int filter_install(const struct tracer_features *feat);
int probe_features(struct tracer_features *feat);

/* events.c */
void events_handle(struct tracer *tr, pid_t tid, int status);
int events_open_new_peers(struct tracer *tr, int all);
void thread_resume(struct tracee_thread *t, enum resume_how how, int sig);
void thread_hold(struct tracee_thread *t, enum resume_how how, int sig, int status);

/* suspend.c */
void suspend_begin(struct tracee_proc *p);
void suspend_check(struct tracee_proc *p);
void resume_proc(struct tracee_proc *p);
void restart_eintr_call(struct tracee_thread *t);
long now_us(void);

/* peer.c */
int peer_open(struct tracee_proc *p, int fd, const char *state);
void peer_close(struct tracee_proc *p);
void peer_update(struct tracee_proc *p, const char *state);
void peer_barrier_done(struct tracee_proc *p, const char *barrier, int status, const char *reason,
		       const char *image);
int peer_ckpt_request(struct tracee_proc *p);
void peer_input(struct tracee_proc *p);
void peer_serve_buffered(struct tracee_proc *p);
void peer_output(struct tracee_proc *p);

/* sockrec.c */
enum resume_how sockrec_enter(struct tracee_thread *t, long nr, const uint64_t *args);
void sockrec_exit(struct tracee_thread *t);
void sockrec_settle(struct tracee_thread *t);
void sockrec_resolve(struct tracee_proc *p);
void sockrec_copy(struct tracee_proc *dst, const struct tracee_proc *src);
void sockrec_exec(struct tracee_proc *p);
void sockrec_free(struct tracee_proc *p);
void sockrec_log(struct tracee_proc *p);

/* sysapi.c */
void sysapi_handle(struct tracee_thread *t, struct user_regs_struct *r);

#endif
