/*
 * The PAGEMAP_SCAN ioctl of /proc/PID/pagemap (Linux 6.7), newer than Debian 12's headers:
 * its argument, result and category bits as the kernel's uapi defines them.
 */
#ifndef DMTCP_TRACER_PAGEMAP_SCAN_H
#define DMTCP_TRACER_PAGEMAP_SCAN_H

#include <stdint.h>
#include <sys/ioctl.h>

#define PM_PAGE_IS_FILE	   (1ull << 2)
#define PM_PAGE_IS_PRESENT (1ull << 3)
#define PM_PAGE_IS_SWAPPED (1ull << 4)
#define PM_PAGE_IS_PFNZERO (1ull << 5)

struct pm_page_region {
	uint64_t start, end, categories;
};

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define PM_PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#endif
