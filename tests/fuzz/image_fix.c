/*
 * fuzz_image_fix_crcs(): makes every checksum of a mutated image right again (fuzz.h).
 *
 * A random change to an image almost always fails its first checksum, and the reader stops
 * there; the image target repairs the checksums so that its inputs reach the structural
 * checks of image_open() and the content decoders behind them. Only checksum fields are
 * written, each where the layout leading to it can be followed within the buffer: sizes,
 * counts and offsets stay as the mutation left them. The seed generator uses it too, to
 * give its images a fixed creation time.
 */
#include "tests/fuzz/fuzz.h"

#include <stddef.h>
#include <string.h>

#include "image_fmt.h"

/* The chunk checksums of a page section's payload, where its tables can be found. */
static void fix_chunks(uint8_t *pay, uint64_t len)
{
	struct image_pidx t;
	uint64_t tables, pos = 0;
	uint8_t *chunks;

	if (len < sizeof(t))
		return;
	memcpy(&t, pay + len - sizeof(t), sizeof(t));
	if (t.magic != IMAGE_PIDX_MAGIC)
		return;
	tables = (uint64_t)t.nruns * sizeof(struct image_run_disk) +
		 (uint64_t)t.nchunks * sizeof(struct image_chunk_disk);
	if (t.data_len > len - sizeof(t) || tables > len - sizeof(t) - t.data_len)
		return;
	chunks = pay + t.data_len + (uint64_t)t.nruns * sizeof(struct image_run_disk);
	for (uint32_t i = 0; i < t.nchunks; i++) {
		struct image_chunk_disk c;

		memcpy(&c, chunks + (size_t)i * sizeof(c), sizeof(c));
		if (c.stored_len > t.data_len - pos)
			return;
		c.crc = crc32c(0, pay + pos, c.stored_len);
		memcpy(chunks + (size_t)i * sizeof(c), &c, sizeof(c));
		pos += c.stored_len;
	}
}

void fuzz_image_fix_crcs(uint8_t *buf, size_t len)
{
	struct image_hdr h;
	struct image_foot f;
	uint8_t *index = NULL;
	uint64_t off = IMAGE_HDR_SIZE, end = len;
	uint32_t i;

	if (len < IMAGE_HDR_SIZE || memcmp(buf, IMAGE_MAGIC, 8))
		return;
	memcpy(&h, buf, sizeof(h));
	h.hdr_crc = crc32c(0, &h, offsetof(struct image_hdr, hdr_crc));
	memcpy(buf, &h, sizeof(h));
	/* The index, if the header puts it inside the file, before the tail. */
	if (len >= IMAGE_HDR_SIZE + sizeof(f) && h.footer_off >= IMAGE_HDR_SIZE &&
	    h.footer_off <= len - sizeof(f) &&
	    (uint64_t)h.nsections * sizeof(struct image_index_ent) <=
		    len - sizeof(f) - h.footer_off) {
		index = buf + h.footer_off;
		end = h.footer_off;
	}
	/* Sections, one after the other from the header on, as the reader walks them. */
	for (i = 0; off + sizeof(struct image_sec_hdr) <= end; i++) {
		struct image_sec_hdr sh;
		uint8_t *pay = buf + off + sizeof(sh);

		memcpy(&sh, buf + off, sizeof(sh));
		if (sh.magic != IMAGE_SEC_MAGIC || sh.length > end - off - sizeof(sh))
			break;
		if (sh.kind == IMAGE_KIND_PAGES)
			fix_chunks(pay, sh.length);
		sh.crc = crc32c(0, pay, sh.length);
		sh.hdr_crc = crc32c(0, &sh, offsetof(struct image_sec_hdr, hdr_crc));
		memcpy(buf + off, &sh, sizeof(sh));
		if (index && i < h.nsections) {
			struct image_index_ent e;

			memcpy(&e, index + (size_t)i * sizeof(e), sizeof(e));
			e.crc = sh.crc;
			memcpy(index + (size_t)i * sizeof(e), &e, sizeof(e));
		}
		off += sizeof(sh) + sh.length;
	}
	if (len < IMAGE_HDR_SIZE + sizeof(f))
		return;
	memcpy(&f, buf + len - sizeof(f), sizeof(f));
	if (index)
		f.index_crc = crc32c(0, index, (size_t)h.nsections * sizeof(struct image_index_ent));
	f.file_crc = crc32c(0, buf, len - sizeof(f));
	f.foot_crc = crc32c(0, &f, offsetof(struct image_foot, foot_crc));
	memcpy(buf + len - sizeof(f), &f, sizeof(f));
}
