/*
 * The restore plan: the contract between the libc-side preparation (restart/prepare_restore.c)
 * and the freestanding restorer blob (restorer/restorer*.c).
 *
 * The plan lives inside the "restore area", one contiguous mapping chosen libc-side clear of
 * every saved region and of every current mapping. The area holds, in order: the blob's code
 * (read+exec), then this plan (read+write): the header, its arrays, the per-thread rt_sigframes
 * with their XSAVE images, a scratch hole for moving the vdso block, and the stacks the blob
 * runs on. The blob is entered with %rdi = the plan header. Nothing in the area moves after it
 * is built, so the absolute addresses the kernel needs (rsp of a sigframe, its fpstate pointer)
 * are written libc-side; everything the blob walks is found through offsets from the header.
 *
 * Plain fixed-layout structs only (stdint types, explicit padding): the header is included by
 * the blob, which sees no libc, and by libc-side code, for which it is the only header of
 * restorer/ (the rest is the blob's own).
 *
 * Nothing here depends on the image format: whoever reads an image turns it into a
 * struct restore_req (restart/prepare_restore.h), and prepare_restore() builds this plan.
 */
#ifndef DMTCP_RESTORE_PLAN_H
#define DMTCP_RESTORE_PLAN_H

#include <stdint.h>

#define RESTORE_PLAN_MAGIC   0x4e414c5054535244ULL /* "DRSTPLAN" little-endian */
#define RESTORE_PLAN_VERSION 3

/* Limits that size fixed arrays in the header. */
#define RP_MAX_SIGNALS     64
#define RP_MAX_VDSO_PARTS  4  /* [vvar], [vvar_vclock], [vdso] (+1 spare for other kernels) */
#define RP_MAX_VDSO_PATCH  32 /* entry points patched in the saved vdso (proxy path) */
#define RP_THREAD_STACK    16384 /* bytes of blob stack per created thread, below stack_top */
#define RP_MAIN_STACK      65536

/* struct restore_plan.flags */
#define RP_F_SET_MM      0x1 /* apply plan->mm with prctl(PR_SET_MM_MAP) */
#define RP_F_UNREG_RSEQ  0x2 /* unregister the current thread's rseq (cur_rseq_*) first */
#define RP_F_DEBUG       0x4 /* the blob writes a line per step to log_fd */
#define RP_F_BRK_FENCE   0x8 /* no PR_SET_MM: empty the preparer's brk, fence it (cur_start_brk) */

/* A half-open range [start, end). */
struct rp_range {
	uint64_t start;
	uint64_t end;
};

/* How a region gets its contents (struct rp_vma.kind). */
enum rp_vma_kind {
	/*
	 * The whole region was staged in anonymous memory at stage_addr with the region's
	 * mapping flags; the blob mremap()s it into place (MREMAP_MAYMOVE|MREMAP_FIXED): no copy.
	 */
	RP_VMA_STAGED = 1,
	/*
	 * Fresh zero-filled anonymous memory (a region without any saved page), mapped with the
	 * saved protection itself: a PROT_NONE reservation of a TiB must not be made writable
	 * even for a moment, which the kernel would charge against the commit limit.
	 */
	RP_VMA_ZERO = 2,
	/*
	 * mmap(fd, pgoff) with the saved flags (MAP_PRIVATE or MAP_SHARED). For a private file
	 * mapping, the pages the program had written follow as runs (rp_run, first_run/nr_runs)
	 * copied over the file's pages: this keeps the region ONE file-backed vma, exactly as the
	 * program had it (its /proc/self/maps and a later checkpoint see the same layout). Shared
	 * memory (shared anonymous, SysV, memfd, shared file) is this kind with MAP_SHARED on an
	 * fd that every process sharing the object maps.
	 */
	RP_VMA_FILE = 3,
	/*
	 * Private anonymous memory with few pages present (a large MAP_NORESERVE reservation,
	 * mostly never touched): fresh anonymous memory of the full length with the saved flags,
	 * the present pages copied in from their runs (rp_run, first_run/nr_runs). Staging
	 * costs the present pages only, and the region stays ONE vma: mremapping the runs in
	 * would split it, since a moved anonymous vma keeps the page offset of where it was
	 * staged and cannot merge with its new neighbours.
	 */
	RP_VMA_SPARSE = 4,
};

