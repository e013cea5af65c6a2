/*
 * The contract between the tracer (tracer/infect.c and its callers) and the parasite blob:
 * command numbers, argument and result structures, and the layout of the shared area.
 *
 * This is the ONE header both sides include. It must stay freestanding (fixed-width types only,
 * no libc, no pointers: tracee addresses travel as uint64_t) because the blob is built without
 * libc and the tracer sees the same bytes through its own mapping of the memfd.
 *
 * Shared area (one memfd, mapped in the target and in the tracer; see docs/infection.md):
 *
 *   0                       blob: code, data, bss (bss is zero because the memfd starts zeroed)
 *   blob_pages              struct parasite_args       PARASITE_ARGS_SIZE bytes
 *   + PARASITE_ARGS_SIZE    scratch for infect_*() remote syscalls   PARASITE_SCRATCH_SIZE
 *   + PARASITE_SCRATCH_SIZE stack, grows down from the end           PARASITE_STACK_SIZE
 *
 * Protocol: the tracer fills in parasite_args (cmd and the command's input), points the
 * thread's rip at the blob symbol parasite_entry, rsp at the stack top and rdi at the args,
 * and continues it with PTRACE_SYSCALL. The parasite runs the command, stores its result in
 * args->ret (0 or -errno) and makes a final getpid syscall; the tracer takes the syscall-exit
 * stop with rip == parasite_entry_done as the end of the command.
 */
#ifndef DMTCP_PARASITE_CMD_H
#define DMTCP_PARASITE_CMD_H

#include <stdint.h>

#define PARASITE_ARGS_SIZE    (64u * 1024)
#define PARASITE_SCRATCH_SIZE (16u * 1024)
#define PARASITE_STACK_SIZE   (64u * 1024)

enum parasite_cmd {
	PARASITE_CMD_NONE = 0,
	PARASITE_DUMP_PAGES,	   /* write page runs to an fd of the target */
	PARASITE_GET_SIGACTIONS,   /* all 64 signal dispositions */
	PARASITE_GET_ITIMERS,	   /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
	PARASITE_GET_POSIX_TIMERS, /* timer_gettime + timer_getoverrun for given ids */
	PARASITE_GET_THREAD_STATE, /* per thread: tid, sigaltstack, clear-tid address, sigmask */
	PARASITE_GET_MISC,	   /* umask, personality, name, a few prctl values */
	PARASITE_CMD__COUNT
};

/* ---- PARASITE_DUMP_PAGES ---------------------------------------------------------------- */

enum parasite_dump_mode {
	/* pwrite(fd, run, len, file_off + bytes written so far): one copy, target memory straight
	 * to the image file; runs are written back to back from file_off. */
	PARASITE_DUMP_PWRITE = 1,
	/* write(fd, ...): sequential, for a pipe or socket the tracer drains, or a file at its
	 * current offset. */
	PARASITE_DUMP_WRITE,
	/* vmsplice(fd, runs, vmsplice_flags): fd must be a pipe; the pipe then references the
	 * target's pages, so the tracer must drain it before the target runs again. */
	PARASITE_DUMP_VMSPLICE,
};

struct parasite_page_run {
	uint64_t addr; /* tracee address */
	uint64_t len;  /* bytes */
};

#define PARASITE_DUMP_HDR_SIZE 48
/*
 * Chunk checksums one command can return: with 1 MiB chunks a command writes at most 1 GiB,
 * which keeps the tracer's stop (one command) short next to the writes themselves.
 */
#define PARASITE_MAX_CRCS 1024
#define PARASITE_MAX_RUNS                                                                          \
	((PARASITE_ARGS_SIZE - 64 - PARASITE_DUMP_HDR_SIZE - PARASITE_MAX_CRCS * 4) /               \
	 sizeof(struct parasite_page_run))

/*
 * PARASITE_DUMP_F_CRC32C: PWRITE only. The runs form one stream cut into crc_chunk-byte chunks
 * (the last may be shorter), the image container's chunking; the blob computes the CRC-32C
 * of each chunk with the SSE4.2 crc32 instruction just before writing it (so the bytes the
 * write copies are still in cache) and stores it in crcs[]. The tracer sets the flag only if
 * CPUID says SSE4.2 is there; without it the instruction would fault in the target.
 */
#define PARASITE_DUMP_F_CRC32C 0x1u

