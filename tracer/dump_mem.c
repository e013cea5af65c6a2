/*
 * Writing the page data of a suspended process into its image.
 *
 * The runs found by collect_mem() are read with process_vm_readv in batches of up to
 * DUMP_BATCH bytes and IOV_MAX pieces (one syscall per batch instead of one per run), into a
 * buffer that the image writer takes as is (compression off: written straight from it; on:
 * copied once into its chunk buffers). process_vm_readv obeys the target's protections, so a
 * run inside a PROT_NONE or write-only mapping with present pages comes back short; the rest
 * of such a batch is read through /proc/PID/mem, which the kernel serves with FOLL_FORCE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dump.h"
#include "image.h"
#include "log.h"

#define DUMP_BATCH (8u << 20)
#define DUMP_IOV   1024 /* IOV_MAX */

struct piece {
	uint64_t vaddr;
	size_t len;
};

struct batch {
	pid_t pid;
	int memfd; /* /proc/PID/mem, opened on first need */
	uint8_t *buf;
	struct iovec local[DUMP_IOV], remote[DUMP_IOV];
	struct piece pc[DUMP_IOV];
	uint32_t n;
	size_t bytes;
};

static int read_forced(struct batch *b, uint32_t i, size_t off, size_t done)
{
	char path[64];
	ssize_t got;

	if (b->memfd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", b->pid);
		b->memfd = open(path, O_RDONLY | O_CLOEXEC);
		if (b->memfd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
	}
	while (done < b->pc[i].len) {
		got = pread(b->memfd, b->buf + off + done, b->pc[i].len - done,
			    (off_t)(b->pc[i].vaddr + done));
		if (got <= 0) {
			int err = got < 0 ? -errno : -EIO;

			if (err != -ESRCH)
				pr_err("pid %d: cannot read memory at %#llx: %s", b->pid,
				       (unsigned long long)(b->pc[i].vaddr + done), strerror(-err));
			return err;
		}
		done += (size_t)got;
	}
	return 0;
}

static int flush_batch(struct batch *b, struct image_writer *w)
{
	ssize_t got;
	size_t off = 0, have;
	uint32_t i;
	int rc;

	if (!b->n)
		return 0;
	got = process_vm_readv(b->pid, b->local, b->n, b->remote, b->n, 0);
	if (got < 0) {
		if (errno == ESRCH)
			return -ESRCH;
		got = 0; /* EFAULT on the first piece: read everything the forced way */
	}
	have = (size_t)got;
	for (i = 0; i < b->n; i++) {
		if (have < b->pc[i].len) {
			rc = read_forced(b, i, off, have);
			if (rc)
				return rc;
		}
		have = have > b->pc[i].len ? have - b->pc[i].len : 0;
		rc = image_add_pages(w, b->pc[i].vaddr, b->buf + off, b->pc[i].len);
		if (rc)
			return rc;
		off += b->pc[i].len;
	}
	b->n = 0;
	b->bytes = 0;
	return 0;
}

int dump_pages(struct image_writer *w, pid_t pid, const struct ckpt_proc *p)
{
	struct batch *b;
	uint32_t r;
	int rc;

	rc = image_begin_pages(w, CKPT_SEC_PAGES);
	if (rc)
		return rc;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->pid = pid;
	b->memfd = -1;
	b->buf = malloc(DUMP_BATCH);
	if (!b->buf) {
		free(b);
		return -ENOMEM;
	}
	for (r = 0; r < p->nruns && !rc; r++) {
		uint64_t addr = p->runs[r].vaddr;
		uint64_t left = (uint64_t)p->runs[r].npages * CKPT_PAGE_SIZE;

		while (left && !rc) {
			size_t room = DUMP_BATCH - b->bytes;
			size_t len = left < room ? (size_t)left : room;

			b->local[b->n].iov_base = b->buf + b->bytes;
			b->local[b->n].iov_len = len;
			b->remote[b->n].iov_base = (void *)(uintptr_t)addr;
			b->remote[b->n].iov_len = len;
			b->pc[b->n].vaddr = addr;
			b->pc[b->n].len = len;
			b->n++;
			b->bytes += len;
			addr += len;
			left -= len;
			if (b->bytes == DUMP_BATCH || b->n == DUMP_IOV)
				rc = flush_batch(b, w);
		}
	}
	if (!rc)
		rc = flush_batch(b, w);
	if (!rc)
		rc = image_end_section(w);
	if (b->memfd >= 0)
		close(b->memfd);
	free(b->buf);
	free(b);
	return rc;
}
