/*
 * The direct page path: with compression off, the parasite writes the target's pages straight
 * into the image file (pwritev from its own memory: one copy, into the page cache) and
 * returns a CRC-32C per chunk, computed in the blob just before each chunk is written. The
 * tracer only reserves the file space (image_reserve_pages) and hands the checksums to the
 * container (image_complete_pages), so the on-disk format is exactly that of the copy path.
 *
 * With two CPUs a tracer thread writes the last 40% of the stream meanwhile (two copies, but
 * on the other CPU). Measured on 1 GiB of random data into tmpfs (bench/ckpt_bench.sh,
 * docs/ckpt-content.md): 1.17x a dd of the same bytes, against 1.53x for the copy path
 * (process_vm_readv into the tracer, then write) in the same run.
 *
 * The path is taken only when it cannot hurt the target: every run lies in a readable mapping
 * of ordinary memory (a fault in the blob would kill the program), the target has no file
 * size limit (its pwritev would raise SIGXFSZ in it, not in the tracer) and the parasite can
 * be loaded and given the image fd. Otherwise dump_pages_direct() says so before writing
 * anything and the copy path runs.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "dump.h"
#include "image.h"
#include "image_fmt.h"
#include "infect.h"
#include "log.h"
#include "probe.h"
#include "remote.h"

/* The kinds of memory the blob may read without risk of a fault. */
static int vma_direct_ok(const struct ckpt_vma *v)
{
	if (!(v->prot & PROT_READ) || (v->flags & CKPT_VMA_F_GUARD))
		return 0;
	switch (v->kind) {
	case CKPT_VMA_ANON:
	case CKPT_VMA_FILE_PRIV:
	case CKPT_VMA_SHMEM:
	case CKPT_VMA_HEAP:
	case CKPT_VMA_STACK:
	case CKPT_VMA_VDSO: /* stored after a restart (a copy of the old one): plain r-x memory */
		return 1;
	default:
		/* Shared files could be truncated under us (SIGBUS); vdso, vvar, devices: no. */
		return 0;
	}
}

/* Why the direct path cannot be used for p (in buf when it needs details), or NULL if it can. */
static const char *direct_refusal(pid_t pid, const struct ckpt_proc *p, uint32_t chunk,
				  char *buf, size_t size)
{
	const char *env = getenv("DMTCP_DIRECT_PAGES");
	struct rlimit rl;
	uint32_t i;

	if (env && !strcmp(env, "0"))
		return "DMTCP_DIRECT_PAGES=0";
	if (!p->nthreads)
		return "no thread to run the parasite in";
	/* A batch must hold at least one whole chunk even if every run is a single page. */
	if ((uint64_t)PARASITE_MAX_RUNS * CKPT_PAGE_SIZE < chunk || chunk % 8)
		return "chunk size too large for one parasite command";
	for (i = 0; i < p->nruns; i++) {
		uint32_t v = p->runs[i].vma;

		if (v >= p->nvmas)
			return "a page run outside every mapping";
		if (!vma_direct_ok(&p->vmas[v])) {
			snprintf(buf, size, "pages in %#llx-%#llx (%s, prot %#x, kind %u), which "
				 "the parasite must not read", (unsigned long long)p->vmas[v].start,
				 (unsigned long long)p->vmas[v].end,
				 p->vmas[v].path && *p->vmas[v].path ? p->vmas[v].path : "anon",
				 p->vmas[v].prot, p->vmas[v].kind);
			return buf;
		}
	}
	if (prlimit(pid, RLIMIT_FSIZE, NULL, &rl) < 0)
		return "cannot read the target's RLIMIT_FSIZE";
	if (rl.rlim_cur != RLIM_INFINITY)
		return "the target has a file size limit";
	return NULL;
}

/* Byte off of page run r, in the target. */
static raddr_t run_at(const struct ckpt_pagerun *r, uint64_t off)
{
	return raddr_add(raddr(r->vaddr), off);
}

