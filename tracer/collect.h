/*
 * Collecting the checkpoint content model (common/ckpt_state.h) from a suspended process.
 *
 * The collectors only look: /proc, ptrace requests on threads the caller holds in a
 * ptrace-stop, process_vm_readv, pidfd_getfd, and the parasite, which leaves the process as it
 * found it. collect_process() calls them all in the order they need. They take pids and tids
 * rather than the tracer's table so that they can be used (and tested) with any ptrace-stopped
 * process. Each returns 0 or -errno; -ESRCH means the process vanished and is returned without
 * a log line (the caller decides whether that is an error).
 */
#ifndef DMTCP_TRACER_COLLECT_H
#define DMTCP_TRACER_COLLECT_H

#include <stdint.h>
#include <sys/types.h>

#include "ckpt_state.h"
#include "sysrestart.h"
#include "tracer_types.h"

/* The PROC record: ids, creds, names, cwd/root/exe, cmdline/environ, mm boundaries,
 * personality, umask, rlimits, zombie children (collect_proc.c). */
int collect_proc(pid_t pid, struct ckpt_proc *p);

/* One thread held in a ptrace-stop: registers (with the fix-up of a cut-short syscall,
 * sysrestart.h; memo may be NULL), xsave, signal mask, its pending queue, rseq, robust list
 * (collect_threads.c). */
int collect_thread(pid_t pid, pid_t tid, const struct sysrestart_memo *memo,
		   struct ckpt_thread *t);
struct collect_tree;
/* All threads: tids[] are held in ptrace-stops; fills p->threads/p->nthreads (tree, which may
 * be NULL, gives what the tracer remembers of each thread). */
int collect_threads(pid_t pid, const pid_t *tids, uint32_t ntids, const struct collect_tree *tree,
		    struct ckpt_proc *p);

/* The process-wide (shared) pending queue, read through held thread tid. */
int collect_shared_pending(pid_t tid, struct ckpt_siginfo **sip, uint32_t *np);

/* Dispositions (as far as /proc tells), the shared pending queue via thread any_tid, and the
 * POSIX timers listed in /proc/PID/timers (collect_signals.c). */
int collect_signals(pid_t pid, pid_t any_tid, struct ckpt_signals **sp);

/*
 * Memory (collect_mem.c): the vmas of /proc/PID/smaps with their kinds and flags, and the page
 * runs to store, found with the PAGEMAP_SCAN ioctl (when kfeat() says so) or /proc/PID/pagemap.
 * shm_owner(arg, vma) is asked for every shared object (CKPT_VMA_SHMEM, deleted shared file):
 * it returns 1 if this image stores the object's data (the first process of the tree that
 * shows it), else 0 with *owner_pid set. NULL: always store.
 */
typedef int (*collect_shm_owner_fn)(void *arg, const struct ckpt_vma *v, int32_t *owner_pid);
int collect_mem(pid_t pid, struct ckpt_proc *p, collect_shm_owner_fn owner, void *arg);
/* Which page-finding method collect_mem uses here: "PAGEMAP_SCAN" or "pagemap". */
const char *collect_mem_method(void);

/*
 * File descriptors (collect_fds.c): every fd of /proc/PID/fd with fdinfo, the open file
 * descriptions (one record per description within the process; share_key equal across the
 * tree for one description, see collect_fd_share_fn), termios of terminals, and the data of
 * pipes (read without consuming: tee from a pidfd_getfd copy); deleted regular files are
 * marked CKPT_FF_HAS_DATA with data_len = size and data NULL: their bytes are streamed into
 * the image by the dumper (collect_open_fd_data).
 * share(arg, pid, fd, file) returns the tree-wide key of the description (the tracer keeps
 * the table; kcmp KCMP_FILE tells two equal). NULL: the key is (pid << 32 | fd).
 */
typedef uint64_t (*collect_fd_share_fn)(void *arg, pid_t pid, int fd,
					const struct ckpt_file *f);
struct collect_tree;
/* tree (may be NULL: each process on its own) gives the share keys and takes the reason of a
 * failure that is not the process's death ("fd 5 is a netlink socket of protocol 15, which
 * cannot be checkpointed yet ..."). */
int collect_fds(pid_t pid, struct ckpt_proc *p, const struct collect_tree *tree);

/*
 * A socket (collect_sock.c, collect_sock_inet.c): lfd, the tracer's duplicate of pid's fd,
 * described into f->sock and its queue peeked into f's data, with t, the network
 * namespace's socket tables (dumped at the first socket that needs one, freed with
 * collect_sock_tables_free). -EOPNOTSUPP with a reason in why when it is a kind or state
 * that cannot be restored.
 */
struct sockdiag_unix_set;
struct sockdiag_inet_set;
struct sock_inflight;
struct sock_tables {
	struct sockdiag_unix_set *unix_set;
	struct sockdiag_inet_set *tcp_set;
	int unix_rc, tcp_rc; /* 1: not dumped yet; 0: dumped; else -errno */
	/* The fds in flight (SCM_RIGHTS) that peeking the queues brought into the tracer,
	 * described once all of the process's own fds are (collect_fds.c); nested: a file in
	 * flight is being described now, so any fd in its own queue fails the checkpoint. */
	struct sock_inflight {
		struct ckpt_sock *s; /* the receiving socket's record */
		uint32_t scm, slot;  /* s->scm[scm].files[slot] is to be filled */
		int lfd;	     /* the tracer's copy */
		int fd;		     /* the program's fd of the receiving socket */
	} *inflight;
	uint32_t ninflight;
	int nested;
};
#define SOCK_TABLES_INIT { NULL, NULL, 1, 1, NULL, 0, 0 }
void collect_sock_tables_free(struct sock_tables *t);
int collect_sock(pid_t pid, int fd, int lfd, struct ckpt_file *f, struct sock_tables *t,
		 const struct collect_tree *tree, char *why, size_t whylen);

