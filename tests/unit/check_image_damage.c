/*
 * Unit tests of the image container, part 2: damage and failures. Every corruption is
 * detected and named (header, record, chunk, tables, footer; every single-bit flip of a small
 * image; crafted images whose checksums are right but whose structure is not), truncation at
 * every offset, foreign files (magic, version, architecture, page size), crash safety of the
 * temporary-file protocol (a writer killed before commit), and full disk / file-size limit
 * (ENOSPC on a small tmpfs, EFBIG under RLIMIT_FSIZE) leaving the previous image intact.
 */
#include "image_testlib.h"

/* ---- corruption ------------------------------------------------------------------------ */

/* Opens bad.dmtcp as it is now; returns the error and the message. */
static int open_bad(const char **msg)
{
	struct image_reader *r;
	int ret;

	quiet(1);
	ret = image_open(path_of("bad.dmtcp"), &r);
	quiet(0);
	if (!ret)
		image_close(r);
	*msg = image_last_error();
	return ret;
}

/* Opens a copy of img with the given bytes; returns the error and the message. */
static int open_variant(const uint8_t *img, size_t len, const char **msg)
{
	struct image_reader *r;
	int ret;

	spit(path_of("bad.dmtcp"), img, len);
	quiet(1);
	ret = image_open(path_of("bad.dmtcp"), &r);
	quiet(0);
	if (!ret)
		image_close(r);
	*msg = image_last_error();
	return ret;
}

static void expect_error(const uint8_t *img, size_t len, const char *want)
{
	const char *msg;
	int ret = open_variant(img, len, &msg);

	ck_assert_msg(ret < 0, "image accepted, expected \"%s\"", want);
	ck_assert_msg(strstr(msg, want) != NULL, "got \"%s\", expected \"%s\"", msg, want);
	ck_assert_msg(strstr(msg, "bad.dmtcp") != NULL, "message does not name the file: %s",
		      msg);
}

/* Finds section i's header offset by walking the (valid) image. */
static uint64_t sec_off(const uint8_t *img, int i)
{
	uint64_t off = 512;

	while (i--) {
		uint64_t len;

		memcpy(&len, img + off + 16, 8);
		off += 32 + len;
	}
	return off;
}

START_TEST(test_corrupt_named)
{
	size_t len;
	uint8_t *img, *b;
	uint64_t off;

	write_small("good.dmtcp", 1);
	img = slurp(path_of("good.dmtcp"), &len);
	b = malloc(len);

	/* header: a string byte */
	memcpy(b, img, len);
	b[70] ^= 0x01;
	expect_error(b, len, "header checksum mismatch");
	/* record section payload */
	memcpy(b, img, len);
	b[sec_off(img, 0) + 32 + 3] ^= 0x40;
	expect_error(b, len, "section 0 (type 1) checksum mismatch");
	/* section header */
	memcpy(b, img, len);
	b[sec_off(img, 2) + 4] ^= 0x02;
	expect_error(b, len, "section 2 (type 1): header checksum mismatch");
	/* chunk data: first chunk (zlib), then chunk 2 (random -> raw) */
	off = sec_off(img, 1) + 32;
	memcpy(b, img, len);
	b[off + 10] ^= 0x10;
	expect_error(b, len, "chunk 0 of page section 1 (type 2): checksum mismatch");
	{
		struct image_reader *r;
		const struct image_section *s;
		uint64_t pos;

		ck_assert_int_eq(image_open(path_of("good.dmtcp"), &r), 0);
		s = image_find_section(r, SEC_PAGES, NULL);
		ck_assert_uint_eq(s->nchunks, 3);
		ck_assert_uint_eq(s->zlib_chunks, 2);
		pos = s->stored_bytes - 4 * PS + 100; /* inside the last (raw) chunk */
		image_close(r);
		memcpy(b, img, len);
		b[off + pos] ^= 0x80;
		expect_error(b, len, "chunk 2 of page section 1 (type 2): checksum mismatch");
	}
	/* page index table (a run's address) */
	memcpy(b, img, len);
	b[sec_off(img, 2) - 32 - 3 * 16 - 2 * 16 + 1] ^= 0x01;
	expect_error(b, len, "section 1 (type 2) checksum mismatch");
	/* footer: an index entry, then the tail */
	memcpy(b, img, len);
	b[len - 32 - 10] ^= 0x04;
	expect_error(b, len, "section index checksum mismatch");
	memcpy(b, img, len);
	b[len - 32 + 17] ^= 0x04;
	expect_error(b, len, "footer checksum mismatch");
	memcpy(b, img, len);
	b[len - 1] ^= 0x04;
	expect_error(b, len, "footer checksum mismatch");
	free(b);
	free(img);
}
END_TEST

