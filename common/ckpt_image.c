/*
 * The content model in the image container: writing its record sections with the image
 * writer, and loading a whole process back from an image with validation of the container
 * (image_open) and then of the content (every section decoded and cross-checked), for the
 * restart side and for --show.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_state.h"
#include "image.h"
#include "log.h"

static int write_buf(struct image_writer *w, uint32_t type, struct ckpt_buf *b)
{
	int rc = b->err;

	if (!rc)
		rc = image_add_record(w, type, b->p, b->len);
	ckpt_buf_free(b);
	return rc;
}

int ckpt_write_records(struct image_writer *w, const struct ckpt_proc *p)
{
	struct ckpt_buf b = { 0 };
	uint32_t i;
	int rc;

	ckpt_encode_proc(p, &b);
	if ((rc = write_buf(w, CKPT_SEC_PROC, &b)))
		return rc;
	for (i = 0; i < p->nthreads; i++) {
		ckpt_encode_thread(&p->threads[i], &b);
		if ((rc = write_buf(w, CKPT_SEC_THREAD, &b)))
			return rc;
	}
	if (p->sig) {
		ckpt_encode_signals(p->sig, &b);
		if ((rc = write_buf(w, CKPT_SEC_SIGNALS, &b)))
			return rc;
	}
	ckpt_encode_files(p, &b);
	if ((rc = write_buf(w, CKPT_SEC_FILES, &b)))
		return rc;
	ckpt_encode_fds(p, &b);
	if ((rc = write_buf(w, CKPT_SEC_FDS, &b)))
		return rc;
	ckpt_encode_vmas(p, &b);
	if ((rc = write_buf(w, CKPT_SEC_VMAS, &b)))
		return rc;
	ckpt_encode_pagemap(p, &b);
	return write_buf(w, CKPT_SEC_PAGEMAP, &b);
}

int ckpt_write_filedata(struct image_writer *w, uint32_t file_id, const void *data,
			uint64_t len)
{
	struct ckpt_buf b = { 0 };
	int rc;

	if (ckpt_encode_filedata_hdr(file_id, len, &b))
		return b.err;
	rc = image_begin_section(w, CKPT_SEC_FILEDATA);
	if (!rc)
		rc = image_append(w, b.p, b.len);
	if (!rc && len)
		rc = image_append(w, data, len);
	if (!rc)
		rc = image_end_section(w);
	ckpt_buf_free(&b);
	return rc;
}

/* The record payload of section s; a page section where a record belongs is bad content. */
static const uint8_t *record(struct image_reader *r, const struct image_section *s, size_t *len)
{
	return image_record_data(r, s, len);
}

static int load_filedata(struct image_reader *r, struct ckpt_proc *p, const char **why)
{
	const struct image_section *s = NULL;
	uint32_t i;

	while ((s = image_find_section(r, CKPT_SEC_FILEDATA, s))) {
		const uint8_t *d;
		size_t len;
		uint32_t id;
		uint64_t dlen;
		struct ckpt_file *f;

		d = record(r, s, &len);
		if (!d || len < 12) {
			*why = "FILEDATA section too short";
			return -EINVAL;
		}
		if (ckpt_decode_filedata_hdr(d, 12, &id, &dlen, why))
			return -EINVAL;
		if (id >= p->nfiles) {
			*why = "FILEDATA for a file that does not exist";
			return -EINVAL;
		}
		f = &p->files[id];
		if (!(f->flags & CKPT_FF_HAS_DATA) || f->data) {
			*why = "FILEDATA for a file without data, or twice";
			return -EINVAL;
		}
		if (dlen != len - 12 || dlen != f->data_len) {
			*why = "FILEDATA length disagrees with its section or its file";
			return -EINVAL;
		}
		f->data = malloc(dlen ? dlen : 1);
		if (!f->data) {
			*why = "out of memory";
			return -ENOMEM;
		}
		memcpy(f->data, d + 12, dlen);
	}
	for (i = 0; i < p->nfiles; i++) {
		if ((p->files[i].flags & CKPT_FF_HAS_DATA) && !p->files[i].data) {
			*why = "a file's FILEDATA section is missing";
			return -EINVAL;
		}
	}
	return 0;
}

/* Coalesced runs: adjacent runs that continue each other count as one. */
struct run_cursor {
	uint64_t vaddr, npages;
};

static int next_pagemap_run(const struct ckpt_proc *p, uint32_t *i, struct run_cursor *c)
{
	if (*i >= p->nruns)
		return 0;
	c->vaddr = p->runs[*i].vaddr;
	c->npages = p->runs[*i].npages;
	for ((*i)++; *i < p->nruns &&
		     p->runs[*i].vaddr == c->vaddr + c->npages * CKPT_PAGE_SIZE;
	     (*i)++)
		c->npages += p->runs[*i].npages;
	return 1;
}

static int next_image_run(struct image_reader *r, const struct image_section **s, uint32_t *i,
			  struct run_cursor *c)
{
	int have = 0;

	for (;;) {
		while (*s && *i >= (*s)->nruns) {
			*s = image_find_section(r, CKPT_SEC_PAGES, *s);
			*i = 0;
		}
		if (!*s)
			return have;
		if (!have) {
			c->vaddr = (*s)->runs[*i].vaddr;
			c->npages = (*s)->runs[*i].npages;
			have = 1;
		} else if ((*s)->runs[*i].vaddr == c->vaddr + c->npages * CKPT_PAGE_SIZE) {
			c->npages += (*s)->runs[*i].npages;
		} else {
			return 1;
		}
		(*i)++;
	}
}

