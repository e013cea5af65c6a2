/*
 * Kernel and CPU feature probes (see probe.h). Each probe is made on the tracer itself, with
 * an argument the kernel rejects before doing anything, or on a resource of its own, so that
 * probing changes nothing.
 */
#include "probe.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "pagemap_scan.h"
#include "procfs.h"

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

static struct kernel_features feat;
static int probed;	/* 1: done; the result in probe_rc */
static int probe_rc;

/*
 * The kernel checks the flags before it reads the filter: an unknown flag fails with
 * EINVAL, a known one gets as far as the NULL filter (EFAULT) or the privilege check
 * (EACCES). Nothing is installed either way.
 */
static int probe_seccomp(void)
{
	long r;

	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, NULL);
	if (r == 0) {
		/* cannot happen with a NULL program; never leave a filter on the tracer */
		pr_err("seccomp accepted an empty filter; refusing to go on");
		return -EINVAL;
	}
	feat.seccomp_spec_allow = errno != EINVAL;
	r = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(unsigned){ SECCOMP_RET_TRACE });
	if (r < 0 && errno == EOPNOTSUPP) {
		pr_err("this kernel's seccomp has no SECCOMP_RET_TRACE");
		return -EOPNOTSUPP;
	}
	if (r < 0 && errno != EINVAL) {
		/* EINVAL: a kernel older than 4.14 without the query; TRACE exists since 3.5 */
		r = -errno;
		pr_err("seccomp is not available: %s", strerror((int)-r));
		return (int)r;
	}
	return 0;
}

/* Our own stdin through a pidfd of our own: allowed whatever the ptrace policy. */
static void probe_pidfd_getfd(void)
{
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0), fd;

	if (pidfd < 0)
		return;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, pidfd, 0);
	if (fd >= 0) {
		feat.pidfd_getfd = 1;
		close(fd);
	}
	close(pidfd);
}

/* An empty range of our own pagemap: the ioctl answers 0 when it exists, ENOTTY when not. */
static void probe_pagemap_scan(void)
{
	const char *e = getenv("DMTCP_PAGEMAP_SCAN");
	struct pm_page_region reg;
	struct pm_scan_arg a;
	int fd;

	/* DMTCP_PAGEMAP_SCAN=0 forces the /proc/PID/pagemap path (for tests, and for a kernel
	 * whose ioctl misbehaves). */
	if (e && !strcmp(e, "0"))
		return;
	fd = procfs_open(0, 0, "pagemap", O_RDONLY);
	if (fd < 0)
		return;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.start = (uint64_t)(uintptr_t)&reg & ~4095ull;
	a.end = a.start + 4096;
	a.vec = (uint64_t)(uintptr_t)&reg;
	a.vec_len = 1;
	a.category_anyof_mask = PM_PAGE_IS_PRESENT;
	a.return_mask = PM_PAGE_IS_PRESENT;
	feat.pagemap_scan = ioctl(fd, PM_PAGEMAP_SCAN, &a) >= 0;
	close(fd);
}

static void probe_cpu(void)
{
	unsigned a, b, c, d;

	feat.crc32_insn = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
}

int probe_kernel(void)
{
	if (probed)
		return probe_rc;
	probed = 1;
	memset(&feat, 0, sizeof(feat));
	probe_rc = probe_seccomp();
	probe_pidfd_getfd();
	probe_pagemap_scan();
	probe_cpu();
	pr_debug("kernel: %s", probe_describe());
	return probe_rc;
}

const struct kernel_features *kfeat(void)
{
	probe_kernel();
	return &feat;
}

const char *probe_describe(void)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "seccomp SPEC_ALLOW %s, pidfd_getfd %s, PAGEMAP_SCAN %s, "
		 "crc32 instruction %s", feat.seccomp_spec_allow ? "yes" : "no",
		 feat.pidfd_getfd ? "yes" : "no", feat.pagemap_scan ? "yes" : "no",
		 feat.crc32_insn ? "yes" : "no");
	return buf;
}
