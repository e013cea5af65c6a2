/*
 * Writing the page data of a suspended process into its image.
 *
 * With compression off the parasite writes the pages itself when it can (dump_pages_direct.c:
 * one copy). Otherwise, and always with compression on, the tracer copies them as follows.
 *
 * The runs found by collect_mem() are read with process_vm_readv in batches of up to
 * DUMP_BATCH bytes and IOV_MAX pieces (one syscall per batch instead of one per run), into a
 * buffer that the image writer takes as is (compression off: written straight from it; on:
 * copied once into its chunk buffers). process_vm_readv obeys the target's protections, so a
 * run inside a PROT_NONE or write-only mapping with present pages comes back short; the rest
 * of such a batch is read through /proc/PID/mem, which the kernel serves with FOLL_FORCE.
 *
 * The tracer is single-threaded for ptrace, but neither process_vm_readv nor /proc/PID/mem
 * needs the ptracing thread, so a helper thread may read while the caller writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dump.h"
#include "image.h"
#include "log.h"
#include "procfs.h"
#include "remote.h"

#define DUMP_BATCH (8u << 20)
#define DUMP_IOV   1024 /* IOV_MAX */

/* A piece of a run: where it is in the target, how long. */
struct piece {
	raddr_t addr;
	size_t len;
};

/* One batch buffer: filled by the reader thread, emptied into the image by the caller. */
struct slot {
	uint8_t *buf;
	struct piece pc[DUMP_IOV];
	struct iovec local[DUMP_IOV], remote[DUMP_IOV];
	uint32_t n;
	int full;
	int rc;
};

/*
 * Reading and writing overlap: a reader thread copies batch k+1 out of the target while the
 * caller's thread hands batch k to the image writer (whose write is the expensive part), so
 * the dump costs about the larger of the two instead of their sum.
 */
struct dump_ctx {
	pid_t pid;
	int memfd; /* /proc/PID/mem, opened on first need (reader thread only) */
	const struct ckpt_proc *p;
	uint32_t run;	  /* reader's cursor: run index and offset inside it */
	uint64_t run_off;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot slot[2];
	int eof;  /* reader: no more batches */
	int stop; /* writer: failed, reader must quit */
};

static int read_forced(struct dump_ctx *c, struct slot *s, uint32_t i, size_t off, size_t done)
{
	ssize_t got;

	if (c->memfd < 0) {
		int fd = procfs_open(c->pid, 0, "mem", O_RDONLY);

		if (fd < 0)
			return fd;
		c->memfd = fd;
	}
	while (done < s->pc[i].len) {
		got = pread(c->memfd, s->buf + off + done, s->pc[i].len - done,
			    (off_t)raddr_add(s->pc[i].addr, done).v);
		if (got <= 0) {
			int err = got < 0 ? -errno : -EIO;

			if (err != -ESRCH)
				pr_err("pid %d: cannot read memory at %#llx: %s", c->pid,
				       (unsigned long long)raddr_add(s->pc[i].addr, done).v,
				       strerror(-err));
			return err;
		}
		done += (size_t)got;
	}
	return 0;
}

/* Fill slot s with the next batch of runs and read it from the target. Returns 0 with
 * s->n == 0 when every run has been read. */
static int fill_slot(struct dump_ctx *c, struct slot *s)
{
	size_t bytes = 0, off = 0, have;
	ssize_t got;
	uint32_t i;
	int rc;

	s->n = 0;
	while (c->run < c->p->nruns && bytes < DUMP_BATCH && s->n < DUMP_IOV) {
		const struct ckpt_pagerun *r = &c->p->runs[c->run];
		uint64_t left = (uint64_t)r->npages * CKPT_PAGE_SIZE - c->run_off;
		size_t len = left < DUMP_BATCH - bytes ? (size_t)left : DUMP_BATCH - bytes;

		s->pc[s->n].addr = raddr(r->vaddr + c->run_off);
		s->pc[s->n].len = len;
		s->local[s->n].iov_base = s->buf + bytes;
		s->local[s->n].iov_len = len;
		s->remote[s->n] = remote_iov(s->pc[s->n].addr, len);
		s->n++;
		bytes += len;
		c->run_off += len;
		if (c->run_off == (uint64_t)r->npages * CKPT_PAGE_SIZE) {
			c->run++;
			c->run_off = 0;
		}
	}
	if (!s->n)
		return 0;
	got = process_vm_readv(c->pid, s->local, s->n, s->remote, s->n, 0);
	if (got < 0) {
		if (errno == ESRCH)
			return -ESRCH;
		got = 0; /* EFAULT on the first piece: read everything the forced way */
	}
	have = (size_t)got;
	for (i = 0; i < s->n; i++) {
		if (have < s->pc[i].len) {
			rc = read_forced(c, s, i, off, have);
			if (rc)
				return rc;
		}
		have = have > s->pc[i].len ? have - s->pc[i].len : 0;
		off += s->pc[i].len;
	}
	return 0;
}

static void *reader_main(void *arg)
{
	struct dump_ctx *c = arg;
	uint32_t k = 0;

	for (;;) {
		struct slot *s = &c->slot[k & 1];
		int rc;

		pthread_mutex_lock(&c->mu);
		while (s->full && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		pthread_mutex_unlock(&c->mu);
		if (c->stop)
			break;
		rc = fill_slot(c, s);
		pthread_mutex_lock(&c->mu);
		s->rc = rc;
		if (rc || s->n)
			s->full = 1;
		if (rc || !s->n)
			c->eof = 1;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		if (rc || !s->n)
			break;
		k++;
	}
	return NULL;
}

int dump_pages(struct image_writer *w, pid_t pid, const struct ckpt_proc *p,
	       const struct dump_progress *progress)
{
	struct dump_ctx *c;
	pthread_t th;
	uint32_t k = 0, i;
	uint64_t written = 0;
	size_t off;
	int rc, err;

	rc = image_begin_pages(w, CKPT_SEC_PAGES);
	if (rc)
		return rc;
	rc = dump_pages_direct(w, pid, p, progress);
	if (rc != DUMP_DIRECT_UNAVAILABLE)
		return rc ? rc : image_end_section(w);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->pid = pid;
	c->p = p;
	c->memfd = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->slot[0].buf = malloc(DUMP_BATCH);
	c->slot[1].buf = malloc(DUMP_BATCH);
	if (!c->slot[0].buf || !c->slot[1].buf) {
		rc = -ENOMEM;
		goto out;
	}
	err = pthread_create(&th, NULL, reader_main, c);
	if (err) {
		rc = -err;
		goto out;
	}
	for (;;) {
		struct slot *s = &c->slot[k & 1];

		pthread_mutex_lock(&c->mu);
		while (!s->full && !c->eof)
			pthread_cond_wait(&c->cv, &c->mu);
		pthread_mutex_unlock(&c->mu);
		if (!s->full)
			break; /* reader done, nothing more */
		rc = s->rc;
		for (i = 0, off = 0; !rc && i < s->n; i++) {
			rc = image_add_pages(w, s->pc[i].addr.v, s->buf + off, s->pc[i].len);
			off += s->pc[i].len;
		}
		written += off;
		if (!rc && progress)
			progress->fn(progress->arg, written);
		pthread_mutex_lock(&c->mu);
		s->full = 0;
		if (rc)
			c->stop = 1;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		if (rc)
			break;
		k++;
	}
	pthread_join(th, NULL);
	if (!rc)
		rc = image_end_section(w);
out:
	if (c->memfd >= 0)
		close(c->memfd);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->slot[0].buf);
	free(c->slot[1].buf);
	free(c);
	return rc;
}
