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
 * Page sections and the compression pool live in image_write_pages.c.
 */
#include "image_wpriv.h"
#include "log.h"
#include "testhook.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int image_gzip_from_env(void)
{
	const char *s = getenv("DMTCP_GZIP");

	return !(s && strcmp(s, "0") == 0);
}

int wr_fail(struct image_writer *w, int err, const char *what)
{
	if (!w->err) {
		w->err = err;
		pr_err("%s: %s: %s", w->tmp_path ? w->tmp_path : "image", what, strerror(-err));
	}
	return err;
}

int wr_write_at(struct image_writer *w, const void *buf, size_t len, uint64_t off)
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
			return wr_fail(w, -errno, what);
		}
		if (n == 0)
			return wr_fail(w, -EIO, "write made no progress");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int wr_flush_wbuf(struct image_writer *w)
{
	int ret;

	if (!w->wbuf_len)
		return 0;
	ret = wr_write_at(w, w->wbuf, w->wbuf_len, w->off - w->wbuf_len);
	w->wbuf_len = 0;
	return ret;
}

/* Appends bytes at the logical end; big pieces bypass the buffer (no extra copy). */
int wr_emit(struct image_writer *w, const void *buf, size_t len)
{
	int ret;

	if (!len)
		return 0; /* buf may be NULL */
	if (len >= WBUF_CAP / 2) {
		ret = wr_flush_wbuf(w);
		if (!ret)
			ret = wr_write_at(w, buf, len, w->off);
		if (!ret)
			w->off += len;
		return ret;
	}
	if (w->wbuf_len + len > WBUF_CAP) {
		ret = wr_flush_wbuf(w);
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
		w->fd = openat(w->dirfd, w->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			       0600);
		if (w->fd >= 0) {
			w->created = 1;
			return 0;
		}
		/* A stale temp file of a dead writer with our pid: it is no image, drop it. */
		if (errno != EEXIST || unlinkat(w->dirfd, w->tmp_name, 0) < 0)
			break;
	}
	return wr_fail(w, -errno, "cannot create temporary image");
}

/*
 * Removes ".<final_name>.tmp.<pid>" files of writers that died (no process <pid>), so that a
 * tracer killed mid-checkpoint does not leave its temporary image behind forever. A pid we
 * cannot see (another PID namespace) would look dead, but final names carry the unique pid of
 * the checkpointed process, so two live writers of one name do not happen.
 */
static void prune_stale_tmp(struct image_writer *w)
{
	size_t plen = strlen(w->final_name) + 6; /* "." name ".tmp." */
	struct dirent *e;
	int fd = dup(w->dirfd);
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		char *end;
		long pid;

		if (n[0] != '.' || strncmp(n + 1, w->final_name, plen - 6) ||
		    strncmp(n + plen - 5, ".tmp.", 5))
			continue;
		pid = strtol(n + plen, &end, 10);
		if (*end || end == n + plen || pid <= 0 || pid == getpid())
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH && !unlinkat(w->dirfd, n, 0))
			pr_info("%s/%s: removed the temporary image of a writer that died",
				w->dir, n);
	}
	closedir(d);
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
	if (w->nthreads > 64)
		w->nthreads = 64;
	w->no_fsync = opts->no_fsync;
	w->dirfd = -1;
	w->dir = strdup(dir);
	w->final_name = strdup(final_name);
	if (asprintf(&w->tmp_name, ".%s.tmp.%d", final_name, (int)getpid()) < 0)
		w->tmp_name = NULL;
	if (asprintf(&w->tmp_path, "%s/%s", dir, w->tmp_name ? w->tmp_name : "") < 0)
		w->tmp_path = NULL;
	if (asprintf(&w->final_path, "%s/%s", dir, final_name) < 0)
		w->final_path = NULL;
	w->wbuf = malloc(WBUF_CAP);
	if (!w->dir || !w->final_name || !w->tmp_name || !w->tmp_path || !w->final_path ||
	    !w->wbuf) {
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
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		ret = -errno;
		pr_err("%s: cannot open image directory: %s", dir, strerror(errno));
		image_discard(w);
		return ret;
	}
	ret = open_tmp(w);
	if (ret) {
		image_discard(w);
		return ret;
	}
	prune_stale_tmp(w);

	memcpy(w->hdr.magic, IMAGE_MAGIC, 8);
	w->hdr.version = IMAGE_VERSION;
	w->hdr.hdr_size = IMAGE_HDR_SIZE;
	w->hdr.arch = IMAGE_EM_X86_64;
	w->hdr.flags = (w->compress ? IMAGE_F_COMPRESS : 0) | (opts->flags & IMAGE_F_NOFILTER);
	w->hdr.page_size = w->page_size;
	w->hdr.chunk_size = w->chunk_size;
	clock_gettime(CLOCK_REALTIME, &ts);
	w->hdr.ctime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	copy_str(w->hdr.prog, sizeof(w->hdr.prog), opts->prog);
	copy_str(w->hdr.uniquepid, sizeof(w->hdr.uniquepid), opts->uniquepid);
	copy_str(w->hdr.compid, sizeof(w->hdr.compid), opts->compid);
	w->hdr.ckpt_id = opts->ckpt_id;
	w->hdr.nprocs = opts->nprocs;
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
	ret = wr_write_at(w, &w->hdr, sizeof(w->hdr), 0);
	if (ret) {
		image_discard(w);
		return ret;
	}
	w->off = IMAGE_HDR_SIZE;
	*wp = w;
	return 0;
}

