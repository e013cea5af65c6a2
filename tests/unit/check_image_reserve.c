/*
 * Unit tests of the image container's reserve/complete API (image_reserve_pages,
 * image_complete_pages, image_fail_pages): page bytes written into the file by someone else
 * (the parasite, in production; pwrite here), indexed with checksums given by the caller or
 * read back by the container. The reader must see an ordinary page section.
 */
#include "image_testlib.h"

#define CHUNK (16 * PS)

/* pwrite all of buf at off, as the parasite would. */
static void put_at(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	ck_assert_int_eq(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
}

/* CRC-32C of each CHUNK of data[0..len), the container's chunking. */
static uint32_t chunk_crcs(const uint8_t *data, size_t len, uint32_t *crcs)
{
	uint32_t n = 0;

	for (size_t off = 0; off < len; off += CHUNK, n++)
		crcs[n] = crc32c(0, data + off, len - off < CHUNK ? len - off : CHUNK);
	return n;
}

/*
 * An image with a record, a page section of: 16 pages added the usual way (one whole chunk),
 * then two runs of 20 and 13 pages reserved and written by pwrite (a short last chunk), and a
 * record after it. _i: 0 checksums given, 1 read back by the container.
 */
START_TEST(test_reserve_round_trip)
{
	struct image_opts o = opts_for(0, CHUNK);
	struct image_writer *w;
	struct image_reader *r;
	const struct image_section *s;
	uint8_t *data = alloc_data(49 * PS, 1), *out = malloc(49 * PS);
	uint32_t crcs[8], n;
	uint64_t off1, off2;
	const void *rec;
	size_t rlen;
	int fd;

	ck_assert_int_eq(image_create(tdir, "rs.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_add_record(w, SEC_A, "before", 6), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0x10000000, data, 16 * PS), 0);
	ck_assert_uint_eq(image_writer_chunk_size(w), CHUNK);
	ck_assert_int_eq(image_reserve_pages(w, 0x20000000, 20 * PS, &fd, &off1), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x30000000, 13 * PS, &fd, &off2), 0);
	ck_assert_uint_eq(off2, off1 + 20 * PS);
	put_at(fd, data + 16 * PS, 20 * PS, off1);
	put_at(fd, data + 36 * PS, 13 * PS, off2);
	n = chunk_crcs(data + 16 * PS, 33 * PS, crcs);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(image_complete_pages(w, _i ? NULL : crcs, _i ? 0 : n), 0);
	/* The short chunk ended the page data. */
	quiet(1);
	ck_assert_int_eq(image_add_pages(w, 0x40000000, data, PS), -EINVAL);
	ck_assert_int_eq(image_reserve_pages(w, 0x40000000, PS, &fd, &off1), -EINVAL);
	quiet(0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_add_record(w, SEC_B, "after", 5), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);

	ck_assert_int_eq(image_open(path_of("rs.dmtcp"), &r), 0);
	s = image_find_section(r, SEC_PAGES, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nruns, 3);
	ck_assert_uint_eq(s->nchunks, 4);
	ck_assert_uint_eq(s->raw_bytes, 49 * PS);
	ck_assert_uint_eq(s->runs[1].vaddr, 0x20000000);
	ck_assert_uint_eq(s->runs[2].npages, 13);
	ck_assert_int_eq(image_read_run(r, s, 0, out), 0);
	ck_assert_int_eq(image_read_run(r, s, 1, out + 16 * PS), 0);
	ck_assert_int_eq(image_read_run(r, s, 2, out + 36 * PS), 0);
	ck_assert_int_eq(memcmp(out, data, 49 * PS), 0);
	rec = image_record_data(r, image_find_section(r, SEC_B, NULL), &rlen);
	ck_assert_uint_eq(rlen, 5);
	ck_assert_int_eq(memcmp(rec, "after", 5), 0);
	image_close(r);
	free(data);
	free(out);
}
END_TEST

/*
 * Compression on: two compressible chunks queued to the pool, then 16 + 5 random pages
 * reserved and written by pwrite (stored raw, after the queued ones), nothing after the short
 * chunk. The reader sees the runs in order, with both kinds of chunk. _i: as above.
 */
START_TEST(test_reserve_compressed)
{
	struct image_opts o = opts_for(1, CHUNK);
	struct image_writer *w;
	struct image_reader *r;
	const struct image_section *s;
	uint8_t *text = alloc_data(32 * PS, 2), *rnd = alloc_data(21 * PS, 1);
	uint8_t *out = malloc(53 * PS);
	uint32_t crcs[4], n, ncomp = 0, nraw = 0;
	uint64_t off;
	int fd;

	ck_assert_int_eq(image_create(tdir, "rz.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0x10000000, text, 32 * PS), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x20000000, 21 * PS, &fd, &off), 0);
	put_at(fd, rnd, 21 * PS, off);
	n = chunk_crcs(rnd, 21 * PS, crcs);
	ck_assert_int_eq(image_complete_pages(w, _i ? NULL : crcs, _i ? 0 : n), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);

	ck_assert_int_eq(image_open(path_of("rz.dmtcp"), &r), 0);
	s = image_find_section(r, SEC_PAGES, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nruns, 2);
	ck_assert_uint_eq(s->nchunks, 4);
	ncomp = s->zlib_chunks;
	nraw = s->nchunks - ncomp;
	ck_assert_uint_eq(ncomp, 2);
	ck_assert_uint_eq(nraw, 2);
	ck_assert_uint_lt(s->stored_bytes, 53 * PS);
	ck_assert_int_eq(image_read_run(r, s, 0, out), 0);
	ck_assert_int_eq(image_read_run(r, s, 1, out + 32 * PS), 0);
	ck_assert_int_eq(memcmp(out, text, 32 * PS), 0);
	ck_assert_int_eq(memcmp(out + 32 * PS, rnd, 21 * PS), 0);
	image_close(r);
	free(text);
	free(rnd);
	free(out);
}
END_TEST

/* Several reserve/complete rounds of whole chunks, then the usual path again. */
START_TEST(test_reserve_rounds)
{
	struct image_opts o = opts_for(0, CHUNK);
	struct image_writer *w;
	struct image_reader *r;
	const struct image_section *s;
	uint8_t *data = alloc_data(70 * PS, 1), *out = malloc(70 * PS);
	uint32_t crcs[8];
	uint64_t off;
	int fd;

	ck_assert_int_eq(image_create(tdir, "rr.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(image_reserve_pages(w, 0x10000000 + (uint64_t)k * 16 * PS,
						     16 * PS, &fd, &off), 0);
		put_at(fd, data + (size_t)k * 16 * PS, 16 * PS, off);
		ck_assert_int_eq(image_complete_pages(w, crcs, chunk_crcs(data + (size_t)k * 16 * PS,
									  16 * PS, crcs)), 0);
	}
	/* contiguous with the reserved runs: merged into one run */
	ck_assert_int_eq(image_add_pages(w, 0x10000000 + 48 * PS, data + 48 * PS, 22 * PS), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);

	ck_assert_int_eq(image_open(path_of("rr.dmtcp"), &r), 0);
	s = image_find_section(r, SEC_PAGES, NULL);
	ck_assert_uint_eq(s->nruns, 1);
	ck_assert_uint_eq(s->nchunks, 5);
	ck_assert_int_eq(image_read_run(r, s, 0, out), 0);
	ck_assert_int_eq(memcmp(out, data, 70 * PS), 0);
	image_close(r);
	free(data);
	free(out);
}
END_TEST

/* A wrong chunk checksum from the caller is caught by the reader, naming a checksum. */
START_TEST(test_reserve_wrong_crc)
{
	struct image_opts o = opts_for(0, CHUNK);
	struct image_writer *w;
	struct image_reader *r;
	uint8_t *data = alloc_data(32 * PS, 1);
	uint32_t crcs[4], n;
	uint64_t off;
	int fd;

	ck_assert_int_eq(image_create(tdir, "bad.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x10000000, 32 * PS, &fd, &off), 0);
	put_at(fd, data, 32 * PS, off);
	n = chunk_crcs(data, 32 * PS, crcs);
	crcs[1] ^= 0x10;
	ck_assert_int_eq(image_complete_pages(w, crcs, n), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);

	quiet(1);
	ck_assert_int_lt(image_open(path_of("bad.dmtcp"), &r), 0);
	quiet(0);
	ck_assert_ptr_nonnull(strstr(image_last_error(), "checksum"));
	free(data);
}
END_TEST

/* Writes that never happened (a hole of zeros) are caught too, with checksums read back or not. */
START_TEST(test_reserve_unwritten)
{
	struct image_opts o = opts_for(0, CHUNK);
	struct image_writer *w;
	struct image_reader *r;
	uint8_t *data = alloc_data(16 * PS, 1);
	uint32_t crc;
	uint64_t off;
	int fd;

	ck_assert_int_eq(image_create(tdir, "hole.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x10000000, 16 * PS, &fd, &off), 0);
	crc = crc32c(0, data, 16 * PS); /* the checksum of bytes never written */
	ck_assert_int_eq(image_complete_pages(w, &crc, 1), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	quiet(1);
	ck_assert_int_lt(image_open(path_of("hole.dmtcp"), &r), 0);
	quiet(0);
	free(data);
}
END_TEST

/* Misuse is refused with -EINVAL and a message; failures poison the writer and lose nothing. */
START_TEST(test_reserve_failures)
{
	struct image_opts o = opts_for(0, CHUNK), oz = opts_for(1, CHUNK);
	struct image_writer *w;
	uint8_t *data = alloc_data(32 * PS, 1);
	uint32_t crcs[4];
	uint64_t off;
	int fd;

	quiet(1);
	/* compression on: not inside a chunk that image_add_pages has partly filled */
	ck_assert_int_eq(image_create(tdir, "z.dmtcp", &oz, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0x10000000, data, 3 * PS), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x20000000, PS, &fd, &off), -EINVAL);
	image_discard(w);

	ck_assert_int_eq(image_create(tdir, "f.dmtcp", &o, &w), 0);
	/* no page section open */
	ck_assert_int_eq(image_reserve_pages(w, 0x10000000, PS, &fd, &off), -EINVAL);
	ck_assert_int_eq(image_begin_section(w, SEC_A), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x10000000, PS, &fd, &off), -EINVAL);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	/* nothing reserved */
	ck_assert_int_eq(image_complete_pages(w, NULL, 0), -EINVAL);
	/* not page aligned */
	ck_assert_int_eq(image_reserve_pages(w, 0x10000100, PS, &fd, &off), -EINVAL);
	/* a partial chunk staged by image_add_pages */
	ck_assert_int_eq(image_add_pages(w, 0x10000000, data, 3 * PS), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x20000000, PS, &fd, &off), -EINVAL);
	ck_assert_int_eq(image_add_pages(w, 0x10000000 + 3 * PS, data, 13 * PS), 0);
	/* now at a chunk boundary: fine; but pages cannot be added while it is pending */
	ck_assert_int_eq(image_reserve_pages(w, 0x20000000, 32 * PS, &fd, &off), 0);
	ck_assert_int_eq(image_add_pages(w, 0x30000000, data, PS), -EINVAL);
	put_at(fd, data, 32 * PS, off);
	/* the wrong number of checksums: the bytes cannot be indexed, the image is lost */
	ck_assert_int_eq(image_complete_pages(w, crcs, 1), -EINVAL);
	ck_assert_int_eq(image_end_section(w), -EINVAL);
	ck_assert_int_eq(image_finish(w), -EINVAL);
	ck_assert_int_ne(image_commit(w), 0);
	image_discard(w);
	ck_assert_int_eq(count_files(tdir), 0);

	/* a reservation never completed */
	ck_assert_int_eq(image_create(tdir, "g.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x20000000, 16 * PS, &fd, &off), 0);
	ck_assert_int_eq(image_end_section(w), -EINVAL);
	ck_assert_int_ne(image_commit(w), 0);
	image_discard(w);
	ck_assert_int_eq(count_files(tdir), 0);

	/* the caller's write failed (say ENOSPC): poisoned with its error, the old image stays */
	write_small("h.dmtcp", 0);
	ck_assert_int_eq(image_create(tdir, "h.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x20000000, 16 * PS, &fd, &off), 0);
	ck_assert_int_eq(image_fail_pages(w, -ENOSPC, "test write failed"), -ENOSPC);
	ck_assert_int_eq(image_complete_pages(w, NULL, 0), -ENOSPC);
	ck_assert_int_eq(image_end_section(w), -ENOSPC);
	ck_assert_int_eq(image_finish(w), -ENOSPC);
	ck_assert_int_ne(image_commit(w), 0);
	image_discard(w);
	ck_assert_int_eq(count_files(tdir), 1);
	{
		struct image_reader *r;

		ck_assert_int_eq(image_open(path_of("h.dmtcp"), &r), 0);
		image_close(r);
	}
	/* silent poisoning (what NULL: the target vanished) */
	ck_assert_int_eq(image_create(tdir, "i.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_reserve_pages(w, 0x20000000, 16 * PS, &fd, &off), 0);
	ck_assert_int_eq(image_fail_pages(w, -ESRCH, NULL), -ESRCH);
	ck_assert_int_eq(image_finish(w), -ESRCH);
	image_discard(w);
	ck_assert_int_eq(count_files(tdir), 1);
	quiet(0);
	free(data);
}
END_TEST

static Suite *reserve_suite(void)
{
	Suite *s = suite_create("image_reserve");

	ADD_LOOP(s, test_reserve_round_trip, 2);
	ADD_LOOP(s, test_reserve_compressed, 2);
	ADD(s, test_reserve_rounds);
	ADD(s, test_reserve_wrong_crc);
	ADD(s, test_reserve_unwritten);
	ADD(s, test_reserve_failures);
	return s;
}

int main(void)
{
	return run_suite("check_image_reserve", reserve_suite());
}
