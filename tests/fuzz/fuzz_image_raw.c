/*
 * Fuzz target "image_raw": the input is a checkpoint image taken byte for byte, checksums
 * included: truncations, flipped bits and wrong sizes must be refused by the container's
 * checks, naming the file, before anything else looks at the bytes. The run is
 * fuzz_image_run() (image_run.c); the "image" target repairs the checksums first.
 */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_image_run(data, size);
	return 0;
}
