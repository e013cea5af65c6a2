/*
 * Reading a validated image: section lookup, record bytes in place, and page data
 * decompressed straight into the caller's memory, in parallel across chunks.
 *
 * A chunk that lies inside one run is inflated (or copied) directly to that run's
 * destination; one that straddles runs goes through a per-thread bounce buffer. Runs the
 * caller does not want are skipped, and chunks that hold none of the wanted bytes are not
 * touched at all.
 */
#include "image_rpriv.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void image_count_read(struct image_reader *r, _Atomic uint64_t *counter)
{
	r->progress = counter;
}

const struct image_info *image_get_info(const struct image_reader *r)
{
	return &r->info;
}

const char *image_path(const struct image_reader *r)
{
	return r->path;
}

uint32_t image_nsections(const struct image_reader *r)
{
	return r->nsec;
}

const struct image_section *image_get_section(const struct image_reader *r, uint32_t index)
{
	return index < r->nsec ? &r->secs[index].pub : NULL;
}

const struct image_section *image_find_section(const struct image_reader *r, uint32_t type,
					       const struct image_section *prev)
{
	for (uint32_t i = prev ? prev->index + 1 : 0; i < r->nsec; i++)
		if (r->secs[i].pub.type == type)
			return &r->secs[i].pub;
	return NULL;
}

const void *image_record_data(const struct image_reader *r, const struct image_section *s,
			      size_t *len)
{
	const struct rsec *rs = &r->secs[s->index];

	if (s->kind != IMAGE_KIND_RECORD) {
		*len = 0;
		return NULL;
	}
	*len = s->length;
	return rs->payload;
}

const struct image_chunk_disk *image_section_chunks(const struct image_reader *r,
						    const struct image_section *s)
{
	return s->kind == IMAGE_KIND_PAGES ? r->secs[s->index].chunks : NULL;
}

/* ---- page data ----------------------------------------------------------------------------- */

struct readjob {
	struct image_reader *r;
	struct rsec *s;
	void **dest;	   /* per run (NULL: skip); or NULL, and only_run gets only_dest */
	uint32_t only_run;
	void *only_dest;
	uint32_t first;	   /* first chunk to process */
};

static void *dest_for(const struct readjob *j, uint32_t run)
{
	if (j->dest)
		return j->dest[run];
	return run == j->only_run ? j->only_dest : NULL;
}

