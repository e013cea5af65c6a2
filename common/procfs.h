/*
 * Reading /proc: every parse of a /proc file in the libc-side code goes through here, so the
 * quirks are handled once (a comm with spaces and parentheses in stat, a status field that a
 * kernel may lack, a file that vanishes with its process, the path column of maps that may
 * hold spaces).
 *
 * pid 0 means the calling process ("/proc/self"); tid 0 means the process itself rather than
 * one of its threads (/proc/PID/... rather than /proc/PID/task/TID/...). Functions return 0
 * or a negative errno; a file that is gone because its process or thread is gone gives
 * -ESRCH (the kernel says ENOENT), so callers can treat a vanished tracee as an event.
 */
#ifndef DMTCP_PROCFS_H
#define DMTCP_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "/proc/PID[/task/TID]/NAME" into buf (NAME may be "" for the directory itself). */
void procfs_path(char *buf, size_t n, pid_t pid, pid_t tid, const char *name);

/* A whole file into a malloc'ed, NUL-terminated buffer (*lenp bytes, lenp may be NULL). */
int procfs_read_file(const char *path, char **bufp, size_t *lenp);
/* The same for /proc/PID[/task/TID]/NAME; ENOENT becomes -ESRCH. */
int procfs_read(pid_t pid, pid_t tid, const char *name, char **bufp, size_t *lenp);
/* The target of the link /proc/PID[/task/TID]/NAME, NUL-terminated; ENOENT becomes -ESRCH. */
int procfs_readlink(pid_t pid, pid_t tid, const char *name, char *buf, size_t n);
/* comm without its newline. */
int procfs_comm(pid_t pid, pid_t tid, char *buf, size_t n);
/*
 * open(2) of /proc/PID[/task/TID]/NAME, for the files used as handles rather than parsed
 * (mem, pagemap, map_files/START-END, fd/N): an fd with O_CLOEXEC added, or -errno; ENOENT
 * becomes -ESRCH.
 */
int procfs_open(pid_t pid, pid_t tid, const char *name, int flags);

/* ---- status ---------------------------------------------------------------------------- */

/* In the text of a status file: the value after "Key:" and its blanks, or NULL. */
const char *procfs_status_field(const char *status, const char *key);
/* Up to max decimal integers of a status line; returns how many were read. */
int procfs_status_ints(const char *status, const char *key, int32_t *v, int max);
/* A hexadecimal status value (SigBlk, CapEff, ...), 0 when absent. */
uint64_t procfs_status_hex(const char *status, const char *key);

/* Tgid and PPid of a task (any tid: the kernel resolves /proc/TID for threads too). */
int procfs_status_ids(pid_t tid, pid_t *tgid, pid_t *ppid);
/* TracerPid of /proc/TID/status: the tracer's pid, 0 when untraced, or -errno. */
pid_t procfs_tracer_pid(pid_t tid);

/* The signal masks of a thread's status. */
struct procfs_sigs {
	uint64_t pnd;	 /* SigPnd: pending for this thread */
	uint64_t shdpnd; /* ShdPnd: pending for the process */
	uint64_t blk;	 /* SigBlk */
	uint64_t ign;	 /* SigIgn */
	uint64_t cgt;	 /* SigCgt */
};
int procfs_status_sigs(pid_t pid, pid_t tid, struct procfs_sigs *s);

/* ---- stat ------------------------------------------------------------------------------ */

#define PROCFS_STAT_MAX 52 /* fields of /proc/PID/stat known to proc(5) on this kernel */

/*
 * The fields of a stat file, numbered as in proc(5) (1-based): f[3] is the state letter,
 * f[4] ppid, f[5] pgrp, f[6] session, f[22] starttime, f[52] exit_code. Fields 1 and 2 (pid,
 * comm) are not kept. nfields is the highest field number read.
 */
struct procfs_stat {
	uint64_t f[PROCFS_STAT_MAX + 1];
	int nfields;
};
int procfs_parse_stat(const char *text, struct procfs_stat *st);
int procfs_stat(pid_t pid, pid_t tid, struct procfs_stat *st);
/* The state letter of a task (R, S, D, T, t, Z, X, ...), or -errno. */
int procfs_task_state(pid_t pid, pid_t tid);
/* 1 when the task has ended: a zombie, dead, or gone from /proc. */
int procfs_task_ended(pid_t pid, pid_t tid);
/* Start time of a process in clock ticks since boot (field 22). */
int procfs_start_time(pid_t pid, unsigned long long *ticks);

/* ---- tasks ----------------------------------------------------------------------------- */

/* fn for every tid of /proc/PID/task; fn returns < 0 to stop, which is then returned. */
typedef int (*procfs_task_fn)(pid_t tid, void *arg);
int procfs_each_task(pid_t pid, procfs_task_fn fn, void *arg);
/* The tids of /proc/PID/task, malloc'ed. */
int procfs_list_tasks(pid_t pid, pid_t **tidsp, uint32_t *np);
/* The children of one thread (/proc/PID/task/TID/children; tid 0: the leader), malloc'ed. */
int procfs_list_children(pid_t pid, pid_t tid, pid_t **kidsp, uint32_t *np);

/* ---- maps ------------------------------------------------------------------------------ */

struct procfs_map {
	uint64_t start, end, offset, inode;
	unsigned int dev_major, dev_minor;
	char perms[5];	  /* "rwxp" */
	const char *path; /* the rest of the line ("" for none), valid during the callback */
};
/*
 * One line of maps or smaps: 1 and *m filled when it describes a mapping, 0 for the
 * "Key: value" lines of smaps. The line is modified (its newline cut).
 */
int procfs_parse_map_line(char *line, struct procfs_map *m);
/* fn for every mapping of /proc/PID/maps, in address order; fn returns < 0 to stop. */
typedef int (*procfs_map_fn)(const struct procfs_map *m, void *arg);
int procfs_each_map(pid_t pid, procfs_map_fn fn, void *arg);

/* ---- fds ------------------------------------------------------------------------------- */

/* The target of /proc/PID/fd/FD ("socket:[123]", "pipe:[45]", a path...). */
int procfs_fd_link(pid_t pid, int fd, char *buf, size_t n);
/* The inode of the socket at fd, or 0 when fd is not a socket (or is gone). */
unsigned long procfs_fd_socket_ino(pid_t pid, int fd);
/*
 * fn for every fd of /proc/PID/fd; fn returns < 0 to stop, which is then returned. For the
 * calling process the fd of the listing itself is left out, and fn may close the fd it is
 * given (the kernel lists the table by fd number from where it stopped).
 */
typedef int (*procfs_fd_fn)(int fd, void *arg);
int procfs_each_fd(pid_t pid, procfs_fd_fn fn, void *arg);
/* The open fds of /proc/PID/fd in ascending order, malloc'ed. */
int procfs_list_fds(pid_t pid, int **fdsp, uint32_t *np);

/* What /proc/PID/fdinfo/FD says of every kind of file; a field the file lacks reads 0. */
struct procfs_fdinfo {
	uint64_t pos;	 /* file position */
	uint32_t flags;	 /* O_* status flags, O_CLOEXEC of this fd included (octal in the file) */
	uint32_t mnt_id; /* mount id, as in /proc/PID/mountinfo */
};
int procfs_fdinfo(pid_t pid, int fd, struct procfs_fdinfo *fi);

#endif
