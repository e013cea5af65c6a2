/*
 * Libc-side API of the restorer: describe one process's saved memory and threads, stage the
 * data, and turn the calling process into the saved one.
 *
 * Use, in the process that will become the restored one (its PID already the right one, its
 * fds already in place, single-threaded):
 *
 *	struct restore_req *req;
 *	restore_req_new(&req);
 *	i = restore_req_add_vma(req, &vma) ...  every saved region but [vvar]/[vvar_vclock]/[vdso]
 *	p = restore_req_stage_vma(req, i); fill p (RESTORE_SRC_STAGED regions)
 *	d = restore_stage_alloc(req, len, 0); fill d; restore_req_add_run(req, i, &run)
 *	                                     (written pages of private file mappings, present
 *	                                     pages of RESTORE_SRC_SPARSE regions)
 *	restore_req_set_vdso(req, &vdso)     the saved vdso block (and its pages, for the proxy)
 *	restore_req_add_thread(req, &thr) ... main thread first
 *	prepare_restore(req);                returns only on failure (-errno), before anything
 *	                                     of the caller is lost
 *
 * Staging memory must come from restore_stage_alloc()/restore_req_stage_vma(): it lies clear of
 * every saved region added before the call, and the blob mremap()s it into place. So add all
 * regions first, then stage.
 */
#ifndef DMTCP_PREPARE_RESTORE_H
#define DMTCP_PREPARE_RESTORE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "restorer/restore_plan.h"

struct restore_req;

/* Where a saved region's contents come from. */
enum restore_src {
	RESTORE_SRC_ZERO,   /* nothing saved: fresh zero pages */
	RESTORE_SRC_STAGED, /* .staged: a restore_stage_alloc() mapping of the region's length */
	RESTORE_SRC_FILE,   /* .fd at .pgoff (private: plus .runs of written pages; shared: as is) */
	/*
	 * Private anonymous memory with few pages present (a large reservation, mostly never
	 * touched): fresh anonymous memory of the region's full length with its flags
	 * (MAP_NORESERVE kept), and .runs of the present pages copied in. Staging costs the
	 * runs, not the region's length.
	 */
	RESTORE_SRC_SPARSE,
};

/*
 * Pages of a region staged apart: written pages of a private file mapping, present pages of a
 * sparse region. .data lies in restore_stage_alloc() memory, and no two runs share a byte of
 * it: the blob unmaps each run's staged bytes right after copying them.
 */
struct restore_run {
	uint64_t offset; /* from the region's start, page aligned */
	uint64_t len;
	void *data;
};

struct restore_vma_desc {
	uint64_t start, end;
	int prot;  /* PROT_* */
	int flags; /* MAP_PRIVATE or MAP_SHARED, plus MAP_ANONYMOUS, MAP_GROWSDOWN, MAP_NORESERVE */
	enum restore_src src;
	void *staged;      /* RESTORE_SRC_STAGED; NULL: attached later by restore_req_stage_vma() */
	int fd;            /* RESTORE_SRC_FILE: kept open until the blob has mapped it */
	int close_fd;      /* the blob closes fd after mapping (an fd only the restore used) */
	uint64_t pgoff;    /* bytes */
	const struct restore_run *runs; /* copied by restore_req_add_vma(); sorted, disjoint */
	unsigned int nr_runs;
};

/* The saved [vvar]/[vvar_vclock]/[vdso] block; zero lengths for parts the kernel had not. */
struct restore_vdso_desc {
	uint64_t vvar_start, vvar_end;
	uint64_t vclock_start, vclock_end;
	uint64_t vdso_start, vdso_end;
	const void *vdso_image; /* the saved [vdso] pages (proxy path), NULL if not saved */
	size_t vdso_image_len;
};

