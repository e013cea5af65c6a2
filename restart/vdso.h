/*
 * Libc-side vdso helpers of the restorer: find this process's [vvar]/[vvar_vclock]/[vdso]
 * block, and compute the proxy patches (saved entry point -> current symbol) with libelf.
 */
#ifndef DMTCP_RESTART_VDSO_H
#define DMTCP_RESTART_VDSO_H

#include <stddef.h>
#include <stdint.h>

#include "restorer/restore_plan.h"

/* The current block as /proc/self/maps shows it; parts in address order. */
struct vdso_block {
	unsigned int nr_parts;
	uint64_t start, end;   /* from the first part's start to the last part's end */
	uint64_t vdso_start, vdso_end;
	struct {
		uint64_t start, end;
		char name[16];
	} parts[RP_MAX_VDSO_PARTS];
};

/* 0, or -errno (-ENOENT: this process has no vdso). */
int collect_vdso_block(struct vdso_block *b);

/*
 * For every exported function of the saved vdso image (mapped at saved_base) that the current
 * image (to be at cur_base) also exports, a patch that jumps from the saved entry point to the
 * current one. Saved functions without a counterpart are reported (pr_warn) and left alone.
 * Returns the number of patches, or -errno (-ENOEXEC: an image is not a usable ELF; -ENOSPC:
 * too many; -EINVAL: two entry points too close to hold a 13-byte jump each).
 */
int prepare_vdso_patches(const void *saved, size_t saved_len, uint64_t saved_base,
			 const void *cur, size_t cur_len, uint64_t cur_base,
			 struct rp_vdso_patch *out, unsigned int max);

#endif