/* The run holding raw offset off (runs tile [0, raw_bytes)). */
static uint32_t run_at(const struct rsec *s, uint64_t off)
{
	uint32_t lo = 0, hi = s->pub.nruns;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->run_off[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Copies raw bytes [off, off+len) of the page stream from src to the runs' destinations. */
static void scatter(const struct readjob *j, uint64_t off, const uint8_t *src, uint64_t len)
{
	const struct rsec *s = j->s;
	uint32_t run = run_at(s, off);

	while (len) {
		uint64_t in_run = off - s->run_off[run];
		uint64_t n = s->run_off[run + 1] - off;

		if (n > len)
			n = len;
		if (dest_for(j, run))
			memcpy((uint8_t *)dest_for(j, run) + in_run, src, n);
		src += n;
		off += n;
		len -= n;
		run++;
	}
}

static int inflate_chunk(struct par *p, uint32_t item, void **scratch)
{
	const struct readjob *j = p->ctx;
	const struct rsec *s = j->s;
	uint32_t i = j->first + item;
	const struct image_chunk_disk *c = &s->chunks[i];
	const uint8_t *src = s->payload + s->chunk_pos[i];
	uint64_t off = s->chunk_raw[i];
	uint32_t run = run_at(s, off), last = run_at(s, off + c->raw_len - 1);
	const char *why = NULL;
	int any = 0;

	for (uint32_t k = run; k <= last; k++)
		any |= dest_for(j, k) != NULL;
	if (!any)
		return 0;
	if (c->comp == IMAGE_COMP_NONE) {
		scatter(j, off, src, c->raw_len);
		return 0;
	}
	if (run == last) {
		/* The whole chunk lands in one run: inflate in place, no bounce buffer. */
		return image_inflate_chunk(src, c->stored_len,
					   (uint8_t *)dest_for(j, run) + (off - s->run_off[run]),
					   c->raw_len, &why) ? rd_bad(j->r->path, -EIO,
					   "chunk %u of page section %u (type %u): %s", i,
					   s->pub.index, s->pub.type, why) : 0;
	}
	/* Sized by this section's largest chunk, not by the header's nominal chunk size (up to
	 * 64 MiB, however little data the section holds); image_open made sure no zlib chunk
	 * claims more than its stored bytes can inflate to. */
	if (!*scratch && !(*scratch = malloc(s->max_raw)))
		return rd_bad(j->r->path, -ENOMEM, "out of memory for a chunk buffer");
	if (image_inflate_chunk(src, c->stored_len, *scratch, c->raw_len, &why))
		return rd_bad(j->r->path, -EIO, "chunk %u of page section %u (type %u): %s", i,
			   s->pub.index, s->pub.type, why);
	scatter(j, off, *scratch, c->raw_len);
	return 0;
}

/* One chunk into the caller's memory, counted for image_count_read() once it is there. */
static int read_chunk(struct par *p, uint32_t item, void **scratch)
{
	const struct readjob *j = p->ctx;
	int r = inflate_chunk(p, item, scratch);

	if (!r && j->r->progress)
		atomic_fetch_add(j->r->progress, j->s->chunks[j->first + item].raw_len);
	return r;
}

static int read_chunks(struct readjob *j, uint32_t end)
{
	struct image_reader *r = j->r;
	struct rsec *s = j->s;
	uint32_t first = j->first, n = end - first;

	return rd_par_for(s->chunk_pos[end] - s->chunk_pos[first] >= PAR_MIN_BYTES ? r->nthreads : 1,
		       n, j, read_chunk, NULL);
}

static struct rsec *page_sec(struct image_reader *r, const struct image_section *s)
{
	if (!s || s->index >= r->nsec || &r->secs[s->index].pub != s ||
	    s->kind != IMAGE_KIND_PAGES) {
		rd_bad(r->path, -EINVAL, "not a page section of this image");
		return NULL;
	}
	return &r->secs[s->index];
}

int image_read_pages(struct image_reader *r, const struct image_section *sec,
		     image_dest_fn fn, void *arg)
{
	struct rsec *s = page_sec(r, sec);
	void **dest;
	int ret;

	if (!s)
		return -EINVAL;
	dest = calloc((size_t)s->pub.nruns + 1, sizeof(*dest));
	if (!dest)
		return rd_bad(r->path, -ENOMEM, "out of memory for %u runs", s->pub.nruns);
	for (uint32_t i = 0; i < s->pub.nruns; i++)
		dest[i] = fn(arg, sec, i);
	{
		struct readjob j = { .r = r, .s = s, .dest = dest, .first = 0 };

		ret = read_chunks(&j, s->pub.nchunks);
	}
	free(dest);
	return ret;
}

int image_read_run(struct image_reader *r, const struct image_section *sec, uint32_t run,
		   void *dst)
{
	struct rsec *s = page_sec(r, sec);
	struct readjob j = { .r = r, .s = s, .only_run = run, .only_dest = dst };
	uint32_t end;

	if (!s)
		return -EINVAL;
	if (run >= s->pub.nruns)
		return rd_bad(r->path, -EINVAL, "page section %u has no run %u", sec->index, run);
	/* Chunks are all chunk_size long but the last: the range follows by division. */
	j.first = (uint32_t)(s->run_off[run] / s->chunks[0].raw_len);
	end = (uint32_t)((s->run_off[run + 1] + s->chunks[0].raw_len - 1) / s->chunks[0].raw_len);
	if (end > s->pub.nchunks)
		end = s->pub.nchunks;
	return read_chunks(&j, end);
}