/* The page data must be at the addresses PAGEMAP lists, in its order. */
static int check_run_addresses(struct image_reader *r, const struct ckpt_proc *p,
			       const char **why)
{
	const struct image_section *s = image_find_section(r, CKPT_SEC_PAGES, NULL);
	struct run_cursor a = { 0, 0 }, b = { 0, 0 };
	uint32_t i = 0, j = 0;

	for (;;) {
		int ha = next_pagemap_run(p, &i, &a), hb = next_image_run(r, &s, &j, &b);

		if (!ha && !hb)
			return 0;
		if (ha != hb || a.vaddr != b.vaddr || a.npages != b.npages) {
			*why = "PAGES runs are not at the addresses PAGEMAP lists";
			return -EINVAL;
		}
	}
}

static int load_content(struct image_reader *r, struct ckpt_proc *p, const char **why)
{
	const struct image_section *s;
	const uint8_t *d;
	size_t len;
	uint32_t i;
	uint64_t raw = 0;
	int rc;

	s = image_find_section(r, CKPT_SEC_PROC, NULL);
	if (!s || !(d = record(r, s, &len))) {
		*why = "no PROC section: not a process image";
		return -EINVAL;
	}
	if (image_find_section(r, CKPT_SEC_PROC, s)) {
		*why = "more than one PROC section";
		return -EINVAL;
	}
	if ((rc = ckpt_decode_proc(d, len, p, why)))
		return rc;

	/* The thread array is sized by the THREAD sections the image holds, not by the count
	 * the process record declares (ckpt_decode_proc allocates nothing). */
	s = NULL;
	for (i = 0; (s = image_find_section(r, CKPT_SEC_THREAD, s)); i++)
		;
	if (i != p->nthreads) {
		*why = i > p->nthreads ? "more THREAD sections than the process record says" :
					 "fewer THREAD sections than the process record says";
		return -EINVAL;
	}
	p->threads = calloc(p->nthreads, sizeof(*p->threads));
	if (!p->threads) {
		*why = "out of memory";
		return -ENOMEM;
	}
	s = NULL;
	for (i = 0; (s = image_find_section(r, CKPT_SEC_THREAD, s)); i++) {
		if (!(d = record(r, s, &len))) {
			*why = "THREAD section is not a record";
			return -EINVAL;
		}
		if ((rc = ckpt_decode_thread(d, len, &p->threads[i], why)))
			return rc;
	}

	s = image_find_section(r, CKPT_SEC_SIGNALS, NULL);
	if (!s || !(d = record(r, s, &len))) {
		*why = "no SIGNALS section";
		return -EINVAL;
	}
	p->sig = calloc(1, sizeof(*p->sig));
	if (!p->sig)
		return -ENOMEM;
	if ((rc = ckpt_decode_signals(d, len, p->sig, why)))
		return rc;

	static const struct {
		uint32_t type;
		int (*dec)(const uint8_t *, size_t, struct ckpt_proc *, const char **);
		const char *missing;
	} secs[] = {
		{ CKPT_SEC_FILES, ckpt_decode_files, "no FILES section" },
		{ CKPT_SEC_FDS, ckpt_decode_fds, "no FDS section" },
		{ CKPT_SEC_VMAS, ckpt_decode_vmas, "no VMAS section" },
		{ CKPT_SEC_PAGEMAP, ckpt_decode_pagemap, "no PAGEMAP section" },
	};
	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		s = image_find_section(r, secs[i].type, NULL);
		if (!s || !(d = record(r, s, &len))) {
			*why = secs[i].missing;
			return -EINVAL;
		}
		if (image_find_section(r, secs[i].type, s)) {
			*why = "a FILES, FDS, VMAS or PAGEMAP section appears twice";
			return -EINVAL;
		}
		if ((rc = secs[i].dec(d, len, p, why)))
			return rc;
	}
	if ((rc = ckpt_validate_proc(p, why)))
		return rc;
	if ((rc = load_filedata(r, p, why)))
		return rc;

	/* The page data must be exactly the runs' pages, and at the runs' addresses. */
	s = NULL;
	while ((s = image_find_section(r, CKPT_SEC_PAGES, s))) {
		if (s->kind != IMAGE_KIND_PAGES) {
			*why = "PAGES section is not a page section";
			return -EINVAL;
		}
		raw += s->raw_bytes;
	}
	if (raw != p->pages_stored * CKPT_PAGE_SIZE) {
		*why = "PAGES sections hold a different amount of data than PAGEMAP lists";
		return -EINVAL;
	}
	return check_run_addresses(r, p, why);
}

int ckpt_load_reader(struct image_reader *r, struct ckpt_proc *p, const char **why)
{
	const char *w = "invalid content";
	int rc;

	ckpt_proc_init(p);
	rc = load_content(r, p, &w);
	if (rc) {
		pr_err("%s: %s", image_path(r), w);
		ckpt_proc_free(p);
	}
	if (why)
		*why = rc ? w : NULL;
	return rc;
}

int ckpt_load(const char *path, struct ckpt_proc *p, struct image_reader **rp)
{
	struct image_reader *r;
	int rc;

	ckpt_proc_init(p);
	if (rp)
		*rp = NULL;
	rc = image_open(path, &r);
	if (rc)
		return rc; /* image_open logged what is wrong */
	rc = ckpt_load_reader(r, p, NULL);
	if (rc) {
		image_close(r);
		return rc;
	}
	if (rp)
		*rp = r;
	else
		image_close(r);
	return 0;
}
