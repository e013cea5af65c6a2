/*
 * The harness shared by the fuzz targets (see fuzz.h): the failure report, the captured log,
 * and the scratch file that carries an input to the readers that want a path.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

unsigned long fuzz_accepted;

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---- the log --------------------------------------------------------------------------------- */

static int log_fd = -1;
static char *log_buf;
static size_t log_cap;

void fuzz_log_capture(void)
{
	const char *v = getenv("DMTCP_FUZZ_VERBOSE");

	if (log_fd >= 0 || (v && *v && strcmp(v, "0")))
		return;
	log_fd = memfd_create("dmtcp-fuzz-log", MFD_CLOEXEC);
	if (log_fd < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	log_set_fd(log_fd);
}

void fuzz_log_reset(void)
{
	if (log_fd < 0)
		return;
	if (ftruncate(log_fd, 0) < 0 || lseek(log_fd, 0, SEEK_SET) < 0)
		fuzz_fail("cannot empty the log file: %s", strerror(errno));
}

const char *fuzz_log_text(void)
{
	off_t end;
	ssize_t n;

	if (log_fd < 0)
		return NULL; /* verbose: the lines went to stderr */
	end = lseek(log_fd, 0, SEEK_END);
	if (end < 0)
		fuzz_fail("lseek on the log file: %s", strerror(errno));
	if ((size_t)end + 1 > log_cap) {
		log_cap = (size_t)end + 1;
		log_buf = realloc(log_buf, log_cap);
		if (!log_buf)
			fuzz_fail("out of memory for %zu bytes of log", log_cap);
	}
	n = pread(log_fd, log_buf, (size_t)end, 0);
	if (n < 0)
		fuzz_fail("cannot read the log file: %s", strerror(errno));
	log_buf[n] = '\0';
	return log_buf;
}

/* ---- the scratch file ------------------------------------------------------------------------ */

static int file_fd = -1;
static char *file_path;

static void file_remove(void)
{
	if (file_path)
		unlink(file_path);
}

const char *fuzz_file_put(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (file_fd < 0) {
		const char *dir = getenv("TMPDIR");
		char tmpl[4096];

		/* Memory rather than a disk: thousands of rewrites must not wait for writeback. */
		if (!dir || !*dir)
			dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(tmpl, sizeof(tmpl), "%s/dmtcp-fuzz.XXXXXX", dir);
		file_fd = mkstemp(tmpl);
		if (file_fd < 0)
			fuzz_fail("cannot create %s: %s", tmpl, strerror(errno));
		/* The name the readers will report: the restart loader resolves links. */
		file_path = realpath(tmpl, NULL);
		if (!file_path)
			fuzz_fail("realpath %s: %s", tmpl, strerror(errno));
		atexit(file_remove);
	}
	while (off < size) {
		ssize_t n = pwrite(file_fd, data + off, size - off, (off_t)off);

		if (n <= 0)
			fuzz_fail("cannot write %s: %s", file_path, strerror(errno));
		off += (size_t)n;
	}
	/* Cut after writing: truncating to 0 first makes ext4 flush the file on every case. */
	if (ftruncate(file_fd, (off_t)size) < 0)
		fuzz_fail("cannot cut %s to %zu bytes: %s", file_path, size, strerror(errno));
	return file_path;
}
