/*
 * The process table: the floor of the tracer. One struct tracee_proc per traced process, one
 * struct tracee_thread per thread, lookup by tid (hash) and pid.
 *
 * The table stores; it does not know its owners. A module that keeps data per process or per
 * thread registers a slot (ptable_proc_slot_new/ptable_thread_slot_new) with a destroy
 * function, keeps its data in p->slot[id] / t->slot[id], and the table calls the destroy
 * function when the thread or process leaves (threads first, then the process). The fields
 * below are the ones the core's lower layers (thread, suspend, events) keep; modules read
 * them, only the event handling changes them.
 */
#ifndef DMTCP_TRACER_PTABLE_H
#define DMTCP_TRACER_PTABLE_H

#include <stdint.h>
#include <sys/types.h>

#include "sysrestart.h"

#define PTABLE_SLOTS	 8 /* per-process and per-thread module data (built-ins + plugins) */
#define TRACER_TID_HASH 1024

enum thread_state {
	TS_NEW,	    /* auto-attached, its first ptrace-stop not seen yet */
	TS_RUNNING, /* resumed by us (PTRACE_CONT/SYSCALL/LISTEN) */
	TS_HELD,    /* in a ptrace-stop that we keep: see resume_how */
};

/* How a held thread is let go so that it continues exactly as it was. */
enum resume_how {
	RESUME_CONT,	/* PTRACE_CONT with resume_sig (0 or the signal being delivered) */
	RESUME_SYSCALL, /* PTRACE_SYSCALL: stop again at the exit of the current syscall */
	RESUME_LISTEN,	/* PTRACE_LISTEN: the thread is group-stopped and must stay so */
};

struct tracer;

struct tracee_thread {
	pid_t tid;
	struct tracee_proc *proc;
	enum thread_state state;
	enum resume_how resume_how;
	int resume_sig;	 /* signal to deliver when resumed (signal-delivery-stop) */
	int stop_status; /* wait status of the stop it is held in */
	int listening;	 /* let go with PTRACE_LISTEN: group-stopped */
	int check_eintr; /* stopped by our PTRACE_INTERRUPT: see suspend.c */
	long exit_nr;	 /* the trapped syscall whose exit stop a handler awaits, -1: none */
	struct sysrestart_memo memo; /* the call a restart_syscall of its stands for */
	void *slot[PTABLE_SLOTS];
	struct tracee_thread *next;  /* in proc->threads */
	struct tracee_thread *hnext; /* tid hash chain */
};

enum proc_phase {
	PP_RUNNING,
	PP_SUSPENDING, /* PTRACE_INTERRUPT sent; waiting for every thread to stop */
	PP_SUSPENDED,  /* every thread held; checkpoint barriers run now */
};

struct tracee_proc {
	pid_t pid;  /* thread-group id */
	pid_t ppid; /* real parent (the tracer for the launched process) */
	char prog[256];
	char uniquepid[96]; /* "" until ptable_uniquepid() fills it */
	struct tracer *tracer;

	enum proc_phase phase;
	int group_stopped; /* job-control stopped (reported as STOPPED) */
	int born_held;	   /* held for the coordinator: born while its parent was being
			      suspended, or stopped with the rest of the tree; let go with the
			      others unless the coordinator takes it over (sends it a barrier) */
	int nocheckpoint;  /* dmtcp_nocheckpoint: no peer, never suspended, children too */
	int in_vfork;	   /* a vfork child that has not exec'd yet: never held */
	int peeking;	   /* stopped for a look (dmtcp_command --where), not for a checkpoint:
			      see suspend_peek() */
	int ghost;	   /* exited, no threads left, kept in the table by a module (see
			      barriers.c) until it lets go with ptable_del_proc() */
	int restarted;	   /* restored by dmtcp_restart (or forked by one that was) */
	int attached;	   /* taken running by tracer_attach() (not born under the tracer) */
	int nofilter;	   /* carries no seccomp filter of ours, and may run on untraced:
			      attached, or forked by a process that was */
	int restoring;	   /* restored, held until its restart's resume barrier lets it go:
			      none of the program has run yet (see barriers.c) */
	pid_t vpid;	   /* the pid the program sees (a restart in a new PID namespace
			      gives it another number than pid); 0: the same as pid */
	int exec_pending;  /* an execve/execveat is under way */
	char exec_prog[256]; /* its program name, taken at the seccomp stop */

	struct tracee_thread *threads;
	int nthreads;
	void *slot[PTABLE_SLOTS];
	struct tracee_proc *next;
};

/* The table, embedded in struct tracer (core.h). */
typedef void (*ptable_proc_destroy_fn)(struct tracee_proc *p, void *data);
typedef void (*ptable_thread_destroy_fn)(struct tracee_thread *t, void *data);
struct ptable {
	struct tracee_proc *procs;
	int nprocs;
	struct tracee_thread *thash[TRACER_TID_HASH];
	ptable_proc_destroy_fn proc_destroy[PTABLE_SLOTS];
	ptable_thread_destroy_fn thread_destroy[PTABLE_SLOTS];
	int nproc_slots, nthread_slots;
};

/* A slot for per-process (per-thread) data; destroy (may be NULL) frees it. Returns the
 * slot's index, or -ENOSPC. */
int ptable_proc_slot_new(struct tracer *tr, ptable_proc_destroy_fn destroy);
int ptable_thread_slot_new(struct tracer *tr, ptable_thread_destroy_fn destroy);

struct tracee_proc *ptable_add_proc(struct tracer *tr, pid_t pid, pid_t ppid, const char *prog);
struct tracee_thread *ptable_add_thread(struct tracer *tr, struct tracee_proc *p, pid_t tid,
					enum thread_state st);
/* Remove (and free) a thread or a whole process, calling the slots' destroy functions. */
void ptable_del_thread(struct tracer *tr, struct tracee_thread *t);
void ptable_del_proc(struct tracer *tr, struct tracee_proc *p);

struct tracee_proc *ptable_proc(struct tracer *tr, pid_t pid);
struct tracee_thread *ptable_thread(struct tracer *tr, pid_t tid);
/* The first traced process, or NULL; iterate with ->next. */
struct tracee_proc *ptable_first(struct tracer *tr);
int ptable_count(struct tracer *tr);
/* The process's unique pid (common/ids.h), read from /proc when first asked. */
const char *ptable_uniquepid(struct tracee_proc *p);

/*
 * Calls fn for every thread /proc/PID/task shows and the table does not have. fn returns 1
 * when it added the thread, 0 when it did not, -errno to stop. Returns how many were added,
 * or the -errno.
 */
typedef int (*new_task_fn)(struct tracee_proc *p, pid_t tid);
int ptable_new_tasks(struct tracee_proc *p, new_task_fn fn);

#endif