/* struct rp_vma.flags: the mmap flags of the saved region, a subset of MAP_* values. */
struct rp_vma {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;      /* RP_VMA_FILE: file offset in bytes */
	uint64_t stage_addr; /* RP_VMA_STAGED: where the staged copy sits now */
	uint32_t kind;       /* enum rp_vma_kind */
	uint32_t prot;       /* PROT_* as saved */
	uint32_t flags;      /* MAP_PRIVATE|MAP_SHARED|MAP_ANONYMOUS|MAP_GROWSDOWN|MAP_NORESERVE */
	int32_t fd;          /* RP_VMA_FILE: fd open in this process */
	uint32_t first_run;  /* RP_VMA_FILE private, RP_VMA_SPARSE: index of its first rp_run */
	uint32_t nr_runs;
};

/*
 * Written pages of a private file mapping, present pages of a sparse region: len bytes from
 * stage_addr copied to addr. After the copy the blob unmaps [unmap_addr, unmap_addr +
 * unmap_len) when unmap_len is not 0: the run's own staged bytes, or on the last run of a
 * staging mapping the whole mapping. So staged memory is given back as the copy goes.
 */
struct rp_run {
	uint64_t addr;
	uint64_t len;
	uint64_t stage_addr;
	uint64_t unmap_addr;
	uint64_t unmap_len;
};

/* struct rp_thread.flags */
#define RP_THR_SET_TID 0x1 /* create with clone3 set_tid = tid (root in the owning userns) */

/*
 * One thread. Thread 0 is the calling (main) thread, which the caller already made with the
 * right TID; the blob creates the others. Each ends in rt_sigreturn with rsp = frame_rsp, a
 * frame built libc-side (arch/x86_64/sigframe.h) holding the registers, FPU/XSAVE state,
 * signal mask and sigaltstack. What the frame cannot carry the blob sets first.
 */
struct rp_thread {
	int32_t tid;      /* wanted TID (0: any) */
	uint32_t flags;   /* RP_THR_* */
	uint64_t fs_base; /* arch_prctl(ARCH_SET_FS) */
	uint64_t gs_base; /* arch_prctl(ARCH_SET_GS) */
	uint64_t clear_tid;   /* set_tid_address(); 0: leave unset */
	uint64_t robust_list; /* set_robust_list(); 0: none */
	uint64_t robust_len;
	uint64_t rseq;        /* rseq area to register; 0: none */
	uint32_t rseq_len;
	uint32_t rseq_sig;
	uint64_t frame_rsp;   /* absolute: rsp for rt_sigreturn (points at the frame's ucontext) */
	uint64_t stack_top;   /* absolute: top of the small stack the blob runs this thread on */
	int32_t got_tid;      /* written by the blob: the TID the thread got */
	uint32_t pad;
	char comm[16];        /* prctl(PR_SET_NAME); "": leave as is */
};

/* struct rp_vdso.mode */
enum rp_vdso_mode {
	RP_VDSO_NONE = 0,  /* leave the current block where it is, patch nothing */
	RP_VDSO_MOVE = 1,  /* same kernel: move the current block to the saved addresses */
	RP_VDSO_PROXY = 2, /* other vdso: block stays (or moves to dest), saved entry points jump */
};

struct rp_vdso_part {
	uint64_t cur_start; /* where the part is now */
	uint64_t len;
	uint64_t off;       /* offset of the part from the start of the block */
};

/* One patched entry point: at `at' (inside the restored saved vdso) jump to `target'. */
struct rp_vdso_patch {
	uint64_t at;
	uint64_t target;
};

/*
 * [vvar], [vvar_vclock] and [vdso] are adjacent mappings: they are moved as one block, each
 * part first to the scratch hole (inside the restore area) and then to dest, so that a
 * destination overlapping the current position is never a problem.
 */
