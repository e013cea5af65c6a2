/*
 * Fuzz target "image": the input is a checkpoint image whose checksums the harness makes
 * right (fuzz_image_fix_crcs) before it is read, so that mutations of sizes, counts,
 * offsets and content reach the container's structural checks, the page decompression and
 * the content decoders of dmtcp_restart and --show instead of stopping at a checksum. The
 * run itself is fuzz_image_run() (image_run.c); "image_raw" takes the bytes as they are.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		fuzz_fail("out of memory for a %zu-byte input", size);
	memcpy(copy, data, size);
	fuzz_image_fix_crcs(copy, size);
	fuzz_image_run(copy, size);
	free(copy);
	return 0;
}
