/*
 * The image reader: maps an image, validates all of it, and hands out sections and page data.
 *
 * image_open() checks, in this order, and stops at the first problem with a message that
 * names the file and the exact fault: size and magic, version, header checksum, header fields
 * (architecture, page size, chunk size, strings), completeness and size against the file
 * (truncation, trailing bytes), the footer tail and the section index, each section header
 * (placement: sections must tile the file without gaps), each page section's index tables,
 * every chunk checksum (on all cores), every section checksum, and the whole-file checksum.
 * Because all CRCs combine, the section and file checksums come from the chunk checksums
 * without a second pass over the data. Only then is the image handed to the caller, so the
 * restart can refuse a damaged image before its point of no return.
 */
#include "image_rpriv.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static __thread char last_error[512];

const char *image_last_error(void)
{
	return last_error;
}

/* Records and logs the one message for this failure; returns err. */
int rd_bad(const char *path, int err, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(last_error, sizeof(last_error), "%s: %s", path, msg);
	pr_err("%s", last_error);
	return err;
}

/* Records the message without logging it: the caller may find a better explanation. */
__attribute__((format(printf, 3, 4))) static int note(const char *path, int err,
						       const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(last_error, sizeof(last_error), "%s: %s", path, msg);
	return err;
}

const char *image_arch_name(uint32_t arch)
{
	static __thread char buf[32];

	switch (arch) {
	case 3:
		return "i386";
	case 8:
		return "mips";
	case 20:
		return "ppc";
	case 21:
		return "ppc64";
	case 22:
		return "s390";
	case 40:
		return "arm";
	case 62:
		return "x86_64";
	case 183:
		return "aarch64";
	case 243:
		return "riscv";
	case 258:
		return "loongarch";
	}
	snprintf(buf, sizeof(buf), "machine-%u", arch);
	return buf;
}

