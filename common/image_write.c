/*
 * The image writer: streams sections into a temporary file, compresses page chunks on a
 * worker pool, and makes the result appear under its final name only by an atomic rename.
 *
 * Offsets: every byte after the header goes to w->off, the logical end of the file; small
 * writes collect in wbuf, page chunks go out with their own pwrite. A section header is
 * written as a placeholder and patched when the section ends (its length and checksum are
 * known only then); the file header likewise at image_finish(). Checksums of all pieces are
 * combined (crc32c_combine) rather than recomputed, so the data is read exactly once.
 *
 * Compression pipeline: slots[] is a ring of chunk buffers. The caller fills slot
 * fill_seq % nslots, marks it QUEUED; workers compress QUEUED slots (lowest sequence first);
 * the caller writes DONE slots strictly in sequence order (write_seq), which frees them. The
 * caller blocks only when the slot it wants to fill is still in flight, which bounds memory to
 * nslots chunk buffers.
 */
#include "image_fmt.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WBUF_CAP (256u << 10)

enum slot_state { SLOT_FREE = 0, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct wslot {
	uint8_t *in;
	uint8_t *out;
	size_t out_cap;
	uint32_t in_len;
	enum slot_state state;
	uint64_t seq;
	struct image_chunk_out res;
};

struct wworker;

struct image_writer {
	int fd;
	int err;
	int finished;
	int committed;
	int created; /* the temporary file exists and is ours to remove */
	char *dir;
	char *tmp_path;
	char *final_path;

	struct image_hdr hdr;
	uint32_t page_size;
	uint32_t chunk_size;
	int compress;
	int level;
	int nthreads;
	int no_fsync;

	uint64_t off;	    /* logical end of file, buffered bytes included */
	uint32_t rest_crc;  /* CRC-32C of [IMAGE_HDR_SIZE, off) of closed sections */
	uint8_t *wbuf;
	size_t wbuf_len;

	struct image_index_ent *index;
	uint32_t nsec;
	uint32_t index_cap;

	/* the open section */
	int sec_open;
	uint32_t sec_kind;
	uint32_t sec_type;
	uint64_t sec_off;   /* of its header */
	uint64_t sec_len;   /* payload bytes so far */
	uint32_t sec_crc;   /* payload CRC so far */

	/* the open page section */
	struct image_run_disk *runs;
	uint32_t nruns;
	uint32_t runs_cap;
	struct image_chunk_disk *chunks;
	uint32_t nchunks;
	uint32_t chunks_cap;
	uint64_t data_len;
	uint64_t raw_len;
	uint8_t *stage;	    /* partial chunk when compression is off */
	uint32_t stage_len;

	uint64_t total_raw;

