/*
 * Page sections of the image writer: runs, the cutting of page data into chunks, and the
 * compression pool.
 *
 * Without compression, whole chunks of the caller's memory go to the file with one pwrite
 * each (the only copy is the kernel's into the page cache); partial chunks collect in a stage
 * buffer. Or the caller reserves file space and writes it itself (image_reserve_pages(), e.g.
 * the parasite from the target's memory), then hands over the chunk checksums. With compression, slots[] is a ring of chunk buffers: the caller fills slot
 * fill_seq % nslots and marks it QUEUED; workers compress QUEUED slots, lowest sequence first;
 * the caller writes DONE slots strictly in sequence order (write_seq), which frees them. The
 * caller blocks only when the slot it wants to fill is still in flight, which bounds memory to
 * nslots chunk buffers (two per worker, plus two).
 */
#include "image_wpriv.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Raw writes of at least this many whole chunks get a checksum helper thread. */
#define RAW_HELPER_MIN_CHUNKS 8
/* Incompressible chunks judged ahead of writing them, with compression on. */
#define RAW_BATCH_MAX 64

/* A source of page bytes: the caller's memory or an fd. */
struct feed {
	const uint8_t *buf;
	int fd;
};

static void *pool_worker(void *arg);
static int put_raw(struct image_writer *w, const void *buf, uint32_t len);
static int put_raw_many(struct image_writer *w, const uint8_t *buf, size_t n);

