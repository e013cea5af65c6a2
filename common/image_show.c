/*
 * image_show(): the container as text, for dmtcp_restart --show and debugging.
 *
 * It prints what the header says even when the rest is damaged (the header is checked on its
 * own first), then validates the whole image with image_open() and lists the sections, with
 * page-run and chunk statistics. Content-aware printing of record sections is delegated to the
 * caller's hooks, since this layer does not know what the records mean.
 */
#include "image_fmt.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static const char *comp_name(uint32_t comp)
{
	return comp == IMAGE_COMP_NONE ? "none" : comp == IMAGE_COMP_ZLIB ? "zlib" : "?";
}

static void show_header(FILE *f, const char *path, const struct image_info *in)
{
	time_t secs = (time_t)(in->ctime_ns / 1000000000ull);
	struct tm tm;
	char when[64] = "?";

	if (gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(f, "image:      %s\n", path);
	fprintf(f, "format:     dmtcp image version %u, %s, page size %u, flags 0x%x%s%s\n",
		in->version, image_arch_name(in->arch), in->page_size, in->flags,
		(in->flags & IMAGE_F_COMPRESS) ? " (COMPRESS)" : "",
		(in->flags & IMAGE_F_NOFILTER) ? " (NOFILTER: attached)" : "");
	fprintf(f, "created:    %s\n", when);
	fprintf(f, "program:    %s\n", in->prog);
	fprintf(f, "uniquepid:  %s\n", in->uniquepid);
	fprintf(f, "compid:     %s\n", in->compid);
	if (in->ckpt_id)
		fprintf(f, "checkpoint: %016llx (%u processes)\n", (unsigned long long)in->ckpt_id,
			in->nprocs);
	fprintf(f, "host:       %s\n", in->hostname);
	fprintf(f, "file size:  %" PRIu64 " bytes, %u sections\n", in->file_size, in->nsections);
}

static double ratio(uint64_t stored, uint64_t raw)
{
	return raw ? (double)stored / (double)raw : 1.0;
}

static void show_pages(FILE *f, const struct image_reader *r, const struct image_section *s,
		       unsigned flags)
{
	const struct image_chunk_disk *c = image_section_chunks(r, s);
	uint32_t ps = image_get_info(r)->page_size;
	uint64_t pages = s->raw_bytes / ps;

	fprintf(f, "    %u runs, %" PRIu64 " pages, %" PRIu64 " bytes raw, %" PRIu64
		" stored (%.1f%%), %u chunks: %u zlib, %u raw\n", s->nruns, pages, s->raw_bytes,
		s->stored_bytes, 100.0 * ratio(s->stored_bytes, s->raw_bytes), s->nchunks,
		s->zlib_chunks, s->nchunks - s->zlib_chunks);
	if (flags & IMAGE_SHOW_RUNS)
		for (uint32_t i = 0; i < s->nruns; i++)
			fprintf(f, "      run %u: 0x%012" PRIx64 "-0x%012" PRIx64 " %" PRIu64
				" pages\n", i, s->runs[i].vaddr,
				s->runs[i].vaddr + s->runs[i].npages * ps, s->runs[i].npages);
	if (flags & IMAGE_SHOW_CHUNKS)
		for (uint32_t i = 0; i < s->nchunks; i++)
			fprintf(f, "      chunk %u: %s, %u -> %u bytes (%.1f%%), crc32c %08x ok\n",
				i, comp_name(c[i].comp), c[i].raw_len, c[i].stored_len,
				100.0 * ratio(c[i].stored_len, c[i].raw_len), c[i].crc);
}

int image_show(FILE *f, const char *path, const struct image_show_hooks *hooks, unsigned flags)
{
	static const struct image_show_hooks none;
	struct image_reader *r;
	struct image_info info;
	uint64_t chunks = 0;
	int ret;

	if (!hooks)
		hooks = &none;
	ret = image_peek(path, &info);
	if (ret) {
		fprintf(f, "image:      %s\nvalidation: FAILED: %s\n", path, image_last_error());
		return ret;
	}
	show_header(f, path, &info);
	ret = image_open(path, &r);
	if (ret) {
		fprintf(f, "validation: FAILED: %s\n", image_last_error());
		return ret;
	}
	for (uint32_t i = 0; i < image_nsections(r); i++) {
		const struct image_section *s = image_get_section(r, i);
		const char *name = hooks->type_name ? hooks->type_name(s->type, hooks->arg) : NULL;

		fprintf(f, "section %u: type %u%s%s%s, %s, offset %" PRIu64 ", %" PRIu64
			" bytes, crc32c %08x ok\n", i, s->type, name ? " (" : "", name ? name : "",
			name ? ")" : "", s->kind == IMAGE_KIND_PAGES ? "pages" : "record",
			s->offset, s->length, s->crc);
		if (s->kind == IMAGE_KIND_PAGES) {
			show_pages(f, r, s, flags);
			chunks += s->nchunks;
		} else if (hooks->print_record) {
			size_t len;
			const void *data = image_record_data(r, s, &len);

			hooks->print_record(f, s, data, len, hooks->arg);
		}
	}
	fprintf(f, "validation: OK (%u section checksums, %" PRIu64
		" chunk checksums, whole-file checksum)\n", image_nsections(r), chunks);
	image_close(r);
	return 0;
}