static int str_ok(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

/*
 * Checks a header read from a file of 'size' bytes (hdr holds min(size, 512) bytes, the rest
 * zero) and fills info. Sizes against the file are checked by the caller.
 */
static int check_header(const char *path, const struct image_hdr *h, uint64_t size,
			struct image_info *info)
{
	uint32_t pagesz = (uint32_t)sysconf(_SC_PAGESIZE);

	if (size == 0)
		return rd_bad(path, -EINVAL, "empty file (0 bytes): not a dmtcp image");
	/* A file cut inside the magic is a truncated image, not a foreign file. */
	if (memcmp(h->magic, IMAGE_MAGIC, size < sizeof(h->magic) ? size : sizeof(h->magic)))
		return rd_bad(path, -EINVAL, "bad magic: not a dmtcp image");
	if (size < IMAGE_HDR_SIZE)
		return rd_bad(path, -EINVAL, "truncated: file ends at %llu, inside the %u-byte header",
			   (unsigned long long)size, IMAGE_HDR_SIZE);
	if (h->version != IMAGE_VERSION)
		return rd_bad(path, -EINVAL, "unsupported image format version %u (this reader knows %u)",
			   h->version, IMAGE_VERSION);
	if (crc32c(0, h, offsetof(struct image_hdr, hdr_crc)) != h->hdr_crc)
		return rd_bad(path, -EINVAL, "header checksum mismatch");
	if (h->hdr_size != IMAGE_HDR_SIZE)
		return rd_bad(path, -EINVAL, "header size %u, expected %u", h->hdr_size,
			   IMAGE_HDR_SIZE);
	if (h->arch != IMAGE_EM_X86_64)
		return rd_bad(path, -EINVAL, "image is for %s, this is x86_64",
			   image_arch_name(h->arch));
	if (h->page_size != pagesz)
		return rd_bad(path, -EINVAL, "image has page size %u, this system uses %u",
			   h->page_size, pagesz);
	if (!h->chunk_size || h->chunk_size % pagesz || h->chunk_size > IMAGE_MAX_CHUNK)
		return rd_bad(path, -EINVAL, "bad chunk size %u in header", h->chunk_size);
	if (!str_ok(h->prog, sizeof(h->prog)) || !str_ok(h->uniquepid, sizeof(h->uniquepid)) ||
	    !str_ok(h->compid, sizeof(h->compid)) || !str_ok(h->hostname, sizeof(h->hostname)))
		return rd_bad(path, -EINVAL, "unterminated string in header");
	if (h->file_size == 0)
		return rd_bad(path, -EINVAL,
			   "incomplete image: its writer never finished it (no footer)");
	memset(info, 0, sizeof(*info));
	info->version = h->version;
	info->arch = h->arch;
	info->flags = h->flags;
	info->page_size = h->page_size;
	info->ctime_ns = h->ctime_ns;
	info->file_size = h->file_size;
	info->nsections = h->nsections;
	memcpy(info->prog, h->prog, sizeof(info->prog));
	memcpy(info->uniquepid, h->uniquepid, sizeof(info->uniquepid));
	memcpy(info->compid, h->compid, sizeof(info->compid));
	memcpy(info->hostname, h->hostname, sizeof(info->hostname));
	info->ckpt_id = h->ckpt_id;
	info->nprocs = h->nprocs;
	return 0;
}

int image_peek(const char *path, struct image_info *info)
{
	struct image_hdr h;
	struct stat st;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rd_bad(path, -errno, "cannot open: %s", strerror(errno));
	memset(&h, 0, sizeof(h));
	if (fstat(fd, &st) < 0) {
		ret = rd_bad(path, -errno, "cannot stat: %s", strerror(errno));
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return rd_bad(path, -EINVAL, "not a regular file");
	}
	n = pread(fd, &h, sizeof(h), 0);
	if (n < 0) {
		ret = rd_bad(path, -errno, "cannot read: %s", strerror(errno));
		close(fd);
		return ret;
	}
	close(fd);
	return check_header(path, &h, (uint64_t)n < (uint64_t)st.st_size ? (uint64_t)n :
				       (uint64_t)st.st_size, info);
}

/* ---- parallel work ------------------------------------------------------------------------- */

static void par_run_items(struct par *p)
{
	void *scratch = NULL;

	for (;;) {
		uint32_t i = atomic_fetch_add(&p->next, 1);
		int ret;

		if (i >= p->n || i > atomic_load(&p->first_bad))
			break;
		ret = p->fn(p, i, &scratch);
		if (ret) {
			pthread_mutex_lock(&p->mu);
			if (i < atomic_load(&p->first_bad)) {
				atomic_store(&p->first_bad, i);
				p->err = ret;
			}
			pthread_mutex_unlock(&p->mu);
		}
	}
	free(scratch);
}

static void *par_thread(void *arg)
{
	par_run_items(arg);
	return NULL;
}

/* See image_rpriv.h. */
int rd_par_for(int nthreads, uint32_t n, void *ctx,
		   int (*fn)(struct par *p, uint32_t item, void **scratch), uint32_t *bad_item)
{
	struct par p = { .fn = fn, .n = n, .ctx = ctx };
	pthread_t thr[64];
	sigset_t all, old;
	int nt = 0;

	atomic_init(&p.next, 0);
	atomic_init(&p.first_bad, n);
	pthread_mutex_init(&p.mu, NULL);
	if (nthreads > 64)
		nthreads = 64;
	/* Helpers take no signals meant for the caller (see image_write_pages.c). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 1; i < nthreads && (uint32_t)i < n; i++) {
		if (pthread_create(&thr[nt], NULL, par_thread, &p))
			break; /* fewer threads is only slower */
		nt++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	par_run_items(&p);
	for (int i = 0; i < nt; i++)
		pthread_join(thr[i], NULL);
	pthread_mutex_destroy(&p.mu);
	if (bad_item)
		*bad_item = atomic_load(&p.first_bad);
	return atomic_load(&p.first_bad) < n ? p.err : 0;
}

/* ---- validation ---------------------------------------------------------------------------- */

static const char *kind_name(uint32_t kind)
{
	return kind == IMAGE_KIND_RECORD ? "record" : kind == IMAGE_KIND_PAGES ? "page" : "?";
}

/* Parses and checks the tables of a page section; every count and size must add up. */
static int parse_pages(struct image_reader *r, struct rsec *s)
{
	const char *path = r->path;
	uint32_t idx = s->pub.index, type = s->pub.type;
	struct image_pidx t;
	uint64_t len = s->pub.length, tables, raw = 0, pos = 0, pages_bytes = 0;
	uint32_t ps = r->info.page_size;

	if (len < sizeof(t))
		return note(path, -EINVAL, "page section %u (type %u): %llu bytes, too short for "
			   "its index", idx, type, (unsigned long long)len);
	memcpy(&t, s->payload + len - sizeof(t), sizeof(t));
	if (t.magic != IMAGE_PIDX_MAGIC)
		return note(path, -EINVAL, "page section %u (type %u): bad page index magic 0x%08x",
			   idx, type, t.magic);
	if (t.nruns > IMAGE_MAX_RUNS || t.nchunks > IMAGE_MAX_RUNS || !t.chunk_size ||
	    t.chunk_size % ps || t.chunk_size > IMAGE_MAX_CHUNK)
		return note(path, -EINVAL, "page section %u (type %u): bad page index (%u runs, "
			   "%u chunks, chunk size %u)", idx, type, t.nruns, t.nchunks,
			   t.chunk_size);
	/*
	 * The format says "as in the header", and the reader sizes its chunk buffers by the
	 * header's: a header saying 64 MiB over sections of 8 KiB chunks made every buffer
	 * 64 MiB, for a file of a few KiB.
	 */
	if (t.chunk_size != r->chunk_size)
		return note(path, -EINVAL, "page section %u (type %u): chunk size %u, the header "
			   "says %u", idx, type, t.chunk_size, r->chunk_size);
	tables = (uint64_t)t.nruns * sizeof(struct image_run_disk) +
		 (uint64_t)t.nchunks * sizeof(struct image_chunk_disk) + sizeof(t);
	if (t.data_len > len || t.data_len + tables != len)
		return note(path, -EINVAL, "page section %u (type %u): %llu data bytes + %llu "
			   "index bytes != section length %llu", idx, type,
			   (unsigned long long)t.data_len, (unsigned long long)tables,
			   (unsigned long long)len);
	s->pub.nruns = t.nruns;
	s->pub.nchunks = t.nchunks;
	s->runs = malloc(((size_t)t.nruns + 1) * sizeof(*s->runs));
	s->run_off = malloc(((size_t)t.nruns + 1) * sizeof(*s->run_off));
	s->chunks = malloc(((size_t)t.nchunks + 1) * sizeof(*s->chunks));
	s->chunk_raw = malloc(((size_t)t.nchunks + 1) * sizeof(*s->chunk_raw));
	s->chunk_pos = malloc(((size_t)t.nchunks + 1) * sizeof(*s->chunk_pos));
	if (!s->runs || !s->run_off || !s->chunks || !s->chunk_raw || !s->chunk_pos)
		return note(path, -ENOMEM, "out of memory for the page index");
	memcpy(s->runs, s->payload + t.data_len, (size_t)t.nruns * sizeof(*s->runs));
	memcpy(s->chunks, s->payload + t.data_len + (size_t)t.nruns * sizeof(*s->runs),
	       (size_t)t.nchunks * sizeof(*s->chunks));
	s->pub.runs = s->runs;
	for (uint32_t i = 0; i < t.nruns; i++) {
		const struct image_run *run = &s->runs[i];

		if (run->vaddr % ps || !run->npages || run->npages > (UINT64_MAX - raw) / ps ||
		    run->vaddr + run->npages * ps < run->vaddr)
			return note(path, -EINVAL, "page section %u (type %u): bad run %u "
				   "(0x%llx, %llu pages)", idx, type, i,
				   (unsigned long long)run->vaddr,
				   (unsigned long long)run->npages);
		s->run_off[i] = pages_bytes;
		pages_bytes += run->npages * ps;
	}
	s->run_off[t.nruns] = pages_bytes;
	for (uint32_t i = 0; i < t.nchunks; i++) {
		const struct image_chunk_disk *c = &s->chunks[i];
		int last = i + 1 == t.nchunks;

		if ((!last && c->raw_len != t.chunk_size) ||
		    (last && (!c->raw_len || c->raw_len > t.chunk_size)))
			return note(path, -EINVAL, "chunk %u of page section %u (type %u): holds %u "
				   "bytes, chunk size is %u", i, idx, type, c->raw_len,
				   t.chunk_size);
		if (c->comp != IMAGE_COMP_NONE && c->comp != IMAGE_COMP_ZLIB)
			return note(path, -EINVAL, "chunk %u of page section %u (type %u): unknown "
				   "compression %u", i, idx, type, c->comp);
		if ((c->comp == IMAGE_COMP_NONE && c->stored_len != c->raw_len) ||
		    !c->stored_len || c->stored_len > t.data_len - pos)
			return note(path, -EINVAL, "chunk %u of page section %u (type %u): bad "
				   "stored size %u", i, idx, type, c->stored_len);
		if (c->comp == IMAGE_COMP_ZLIB &&
		    c->raw_len > (uint64_t)c->stored_len * IMAGE_ZLIB_MAX_RATIO)
			return note(path, -EINVAL, "chunk %u of page section %u (type %u): %u "
				   "stored bytes cannot inflate to %u", i, idx, type, c->stored_len,
				   c->raw_len);
		if (c->raw_len > s->max_raw)
			s->max_raw = c->raw_len;
		s->chunk_raw[i] = raw;
		s->chunk_pos[i] = pos;
		raw += c->raw_len;
		pos += c->stored_len;
		if (c->comp == IMAGE_COMP_ZLIB)
			s->pub.zlib_chunks++;
	}
	s->chunk_raw[t.nchunks] = raw;
	s->chunk_pos[t.nchunks] = pos;
	if (pos != t.data_len || raw != t.raw_len || raw != pages_bytes)
		return note(path, -EINVAL, "page section %u (type %u): chunks hold %llu bytes "
			   "(%llu stored), runs cover %llu, index says %llu (%llu stored)",
			   idx, type, (unsigned long long)raw, (unsigned long long)pos,
			   (unsigned long long)pages_bytes, (unsigned long long)t.raw_len,
			   (unsigned long long)t.data_len);
	s->pub.raw_bytes = raw;
	s->pub.stored_bytes = pos;
	return 0;
}

static int verify_chunk(struct par *p, uint32_t i, void **scratch)
{
	struct rsec *s = p->ctx;
	const struct image_chunk_disk *c = &s->chunks[i];

	(void)scratch;
	return crc32c(0, s->payload + s->chunk_pos[i], c->stored_len) == c->crc ? 0 : -EIO;
}

/* Checks the payload checksum of a section; page chunks are checked on all cores. */
static int verify_payload(struct image_reader *r, struct rsec *s)
{
	uint32_t crc = 0, bad_chunk;
	uint64_t data_len;
	int ret;

	if (s->pub.kind == IMAGE_KIND_RECORD) {
		crc = crc32c(0, s->payload, s->pub.length);
	} else {
		/* Threads pay off only when there is real data to go through. */
		ret = rd_par_for(s->pub.stored_bytes >= PAR_MIN_BYTES ? r->nthreads : 1,
			      s->pub.nchunks, s, verify_chunk, &bad_chunk);
		if (ret)
			return rd_bad(r->path, -EIO, "chunk %u of page section %u (type %u): "
				   "checksum mismatch", bad_chunk, s->pub.index, s->pub.type);
		for (uint32_t i = 0; i < s->pub.nchunks; i++)
			crc = crc32c_combine(crc, s->chunks[i].crc, s->chunks[i].stored_len);
		data_len = s->pub.stored_bytes;
		crc = crc32c(crc, s->payload + data_len, s->pub.length - data_len);
	}
	if (crc != s->pub.crc)
		return rd_bad(r->path, -EIO, "section %u (type %u) checksum mismatch", s->pub.index,
			   s->pub.type);
	return 0;
}

static int check_sections(struct image_reader *r, const struct image_hdr *h)
{
	const uint8_t *index = r->map + h->footer_off;
	uint64_t expect = IMAGE_HDR_SIZE;
	struct image_foot f;
	uint32_t index_crc, file_crc;
	size_t index_len = (size_t)h->nsections * sizeof(struct image_index_ent);
	int ret;

	memcpy(&f, r->map + r->size - sizeof(f), sizeof(f));
	if (f.magic != IMAGE_FOOT_MAGIC)
		return rd_bad(r->path, -EINVAL, "bad footer magic 0x%08x at offset %llu", f.magic,
			   (unsigned long long)(r->size - sizeof(f)));
	if (crc32c(0, &f, offsetof(struct image_foot, foot_crc)) != f.foot_crc)
		return rd_bad(r->path, -EIO, "footer checksum mismatch");
	if (f.nsections != h->nsections || f.footer_off != h->footer_off)
		return rd_bad(r->path, -EINVAL, "footer (%u sections at %llu) disagrees with header "
			   "(%u sections at %llu)", f.nsections, (unsigned long long)f.footer_off,
			   h->nsections, (unsigned long long)h->footer_off);
	index_crc = crc32c(0, index, index_len);
	if (index_crc != f.index_crc)
		return rd_bad(r->path, -EIO, "section index checksum mismatch");
	r->secs = calloc((size_t)h->nsections + 1, sizeof(*r->secs));
	if (!r->secs)
		return rd_bad(r->path, -ENOMEM, "out of memory for %u sections", h->nsections);
	file_crc = crc32c(0, h, sizeof(*h));
	for (uint32_t i = 0; i < h->nsections; i++) {
		struct image_index_ent e;
		struct image_sec_hdr sh;
		struct rsec *s = &r->secs[i];

		memcpy(&e, index + (size_t)i * sizeof(e), sizeof(e));
		if (e.offset != expect)
			return rd_bad(r->path, -EINVAL, "section %u: index puts it at offset %llu, "
				   "expected %llu", i, (unsigned long long)e.offset,
				   (unsigned long long)expect);
		if (expect + sizeof(sh) > h->footer_off ||
		    e.length > h->footer_off - expect - sizeof(sh))
			return rd_bad(r->path, -EINVAL, "section %u (type %u): %llu bytes at offset "
				   "%llu run past the footer at %llu", i, e.type,
				   (unsigned long long)e.length, (unsigned long long)e.offset,
				   (unsigned long long)h->footer_off);
		memcpy(&sh, r->map + expect, sizeof(sh));
		if (sh.magic != IMAGE_SEC_MAGIC)
			return rd_bad(r->path, -EINVAL, "section %u: bad section magic 0x%08x at "
				   "offset %llu", i, sh.magic, (unsigned long long)expect);
		if (crc32c(0, &sh, offsetof(struct image_sec_hdr, hdr_crc)) != sh.hdr_crc)
			return rd_bad(r->path, -EIO, "section %u (type %u): header checksum mismatch",
				   i, sh.type);
		if (sh.type != e.type || sh.kind != e.kind || sh.index != i ||
		    sh.length != e.length || sh.crc != e.crc)
			return rd_bad(r->path, -EINVAL, "section %u: header (type %u, %s, %llu bytes) "
				   "disagrees with the index (type %u, %s, %llu bytes)", i, sh.type,
				   kind_name(sh.kind), (unsigned long long)sh.length, e.type,
				   kind_name(e.kind), (unsigned long long)e.length);
		if (e.kind != IMAGE_KIND_RECORD && e.kind != IMAGE_KIND_PAGES)
			return rd_bad(r->path, -EINVAL, "section %u (type %u): unknown kind %u", i,
				   e.type, e.kind);
		s->pub.index = i;
		s->pub.type = e.type;
		s->pub.kind = e.kind;
		s->pub.crc = e.crc;
		s->pub.offset = e.offset;
		s->pub.length = e.length;
		s->payload = r->map + e.offset + sizeof(sh);
		expect += sizeof(sh) + e.length;
		file_crc = crc32c_combine(file_crc, crc32c(0, &sh, sizeof(sh)), sizeof(sh));
		file_crc = crc32c_combine(file_crc, e.crc, e.length);
	}
	if (expect != h->footer_off)
		return rd_bad(r->path, -EINVAL, "%llu bytes between the last section and the footer "
			   "belong to no section", (unsigned long long)(h->footer_off - expect));
	r->nsec = h->nsections;
	for (uint32_t i = 0; i < r->nsec; i++) {
		struct rsec *s = &r->secs[i];

		if (s->pub.kind == IMAGE_KIND_PAGES) {
			ret = parse_pages(r, s);
			/*
			 * Inconsistent tables are nearly always damage: say so when the payload
			 * checksum confirms it, else report the inconsistency itself.
			 */
			if (ret && crc32c(0, s->payload, s->pub.length) != s->pub.crc)
				return rd_bad(r->path, -EIO, "section %u (type %u) checksum mismatch",
					   i, s->pub.type);
			if (ret) {
				pr_err("%s", last_error);
				return ret;
			}
		}
		ret = verify_payload(r, s);
		if (ret)
			return ret;
	}
	file_crc = crc32c_combine(file_crc, index_crc, index_len);
	if (file_crc != f.file_crc)
		return rd_bad(r->path, -EIO, "whole-file checksum mismatch");
	return 0;
}

int image_open(const char *path, struct image_reader **rp)
{
	struct image_reader *r;
	struct image_hdr h;
	struct stat st;
	void *map;
	int ret;

	*rp = NULL;
	last_error[0] = 0;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return rd_bad(path, -ENOMEM, "out of memory");
	}
	r->nthreads = image_ncpus();
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		ret = rd_bad(path, -errno, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(r->fd, &st) < 0) {
		ret = rd_bad(path, -errno, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = rd_bad(path, -EINVAL, "not a regular file");
		goto out;
	}
	r->size = (uint64_t)st.st_size;
	if (r->size) {
		/* MAP_POPULATE: one pass to fault everything in, every byte is read anyway. */
		map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, r->fd, 0);
		if (map == MAP_FAILED) {
			ret = rd_bad(path, -errno, "cannot map: %s", strerror(errno));
			goto out;
		}
		r->map = map;
	}
	memset(&h, 0, sizeof(h));
	if (r->size)
		memcpy(&h, r->map, r->size < sizeof(h) ? r->size : sizeof(h));
	ret = check_header(path, &h, r->size, &r->info);
	if (ret)
		goto out;
	r->chunk_size = h.chunk_size;
	if (h.file_size > r->size) {
		ret = rd_bad(path, -EINVAL, "truncated: file ends at %llu, footer expected at %llu",
			  (unsigned long long)r->size, (unsigned long long)h.footer_off);
		goto out;
	}
	if (h.file_size < r->size) {
		ret = rd_bad(path, -EINVAL, "%llu unexpected bytes after the footer (file is %llu "
			  "bytes, header says %llu)", (unsigned long long)(r->size - h.file_size),
			  (unsigned long long)r->size, (unsigned long long)h.file_size);
		goto out;
	}
	if (h.nsections > IMAGE_MAX_SECTIONS || h.footer_off < IMAGE_HDR_SIZE ||
	    h.footer_off > r->size ||
	    h.footer_off + (uint64_t)h.nsections * sizeof(struct image_index_ent) +
	    sizeof(struct image_foot) != r->size) {
		ret = rd_bad(path, -EINVAL, "header's footer (%u sections at offset %llu) does not "
			  "fit the file size %llu", h.nsections, (unsigned long long)h.footer_off,
			  (unsigned long long)r->size);
		goto out;
	}
	ret = check_sections(r, &h);
	if (ret)
		goto out;
	*rp = r;
	return 0;
out:
	image_close(r);
	return ret;
}

void image_close(struct image_reader *r)
{
	if (!r)
		return;
	if (r->secs)
		for (uint32_t i = 0; i <= r->nsec; i++) {
			free(r->secs[i].runs);
			free(r->secs[i].run_off);
			free(r->secs[i].chunks);
			free(r->secs[i].chunk_raw);
			free(r->secs[i].chunk_pos);
		}
	free(r->secs);
	if (r->map)
		munmap((void *)r->map, r->size);
	if (r->fd >= 0)
		close(r->fd);
	free(r->path);
	free(r);
}