int wr_check_state(struct image_writer *w, int want_open, const char *op)
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

int wr_begin(struct image_writer *w, uint32_t type, uint32_t kind)
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
	ret = wr_emit(w, &placeholder, sizeof(placeholder));
	return ret;
}

int image_begin_section(struct image_writer *w, uint32_t type)
{
	int ret = wr_check_state(w, 0, "image_begin_section");

	return ret ? ret : wr_begin(w, type, IMAGE_KIND_RECORD);
}

int image_append(struct image_writer *w, const void *buf, size_t len)
{
	int ret = wr_check_state(w, 1, "image_append");

	if (ret)
		return ret;
	if (w->sec_kind != IMAGE_KIND_RECORD) {
		pr_err("%s: image_append in a page section", w->tmp_path);
		return -EINVAL;
	}
	w->sec_crc = crc32c(w->sec_crc, buf, len);
	w->sec_len += len;
	return wr_emit(w, buf, len);
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

int wr_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
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

int image_end_section(struct image_writer *w)
{
	struct image_sec_hdr h = { 0 };
	struct image_index_ent *e;
	int ret = wr_check_state(w, 1, "image_end_section");

	if (ret)
		return ret;
	if (w->sec_kind == IMAGE_KIND_PAGES) {
		ret = wr_end_pages(w);
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
	ret = wr_flush_wbuf(w);
	if (!ret)
		ret = wr_write_at(w, &h, sizeof(h), w->sec_off);
	if (ret)
		return ret;
	if (wr_grow((void **)&w->index, &w->index_cap, w->nsec + 1, sizeof(*w->index)))
		return wr_fail(w, -ENOMEM, "cannot grow section index");
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

/* The header's checksum and the footer, for the header as it is now and the sections and
 * index written: the file checksum covers the header, so both follow any change to it. */
static void seal(struct image_writer *w, struct image_foot *foot)
{
	size_t index_len = (size_t)w->nsec * sizeof(*w->index);
	uint32_t index_crc = crc32c(0, w->index, index_len), file_crc;

	w->hdr.hdr_crc = crc32c(0, &w->hdr, offsetof(struct image_hdr, hdr_crc));
	file_crc = crc32c_combine(crc32c(0, &w->hdr, sizeof(w->hdr)), w->rest_crc,
				  w->hdr.footer_off - IMAGE_HDR_SIZE);
	file_crc = crc32c_combine(file_crc, index_crc, index_len);
	memset(foot, 0, sizeof(*foot));
	foot->magic = IMAGE_FOOT_MAGIC;
	foot->nsections = w->nsec;
	foot->footer_off = w->hdr.footer_off;
	foot->index_crc = index_crc;
	foot->file_crc = file_crc;
	foot->foot_crc = crc32c(0, foot, offsetof(struct image_foot, foot_crc));
}

int image_finish(struct image_writer *w)
{
	struct image_foot foot;
	size_t index_len = (size_t)w->nsec * sizeof(*w->index);
	int ret = wr_check_state(w, 0, "image_finish");

	if (ret)
		return ret;
	if (w->slots)
		wr_pool_stop(w);
	/* a test may stop here: the temporary file holds all but its end */
	testhook_step_delay("write");
	w->hdr.footer_off = w->off;
	w->hdr.nsections = w->nsec;
	w->hdr.file_size = w->off + index_len + sizeof(foot);
	seal(w, &foot);
	ret = wr_emit(w, w->index, index_len);
	if (!ret)
		ret = wr_emit(w, &foot, sizeof(foot));
	if (!ret)
		ret = wr_flush_wbuf(w);
	/* The header last: until here the file says "incomplete". */
	if (!ret)
		ret = wr_write_at(w, &w->hdr, sizeof(w->hdr), 0);
	if (!ret && !w->no_fsync && fsync(w->fd) < 0)
		ret = wr_fail(w, -errno, "fsync failed");
	if (ret)
		return ret;
	if (close(w->fd) < 0) {
		w->fd = -1;
		return wr_fail(w, -errno, "close failed");
	}
	w->fd = -1;
	w->finished = 1;
	return 0;
}

int image_set_nprocs(struct image_writer *w, uint32_t nprocs)
{
	size_t index_len = (size_t)w->nsec * sizeof(*w->index);
	struct image_foot foot;
	int ret;

	if (w->err)
		return w->err;
	if (!w->finished || w->committed) {
		pr_err("%s: image_set_nprocs %s", w->tmp_path,
		       w->committed ? "after image_commit" : "before image_finish");
		return -EINVAL;
	}
	if (w->hdr.nprocs == nprocs)
		return 0;
	w->fd = openat(w->dirfd, w->tmp_name, O_WRONLY | O_CLOEXEC);
	if (w->fd < 0)
		return wr_fail(w, -errno, "cannot open it again");
	w->hdr.nprocs = nprocs;
	seal(w, &foot);
	/* The footer first, the header last, as image_finish() writes them. */
	ret = wr_write_at(w, &foot, sizeof(foot), w->hdr.footer_off + index_len);
	if (!ret)
		ret = wr_write_at(w, &w->hdr, sizeof(w->hdr), 0);
	if (!ret && !w->no_fsync && fsync(w->fd) < 0)
		ret = wr_fail(w, -errno, "fsync failed");
	if (close(w->fd) < 0 && !ret)
		ret = wr_fail(w, -errno, "close failed");
	w->fd = -1;
	return ret;
}

int image_commit(struct image_writer *w)
{
	if (w->err)
		return w->err;
	if (!w->finished || w->committed) {
		pr_err("%s: image_commit %s", w->tmp_path,
		       w->committed ? "twice" : "before image_finish");
		return -EINVAL;
	}
	if (renameat(w->dirfd, w->tmp_name, w->dirfd, w->final_name) < 0) {
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
	if (fsync(w->dirfd) < 0) {
		int err = -errno;

		pr_err("%s: cannot fsync directory %s: %s", w->final_path, w->dir,
		       strerror(errno));
		return err;
	}
	return 0;
}

void image_discard(struct image_writer *w)
{
	if (!w)
		return;
	if (w->slots)
		wr_pool_stop(w);
	if (w->fd >= 0)
		close(w->fd);
	if (w->created && unlinkat(w->dirfd, w->tmp_name, 0) < 0 && errno != ENOENT)
		pr_warn("%s: cannot remove temporary image: %s", w->tmp_path, strerror(errno));
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv_work);
	pthread_cond_destroy(&w->cv_done);
	free(w->stage);
	free(w->runs);
	free(w->chunks);
	free(w->index);
	free(w->wbuf);
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->dir);
	free(w->tmp_name);
	free(w->final_name);
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
