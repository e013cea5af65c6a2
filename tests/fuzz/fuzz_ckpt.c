/*
 * Fuzz target "ckpt": the content decoders of common/ckpt_state_dec.c on their own, without
 * the container around them (which costs a file, a mapping and checksums per input), and the
 * --show printers of common/ckpt_show.c on the same bytes.
 *
 * Input: one byte choosing the section type (CKPT_SEC_PROC + byte % 9), then the section
 * body. The array sections get their declared count from the body's first word, as --show
 * does. Oracles: a refusal is -EINVAL with a reason; what a decoder accepts, its encoder must
 * write back byte for byte (the encodings are canonical), so nothing is accepted that the
 * decoder misread.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_show.h"
#include "ckpt_state.h"
#include "image.h"

static FILE *devnull;

static void expect_refusal(int rc, const char *why, const char *sec)
{
	if (rc != -EINVAL)
		fuzz_fail("%s decoder returned %d", sec, rc);
	if (!why || !*why)
		fuzz_fail("%s decoder refused without a reason", sec);
}

static void expect_same(struct ckpt_buf *b, const uint8_t *d, size_t len, const char *sec)
{
	if (b->err)
		fuzz_fail("%s encoder failed: %d", sec, b->err);
	if (b->len != len || memcmp(b->p, d, len))
		fuzz_fail("%s: accepted %zu bytes that encode back as %zu other bytes", sec, len,
			  b->len);
	ckpt_buf_free(b);
}

static uint32_t first_word(const uint8_t *d, size_t len)
{
	uint32_t n = 0;

	if (len >= 4)
		memcpy(&n, d, 4);
	return n;
}

static int decode(uint32_t type, const uint8_t *d, size_t len)
{
	struct ckpt_buf b = { 0 };
	struct ckpt_proc p;
	const char *why = NULL;
	const char *sec = ckpt_sec_name(type);
	int rc = 0;

	ckpt_proc_init(&p);
	switch (type) {
	case CKPT_SEC_PROC:
		rc = ckpt_decode_proc(d, len, &p, &why);
		if (!rc) {
			ckpt_encode_proc(&p, &b);
			expect_same(&b, d, len, sec);
		}
		break;
	case CKPT_SEC_THREAD: {
		struct ckpt_thread t;

		rc = ckpt_decode_thread(d, len, &t, &why);
		if (!rc) {
			ckpt_encode_thread(&t, &b);
			expect_same(&b, d, len, sec);
			free(t.xsave);
			free(t.pending);
		}
		break;
	}
	case CKPT_SEC_SIGNALS: {
		struct ckpt_signals s;

		rc = ckpt_decode_signals(d, len, &s, &why);
		if (!rc) {
			ckpt_encode_signals(&s, &b);
			expect_same(&b, d, len, sec);
			free(s.pending);
			free(s.timers);
		}
		break;
	}
	case CKPT_SEC_FILES:
		p.nfiles = first_word(d, len);
		rc = ckpt_decode_files(d, len, &p, &why);
		if (!rc) {
			ckpt_encode_files(&p, &b);
			expect_same(&b, d, len, sec);
		}
		break;
	case CKPT_SEC_FDS:
		p.nfds = first_word(d, len);
		p.nfiles = CKPT_MAX_FILES;
		rc = ckpt_decode_fds(d, len, &p, &why);
		p.nfiles = 0;
		if (!rc) {
			ckpt_encode_fds(&p, &b);
			expect_same(&b, d, len, sec);
		}
		break;
	case CKPT_SEC_VMAS:
		p.nvmas = first_word(d, len);
		rc = ckpt_decode_vmas(d, len, &p, &why);
		if (!rc) {
			ckpt_encode_vmas(&p, &b);
			expect_same(&b, d, len, sec);
		}
		break;
	case CKPT_SEC_PAGEMAP:
		p.nruns = first_word(d, len);
		rc = ckpt_decode_pagemap(d, len, &p, &why);
		if (!rc) {
			ckpt_encode_pagemap(&p, &b);
			expect_same(&b, d, len, sec);
		}
		break;
	case CKPT_SEC_FILEDATA: {
		uint32_t id;
		uint64_t dlen;

		/* As the loader reads it: a 12-byte header, then the file's bytes. */
		rc = ckpt_decode_filedata_hdr(d, len < 12 ? len : 12, &id, &dlen, &why);
		if (!rc) {
			ckpt_encode_filedata_hdr(id, dlen, &b);
			expect_same(&b, d, 12, sec);
		}
		break;
	}
	default: /* PAGES: not a record; only the printer sees it */
		break;
	}
	if (rc)
		expect_refusal(rc, why, sec);
	ckpt_proc_free(&p);
	return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		fuzz_fail("cannot open /dev/null");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_section s = { .kind = IMAGE_KIND_RECORD };
	uint32_t type;
	uint8_t *body;

	if (!devnull)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 1)
		return 0;
	type = CKPT_SEC_PROC + data[0] % 9;
	/* A copy of exactly the body's size, so that ASan sees a read past its end. */
	body = malloc(size - 1 ? size - 1 : 1);
	if (!body)
		fuzz_fail("out of memory");
	memcpy(body, data + 1, size - 1);
	if (decode(type, body, size - 1) == 0 && type != CKPT_SEC_PAGES)
		fuzz_accepted++;
	s.type = type;
	s.length = size - 1;
	ckpt_show_hooks()->print_record(devnull, &s, body, size - 1, NULL);
	free(body);
	return 0;
}