struct rp_vdso {
	uint32_t mode;     /* enum rp_vdso_mode */
	uint32_t nr_parts;
	uint32_t nr_patches;
	uint32_t pad;
	uint64_t block_len;
	uint64_t dest;     /* where the block goes (== cur block start: no move) */
	uint64_t scratch;  /* hole of block_len bytes inside the restore area */
	struct rp_vdso_part parts[RP_MAX_VDSO_PARTS];
	struct rp_vdso_patch patches[RP_MAX_VDSO_PATCH];
};

/*
 * prctl(PR_SET_MM, PR_SET_MM_MAP) fields (struct prctl_mm_map without the pointer to auxv and
 * the exe fd). Applied with RP_F_SET_MM; when the kernel refuses, RP_F_BRK_FENCE applies.
 */
struct rp_mm {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
};

/* A signal disposition, in the kernel's struct sigaction layout for rt_sigaction. */
struct rp_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct restore_plan {
	uint64_t magic;   /* RESTORE_PLAN_MAGIC */
	uint32_t version; /* RESTORE_PLAN_VERSION */
	uint32_t flags;   /* RP_F_* */
	uint64_t area_start; /* the whole restore area: never unmapped by the blob */
	uint64_t area_end;
	uint64_t plan_size;  /* bytes from the header to the end of its arrays */
	uint64_t main_stack_top; /* absolute: the blob switches to this stack first */

	int32_t log_fd;   /* the blob reports failures (and with RP_F_DEBUG each step) here; -1 */
	int32_t fail_rc;  /* exit_group() code when a step fails after the point of no return */

	/* arrays, as byte offsets from the header */
	uint32_t nr_unmap, unmap_off;       /* struct rp_range: everything not ours, unmapped */
	uint32_t nr_vmas, vmas_off;         /* struct rp_vma, ascending by start */
	uint32_t nr_runs, runs_off;         /* struct rp_run */
	uint32_t nr_threads, threads_off;   /* struct rp_thread, [0] = main */
	uint32_t nr_close_fds, close_fds_off; /* int32_t: fds only the blob used */
	uint32_t pad0;

	/* rseq registered by the preparing process's libc, unregistered first (RP_F_UNREG_RSEQ) */
	uint64_t cur_rseq;
	uint32_t cur_rseq_len;
	uint32_t cur_rseq_sig;

	/*
	 * Without PR_SET_MM the kernel's brk stays the preparer's, and a brk() of the restored
	 * program below it would shrink it: unmapping the program's memory. RP_F_BRK_FENCE: the
	 * blob sets brk to cur_start_brk (empty) right after the unmap step, and after the
	 * regions are back it puts a PROT_NONE page at cur_start_brk unless a region is there,
	 * so every later brk() fails cleanly and malloc uses mmap.
	 */
	uint64_t cur_start_brk;

	uint64_t sigaction_mask; /* bit (sig-1) set: install sigactions[sig-1] */
	struct rp_sigaction sigactions[RP_MAX_SIGNALS];

	struct rp_mm mm;
	int32_t exe_fd;       /* the saved executable, for PR_SET_MM_MAP's exe_fd; -1: none */
	uint32_t pad2;
	struct rp_vdso vdso;

	/* written by the blob while it runs; useful in a core dump of a failed restore */
	uint32_t step;
	int32_t threads_started;
};

/* Steps the blob goes through, in order (plan->step, and its log lines name them). */
enum rp_step {
	RP_STEP_ENTER = 1,
	RP_STEP_UNMAP,
	RP_STEP_VDSO,
	RP_STEP_MAP,
	RP_STEP_PATCH_VDSO,
	RP_STEP_PROTECT,
	RP_STEP_MM,
	RP_STEP_CLOSE,
	RP_STEP_SIGACTION,
	RP_STEP_THREADS,
	RP_STEP_SIGRETURN,
};

/* An array of the plan, from its offset field. */
#define RP_ARRAY(p, type, off) ((type *)((char *)(p) + (off)))

/* The blob's entry point (restorer.lds puts it first, at offset 0 of the blob). */
#define RESTORER_ENTRY restorer_entry

#endif
