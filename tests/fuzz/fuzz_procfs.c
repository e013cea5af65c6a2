/*
 * Fuzz target "procfs": the input is the text of a /proc file as common/procfs.c parses it.
 * A traced program chooses part of that text (its comm, with spaces, parentheses or
 * newlines; the names of the files it maps), so the tracer's parsers must take anything:
 * procfs_parse_stat() on the whole text, procfs_parse_map_line() on each line, and the
 * status-file lookups (procfs_status_field/_ints/_hex) for the keys the tracer asks for.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

static const char *const keys[] = {
	"Tgid", "PPid", "NSpid", "NSpgid", "NSsid", "SigBlk", "SigIgn", "SigCgt", "ShdPnd",
	"CapEff", "Uid", "Groups", "pos", "flags", "mnt_id", "",
};

static int parse_maps(char *text)
{
	char *line = text;
	int ok = 0;

	while (*line) {
		char *next = strchr(line, '\n');
		struct procfs_map m;
		size_t len;

		next = next ? next + 1 : line + strlen(line);
		len = (size_t)(next - line);
		if (procfs_parse_map_line(line, &m)) {
			if (m.path < line || m.path > line + len || strlen(m.perms) != 4)
				fuzz_fail("maps line parsed into a path outside it or perms \"%s\"",
					  m.perms);
			ok = 1;
		}
		line = next;
	}
	return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct procfs_stat st;
	int r, ok = 0;

	if (!text)
		fuzz_fail("out of memory");
	memcpy(text, data, size);
	text[size] = '\0';

	r = procfs_parse_stat(text, &st);
	if (r && r != -EPROTO)
		fuzz_fail("procfs_parse_stat returned %d", r);
	if (!r && (st.nfields < 3 || st.nfields > PROCFS_STAT_MAX))
		fuzz_fail("procfs_parse_stat read %d fields", st.nfields);
	ok |= !r;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *v = procfs_status_field(text, keys[k]);
		int32_t ints[8];
		int n;

		if (v && (v < text || v > text + size))
			fuzz_fail("status field %s points outside the text", keys[k]);
		n = procfs_status_ints(text, keys[k], ints, 8);
		if (n < 0 || n > 8 || (n && !v))
			fuzz_fail("status field %s: %d integers", keys[k], n);
		(void)procfs_status_hex(text, keys[k]);
		ok |= v != NULL;
	}

	/* Last: it cuts the lines in place. */
	ok |= parse_maps(text);
	fuzz_accepted += ok;
	free(text);
	return 0;
}
