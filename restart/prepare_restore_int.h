/*
 * Internal to the libc side of the restorer (prepare_restore*.c): the request's own copy of
 * the description, address-space bookkeeping shared by the files.
 */
#ifndef DMTCP_PREPARE_RESTORE_INT_H
#define DMTCP_PREPARE_RESTORE_INT_H

#include "restart/prepare_restore.h"
#include "restart/vdso.h"

#define PAGE_SZ       4096UL
#define PAGE_UP(x)    (((x) + PAGE_SZ - 1) & ~(PAGE_SZ - 1))
#define ALIGN64(x)    (((x) + 63) & ~(uint64_t)63)
#define USER_LOW      0x10000UL        /* above the usual vm.mmap_min_addr */
#define USER_HIGH     0x7ffffffff000UL /* top of the 47-bit user address space */
#define GUARD         PAGE_SZ          /* keep our mappings from merging with others */

struct stage {
	uint64_t start, len;
	int used;  /* referenced by a vma or a run: kept through the unmap step */
	int whole; /* a RESTORE_SRC_STAGED region's: no run may use it too */
};

struct req_vma {
	struct restore_vma_desc d;
	struct restore_run *runs; /* own copy */
	size_t cap_runs;
	int internal;             /* added by us (proxy vdso data, vvar reservations) */
};

struct req_thread {
	struct restore_thread_desc d;
	void *xsave; /* own copy */
};

struct restore_req {
	struct req_vma *vmas;
	size_t nr_vmas, cap_vmas;
	struct stage *stages;
	size_t nr_stages, cap_stages;
	struct req_thread *threads;
	size_t nr_threads, cap_threads;
	struct restore_vdso_desc vdso;
	void *vdso_img;
	int have_vdso;
	enum restore_vdso_policy vdso_policy;
	uint64_t sigaction_mask;
	struct rp_sigaction sigactions[RP_MAX_SIGNALS];
	struct rp_mm mm;
	int have_mm;
	int exe_fd; /* -1: none */
	int log_fd, fail_rc;
	int report_fd;
};

struct range {
	uint64_t start, end;
};

struct vdso_choice {
	struct vdso_block cur;
	int have_cur;
	enum rp_vdso_mode mode;
	int relocate; /* proxy: the current block is in the way of a saved range */
};

struct area_layout {
	size_t blob_off, blob_len;
	size_t plan_off;
	size_t unmap_off, vmas_off, runs_off, threads_off, fds_off, frames_off;
	size_t plan_size;
	size_t *frame_off; /* per thread */
	size_t scratch_off, home_off, block_len;
	size_t stacks_off, total;
	size_t max_unmap;
	size_t nr_runs, nr_fds;
};

/*
 * Room for need elements of elem bytes in the growable array *arr of *cap elements: the
 * capacity doubles (16 at first), new room is zeroed. 0 or -ENOMEM (*arr then unchanged).
 */
int req_grow(void **arr, size_t *cap, size_t need, size_t elem);
/* How many mappings this process has now. */
int count_self_maps(size_t *n);
/* Append the saved regions and the saved vdso block to *r. */
int collect_saved_ranges(struct restore_req *req, struct range **r, size_t *n, size_t *cap);
/* Map len read+write bytes clear of saved ranges and current mappings, anonymous or (fd >= 0)
 * a private mapping of fd; NULL + errno. */
void *map_clear_hole(struct restore_req *req, size_t len, int flags, int fd);
struct stage *find_stage(struct restore_req *req, uint64_t addr, uint64_t len);
/* Fill the plan's unmap list: every current mapping minus what the blob keeps. */
int build_unmap(struct restore_req *req, struct restore_plan *p, const struct area_layout *L,
		const struct vdso_choice *vc);

/* prepare_restore_req.c */
int req_push_vma(struct restore_req *req, const struct restore_vma_desc *v, int internal);
/* Sorts the regions and checks the whole request; 0 or -errno, logged. */
int prepare_validate_req(struct restore_req *req);

/* prepare_restore_vdso.c */
int prepare_vdso_choice(struct restore_req *req, struct vdso_choice *vc);
/* Proxy path: stage the saved vdso pages as a region, reserve the saved vvar parts. */
int prepare_vdso_proxy_vmas(struct restore_req *req);
int prepare_plan_vdso(struct restore_req *req, struct restore_plan *p, char *area,
		      const struct area_layout *L, const struct vdso_choice *vc);

#endif