/* Where the next batch starts: run index and byte offset inside it. */
struct cursor {
	uint32_t run;
	uint64_t off;
};

/*
 * Fills d->runs with the next batch: at most PARASITE_MAX_RUNS pieces, PARASITE_MAX_CRCS chunks
 * and limit bytes (a multiple of the chunk size), a whole number of chunks unless it is the
 * last batch (chunks then stay aligned to the container's chunking, which is what lets the
 * blob checksum them). Returns its bytes.
 */
static uint64_t fill_batch(const struct ckpt_proc *p, struct cursor *cur, uint32_t chunk,
			   uint64_t limit, struct parasite_dump_pages_args *d)
{
	uint64_t max = (uint64_t)PARASITE_MAX_CRCS * chunk;
	uint32_t piece_run[PARASITE_MAX_RUNS];
	uint64_t bytes = 0, excess;
	uint32_t n = 0;

	if (max > limit)
		max = limit;
	while (cur->run < p->nruns && n < PARASITE_MAX_RUNS && bytes < max) {
		const struct ckpt_pagerun *r = &p->runs[cur->run];
		uint64_t left = (uint64_t)r->npages * CKPT_PAGE_SIZE - cur->off;
		uint64_t len = left < max - bytes ? left : max - bytes;

		d->runs[n].addr = run_at(r, cur->off).v; /* the blob's structs hold plain numbers */
		d->runs[n].len = len;
		piece_run[n++] = cur->run;
		bytes += len;
		cur->off += len;
		if (cur->off == (uint64_t)r->npages * CKPT_PAGE_SIZE) {
			cur->run++;
			cur->off = 0;
		}
	}
	excess = cur->run < p->nruns ? bytes % chunk : 0;
	/* Give back the tail of a partial chunk: the next batch starts with it. */
	while (excess) {
		struct parasite_page_run *last = &d->runs[n - 1];
		uint64_t back = last->len < excess ? last->len : excess;

		last->len -= back;
		bytes -= back;
		excess -= back;
		cur->run = piece_run[n - 1];
		cur->off = last->addr + last->len - p->runs[cur->run].vaddr;
		if (!last->len)
			n--;
	}
	d->nr_runs = n;
	return bytes;
}

/*
 * The tail of the stream, [from, from + len), written by a tracer thread while the parasite
 * writes the head: process_vm_readv of one chunk into a buffer, its CRC, pwrite at its
 * reserved offset. That costs two copies per byte instead of one, but on a second CPU, so the
 * dump takes about the larger of the two parts instead of their sum.
 */
struct tail_job {
	pid_t pid;
	const struct ckpt_proc *p;
	int fd;		  /* the image fd */
	uint64_t base;	  /* file offset of stream byte 0 */
	uint64_t from, len;
	uint32_t chunk;
	uint32_t *crcs;	  /* crcs[from / chunk ...] are ours */
	_Atomic uint64_t written; /* bytes of ours written so far (progress) */
	int rc;
};

static int tail_read(struct tail_job *j, const struct ckpt_proc *p, struct cursor *cur,
		     uint8_t *buf, uint32_t len)
{
	struct iovec local, remote[1024];
	uint32_t done = 0;

	while (done < len) {
		uint32_t n = 0, want = 0;
		ssize_t got;

		while (done + want < len && n < 1024) {
			const struct ckpt_pagerun *r = &p->runs[cur->run];
			uint64_t left = (uint64_t)r->npages * CKPT_PAGE_SIZE - cur->off;
			uint64_t take = left < len - done - want ? left : len - done - want;

			remote[n++] = remote_iov(run_at(r, cur->off), take);
			want += (uint32_t)take;
			cur->off += take;
			if (cur->off == (uint64_t)r->npages * CKPT_PAGE_SIZE) {
				cur->run++;
				cur->off = 0;
			}
		}
		local.iov_base = buf + done;
		local.iov_len = want;
		got = process_vm_readv(j->pid, &local, 1, remote, n, 0);
		if (got < 0)
			return errno == ESRCH ? -ESRCH : -errno;
		if ((uint32_t)got != want)
			return -EFAULT;
		done += want;
	}
	return 0;
}