static int pool_start(struct image_writer *w)
{
	sigset_t all, old;
	int i, ret = 0;

	if (w->slots)
		return 0;
	w->nslots = 2 * w->nthreads + 2;
	w->slots = calloc((size_t)w->nslots, sizeof(*w->slots));
	w->workers = calloc((size_t)w->nthreads, sizeof(*w->workers));
	if (!w->slots || !w->workers)
		return wr_fail(w, -ENOMEM, "cannot allocate compression pool");
	for (i = 0; i < w->nslots; i++) {
		struct wslot *s = &w->slots[i];

		s->out_cap = image_compress_bound(w->chunk_size);
		s->in = malloc(w->chunk_size);
		s->out = malloc(s->out_cap);
		if (!s->in || !s->out)
			return wr_fail(w, -ENOMEM, "cannot allocate compression buffers");
	}
	for (i = 0; i < w->nthreads; i++) {
		w->workers[i].w = w;
		if (image_zctx_init(&w->workers[i].z, w->level))
			return wr_fail(w, -ENOMEM, "cannot set up zlib");
	}
	/*
	 * Workers start with every signal blocked, so that signals for the process (SIGCHLD
	 * for the tracer's signalfd, SIGTERM it forwards) keep going to the caller's thread.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < w->nthreads; i++) {
		ret = pthread_create(&w->workers[i].thr, NULL, pool_worker, &w->workers[i]);
		if (ret)
			break;
		w->nthr++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return wr_fail(w, -ret, "cannot start compression threads");
	return 0;
}

void wr_pool_stop(struct image_writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv_work);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nthr; i++)
		pthread_join(w->workers[i].thr, NULL);
	w->nthr = 0;
	w->stop = 0;
	if (w->workers)
		for (int i = 0; i < w->nthreads; i++)
			image_zctx_free(&w->workers[i].z);
	if (w->slots)
		for (int i = 0; i < w->nslots; i++) {
			free(w->slots[i].in);
			free(w->slots[i].out);
		}
	free(w->slots);
	free(w->workers);
	w->slots = NULL;
	w->workers = NULL;
}

static void *pool_worker(void *arg)
{
	struct wworker *self = arg;
	struct image_writer *w = self->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct wslot *best = NULL;

		for (int i = 0; i < w->nslots; i++) {
			struct wslot *s = &w->slots[i];

			if (s->state == SLOT_QUEUED && (!best || s->seq < best->seq))
				best = s;
		}
		if (!best) {
			if (w->stop)
				break;
			pthread_cond_wait(&w->cv_work, &w->mu);
			continue;
		}
		best->state = SLOT_BUSY;
		pthread_mutex_unlock(&w->mu);
		image_compress_chunk(&self->z, best->in, best->in_len, best->out, best->out_cap,
				     &best->res);
		pthread_mutex_lock(&w->mu);
		best->state = SLOT_DONE;
		pthread_cond_broadcast(&w->cv_done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Adds the descriptor of a chunk just written to the table and the section checksum. */
static int index_chunk(struct image_writer *w, const struct image_chunk_out *c, uint32_t raw_len)
{
	struct image_chunk_disk *d;

	if (w->nchunks >= IMAGE_MAX_RUNS)
		return wr_fail(w, -E2BIG, "page section has too many chunks");
	if (wr_grow((void **)&w->chunks, &w->chunks_cap, w->nchunks + 1, sizeof(*w->chunks)))
		return wr_fail(w, -ENOMEM, "cannot grow chunk table");
	d = &w->chunks[w->nchunks++];
	d->raw_len = raw_len;
	d->stored_len = c->stored_len;
	d->comp = c->comp;
	d->crc = c->crc;
	w->sec_crc = crc32c_combine(w->sec_crc, c->crc, c->stored_len);
	w->sec_len += c->stored_len;
	w->data_len += c->stored_len;
	return 0;
}

/* Writes one finished chunk at the end of the file and indexes it. */
static int put_chunk(struct image_writer *w, const struct image_chunk_out *c, uint32_t raw_len)
{
	int ret = wr_emit(w, c->data, c->stored_len);

	return ret ? ret : index_chunk(w, c, raw_len);
}

/* Writes slots in sequence order up to (not including) upto, waiting for each to be DONE. */
static int drain(struct image_writer *w, uint64_t upto)
{
	int ret = 0;

	while (w->write_seq < upto) {
		struct wslot *s = &w->slots[w->write_seq % (uint64_t)w->nslots];

		pthread_mutex_lock(&w->mu);
		while (s->state != SLOT_DONE)
			pthread_cond_wait(&w->cv_done, &w->mu);
		pthread_mutex_unlock(&w->mu);
		if (!ret)
			ret = put_chunk(w, &s->res, s->in_len);
		pthread_mutex_lock(&w->mu);
		s->state = SLOT_FREE;
		s->in_len = 0;
		pthread_mutex_unlock(&w->mu);
		w->write_seq++;
	}
	return ret;
}

/* Writes whatever finished in order, without waiting. */
static int drain_ready(struct image_writer *w)
{
	uint64_t upto = w->write_seq;

	pthread_mutex_lock(&w->mu);
	while (upto < w->fill_seq && w->slots[upto % (uint64_t)w->nslots].state == SLOT_DONE)
		upto++;
	pthread_mutex_unlock(&w->mu);
	return drain(w, upto);
}

static void queue_slot(struct image_writer *w, struct wslot *s)
{
	pthread_mutex_lock(&w->mu);
	s->seq = w->fill_seq++;
	s->state = SLOT_QUEUED;
	pthread_cond_signal(&w->cv_work);
	pthread_mutex_unlock(&w->mu);
}

/* Copies n bytes from the feed (memory or fd) to dst. */
static int feed_take(struct image_writer *w, struct feed *f, void *dst, size_t n)
{
	uint8_t *p = dst;

	if (f->buf) {
		memcpy(dst, f->buf, n);
		f->buf += n;
		return 0;
	}
	while (n) {
		ssize_t r = read(f->fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return wr_fail(w, -errno, "cannot read page data from fd");
		if (r == 0)
			return wr_fail(w, -EIO, "page data fd ended early");
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int feed_compressed(struct image_writer *w, struct feed *f, size_t len)
{
	int ret;

	while (len) {
		struct wslot *s = &w->slots[w->fill_seq % (uint64_t)w->nslots];
		size_t n;

		/*
		 * A whole chunk of the caller's memory that is surely incompressible, with
		 * nothing in flight to keep in order: write it from the caller's buffer, as with
		 * compression off. Random data then costs only the histogram test.
		 */
		if (f->buf && !s->in_len && len >= w->chunk_size && w->write_seq == w->fill_seq) {
			size_t k = 0, most = len / w->chunk_size;

			/* A run of them goes out like a raw write, checksummed alongside. */
			if (most > RAW_BATCH_MAX)
				most = RAW_BATCH_MAX;
			while (k < most && image_chunk_incompressible(f->buf + k * w->chunk_size,
								      w->chunk_size))
				k++;
			ret = k ? put_raw_many(w, f->buf, k) : 0;
			if (ret == 1) { /* too few for a helper thread: one by one */
				ret = 0;
				for (size_t i = 0; !ret && i < k; i++)
					ret = put_raw(w, f->buf + i * w->chunk_size, w->chunk_size);
			}
			if (ret < 0)
				return ret;
			if (k) {
				f->buf += k * w->chunk_size;
				len -= k * w->chunk_size;
				continue;
			}
		}
		/* The slot to fill must have been written out (its sequence is nslots back). */
		if (w->fill_seq >= w->write_seq + (uint64_t)w->nslots) {
			ret = drain(w, w->fill_seq + 1 - (uint64_t)w->nslots);
			if (ret)
				return ret;
		}
		n = w->chunk_size - s->in_len;
		if (n > len)
			n = len;
		ret = feed_take(w, f, s->in + s->in_len, n);
		if (ret)
			return ret;
		s->in_len += (uint32_t)n;
		len -= n;
		if (s->in_len == w->chunk_size) {
			queue_slot(w, s);
			ret = drain_ready(w);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int put_raw(struct image_writer *w, const void *buf, uint32_t len)
{
	struct image_chunk_out c = {
		.comp = IMAGE_COMP_NONE,
		.stored_len = len,
		.crc = crc32c(0, buf, len),
		.data = buf,
	};

	return put_chunk(w, &c, len);
}

struct crc_job {
	const uint8_t *buf;
	uint32_t chunk_size;
	size_t n;
	uint32_t *crc;
};

static void *crc_thread(void *arg)
{
	struct crc_job *j = arg;

	for (size_t i = 0; i < j->n; i++)
		j->crc[i] = crc32c(0, j->buf + i * j->chunk_size, j->chunk_size);
	return NULL;
}

/*
 * Writes n whole chunks of the caller's memory raw, with a helper thread computing their
 * checksums while this one writes: the write alone is then the cost, as for a plain dd.
 * Returns 1 (nothing done) when a helper is not worth it or not available.
 */
static int put_raw_many(struct image_writer *w, const uint8_t *buf, size_t n)
{
	struct crc_job j = { .buf = buf, .chunk_size = w->chunk_size, .n = n };
	sigset_t all, old;
	pthread_t thr;
	size_t done = 0;
	int ret;

	if (n < RAW_HELPER_MIN_CHUNKS || w->nthreads < 2 || !(j.crc = malloc(n * sizeof(*j.crc))))
		return 1;
	/* The helper takes no signals meant for the caller (see pool_start). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&thr, NULL, crc_thread, &j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		free(j.crc);
		return 1;
	}
	ret = wr_flush_wbuf(w);
	while (!ret && done < n) {
		ret = wr_write_at(w, buf + done * w->chunk_size, w->chunk_size, w->off);
		if (!ret) {
			w->off += w->chunk_size;
			done++;
		}
	}
	pthread_join(thr, NULL);
	for (size_t k = 0; !ret && k < done; k++) {
		struct image_chunk_out c = {
			.comp = IMAGE_COMP_NONE,
			.stored_len = w->chunk_size,
			.crc = j.crc[k],
			.data = buf + k * w->chunk_size,
		};

		ret = index_chunk(w, &c, w->chunk_size);
	}
	free(j.crc);
	return ret;
}

static int feed_raw(struct image_writer *w, struct feed *f, size_t len)
{
	int ret;

	while (len) {
		size_t n;

		if (f->buf && !w->stage_len && len >= (size_t)RAW_HELPER_MIN_CHUNKS * w->chunk_size) {
			n = len / w->chunk_size;
			ret = put_raw_many(w, f->buf, n);
			if (ret < 0)
				return ret;
			if (ret == 0) {
				f->buf += n * w->chunk_size;
				len -= n * w->chunk_size;
				continue;
			}
		}
		if (f->buf && !w->stage_len && len >= w->chunk_size) {
			/* A whole chunk of the caller's memory: straight to the file, one copy. */
			ret = put_raw(w, f->buf, w->chunk_size);
			if (ret)
				return ret;
			f->buf += w->chunk_size;
			len -= w->chunk_size;
			continue;
		}
		n = w->chunk_size - w->stage_len;
		if (n > len)
			n = len;
		ret = feed_take(w, f, w->stage + w->stage_len, n);
		if (ret)
			return ret;
		w->stage_len += (uint32_t)n;
		len -= n;
		if (w->stage_len == w->chunk_size) {
			ret = put_raw(w, w->stage, w->stage_len);
			w->stage_len = 0;
			if (ret)
				return ret;
		}
	}
	return 0;
}

int image_begin_pages(struct image_writer *w, uint32_t type)
{
	int ret = wr_check_state(w, 0, "image_begin_pages");

	if (ret)
		return ret;
	if (w->compress)
		ret = pool_start(w);
	else if (!w->stage && !(w->stage = malloc(w->chunk_size)))
		ret = wr_fail(w, -ENOMEM, "cannot allocate chunk buffer");
	if (ret)
		return ret;
	w->nruns = 0;
	w->nchunks = 0;
	w->data_len = 0;
	w->raw_len = 0;
	w->stage_len = 0;
	w->resv_len = 0;
	w->pages_sealed = 0;
	return wr_begin(w, type, IMAGE_KIND_PAGES);
}

static int add_run(struct image_writer *w, uint64_t vaddr, size_t len)
{
	struct image_run_disk *last = w->nruns ? &w->runs[w->nruns - 1] : NULL;
	uint64_t npages = len / w->page_size;

	if (w->sec_kind != IMAGE_KIND_PAGES) {
		pr_err("%s: page data in a record section", w->tmp_path);
		return -EINVAL;
	}
	if (vaddr % w->page_size || len % w->page_size || vaddr + len < vaddr) {
		pr_err("%s: page run 0x%llx+0x%zx is not page aligned", w->tmp_path,
		       (unsigned long long)vaddr, len);
		return -EINVAL;
	}
	if (!len)
		return 0;
	if (last && last->vaddr + last->npages * w->page_size == vaddr) {
		last->npages += npages;
		return 0;
	}
	if (w->nruns >= IMAGE_MAX_RUNS ||
	    wr_grow((void **)&w->runs, &w->runs_cap, w->nruns + 1, sizeof(*w->runs)))
		return wr_fail(w, -ENOMEM, "cannot grow run table");
	w->runs[w->nruns].vaddr = vaddr;
	w->runs[w->nruns].npages = npages;
	w->nruns++;
	return 0;
}

/* Page data may be added: no reservation pending, no short chunk completed. */
static int check_more_pages(struct image_writer *w, const char *op)
{
	if (w->resv_len) {
		pr_err("%s: %s while reserved page bytes are not completed", w->tmp_path, op);
		return -EINVAL;
	}
	if (w->pages_sealed) {
		pr_err("%s: %s after a short chunk ended the page data", w->tmp_path, op);
		return -EINVAL;
	}
	return 0;
}

static int add_pages(struct image_writer *w, uint64_t vaddr, struct feed *f, size_t len)
{
	int ret = wr_check_state(w, 1, "image_add_pages");

	if (!ret && w->sec_kind == IMAGE_KIND_PAGES)
		ret = check_more_pages(w, "image_add_pages");
	if (!ret)
		ret = add_run(w, vaddr, len);
	if (ret || !len)
		return ret;
	w->raw_len += len;
	w->total_raw += len;
	return w->compress ? feed_compressed(w, f, len) : feed_raw(w, f, len);
}

int image_add_pages(struct image_writer *w, uint64_t vaddr, const void *buf, size_t len)
{
	struct feed f = { .buf = buf, .fd = -1 };

	return add_pages(w, vaddr, &f, len);
}

int image_add_pages_fd(struct image_writer *w, uint64_t vaddr, int fd, size_t len)
{
	struct feed f = { .buf = NULL, .fd = fd };

	return add_pages(w, vaddr, &f, len);
}

uint32_t image_writer_chunk_size(const struct image_writer *w)
{
	return w->chunk_size;
}

int image_writer_compresses(const struct image_writer *w)
{
	return w->compress;
}

int image_reserve_pages(struct image_writer *w, uint64_t vaddr, size_t len, int *fd,
			uint64_t *off)
{
	int ret = wr_check_state(w, 1, "image_reserve_pages");

	if (ret)
		return ret;
	if (w->compress && w->sec_kind == IMAGE_KIND_PAGES && !w->resv_len && !w->pages_sealed) {
		/* Raw chunks amid compressed ones: what is queued goes to the file first, so
		 * that the reservation starts where the file ends; a partly filled chunk cannot
		 * be split. */
		if (w->slots[w->fill_seq % (uint64_t)w->nslots].in_len) {
			pr_err("%s: image_reserve_pages inside a partial chunk", w->tmp_path);
			return -EINVAL;
		}
		ret = drain(w, w->fill_seq);
		if (ret)
			return ret;
	}
	if (w->sec_kind == IMAGE_KIND_PAGES && w->pages_sealed)
		return check_more_pages(w, "image_reserve_pages");
	if (w->sec_kind == IMAGE_KIND_PAGES && !w->resv_len && w->stage_len) {
		pr_err("%s: image_reserve_pages after %u bytes of a partial chunk", w->tmp_path,
		       w->stage_len);
		return -EINVAL;
	}
	ret = add_run(w, vaddr, len);
	if (ret)
		return ret;
	if (!w->resv_len) {
		/* The buffered bytes go first, so that off is where the file really ends. */
		ret = wr_flush_wbuf(w);
		if (ret)
			return ret;
		w->resv_off = w->off;
	}
	*fd = w->fd;
	*off = w->off;
	w->off += len;
	w->resv_len += len;
	w->raw_len += len;
	w->total_raw += len;
	return 0;
}

/*
 * Reads chunk [off, off + len) back from the file and checksums it, through a read-only fd of
 * its own (the writer's fd is write-only); *rfd is opened on first use.
 */
static int crc_read_back(struct image_writer *w, int *rfd, uint64_t off, uint32_t len,
			 uint32_t *crc)
{
	uint32_t done = 0;

	/* With compression on, the chunk buffer is the pool's: make one. */
	if (!w->stage && !(w->stage = malloc(w->chunk_size)))
		return wr_fail(w, -ENOMEM, "cannot allocate chunk buffer");
	if (*rfd < 0) {
		*rfd = openat(w->dirfd, w->tmp_name, O_RDONLY | O_CLOEXEC);
		if (*rfd < 0)
			return wr_fail(w, -errno, "cannot reopen the image to checksum page bytes");
	}
	while (done < len) {
		ssize_t n = pread(*rfd, w->stage, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return wr_fail(w, n < 0 ? -errno : -EIO, "cannot read reserved page bytes back");
		*crc = crc32c(done ? *crc : 0, w->stage, (size_t)n);
		done += (uint32_t)n;
	}
	return 0;
}

int image_complete_pages(struct image_writer *w, const uint32_t *crcs, uint32_t ncrcs)
{
	uint64_t left, off, need;
	uint32_t i;
	int rfd = -1, ret = wr_check_state(w, 1, "image_complete_pages");

	if (ret)
		return ret;
	if (w->sec_kind != IMAGE_KIND_PAGES || !w->resv_len) {
		pr_err("%s: image_complete_pages without reserved page bytes", w->tmp_path);
		return -EINVAL;
	}
	need = (w->resv_len + w->chunk_size - 1) / w->chunk_size;
	if (crcs && ncrcs != need) {
		char what[96];

		/* The bytes are in the file but cannot be indexed: the image is lost. */
		snprintf(what, sizeof(what), "%u chunk checksums given for %llu chunks", ncrcs,
			 (unsigned long long)need);
		return wr_fail(w, -EINVAL, what);
	}
	left = w->resv_len;
	off = w->resv_off;
	for (i = 0; left && !ret; i++) {
		uint32_t len = left < w->chunk_size ? (uint32_t)left : w->chunk_size;
		struct image_chunk_out c = { .comp = IMAGE_COMP_NONE, .stored_len = len };

		if (crcs)
			c.crc = crcs[i];
		else
			ret = crc_read_back(w, &rfd, off, len, &c.crc);
		if (!ret)
			ret = index_chunk(w, &c, len);
		off += len;
		left -= len;
		if (len < w->chunk_size)
			w->pages_sealed = 1;
	}
	if (rfd >= 0)
		close(rfd);
	if (!ret)
		w->resv_len = 0;
	return ret;
}

int image_fail_pages(struct image_writer *w, int err, const char *what)
{
	if (err >= 0)
		err = -EIO;
	if (!what) { /* e.g. -ESRCH: an event the caller reports, not an error to print */
		if (!w->err)
			w->err = err;
		return err;
	}
	return wr_fail(w, err, what);
}

/* Appends bytes of the page index to the payload. */
static int emit_payload(struct image_writer *w, const void *buf, size_t len)
{
	w->sec_crc = crc32c(w->sec_crc, buf, len);
	w->sec_len += len;
	return wr_emit(w, buf, len);
}

int wr_end_pages(struct image_writer *w)
{
	struct image_pidx tail = { 0 };
	int ret;

	if (w->resv_len)
		return wr_fail(w, -EINVAL, "reserved page bytes never completed");
	if (w->compress) {
		struct wslot *s;

		/*
		 * Write out everything queued first: then the slot at fill_seq is free, and
		 * holds the last, partial chunk if it is not empty.
		 */
		ret = drain(w, w->fill_seq);
		s = &w->slots[w->fill_seq % (uint64_t)w->nslots];
		if (!ret && s->in_len) {
			queue_slot(w, s);
			ret = drain(w, w->fill_seq);
		}
		/* Afterwards every slot is free and empty for the next section. */
	} else {
		ret = w->stage_len ? put_raw(w, w->stage, w->stage_len) : 0;
		w->stage_len = 0;
	}
	if (ret)
		return ret;
	tail.magic = IMAGE_PIDX_MAGIC;
	tail.nruns = w->nruns;
	tail.nchunks = w->nchunks;
	tail.chunk_size = w->chunk_size;
	tail.data_len = w->data_len;
	tail.raw_len = w->raw_len;
	ret = emit_payload(w, w->runs, (size_t)w->nruns * sizeof(*w->runs));
	if (!ret)
		ret = emit_payload(w, w->chunks, (size_t)w->nchunks * sizeof(*w->chunks));
	if (!ret)
		ret = emit_payload(w, &tail, sizeof(tail));
	return ret;
}

