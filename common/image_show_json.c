/*
 * image_show_json(): the container as JSON, for dmtcp_restart --show --json. The same facts
 * as image_show()'s text (header, sections, page statistics, checksums), as members of the
 * object the caller is writing; the content is the caller's (common/ckpt_show_json.c).
 */
#include "image_fmt.h"
#include "json.h"

#include <time.h>

static void header_json(struct json_writer *jw, const struct image_info *in)
{
	time_t secs = (time_t)(in->ctime_ns / 1000000000ull);
	struct tm tm;
	char when[64] = "?";

	if (gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_uint(jw, "version", in->version);
	json_string(jw, "arch", image_arch_name(in->arch));
	json_uint(jw, "page_size", in->page_size);
	json_uint(jw, "flags", in->flags);
	json_bool(jw, "compress", in->flags & IMAGE_F_COMPRESS);
	json_bool(jw, "nofilter", in->flags & IMAGE_F_NOFILTER);
	json_string(jw, "created", when);
	json_string(jw, "program", in->prog);
	json_string(jw, "uniquepid", in->uniquepid);
	json_string(jw, "compid", in->compid);
	json_hex(jw, "ckpt_id", in->ckpt_id);
	json_uint(jw, "nprocs", in->nprocs);
	json_string(jw, "hostname", in->hostname);
	json_uint(jw, "file_size", in->file_size);
	json_uint(jw, "section_count", in->nsections);
}

static void pages_json(struct json_writer *jw, const struct image_reader *r,
		       const struct image_section *s, unsigned flags)
{
	const struct image_chunk_disk *c = image_section_chunks(r, s);
	uint32_t ps = image_get_info(r)->page_size, i;

	json_uint(jw, "run_count", s->nruns);
	json_uint(jw, "pages", s->raw_bytes / ps);
	json_uint(jw, "raw_bytes", s->raw_bytes);
	json_uint(jw, "stored_bytes", s->stored_bytes);
	json_uint(jw, "chunk_count", s->nchunks);
	json_uint(jw, "zlib_chunks", s->zlib_chunks);
	json_uint(jw, "raw_chunks", s->nchunks - s->zlib_chunks);
	if (flags & IMAGE_SHOW_RUNS) {
		json_array_begin(jw, "runs");
		for (i = 0; i < s->nruns; i++) {
			json_object_begin(jw, NULL);
			json_hex(jw, "start", s->runs[i].vaddr);
			json_hex(jw, "end", s->runs[i].vaddr + s->runs[i].npages * ps);
			json_uint(jw, "pages", s->runs[i].npages);
			json_object_end(jw);
		}
		json_array_end(jw);
	}
	if (flags & IMAGE_SHOW_CHUNKS) {
		json_array_begin(jw, "chunks");
		for (i = 0; i < s->nchunks; i++) {
			json_object_begin(jw, NULL);
			json_string(jw, "comp", c[i].comp == IMAGE_COMP_NONE ? "none" :
						c[i].comp == IMAGE_COMP_ZLIB ? "zlib" : "?");
			json_uint(jw, "raw_bytes", c[i].raw_len);
			json_uint(jw, "stored_bytes", c[i].stored_len);
			json_hex(jw, "crc32c", c[i].crc);
			json_object_end(jw);
		}
		json_array_end(jw);
	}
}

void image_show_json(struct json_writer *jw, const struct image_info *in,
		     const struct image_reader *r, const struct image_show_hooks *hooks,
		     unsigned flags)
{
	uint64_t chunks = 0;
	uint32_t i;

	json_object_begin(jw, "container");
	header_json(jw, in);
	if (!r) {
		json_object_begin(jw, "checksums");
		json_bool(jw, "verified", 0);
		json_object_end(jw);
		json_object_end(jw);
		return;
	}
	json_array_begin(jw, "sections");
	for (i = 0; i < image_nsections(r); i++) {
		const struct image_section *s = image_get_section(r, i);
		const char *name = hooks && hooks->type_name ? hooks->type_name(s->type, hooks->arg)
							     : NULL;

		json_object_begin(jw, NULL);
		json_uint(jw, "index", i);
		json_uint(jw, "type", s->type);
		json_string(jw, "name", name);
		json_string(jw, "kind", s->kind == IMAGE_KIND_PAGES ? "pages" : "record");
		json_uint(jw, "offset", s->offset);
		json_uint(jw, "length", s->length);
		json_hex(jw, "crc32c", s->crc);
		if (s->kind == IMAGE_KIND_PAGES) {
			pages_json(jw, r, s, flags);
			chunks += s->nchunks;
		}
		json_object_end(jw);
	}
	json_array_end(jw);
	/* image_open() succeeded: every one of them was verified. */
	json_object_begin(jw, "checksums");
	json_bool(jw, "verified", 1);
	json_uint(jw, "sections", image_nsections(r));
	json_uint(jw, "chunks", chunks);
	json_bool(jw, "whole_file", 1);
	json_object_end(jw);
	json_object_end(jw);
}