/*
 * An anonymous-inode file (collect_anon.c): an eventfd, timerfd, signalfd, epoll set, pidfd or
 * inotify instance described into f->anon from its fdinfo (tree, which may be NULL, says which
 * pids are the computation's); any other kind, or one of these in a state that cannot be made
 * again, is -EOPNOTSUPP with the reason in why. in_flight: f is carried by SCM_RIGHTS on fd.
 */
struct collect_tree;
int collect_anon(pid_t pid, int fd, int in_flight, struct ckpt_file *f,
		 const struct collect_tree *tree, char *why, size_t whylen);
/* An inotify instance's watches from its fdinfo text buf, with a path found for each
 * (collect_inotify.c); -EOPNOTSUPP with the reason in why when one has none. */
int collect_inotify(pid_t pid, int fd, const char *buf, struct ckpt_anon *a, char *why,
		    size_t whylen);

/*
 * The locks held through pid's fd (collect_locks.c) into f->locks; POSIX locks get self_pid
 * (the process's pid in the image). A lease, or a lock on a file that is not regular or a
 * directory, is -EOPNOTSUPP with the reason in why.
 */
int collect_locks(pid_t pid, int32_t self_pid, int fd, struct ckpt_file *f, char *why,
		  size_t whylen);

/* Shared by the file and socket collectors. */
/* n more bytes of f's saved data (f->data, f->data_len); -ENOMEM. */
int collect_data_append(struct ckpt_file *f, const void *buf, size_t n);
struct ckpt_sock;
int collect_sock_fail(char *why, size_t n, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The queue of lfd peeked (SO_PEEK_OFF, put back) into f's data and s's message lengths;
 * with t (unix), the fds in flight are kept in t->inflight and credentials in s->scm; without,
 * fds in flight fail. */
int collect_sock_peek(int lfd, int fd, struct ckpt_file *f, struct ckpt_sock *s,
		      struct sock_tables *t, char *why, size_t whylen);
/* SO_SNDBUF, SO_RCVBUF, timeouts, SO_PASSCRED, SO_PEEK_OFF into s. */
void collect_sock_common_opts(int lfd, struct ckpt_sock *s);
/* A TCP or UDP socket (collect_sock_inet.c); s has family, type, protocol and ino set. */
int collect_sock_tcp(int fd, int lfd, struct ckpt_file *f, struct ckpt_sock *s,
		     struct sock_tables *t, char *why, size_t whylen);
int collect_sock_udp(int fd, int lfd, struct ckpt_file *f, struct ckpt_sock *s, char *why,
		     size_t whylen);

/* A local fd to read the file behind pid's fd from (deleted file contents): a new read-only
 * open of /proc/PID/fd/FD, else a pidfd_getfd duplicate. -errno on failure. */
int collect_open_fd_data(pid_t pid, int fd);

/*
 * Exact signal dispositions, itimers, POSIX timer values, per-thread sigaltstack and clear-tid
 * address, umask, personality and brk, read by the parasite (collect_parasite.c). When some of
 * it cannot be read the /proc-level data already in p stays, a warning says what is missing,
 * and 0 is returned; nonzero means the process died (-ESRCH) or could not be cured.
 */
int collect_parasite_state(pid_t pid, const pid_t *tids, uint32_t ntids, struct ckpt_proc *p);

/* Hooks into the tree-wide tables of the caller (NULL: each process on its own). */
struct collect_tree {
	collect_shm_owner_fn shm_owner;
	collect_fd_share_fn fd_share;
	void *arg;
	int use_parasite; /* read dispositions, timers, altstacks... from inside (default 1) */
	char *why;	  /* out (may be NULL): the reason of a failure, see collect_fds */
	size_t whylen;
	/* The bytes the drain step took out of the socket of inode ino (to let what a full
	 * window held back in), to come before what is still queued; NULL when none (the
	 * callback may be NULL). */
	const uint8_t *(*sock_taken)(void *arg, uint64_t ino, size_t *len);
	/* What the tracer remembers of thread tid's cut-short call (sysrestart.h); NULL when
	 * nothing (the callback may be NULL). */
	const struct sysrestart_memo *(*sys_memo)(void *arg, pid_t tid);
	/* The files the computation's starting command had at fds 0-2 (NULL: none known): a
	 * process's fd N that holds the same file is marked CKPT_FDF_STDIO. */
	const struct stdio_ident *stdio;
	/* Whether pid (in the tracer's PID namespace) is a live process of the computation;
	 * NULL: none is. */
	int (*pid_in_tree)(void *arg, pid_t pid);
	/* Seccomp filters the process may have that are not its own: the ones the tracer itself
	 * runs under (inherited from where the computation was started, and found again where
	 * it restarts) plus ours (1 under dmtcp_launch's or dmtcp_restart's filter, 0 attached).
	 * More fail the checkpoint (its own filters cannot be restored yet); -1: not checked. */
	int seccomp_expected;
};

/*
 * Everything about process pid, whose threads tids[] are all held in ptrace-stops, into p
 * (initialised by the caller with ckpt_proc_init, freed with ckpt_proc_free), in the order
 * collect.c explains.
 */
int collect_process(pid_t pid, const pid_t *tids, uint32_t ntids, const struct collect_tree *tree,
		    struct ckpt_proc *p);

#endif
