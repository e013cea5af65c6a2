/*
 * The tracer's table of traced processes and their threads.
 *
 * One struct tracee_proc per traced process (a peer of the coordinator, with its own
 * connection), one struct tracee_thread per thread. The table also records what the socket
 * syscalls of each process did, so that the checkpoint code can tell listeners from connected
 * sockets and match them with the kernel's view (the kernel stays the source of truth: close()
 * is not trapped, so between two checkpoints a record may describe an fd that has been closed
 * or reused since). Every suspend checks the records against /proc/PID/fd first
 * (sockrec_resolve()): inodes are filled in there, never on the syscall's path, and a record
 * whose fd is no longer that socket is dropped.
 *
 * Readers outside tracer/ (the checkpoint code) may read every field; only the tracer's event
 * loop changes them.
 */
#ifndef DMTCP_TRACER_PTABLE_H
#define DMTCP_TRACER_PTABLE_H

#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "proto.h"
#include "remote.h"

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

/*
 * A socket syscall whose result is only known once it has returned: at its syscall-exit
 * stop, or (lazy) at the thread's next ptrace-stop of any kind, which comes after the call
 * has returned to user space.
 */
struct sock_call {
	int nr;		/* syscall number, 0 when none is pending */
	int lazy;	/* no syscall-exit stop: settled at the thread's next stop */
	int sv_before[2]; /* socketpair: sv[] as it was at entry ... */
	int sv_known;	  /* ... if it could be read */
	uint64_t args[6];
	uint8_t addr[sizeof(struct sockaddr_storage)]; /* address argument read at entry */
	socklen_t addrlen;
};

struct tracee_thread {
	pid_t tid;
	struct tracee_proc *proc;
	enum thread_state state;
	enum resume_how resume_how;
	int resume_sig;	     /* signal to deliver when resumed (signal-delivery-stop) */
	int stop_status;     /* wait status of the stop it is held in */
	int listening;	     /* let go with PTRACE_LISTEN: group-stopped */
	int check_eintr;     /* stopped by our PTRACE_INTERRUPT: see suspend.c */
	struct sock_call sc; /* socket call awaiting its syscall-exit stop */
	struct tracee_thread *next;  /* in proc->threads */
	struct tracee_thread *hnext; /* tid hash chain */
};

enum sock_flags {
	SOCK_REC_BOUND = 1,
	SOCK_REC_LISTENING = 2,
	SOCK_REC_CONNECTED = 4, /* connect() succeeded (or is in progress: EINPROGRESS) */
	SOCK_REC_ACCEPTED = 8,	/* returned by accept/accept4 on listen_fd */
	SOCK_REC_PAIR = 16,	/* one end of a socketpair; pair_fd is the other */
	SOCK_REC_INPROGRESS = 32,
};

struct sock_rec {
	int fd;
	int domain, type, protocol; /* type includes SOCK_NONBLOCK/SOCK_CLOEXEC as given */
	unsigned long ino;	    /* socket inode ("socket:[ino]"); 0 until the next suspend */
	unsigned flags;		    /* enum sock_flags */
	int backlog;		    /* listen() */
	int pair_fd;		    /* socketpair: the other end */
	int listen_fd;		    /* accept: the listening fd it came from */
	struct sockaddr_storage bound;	/* bind() address */
	socklen_t bound_len;
	struct sockaddr_storage remote; /* connect() address, or accept()'s peer address */
	socklen_t remote_len;
	struct sock_rec *next;
};

enum proc_phase {
	PP_RUNNING,
	PP_SUSPENDING, /* PTRACE_INTERRUPT sent; waiting for every thread to stop */
	PP_SUSPENDED,  /* every thread held; checkpoint barriers run now */
};

struct tracer;

struct tracee_proc {
	pid_t pid;  /* thread-group id */
	pid_t ppid; /* real parent (the tracer for the launched process) */
	char prog[256];
	char uniquepid[96];
	struct tracer *tracer;

	enum proc_phase phase;
	uint64_t generation;  /* checkpoint generation of the current barrier sequence */
	int suspend_pending;  /* MSG_BARRIER suspend arrived; BARRIER_DONE not sent yet */
	int group_stopped;    /* job-control stopped (reported as STOPPED) */
	int born_held;	      /* held for the coordinator: born while its parent was being
				 suspended, or stopped with the rest of the tree; let go with
				 the others unless the coordinator takes it over (sends it a
				 barrier) */
	int nocheckpoint;     /* dmtcp_nocheckpoint: no peer, never suspended, children too */
	int in_barrier;	      /* between the coordinator's suspend and its resume/abort */
	int hello_pending;    /* new: not announced to the coordinator yet (see events.c) */
	long hello_due_us;    /* when it is announced if still alive (CLOCK_MONOTONIC) */
	int in_vfork;	      /* a vfork child that has not exec'd yet: never held */
	int ghost;	      /* exited: no threads left; its peer answers any barrier (no
				 image) and closes after resume/abort, or after a short grace
				 when no checkpoint includes it */
	long ghost_until_us;  /* end of that grace (CLOCK_MONOTONIC) */
	int exec_pending;     /* an execve/execveat is under way */
	int committed;	      /* the current checkpoint's commit step ran for this process */
	uint64_t ckpts_done;  /* checkpoints completed / aborted, for the dmtcp.h API */
	uint64_t ckpts_failed;
	char exec_prog[256];  /* its program name, taken at the seccomp stop */

	struct tracee_thread *threads;
	int nthreads;

	/* The coordinator peer for this process. */
	struct proto_conn conn;
	int conn_open;
	int connecting; /* non-blocking connect under way: no WELCOME read yet */
	int welcomed;
	uint64_t peer_id;
	char compid[128];
	char ckptdir[PATH_MAX]; /* from MSG_WELCOME */
	uint64_t interval;

	struct sock_rec *socks;

	void *ckpt_priv; /* owned by the checkpoint code (checkpoint.h) */
	struct tracee_proc *next;
};

struct tracee_proc *ptable_proc(struct tracer *tr, pid_t pid);
struct tracee_thread *ptable_thread(struct tracer *tr, pid_t tid);
/* The first traced process, or NULL; iterate with ->next. */
struct tracee_proc *ptable_first(struct tracer *tr);
/* The socket record of fd in p, or NULL. */
struct sock_rec *ptable_sock(struct tracee_proc *p, int fd);
/* The process's unique pid ("<hostid>-<pid>-<start time>"), read from /proc when first asked. */
const char *ptable_uniquepid(struct tracee_proc *p);

#endif