struct restore_thread_desc {
	pid_t tid;
	int exact_tid;          /* ask clone3 set_tid for tid (threads other than the main one) */
	struct user_regs_struct regs; /* PTRACE_GETREGS, restart-syscall fix-up already done */
	const void *xsave;      /* PTRACE_GETREGSET NT_X86_XSTATE; NULL: reset FPU state */
	size_t xsave_len;
	uint64_t sigmask;
	stack_t altstack;       /* ss_flags SS_DISABLE: none */
	uint64_t clear_tid;     /* prctl(PR_GET_TID_ADDRESS) */
	uint64_t robust_list, robust_len; /* get_robust_list() */
	uint64_t rseq;          /* PTRACE_GET_RSEQ_CONFIGURATION: 0 if none */
	uint32_t rseq_len, rseq_sig;
	char comm[16];          /* the thread's name ("": keep the preparer's) */
};

/* vdso handling choice (the env DMTCP_RESTORE_VDSO=auto|move|proxy overrides AUTO). */
enum restore_vdso_policy {
	RESTORE_VDSO_AUTO,  /* move when the saved vdso is this kernel's, else proxy */
	RESTORE_VDSO_MOVE,
	RESTORE_VDSO_PROXY,
};

int restore_req_new(struct restore_req **out);
/* Frees the request and every staging mapping it still owns (only when not restoring). */
void restore_req_free(struct restore_req *req);
/* Returns the region's index (>= 0) for the calls below, or -errno. */
int restore_req_add_vma(struct restore_req *req, const struct restore_vma_desc *vma);
/* Staging memory of the region's length, attached to region idx (RESTORE_SRC_STAGED). */
void *restore_req_stage_vma(struct restore_req *req, int idx);
/* One more run of pages for region idx (private RESTORE_SRC_FILE, RESTORE_SRC_SPARSE). */
int restore_req_add_run(struct restore_req *req, int idx, const struct restore_run *run);
int restore_req_set_vdso(struct restore_req *req, const struct restore_vdso_desc *vdso,
			 enum restore_vdso_policy policy);
int restore_req_add_thread(struct restore_req *req, const struct restore_thread_desc *thr);
/*
 * Signal dispositions the blob installs (raw kernel layout; a handler needs SA_RESTORER).
 * Every signal not set here is SIG_DFL afterwards: the preparing process's handlers are gone.
 */
int restore_req_set_sigaction(struct restore_req *req, int sig, const struct rp_sigaction *act);
/* mm boundaries (brk, code/data/stack/arg/env markers) for PR_SET_MM_MAP. */
int restore_req_set_mm(struct restore_req *req, const struct rp_mm *mm);
/*
 * The executable /proc/PID/exe should name again: fd open on it (O_RDONLY), which the request
 * owns from now on (the blob closes it). The kernel takes it only from a process that may
 * (CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in its user namespace) once the old executable is
 * unmapped; otherwise the link keeps naming the restart command, logged.
 */
void restore_req_set_exe(struct restore_req *req, int fd);
/* Where the blob writes its error lines (default 2), and the exit code on a late failure. */
void restore_req_set_log(struct restore_req *req, int fd, int fail_rc);

/*
 * prepare_restore() writes "restorer-area 0xSTART 0xEND\n" to fd just before the jump: the
 * range a tracer may munmap remotely once the threads run (the process cannot unmap the code
 * it runs on). -1 (default): no report.
 */
void restore_req_set_report_fd(struct restore_req *req, int fd);

/*
 * Anonymous read+write memory at an address clear of every saved region added so far and of
 * every current mapping; flags may add MAP_GROWSDOWN/MAP_NORESERVE. NULL + errno on failure.
 */
void *restore_stage_alloc(struct restore_req *req, size_t len, int flags);

/*
 * Build the restore area and plan and jump into the blob. Validates everything first; on any
 * failure returns -errno with nothing of the caller lost. Never returns on success. After a
 * failure the request is spent (regions re-sorted, proxy regions added): only
 * restore_req_free() may follow.
 */
int prepare_restore(struct restore_req *req);

#endif
