/*
 * What the fuzz targets (tests/fuzz/fuzz_*.c), their shared helpers and the deterministic
 * driver (tests/fuzz/driver.c) have in common.
 *
 * Each target is one LLVMFuzzerTestOneInput(): built with clang's libFuzzer for `make fuzz`,
 * and with the driver (gcc, ASan/UBSan when available) for `make fuzz-check`. A target never
 * exits: it calls fuzz_fail() (abort, so both engines report the input) when an oracle says
 * the code under test misbehaved without crashing, e.g. an image refused without its name.
 */
#ifndef DMTCP_FUZZ_H
#define DMTCP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: called once before the first input (libFuzzer's name, so both engines call it). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Inputs the target took as valid, for the driver's summary (the target counts them). */
extern unsigned long fuzz_accepted;

/* Prints "fuzz: <what>" on stderr and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * The library's log lines go to a memory file instead of stderr (thousands of refusals would
 * drown the output); DMTCP_FUZZ_VERBOSE=1 keeps them on stderr. fuzz_log_reset() empties it,
 * fuzz_log_text() returns what was logged since (NUL-terminated, valid until the next call).
 */
void fuzz_log_capture(void);
void fuzz_log_reset(void);
const char *fuzz_log_text(void);

/*
 * A scratch file holding the input, for the readers that take a path: created once in
 * $TMPDIR (default /dev/shm, else /tmp), rewritten for each input, removed at exit.
 */
const char *fuzz_file_put(const uint8_t *data, size_t size);

/*
 * Recomputes every checksum of something shaped like an image (header, section payloads and
 * headers, page chunks, index, footer, whole file) where its structure can be followed, and
 * changes nothing else, so that a mutated image is judged on its structure and content rather
 * than refused at the first checksum. Bytes that are not an image are left alone.
 */
void fuzz_image_fix_crcs(uint8_t *buf, size_t len);

/*
 * The image targets' common run (image_run.c): the input as an image file through
 * image_open() and every reader call, ckpt_show() (--show), and the restart loader
 * (restart_load_images(), restart_build_tree()), with their oracles.
 */
void fuzz_image_run(const uint8_t *data, size_t size);

/* A small deterministic generator (xorshift64*), seeded from the input where a target needs
 * randomness (libFuzzer must see the same run for the same input). */
static inline uint64_t fuzz_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static inline uint64_t fuzz_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ? h : 1;
}

#endif