static void *tail_main(void *arg)
{
	struct tail_job *j = arg;
	struct cursor cur = { 0, 0 };
	uint64_t skip = j->from, pos = 0;
	uint8_t *buf = malloc(j->chunk);

	if (!buf) {
		j->rc = -ENOMEM;
		return NULL;
	}
	/* Find stream byte 'from'. */
	while (skip) {
		uint64_t rl = (uint64_t)j->p->runs[cur.run].npages * CKPT_PAGE_SIZE;

		if (skip < rl) {
			cur.off = skip;
			break;
		}
		skip -= rl;
		cur.run++;
	}
	while (!j->rc && pos < j->len) {
		uint32_t len = j->len - pos < j->chunk ? (uint32_t)(j->len - pos) : j->chunk;
		uint64_t off = j->base + j->from + pos;
		uint32_t done = 0;

		j->rc = tail_read(j, j->p, &cur, buf, len);
		if (j->rc)
			break;
		j->crcs[(j->from + pos) / j->chunk] = crc32c(0, buf, len);
		while (done < len) {
			ssize_t n = pwrite(j->fd, buf + done, len - done, (off_t)(off + done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				j->rc = n < 0 ? -errno : -EIO;
				break;
			}
			done += (uint32_t)n;
		}
		pos += len;
		atomic_store(&j->written, pos);
	}
	free(buf);
	return NULL;
}

/* Share of the stream the tracer's thread takes, in chunks of every ten (see tail_main). */
#define TAIL_SHARE_TENTHS 4
/* Streams of fewer chunks are not worth a thread. */
#define TAIL_MIN_CHUNKS 4

/* Writes all of p's page data through the infected ctx into fd remote_fd of the target. */
static int write_batches(struct image_writer *w, struct infect_ctx *ctx, pid_t pid,
			 const struct ckpt_proc *p, int remote_fd, int with_crc, uint32_t *ncmds,
			 const struct dump_progress *progress)
{
	struct parasite_dump_pages_args *d = &infect_args(ctx)->u.dump;
	uint32_t chunk = image_writer_chunk_size(w), nchunks, head_chunks;
	struct tail_job tj = { .pid = pid, .p = p, .chunk = chunk };
	struct cursor cur = { 0, 0 };
	uint64_t total = 0, head, pos = 0, off;
	sigset_t all, old;
	pthread_t thr;
	int rc = 0, fd, have_thr = 0;

	/* Reserve the whole stream at once: head and tail are written concurrently. */
	for (uint32_t i = 0; i < p->nruns && !rc; i++) {
		uint64_t len = (uint64_t)p->runs[i].npages * CKPT_PAGE_SIZE;

		rc = image_reserve_pages(w, p->runs[i].vaddr, len, &fd, &off);
		if (i == 0)
			tj.base = off;
		total += len;
	}
	if (rc || !total)
		return rc;
	nchunks = (uint32_t)((total + chunk - 1) / chunk);
	tj.crcs = calloc(nchunks, sizeof(*tj.crcs));
	if (!tj.crcs)
		return image_fail_pages(w, -ENOMEM, "cannot allocate chunk checksums");
	head_chunks = nchunks;
	if (nchunks >= TAIL_MIN_CHUNKS && sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		head_chunks = nchunks - nchunks * TAIL_SHARE_TENTHS / 10;
	head = (uint64_t)head_chunks * chunk < total ? (uint64_t)head_chunks * chunk : total;
	if (head < total) {
		tj.fd = fd;
		tj.from = head;
		tj.len = total - head;
		/* The thread takes no signals meant for the tracer's signalfd. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		have_thr = !pthread_create(&thr, NULL, tail_main, &tj);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!have_thr)
			head = total; /* no thread: the parasite writes it all */
	}
	while (!rc && pos < head) {
		uint64_t bytes = fill_batch(p, &cur, chunk, head - pos, d);
		uint32_t nb = (uint32_t)((bytes + chunk - 1) / chunk);

		d->fd = remote_fd;
		d->mode = PARASITE_DUMP_PWRITE;
		d->file_off = tj.base + pos;
		d->vmsplice_flags = 0;
		d->flags = with_crc ? PARASITE_DUMP_F_CRC32C : 0;
		d->crc_chunk = with_crc ? chunk : 0;
		rc = infect_run(ctx, PARASITE_DUMP_PAGES);
		(*ncmds)++;
		if (rc == -ESRCH) {
			rc = image_fail_pages(w, rc, NULL);
		} else if (rc) {
			rc = image_fail_pages(w, rc, "the parasite could not write page data");
		} else if (!bytes || d->bytes_done != bytes || (with_crc && d->nr_crcs != nb)) {
			pr_err("pid %d: parasite wrote %llu of %llu page bytes, %u of %u checksums",
			       pid, (unsigned long long)d->bytes_done, (unsigned long long)bytes,
			       d->nr_crcs, nb);
			rc = image_fail_pages(w, -EIO, "page data incomplete");
		} else if (with_crc) {
			memcpy(tj.crcs + pos / chunk, d->crcs, nb * sizeof(*tj.crcs));
		}
		pos += bytes;
		if (!rc && progress)
			progress->fn(progress->arg, pos + atomic_load(&tj.written));
	}
	if (have_thr) {
		pthread_join(thr, NULL);
		if (!rc && tj.rc)
			rc = image_fail_pages(w, tj.rc, tj.rc == -ESRCH ? NULL :
						     "the tracer could not copy page data");
	}
	if (!rc)
		rc = image_complete_pages(w, with_crc ? tj.crcs : NULL, with_crc ? nchunks : 0);
	free(tj.crcs);
	return rc;
}

/*
 * With compression on, the direct path still pays when the memory is random or already
 * compressed: its chunks would be stored raw anyway, after a copy into the tracer. So sample
 * SAMPLE_N pieces of SAMPLE_LEN bytes spread evenly over the page stream (one
 * process_vm_readv) and take the direct path when at most one of them could shrink. Only for
 * large processes (SAMPLE_MIN_BYTES): below that, the copy path costs little anyway.
 */
#define SAMPLE_N	 32
#define SAMPLE_LEN	 (64u << 10) /* image_chunk_incompressible needs > 32 KiB */
#define SAMPLE_MIN_BYTES (64ull << 20)

static int looks_incompressible(pid_t pid, const struct ckpt_proc *p)
{
	struct iovec local[SAMPLE_N], remote[SAMPLE_N];
	uint64_t total = 0, pos = 0, next, step;
	uint32_t i, k = 0, flat = 0;
	uint8_t *buf;
	ssize_t n;

	for (i = 0; i < p->nruns; i++)
		total += (uint64_t)p->runs[i].npages * CKPT_PAGE_SIZE;
	if (total < SAMPLE_MIN_BYTES)
		return 0;
	buf = malloc((size_t)SAMPLE_N * SAMPLE_LEN);
	if (!buf)
		return 0;
	step = total / SAMPLE_N;
	next = step / 2;
	for (i = 0; i < p->nruns && k < SAMPLE_N; i++) {
		uint64_t len = (uint64_t)p->runs[i].npages * CKPT_PAGE_SIZE;

		/* every sample that starts in this run and fits in it */
		while (k < SAMPLE_N && next < pos + len) {
			uint64_t in = next - pos;

			if (in + SAMPLE_LEN <= len) {
				local[k] = (struct iovec){ buf + (size_t)k * SAMPLE_LEN, SAMPLE_LEN };
				remote[k] = remote_iov(run_at(&p->runs[i], in), SAMPLE_LEN);
				k++;
			}
			next += step;
		}
		pos += len;
	}
	n = k ? process_vm_readv(pid, local, k, remote, k, 0) : -1;
	if (n == (ssize_t)k * SAMPLE_LEN)
		for (i = 0; i < k; i++)
			flat += image_chunk_incompressible(buf + (size_t)i * SAMPLE_LEN, SAMPLE_LEN);
	free(buf);
	pr_debug("pid %d: %u of %u samples look incompressible", pid, flat, k);
	return k >= SAMPLE_N / 2 && flat + 1 >= k;
}

int dump_pages_direct(struct image_writer *w, pid_t pid, const struct ckpt_proc *p,
		      const struct dump_progress *progress)
{
	struct infect_ctx *ctx;
	long t0, ms;
	const char *why;
	char buf[PATH_MAX + 128];
	uint64_t off;
	uint32_t ncmds = 0;
	const char *env = getenv("DMTCP_DIRECT_PAGES");
	int fd, remote_fd = -1, rc, cure_rc, with_crc = kfeat()->crc32_insn;

	why = direct_refusal(pid, p, image_writer_chunk_size(w), buf, sizeof(buf));
	if (why) {
		pr_debug("pid %d: pages copied through the tracer: %s", pid, why);
		return DUMP_DIRECT_UNAVAILABLE;
	}
	if (image_writer_compresses(w) && !looks_incompressible(pid, p)) {
		pr_debug("pid %d: pages copied through the tracer to be compressed", pid);
		return DUMP_DIRECT_UNAVAILABLE;
	}
	/* "readback": the container checksums what the parasite wrote (as without SSE4.2). */
	if (env && !strcmp(env, "readback"))
		with_crc = 0;
	/* A reservation of no bytes only tells the image fd. */
	rc = image_reserve_pages(w, p->nruns ? p->runs[0].vaddr : 0, 0, &fd, &off);
	if (rc)
		return rc;
	rc = infect_start(pid, p->threads[0].tid, &ctx);
	if (rc == -ESRCH)
		return rc;
	if (rc) {
		pr_warn("pid %d: parasite not loaded for the page dump (%s): pages copied through "
			"the tracer", pid, strerror(-rc));
		return DUMP_DIRECT_UNAVAILABLE;
	}
	rc = infect_give_fd(ctx, fd, &remote_fd);
	if (rc && rc != -ESRCH) {
		pr_warn("pid %d: cannot give the image fd to the parasite (%s): pages copied "
			"through the tracer", pid, strerror(-rc));
		cure_rc = infect_cure(ctx);
		if (cure_rc) {
			if (cure_rc != -ESRCH)
				pr_err("pid %d: parasite cure failed: %s", pid, strerror(-cure_rc));
			return cure_rc;
		}
		return DUMP_DIRECT_UNAVAILABLE;
	}
	t0 = mono_now_us();
	if (!rc)
		rc = write_batches(w, ctx, pid, p, remote_fd, with_crc, &ncmds, progress);
	ms = (mono_now_us() - t0) / 1000;
	if (remote_fd >= 0) {
		int e = infect_remote_close(ctx, remote_fd);

		if (!rc && e)
			rc = image_fail_pages(w, e, e == -ESRCH ? NULL :
						  "cannot close the image fd in the target");
	}
	cure_rc = infect_cure(ctx);
	if (cure_rc && cure_rc != -ESRCH)
		pr_err("pid %d: parasite cure failed: %s", pid, strerror(-cure_rc));
	if (!rc && cure_rc)
		rc = image_fail_pages(w, cure_rc, NULL);
	if (!rc)
		pr_debug("pid %d: %llu page bytes written by the parasite (direct path, %u commands, "
			 "%ld ms, checksums %s)", pid, (unsigned long long)image_writer_raw_pages(w),
			 ncmds, ms, with_crc ? "from the blob" : "read back");
	return rc;
}
