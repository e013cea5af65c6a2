/*
 * The seccomp filter every launched (and restarted) program carries, generated from the list
 * of trapped syscalls (the hook table's traps, hooks.h).
 *
 * The filter is number-only and short: SECCOMP_RET_TRACE for the trapped numbers, ALLOW for
 * everything else, so an untrapped syscall costs only the kernel's seccomp entry path. The
 * comparisons form a search tree over the ranges of trapped numbers, whose first test sends
 * every number below the lowest trapped one (read, write, open, mmap, poll...) to ALLOW. A
 * call of another ABI (i386 through int 0x80, x32) is trapped with FILTER_DATA_FOREIGN; the
 * tracer lets it run (fork-following does not depend on the filter).
 */
#ifndef DMTCP_TRACER_FILTER_H
#define DMTCP_TRACER_FILTER_H

#include <linux/filter.h>
#include <stdio.h>

/* SECCOMP_RET_DATA values the filter returns with SECCOMP_RET_TRACE. */
#define FILTER_DATA_NATIVE  1 /* one of the trapped x86_64 syscalls */
#define FILTER_DATA_FOREIGN 2 /* a syscall of another ABI (i386 int 0x80, x32) */

struct filter;

/*
 * Build the filter that traps exactly nrs[0..n) (native x86_64 numbers, sorted, unique, below
 * the x32 bit). Returns 0 and *out, -EINVAL for a bad list, -E2BIG when the tree does not fit
 * BPF's 8-bit jumps, -ENOMEM.
 */
int filter_build(const long *nrs, int n, struct filter **out);
void filter_free(struct filter *f);

/* The BPF program. */
const struct sock_filter *filter_insns(const struct filter *f, unsigned *len);

/* Every instruction with its pseudo-C meaning, one per line. */
void filter_print(const struct filter *f, FILE *out);

/*
 * In the calling process: no_new_privs first (required to install a filter without
 * CAP_SYS_ADMIN, and what keeps a setuid program from running with the filter and more
 * privilege than its tracer), then the filter (SECCOMP_FILTER_FLAG_SPEC_ALLOW where the
 * kernel has it). Returns 0 or -errno.
 */
int filter_install(const struct filter *f);

#endif