	/* compression pool */
	int nthr;	    /* threads started */
	struct wslot *slots;
	int nslots;
	uint64_t fill_seq;  /* the slot being filled */
	uint64_t write_seq; /* the next slot to write */
	pthread_mutex_t mu;
	pthread_cond_t cv_work;
	pthread_cond_t cv_done;
	int stop;
	struct wworker *workers;
};

/* A compression thread and the zlib stream it owns. */
struct wworker {
	pthread_t thr;
	struct image_writer *w;
	struct image_zctx z;
};

/* A source of page bytes: the caller's memory or an fd. */
struct feed {
	const uint8_t *buf;
	int fd;
};

int image_gzip_from_env(void)
{
	const char *s = getenv("DMTCP_GZIP");

	return !(s && strcmp(s, "0") == 0);
}

static int fail(struct image_writer *w, int err, const char *what)
{
	if (!w->err) {
		w->err = err;
		pr_err("%s: %s: %s", w->tmp_path ? w->tmp_path : "image", what, strerror(-err));
	}
	return err;
}

static int write_at(struct image_writer *w, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(w->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			char what[64];

			snprintf(what, sizeof(what), "write at offset %llu failed",
				 (unsigned long long)off);
			return fail(w, -errno, what);
		}
		if (n == 0)
			return fail(w, -EIO, "write made no progress");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int flush_wbuf(struct image_writer *w)
{
	int ret;

	if (!w->wbuf_len)
		return 0;
	ret = write_at(w, w->wbuf, w->wbuf_len, w->off - w->wbuf_len);
	w->wbuf_len = 0;
	return ret;
}

/* Appends bytes at the logical end; big pieces bypass the buffer (no extra copy). */
static int emit(struct image_writer *w, const void *buf, size_t len)
{
	int ret;

	if (len >= WBUF_CAP / 2) {
		ret = flush_wbuf(w);
		if (!ret)
			ret = write_at(w, buf, len, w->off);
		if (!ret)
			w->off += len;
		return ret;
	}
	if (w->wbuf_len + len > WBUF_CAP) {
		ret = flush_wbuf(w);
		if (ret)
			return ret;
	}
	memcpy(w->wbuf + w->wbuf_len, buf, len);
	w->wbuf_len += len;
	w->off += len;
	return 0;
}

static void copy_str(char *dst, size_t cap, const char *s)
{
	memset(dst, 0, cap);
	if (s)
		snprintf(dst, cap, "%s", s);
}

static int check_id(const char *what, const char *s)
{
	if (s && strlen(s) >= IMAGE_STR_LEN) {
		pr_err("image: %s \"%s\" is longer than %u bytes", what, s, IMAGE_STR_LEN - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int open_tmp(struct image_writer *w)
{
	for (int tries = 0; tries < 2; tries++) {
		w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (w->fd >= 0) {
			w->created = 1;
			return 0;
		}
		/* A stale temp file of a dead writer with our pid: it is no image, drop it. */
		if (errno != EEXIST || unlink(w->tmp_path) < 0)
			break;
	}
	return fail(w, -errno, "cannot create temporary image");
}

int image_create(const char *dir, const char *final_name, const struct image_opts *opts,
		 struct image_writer **wp)
{
	struct image_opts def = IMAGE_OPTS_INIT;
	struct image_writer *w;
	struct timespec ts;
	char host[IMAGE_HOST_LEN];
	int ret;

	*wp = NULL;
	if (!opts)
		opts = &def;
	if (!dir || !*dir)
		dir = ".";
	if (!final_name || !*final_name || strchr(final_name, '/') ||
	    strlen(final_name) > NAME_MAX - 20) {
		pr_err("image: bad image file name \"%s\"", final_name ? final_name : "(null)");
		return -EINVAL;
	}
	ret = check_id("unique pid", opts->uniquepid);
	if (!ret)
		ret = check_id("computation id", opts->compid);
	if (ret)
		return ret;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv_work, NULL);
	pthread_cond_init(&w->cv_done, NULL);
	w->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	w->chunk_size = opts->chunk_size ? opts->chunk_size : IMAGE_DEFAULT_CHUNK;
	w->compress = opts->compress < 0 ? image_gzip_from_env() : !!opts->compress;
	w->level = opts->level ? opts->level : 1;
	w->nthreads = opts->threads > 0 ? opts->threads : image_ncpus();
	w->no_fsync = opts->no_fsync;
	w->dir = strdup(dir);
	if (asprintf(&w->tmp_path, "%s/.%s.tmp.%d", dir, final_name, (int)getpid()) < 0)
		w->tmp_path = NULL;
	if (asprintf(&w->final_path, "%s/%s", dir, final_name) < 0)
		w->final_path = NULL;
	w->wbuf = malloc(WBUF_CAP);
	if (!w->dir || !w->tmp_path || !w->final_path || !w->wbuf) {
		image_discard(w);
		return -ENOMEM;
	}
	if (w->chunk_size % w->page_size || w->chunk_size > IMAGE_MAX_CHUNK) {
		pr_err("%s: chunk size %u is not a multiple of the page size %u up to %u",
		       w->final_path, w->chunk_size, w->page_size, IMAGE_MAX_CHUNK);
		image_discard(w);
		return -EINVAL;
	}
	if (w->level < 1 || w->level > 9) {
		pr_err("%s: zlib level %d is not in 1..9", w->final_path, w->level);
		image_discard(w);
		return -EINVAL;
	}
	ret = open_tmp(w);
	if (ret) {
		image_discard(w);
		return ret;
	}

	memcpy(w->hdr.magic, IMAGE_MAGIC, 8);
	w->hdr.version = IMAGE_VERSION;
	w->hdr.hdr_size = IMAGE_HDR_SIZE;
	w->hdr.arch = IMAGE_EM_X86_64;
	w->hdr.flags = w->compress ? IMAGE_F_COMPRESS : 0;
	w->hdr.page_size = w->page_size;
	w->hdr.chunk_size = w->chunk_size;
	clock_gettime(CLOCK_REALTIME, &ts);
	w->hdr.ctime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	copy_str(w->hdr.prog, sizeof(w->hdr.prog), opts->prog);
	copy_str(w->hdr.uniquepid, sizeof(w->hdr.uniquepid), opts->uniquepid);
	copy_str(w->hdr.compid, sizeof(w->hdr.compid), opts->compid);
	if (opts->hostname) {
		copy_str(w->hdr.hostname, sizeof(w->hdr.hostname), opts->hostname);
	} else {
		memset(host, 0, sizeof(host));
		if (gethostname(host, sizeof(host) - 1) < 0)
			host[0] = 0;
		copy_str(w->hdr.hostname, sizeof(w->hdr.hostname), host);
	}
	/*
	 * The header goes out now with file_size 0 and a valid checksum, so that a file left by
	 * a writer that died reads as "incomplete", not as garbage.
	 */
	w->hdr.hdr_crc = crc32c(0, &w->hdr, offsetof(struct image_hdr, hdr_crc));
	ret = write_at(w, &w->hdr, sizeof(w->hdr), 0);
	if (ret) {
		image_discard(w);
		return ret;
	}
	w->off = IMAGE_HDR_SIZE;
	*wp = w;
	return 0;
}

static int check_state(struct image_writer *w, int want_open, const char *op)
{
	if (w->err)
		return w->err;
	if (w->finished) {
		pr_err("%s: %s after image_finish", w->tmp_path, op);
		return -EINVAL;
	}
	if (want_open >= 0 && w->sec_open != want_open) {
		pr_err("%s: %s with %s", w->tmp_path, op,
		       w->sec_open ? "a section still open" : "no section open");
		return -EINVAL;
	}
	return 0;
}

static int begin(struct image_writer *w, uint32_t type, uint32_t kind)
{
	struct image_sec_hdr placeholder = { 0 };
	int ret;

	if (w->nsec >= IMAGE_MAX_SECTIONS) {
		pr_err("%s: more than %u sections", w->tmp_path, IMAGE_MAX_SECTIONS);
		return -E2BIG;
	}
	w->sec_open = 1;
	w->sec_kind = kind;
	w->sec_type = type;
	w->sec_off = w->off;
	w->sec_len = 0;
	w->sec_crc = 0;
	ret = emit(w, &placeholder, sizeof(placeholder));
	return ret;
}

int image_begin_section(struct image_writer *w, uint32_t type)
{
	int ret = check_state(w, 0, "image_begin_section");

	return ret ? ret : begin(w, type, IMAGE_KIND_RECORD);
}

int image_append(struct image_writer *w, const void *buf, size_t len)
{
	int ret = check_state(w, 1, "image_append");

	if (ret)
		return ret;
	if (w->sec_kind != IMAGE_KIND_RECORD) {
		pr_err("%s: image_append in a page section", w->tmp_path);
		return -EINVAL;
	}
	w->sec_crc = crc32c(w->sec_crc, buf, len);
	w->sec_len += len;
	return emit(w, buf, len);
}

int image_add_record(struct image_writer *w, uint32_t type, const void *buf, size_t len)
{
	int ret = image_begin_section(w, type);

	if (!ret)
		ret = image_append(w, buf, len);
	if (!ret)
		ret = image_end_section(w);
	return ret;
}

/* ---- page sections ------------------------------------------------------------------------ */

static void *pool_worker(void *arg);

static int pool_start(struct image_writer *w)
{
	int i;

	if (w->slots)
		return 0;
	w->nslots = 2 * w->nthreads + 2;
	w->slots = calloc((size_t)w->nslots, sizeof(*w->slots));
	w->workers = calloc((size_t)w->nthreads, sizeof(*w->workers));
	if (!w->slots || !w->workers)
		return fail(w, -ENOMEM, "cannot allocate compression pool");
	for (i = 0; i < w->nslots; i++) {
		struct wslot *s = &w->slots[i];

		s->out_cap = image_compress_bound(w->chunk_size);
		s->in = malloc(w->chunk_size);
		s->out = malloc(s->out_cap);
		if (!s->in || !s->out)
			return fail(w, -ENOMEM, "cannot allocate compression buffers");
	}
	for (i = 0; i < w->nthreads; i++) {
		w->workers[i].w = w;
		if (image_zctx_init(&w->workers[i].z, w->level))
			return fail(w, -ENOMEM, "cannot set up zlib");
	}
	for (i = 0; i < w->nthreads; i++) {
		int ret = pthread_create(&w->workers[i].thr, NULL, pool_worker, &w->workers[i]);

		if (ret)
			return fail(w, -ret, "cannot start compression threads");
		w->nthr++;
	}
	return 0;
}

static void pool_stop(struct image_writer *w)
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

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Writes one finished chunk at the end of the file and indexes it. */
static int put_chunk(struct image_writer *w, const struct image_chunk_out *c, uint32_t raw_len)
{
	struct image_chunk_disk *d;
	int ret;

	if (grow((void **)&w->chunks, &w->chunks_cap, w->nchunks + 1, sizeof(*w->chunks)))
		return fail(w, -ENOMEM, "cannot grow chunk table");
	ret = emit(w, c->data, c->stored_len);
	if (ret)
		return ret;
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
			return fail(w, -errno, "cannot read page data from fd");
		if (r == 0)
			return fail(w, -EIO, "page data fd ended early");
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

static int feed_raw(struct image_writer *w, struct feed *f, size_t len)
{
	int ret;

	while (len) {
		size_t n;

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
	int ret = check_state(w, 0, "image_begin_pages");

	if (ret)
		return ret;
	if (w->compress)
		ret = pool_start(w);
	else if (!w->stage && !(w->stage = malloc(w->chunk_size)))
		ret = fail(w, -ENOMEM, "cannot allocate chunk buffer");
	if (ret)
		return ret;
	w->nruns = 0;
	w->nchunks = 0;
	w->data_len = 0;
	w->raw_len = 0;
	w->stage_len = 0;
	return begin(w, type, IMAGE_KIND_PAGES);
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
	    grow((void **)&w->runs, &w->runs_cap, w->nruns + 1, sizeof(*w->runs)))
		return fail(w, -ENOMEM, "cannot grow run table");
	w->runs[w->nruns].vaddr = vaddr;
	w->runs[w->nruns].npages = npages;
	w->nruns++;
	return 0;
}

static int add_pages(struct image_writer *w, uint64_t vaddr, struct feed *f, size_t len)
{
	int ret = check_state(w, 1, "image_add_pages");

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

/* Appends bytes of the page index to the payload. */
static int emit_payload(struct image_writer *w, const void *buf, size_t len)
{
	w->sec_crc = crc32c(w->sec_crc, buf, len);
	w->sec_len += len;
	return emit(w, buf, len);
}

static int end_pages(struct image_writer *w)
{
	struct image_pidx tail = { 0 };
	int ret;

	if (w->compress) {
		struct wslot *s = &w->slots[w->fill_seq % (uint64_t)w->nslots];

		if (s->in_len && s->state == SLOT_FREE)
			queue_slot(w, s);
		/* Afterwards every slot is free and empty for the next section. */
		ret = drain(w, w->fill_seq);
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

int image_end_section(struct image_writer *w)
{
	struct image_sec_hdr h = { 0 };
	struct image_index_ent *e;
	int ret = check_state(w, 1, "image_end_section");

	if (ret)
		return ret;
	if (w->sec_kind == IMAGE_KIND_PAGES) {
		ret = end_pages(w);
		if (ret)
			return ret;
	}
	h.magic = IMAGE_SEC_MAGIC;
	h.type = w->sec_type;
	h.kind = w->sec_kind;
	h.index = w->nsec;
	h.length = w->sec_len;
	h.crc = w->sec_crc;
	h.hdr_crc = crc32c(0, &h, offsetof(struct image_sec_hdr, hdr_crc));
	ret = flush_wbuf(w);
	if (!ret)
		ret = write_at(w, &h, sizeof(h), w->sec_off);
	if (ret)
		return ret;
	if (grow((void **)&w->index, &w->index_cap, w->nsec + 1, sizeof(*w->index)))
		return fail(w, -ENOMEM, "cannot grow section index");
	e = &w->index[w->nsec++];
	memset(e, 0, sizeof(*e));
	e->type = h.type;
	e->kind = h.kind;
	e->offset = w->sec_off;
	e->length = h.length;
	e->crc = h.crc;
	w->rest_crc = crc32c_combine(w->rest_crc, crc32c(0, &h, sizeof(h)), sizeof(h));
	w->rest_crc = crc32c_combine(w->rest_crc, h.crc, h.length);
	w->sec_open = 0;
	return 0;
}

int image_finish(struct image_writer *w)
{
	struct image_foot foot = { 0 };
	size_t index_len = (size_t)w->nsec * sizeof(*w->index);
	uint32_t index_crc, file_crc;
	int ret = check_state(w, 0, "image_finish");

	if (ret)
		return ret;
	if (w->slots)
		pool_stop(w);
	index_crc = crc32c(0, w->index, index_len);
	w->hdr.footer_off = w->off;
	w->hdr.nsections = w->nsec;
	w->hdr.file_size = w->off + index_len + sizeof(foot);
	w->hdr.hdr_crc = crc32c(0, &w->hdr, offsetof(struct image_hdr, hdr_crc));
	file_crc = crc32c_combine(crc32c(0, &w->hdr, sizeof(w->hdr)), w->rest_crc,
				  w->off - IMAGE_HDR_SIZE);
	file_crc = crc32c_combine(file_crc, index_crc, index_len);

	foot.magic = IMAGE_FOOT_MAGIC;
	foot.nsections = w->nsec;
	foot.footer_off = w->hdr.footer_off;
	foot.index_crc = index_crc;
	foot.file_crc = file_crc;
	foot.foot_crc = crc32c(0, &foot, offsetof(struct image_foot, foot_crc));
	ret = emit(w, w->index, index_len);
	if (!ret)
		ret = emit(w, &foot, sizeof(foot));
	if (!ret)
		ret = flush_wbuf(w);
	/* The header last: until here the file says "incomplete". */
	if (!ret)
		ret = write_at(w, &w->hdr, sizeof(w->hdr), 0);
	if (!ret && !w->no_fsync && fsync(w->fd) < 0)
		ret = fail(w, -errno, "fsync failed");
	if (ret)
		return ret;
	if (close(w->fd) < 0) {
		w->fd = -1;
		return fail(w, -errno, "close failed");
	}
	w->fd = -1;
	w->finished = 1;
	return 0;
}

int image_commit(struct image_writer *w)
{
	int dfd;

	if (w->err)
		return w->err;
	if (!w->finished || w->committed) {
		pr_err("%s: image_commit %s", w->tmp_path,
		       w->committed ? "twice" : "before image_finish");
		return -EINVAL;
	}
	if (rename(w->tmp_path, w->final_path) < 0) {
		int err = -errno;

		pr_err("%s: cannot rename to %s: %s", w->tmp_path, w->final_path, strerror(errno));
		w->err = err;
		return err;
	}
	w->committed = 1;
	w->created = 0;
	if (w->no_fsync)
		return 0;
	/* The rename is durable only once the directory is. */
	dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		int err = -errno;

		pr_err("%s: cannot fsync directory %s: %s", w->final_path, w->dir,
		       strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return err;
	}
	close(dfd);
	return 0;
}

void image_discard(struct image_writer *w)
{
	if (!w)
		return;
	if (w->slots)
		pool_stop(w);
	if (w->fd >= 0)
		close(w->fd);
	if (w->created && unlink(w->tmp_path) < 0 && errno != ENOENT)
		pr_warn("%s: cannot remove temporary image: %s", w->tmp_path, strerror(errno));
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv_work);
	pthread_cond_destroy(&w->cv_done);
	free(w->stage);
	free(w->runs);
	free(w->chunks);
	free(w->index);
	free(w->wbuf);
	free(w->dir);
	free(w->tmp_path);
	free(w->final_path);
	free(w);
}

const char *image_writer_tmp_path(const struct image_writer *w)
{
	return w->tmp_path;
}

const char *image_writer_final_path(const struct image_writer *w)
{
	return w->final_path;
}

uint64_t image_writer_size(const struct image_writer *w)
{
	return w->finished ? w->hdr.file_size : w->off;
}

uint64_t image_writer_raw_pages(const struct image_writer *w)
{
	return w->total_raw;
}