struct parasite_dump_pages_args {
	/* in */
	int32_t fd;		 /* an fd of the target (infect_give_fd or a remote open) */
	uint32_t mode;		 /* enum parasite_dump_mode */
	uint64_t file_off;	 /* PWRITE: offset of the first byte */
	uint32_t nr_runs;	 /* entries used in runs[] */
	uint32_t vmsplice_flags; /* VMSPLICE: e.g. SPLICE_F_GIFT */
	/* out */
	uint64_t bytes_done; /* bytes written (on error: up to the failing run) */
	uint32_t runs_done;  /* runs completed */
	uint32_t flags;	     /* in: PARASITE_DUMP_F_* */
	uint32_t crc_chunk;  /* in, F_CRC32C: bytes per chunk, a multiple of 8 */
	uint32_t nr_crcs;    /* out, F_CRC32C: chunks written and checksummed in crcs[] */
	struct parasite_page_run runs[PARASITE_MAX_RUNS];
	uint32_t crcs[PARASITE_MAX_CRCS]; /* out, F_CRC32C: CRC-32C of chunk i */
};

/* ---- PARASITE_GET_SIGACTIONS ------------------------------------------------------------ */

#define PARASITE_NSIG 64

/* The kernel's struct sigaction layout on x86_64 (not glibc's). */
struct parasite_ksigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct parasite_sigactions_args {
	struct parasite_ksigaction act[PARASITE_NSIG]; /* act[sig - 1] */
	int32_t err[PARASITE_NSIG];		       /* 0 or -errno per signal */
};

/* ---- PARASITE_GET_ITIMERS --------------------------------------------------------------- */

struct parasite_itimerval {
	int64_t interval_sec, interval_usec;
	int64_t value_sec, value_usec;
};

struct parasite_itimers_args {
	struct parasite_itimerval it[3]; /* indexed by ITIMER_REAL/VIRTUAL/PROF (0, 1, 2) */
	int32_t err[3];
};

/* ---- PARASITE_GET_POSIX_TIMERS ---------------------------------------------------------- */

#define PARASITE_MAX_TIMERS 512

struct parasite_posix_timer {
	int32_t id;	 /* in: kernel timer id, from /proc/PID/timers */
	int32_t err;	 /* out: 0 or -errno of timer_gettime */
	int32_t overrun; /* out: timer_getoverrun, or -errno */
	int32_t pad;
	int64_t interval_sec, interval_nsec;
	int64_t value_sec, value_nsec;
};

struct parasite_posix_timers_args {
	uint32_t nr; /* in */
	uint32_t pad;
	struct parasite_posix_timer t[PARASITE_MAX_TIMERS];
};

/* ---- PARASITE_GET_THREAD_STATE ---------------------------------------------------------- */

struct parasite_thread_state_args {
	int32_t tid; /* gettid() of the thread that ran the command */
	int32_t err_altstack, err_tid_addr, err_sigmask;
	uint64_t ss_sp; /* sigaltstack */
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
	uint64_t clear_tid_addr; /* PR_GET_TID_ADDRESS */
	uint64_t sigmask;	 /* rt_sigprocmask(SIG_BLOCK, NULL, &old) */
};

/* ---- PARASITE_GET_MISC ------------------------------------------------------------------ */

struct parasite_misc_args {
	int32_t pid, tid, ppid;
	int32_t umask;		 /* umask(0) then umask(old): the only way to read it */
	int64_t personality;	 /* personality(0xffffffff) */
	int32_t dumpable;	 /* PR_GET_DUMPABLE, or -errno */
	int32_t pdeathsig;	 /* PR_GET_PDEATHSIG, or -errno */
	int32_t child_subreaper; /* PR_GET_CHILD_SUBREAPER, or -errno */
	int32_t no_new_privs;	 /* PR_GET_NO_NEW_PRIVS, or -errno */
	int32_t err_name;
	int32_t pad;
	char name[16]; /* PR_GET_NAME, NUL-terminated */
};

/* ---- the shared argument block ----------------------------------------------------------- */

#define PARASITE_ARGS_MAGIC 0x50415241u /* "ARAP": set by the tracer, checked by the blob */

struct parasite_args {
	uint32_t magic;
	uint32_t cmd; /* enum parasite_cmd */
	int32_t ret;  /* out: 0 or -errno */
	uint32_t pad;
	uint64_t reserved[6];
	union {
		struct parasite_dump_pages_args dump;
		struct parasite_sigactions_args sigacts;
		struct parasite_itimers_args itimers;
		struct parasite_posix_timers_args timers;
		struct parasite_thread_state_args thread;
		struct parasite_misc_args misc;
	} u;
};

_Static_assert(sizeof(struct parasite_args) <= PARASITE_ARGS_SIZE,
	       "parasite_args must fit the shared args area");
_Static_assert(__builtin_offsetof(struct parasite_dump_pages_args, runs) == PARASITE_DUMP_HDR_SIZE,
	       "PARASITE_DUMP_HDR_SIZE out of date");
_Static_assert(__builtin_offsetof(struct parasite_args, u) == 64, "parasite_args header is 64");
_Static_assert(sizeof(struct parasite_ksigaction) == 32, "kernel sigaction layout");

#endif
