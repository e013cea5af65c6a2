/*
 * What this kernel and CPU can do, probed once when the tracer starts (probe_kernel()) and
 * read by every module that has two ways of doing something: the seccomp filter, fd
 * transfer, page scanning, the parasite's checksums. No module probes on its own or assumes a
 * feature.
 */
#ifndef DMTCP_TRACER_PROBE_H
#define DMTCP_TRACER_PROBE_H

struct kernel_features {
	int seccomp_spec_allow; /* SECCOMP_FILTER_FLAG_SPEC_ALLOW accepted (Linux 4.17) */
	int pidfd_getfd;	/* pidfd_open + pidfd_getfd (Linux 5.6) */
	int pagemap_scan;	/* PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7), and not
				   turned off by DMTCP_PAGEMAP_SCAN=0 */
	int crc32_insn;		/* the CPU's crc32 instruction (SSE4.2): the parasite checksums */
};

/*
 * Probe once (later calls return the first result). Fails with -errno, having logged why,
 * when something the tracer cannot work without is missing (seccomp's SECCOMP_RET_TRACE).
 */
int probe_kernel(void);

/* The table; probes on first use (for code used without a tracer, such as unit tests). */
const struct kernel_features *kfeat(void);

/* One line naming every feature and whether it is there, for the debug log. */
const char *probe_describe(void);

#endif