/* Every single-bit flip anywhere in a small image is caught. */
START_TEST(test_corrupt_every_byte)
{
	size_t len;
	uint8_t *img;
	const char *msg;

	int fd;

	write_small("good.dmtcp", _i);
	img = slurp(path_of("good.dmtcp"), &len);
	spit(path_of("bad.dmtcp"), img, len);
	fd = open(path_of("bad.dmtcp"), O_WRONLY);
	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < len; i++) {
		uint8_t bad = img[i] ^ (uint8_t)(1u << (i % 8));

		ck_assert_int_eq(pwrite(fd, &bad, 1, (off_t)i), 1);
		ck_assert_msg(open_bad(&msg) < 0, "flip at %zu not detected", i);
		ck_assert_int_eq(pwrite(fd, &img[i], 1, (off_t)i), 1);
	}
	close(fd);
	ck_assert_int_eq(open_bad(&msg), 0);
	free(img);
}
END_TEST

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * Recomputes every checksum of an image from its (possibly doctored) structure, the way a
 * buggy or malicious writer would, so that only the structural checks can catch the change.
 */
static void refresh_checksums(uint8_t *img, size_t len)
{
	uint64_t foot_off, off = 512;
	uint32_t nsec = get32(img + 56), c;
	uint8_t *foot = img + len - 32;

	memcpy(&foot_off, img + 48, 8);
	for (uint32_t i = 0; i < nsec; i++) {
		uint64_t plen;

		memcpy(&plen, img + off + 16, 8);
		c = crc32c(0, img + off + 32, plen);
		put32(img + off + 24, c);
		put32(img + off + 28, crc32c(0, img + off, 28));
		put32(img + foot_off + 32 * i + 24, c);
		off += 32 + plen;
	}
	put32(img + 508, crc32c(0, img, 508));
	put32(foot + 16, crc32c(0, img + foot_off, 32 * (size_t)nsec));
	put32(foot + 20, crc32c(0, img, len - 32));
	put32(foot + 28, crc32c(0, foot, 28));
}

/* Structure errors that checksums cannot catch, because the "writer" checksummed them. */
START_TEST(test_crafted_structure)
{
	size_t len;
	uint8_t *img, *b;
	uint64_t pend, foot_off;

	write_small("good.dmtcp", 1);
	img = slurp(path_of("good.dmtcp"), &len);
	b = malloc(len);
	memcpy(&foot_off, img + 48, 8);
	pend = sec_off(img, 2); /* end of the page section: runs(2) | chunks(3) | pidx */

	memcpy(b, img, len);
	refresh_checksums(b, len);
	ck_assert_int_eq(memcmp(b, img, len), 0); /* the helper reproduces the writer */

	memcpy(b, img, len);
	put32(b + pend - 32 - 48, 3 * PS); /* chunk 0 raw_len */
	refresh_checksums(b, len);
	expect_error(b, len, "chunk 0 of page section 1 (type 2): holds 12288 bytes, chunk size "
		     "is 16384");

	memcpy(b, img, len);
	put32(b + pend - 32 - 48 - 32 + 16, 0x800010); /* run 1 vaddr, unaligned */
	refresh_checksums(b, len);
	expect_error(b, len, "page section 1 (type 2): bad run 1 (0x800010, 4 pages)");

	memcpy(b, img, len);
	put32(b + pend - 32 - 16 + 8, 7); /* chunk 2 comp */
	refresh_checksums(b, len);
	expect_error(b, len, "chunk 2 of page section 1 (type 2): unknown compression 7");

	memcpy(b, img, len);
	put32(b + pend - 32 - 32 + 8, 0); /* chunk 1 (zlib) claimed raw: sizes disagree */
	refresh_checksums(b, len);
	expect_error(b, len, "chunk 1 of page section 1 (type 2): bad stored size");

	memcpy(b, img, len);
	put32(b + pend - 32, 0x12345678); /* pidx magic */
	refresh_checksums(b, len);
	expect_error(b, len, "page section 1 (type 2): bad page index magic 0x12345678");

	memcpy(b, img, len);
	put32(b + pend - 32 + 4, 3); /* pidx nruns */
	refresh_checksums(b, len);
	expect_error(b, len, "index bytes != section length");

	memcpy(b, img, len);
	put32(b + foot_off + 32, 9); /* index entry 1 type */
	refresh_checksums(b, len);
	expect_error(b, len, "section 1: header (type 2, page, ");

	memcpy(b, img, len);
	put32(b + foot_off + 4, 5); /* kind 5 in the index and the section header */
	put32(b + sec_off(img, 0) + 8, 5);
	refresh_checksums(b, len);
	expect_error(b, len, "section 0 (type 1): unknown kind 5");

	memcpy(b, img, len);
	put32(b + 56, 2); /* header: 2 sections */
	refresh_checksums(b, len);
	expect_error(b, len, "does not fit the file size");

	free(b);
	free(img);
}
END_TEST

START_TEST(test_truncate_every_offset)
{
	size_t len;
	uint8_t *img;
	const char *msg;
	char want[128];

	write_small("good.dmtcp", 1);
	img = slurp(path_of("good.dmtcp"), &len);
	spit(path_of("bad.dmtcp"), img, len);
	for (size_t cut = len - 1; cut + 1 > 0; cut--) {
		ck_assert_int_eq(truncate(path_of("bad.dmtcp"), (off_t)cut), 0);
		ck_assert_msg(open_bad(&msg) < 0, "truncation at %zu accepted", cut);
		if (cut == 0)
			snprintf(want, sizeof(want), "empty file");
		else if (cut < 512)
			snprintf(want, sizeof(want), "truncated: file ends at %zu", cut);
		else
			snprintf(want, sizeof(want), "truncated: file ends at %zu, footer expected "
				 "at %zu", cut, len - 32 - 3 * 32);
		ck_assert_msg(strstr(msg, want), "cut %zu: got \"%s\", expected \"%s\"", cut, msg,
			      want);
	}
	free(img);
}
END_TEST

START_TEST(test_truncate_large_sampled)
{
	struct image_opts o = opts_for(1, 0);
	struct image_writer *w;
	size_t n = 8u << 20, len;
	uint8_t *data = alloc_data(n, 2), *img, *noise = alloc_data(n / 4, 1);
	const char *msg;

	memcpy(data + n / 2, noise, n / 4);
	free(noise);
	ck_assert_int_eq(image_create(tdir, "big.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0x1000000, data, n), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	img = slurp(path_of("big.dmtcp"), &len);
	spit(path_of("bad.dmtcp"), img, len);
	for (size_t cut = len - 1; cut > 0; cut = cut > 4099 ? cut - 4099 - cut % 7 : cut / 2) {
		ck_assert_int_eq(truncate(path_of("bad.dmtcp"), (off_t)cut), 0);
		ck_assert_msg(open_bad(&msg) < 0, "truncation at %zu accepted", cut);
		ck_assert_msg(strstr(msg, "truncated: file ends at"), "cut %zu: %s", cut, msg);
	}
	/* trailing bytes are no better */
	img = realloc(img, len + 1);
	img[len] = 0;
	ck_assert_int_lt(open_variant(img, len + 1, &msg), 0);
	ck_assert_ptr_nonnull(strstr(msg, "unexpected bytes after the footer"));
	free(img);
	free(data);
}
END_TEST

/* Rewrites the header checksum after a deliberate change, so only the change is "wrong". */
static void fix_hdr_crc(uint8_t *img)
{
	uint32_t c = crc32c(0, img, 508);

	memcpy(img + 508, &c, 4);
}

START_TEST(test_foreign_headers)
{
	size_t len;
	uint8_t *img, *b;
	uint32_t v;
	struct image_info info;

	write_small("good.dmtcp", 0);
	img = slurp(path_of("good.dmtcp"), &len);
	b = malloc(len);

	memcpy(b, img, len);
	memcpy(b, "ELF\x7f", 4);
	expect_error(b, len, "bad magic: not a dmtcp image");
	expect_error((const uint8_t *)"#!/bin/sh\necho hi\n", 19, "bad magic: not a dmtcp image");
	expect_error(b, 0, "empty file (0 bytes): not a dmtcp image");

	memcpy(b, img, len);
	v = 2;
	memcpy(b + 8, &v, 4);
	fix_hdr_crc(b);
	expect_error(b, len, "unsupported image format version 2");

	memcpy(b, img, len);
	v = 183;
	memcpy(b + 16, &v, 4);
	fix_hdr_crc(b);
	expect_error(b, len, "image is for aarch64, this is x86_64");

	memcpy(b, img, len);
	v = 65536;
	memcpy(b + 24, &v, 4);
	fix_hdr_crc(b);
	expect_error(b, len, "image has page size 65536");

	/* peek reads the header alone */
	ck_assert_int_eq(image_peek(path_of("good.dmtcp"), &info), 0);
	ck_assert_str_eq(info.prog, "testprog");
	ck_assert_uint_eq(info.file_size, len);
	quiet(1);
	ck_assert_int_eq(image_peek(path_of("bad.dmtcp"), &info), -EINVAL);
	ck_assert_int_eq(image_peek(tdir, &info), -EINVAL);
	ck_assert_int_eq(image_peek(path_of("missing"), &info), -ENOENT);
	quiet(0);
	free(b);
	free(img);
}
END_TEST

/* ---- crash safety ---------------------------------------------------------------------- */

/*
 * A child writes a new image of the same name and stops mid-way (after finish when
 * 'finished'), tells us, and is SIGKILLed. The previous image must be intact and valid.
 */
static pid_t last_tmp_pid;

static void killed_writer(int finished, int with_old)
{
	struct image_reader *r;
	size_t len, len2;
	uint8_t *before = NULL, *after;
	int rdy[2];
	pid_t pid;
	char c;

	unlink(path_of("ckpt.dmtcp"));
	if (with_old) {
		write_small("ckpt.dmtcp", 1);
		before = slurp(path_of("ckpt.dmtcp"), &len);
	}
	ck_assert_int_eq(pipe(rdy), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct image_opts o = opts_for(1, 0);
		struct image_writer *w;
		uint8_t *data = alloc_data(4u << 20, 2);

		close(rdy[0]);
		if (image_create(tdir, "ckpt.dmtcp", &o, &w) ||
		    image_begin_pages(w, SEC_PAGES) ||
		    image_add_pages(w, 0x10000, data, 4u << 20) ||
		    (finished && (image_end_section(w) || image_finish(w))))
			_exit(1);
		if (write(rdy[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(rdy[1]);
	ck_assert_int_eq(read(rdy[0], &c, 1), 1); /* bounded: the child exits on any error */
	close(rdy[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	if (with_old) {
		after = slurp(path_of("ckpt.dmtcp"), &len2);
		ck_assert_uint_eq(len, len2);
		ck_assert_int_eq(memcmp(before, after, len), 0);
		ck_assert_int_eq(image_open(path_of("ckpt.dmtcp"), &r), 0);
		image_close(r);
		free(before);
		free(after);
	} else {
		ck_assert_int_eq(access(path_of("ckpt.dmtcp"), F_OK), -1);
	}
	/* The leftover is a dot-file that does not pass for an image. */
	{
		char tmp[256];
		const char *msg;
		int ret;

		snprintf(tmp, sizeof(tmp), "%s/.ckpt.dmtcp.tmp.%d", tdir, (int)pid);
		ck_assert_int_eq(access(tmp, F_OK), 0);
		last_tmp_pid = pid;
		quiet(1);
		ret = image_open(tmp, &r);
		quiet(0);
		msg = image_last_error();
		if (!finished) {
			ck_assert_int_lt(ret, 0);
			ck_assert_msg(strstr(msg, "incomplete image"), "%s", msg);
		} else {
			/* Complete but never renamed: whole, yet invisible under the real name. */
			ck_assert_int_eq(ret, 0);
			image_close(r);
		}
	}
}

START_TEST(test_killed_writer)
{
	struct image_writer *w;
	struct image_opts o = opts_for(0, 0);
	char stale[256], alive[256], other[256];

	killed_writer(0, 1);
	killed_writer(0, 0);
	killed_writer(1, 1);
	killed_writer(1, 0);
	/*
	 * The next writer of that name removes the dead writer's leftover, and only that: not
	 * a live writer's (our parent's pid stands for one), not another image's.
	 */
	snprintf(stale, sizeof(stale), "%s/.ckpt.dmtcp.tmp.%d", tdir, (int)last_tmp_pid);
	snprintf(alive, sizeof(alive), "%s/.ckpt.dmtcp.tmp.%d", tdir, (int)getppid());
	snprintf(other, sizeof(other), "%s/.ckpt2.dmtcp.tmp.%d", tdir, (int)last_tmp_pid);
	spit(alive, "x", 1);
	spit(other, "x", 1);
	ck_assert_int_eq(access(stale, F_OK), 0);
	ck_assert_int_eq(image_create(tdir, "ckpt.dmtcp", &o, &w), 0);
	ck_assert_int_eq(access(stale, F_OK), -1);
	ck_assert_int_eq(access(alive, F_OK), 0);
	ck_assert_int_eq(access(other, F_OK), 0);
	image_discard(w);
}
END_TEST

START_TEST(test_discard_after_finish)
{
	struct image_opts o = opts_for(0, 0);
	struct image_writer *w;
	size_t len, len2;
	uint8_t *before, *after, page[PS] = { 7 };

	write_small("ckpt.dmtcp", 1);
	before = slurp(path_of("ckpt.dmtcp"), &len);
	ck_assert_int_eq(image_create(tdir, "ckpt.dmtcp", &o, &w), 0);
	ck_assert_int_eq(image_begin_pages(w, SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, 0, page, PS), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(count_files(tdir), 2);
	image_discard(w); /* the ABORT barrier: drop the finished temp file */
	ck_assert_int_eq(count_files(tdir), 1);
	after = slurp(path_of("ckpt.dmtcp"), &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_int_eq(memcmp(before, after, len), 0);
	free(before);
	free(after);
}
END_TEST

/* Writes 'mib' MiB of random pages into dir; returns the first error. */
static int write_big(const char *dir, int compress, int mib)
{
	struct image_opts o = opts_for(compress, 16 * PS); /* many chunks per call */
	struct image_writer *w;
	size_t n = (size_t)mib << 20;
	uint8_t *data = alloc_data(n, 1);
	int ret;

	ret = image_create(dir, "ckpt.dmtcp", &o, &w);
	if (ret) {
		free(data);
		return ret;
	}
	quiet(1);
	ret = image_begin_pages(w, SEC_PAGES);
	if (!ret)
		ret = image_add_pages(w, 0x100000, data, n);
	if (!ret)
		ret = image_end_section(w);
	if (!ret)
		ret = image_finish(w);
	if (!ret)
		ret = image_commit(w);
	quiet(0);
	image_discard(w);
	free(data);
	return ret;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int map_self_userns(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", uid, uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", gid, gid);
	if (write_file("/proc/self/setgroups", "deny") < 0 ||
	    write_file("/proc/self/gid_map", map) < 0)
		return -1;
	return 0;
}

START_TEST(test_enospc_tmpfs)
{
	char mnt[256], img[300];
	size_t len, len2;
	uint8_t *before, *after;
	int ret;

	/*
	 * A private mount namespace, so the small tmpfs vanishes with this test process; when
	 * unprivileged, inside an own user namespace that maps our uid to itself.
	 */
	if (unshare(CLONE_NEWNS) < 0 && map_self_userns() < 0)
		ret = -1;
	else
		ret = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (ret < 0) {
		printf("check_image: test_enospc_tmpfs skipped: cannot make a mount namespace "
		       "(%s); test_efbig_rlimit covers the failure path\n", strerror(errno));
		return;
	}
	snprintf(mnt, sizeof(mnt), "%s/mnt", tdir);
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=6m"), 0);
	ck_assert_int_eq(write_big(mnt, 0, 2), 0);
	snprintf(img, sizeof(img), "%s/ckpt.dmtcp", mnt);
	before = slurp(img, &len);
	for (int compress = 0; compress <= 1; compress++) {
		ret = write_big(mnt, compress, 5);
		ck_assert_int_eq(ret, -ENOSPC);
		ck_assert_int_eq(count_files(mnt), 1); /* temp file removed */
		after = slurp(img, &len2);
		ck_assert_uint_eq(len, len2);
		ck_assert_int_eq(memcmp(before, after, len), 0);
		free(after);
	}
	free(before);
	umount(mnt);
}
END_TEST

START_TEST(test_efbig_rlimit)
{
	size_t len, len2;
	uint8_t *before, *after;
	struct rlimit rl = { 3u << 20, 3u << 20 };
	pid_t pid;
	int st;

	ck_assert_int_eq(write_big(tdir, 0, 2), 0);
	before = slurp(path_of("ckpt.dmtcp"), &len);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Without this the kernel kills us with SIGXFSZ instead of failing the write. */
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		_exit(write_big(tdir, _i, 5) == -EFBIG && count_files(tdir) == 1 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
	after = slurp(path_of("ckpt.dmtcp"), &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert_int_eq(memcmp(before, after, len), 0);
	free(before);
	free(after);
}
END_TEST

static Suite *image_damage_suite(void)
{
	Suite *s = suite_create("image_damage");

	ADD(s, test_corrupt_named);
	ADD_LOOP(s, test_corrupt_every_byte, 2);
	ADD(s, test_crafted_structure);
	ADD(s, test_truncate_every_offset);
	ADD(s, test_truncate_large_sampled);
	ADD(s, test_foreign_headers);
	ADD(s, test_killed_writer);
	ADD(s, test_discard_after_finish);
	ADD(s, test_enospc_tmpfs);
	ADD_LOOP(s, test_efbig_rlimit, 2);
	return s;
}

int main(void)
{
	return run_suite("check_image_damage", image_damage_suite());
}
