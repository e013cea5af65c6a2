/*
 * The progress line (see progress.h).
 */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

#define SHOW_AFTER_MS 1000 /* nothing for operations shorter than this */
#define REDRAW_MS     200

void progress_begin(struct progress_line *pl, int fd)
{
	pl->fd = isatty(fd) ? fd : -1;
	pl->start_ms = mono_now_ms();
	pl->next_ms = pl->start_ms + SHOW_AFTER_MS;
	pl->drawn = 0;
}

long progress_elapsed_ms(const struct progress_line *pl)
{
	return mono_now_ms() - pl->start_ms;
}

void progress_show(struct progress_line *pl, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	long now;
	int n;

	if (pl->fd < 0)
		return;
	now = mono_now_ms();
	if (now < pl->next_ms)
		return;
	pl->next_ms = now + REDRAW_MS;
	line[0] = '\r';
	va_start(ap, fmt);
	n = vsnprintf(line + 1, sizeof(line) - 5, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = (int)strlen(line);
	/* erase what a longer previous text left to the right */
	memcpy(line + n, "\033[K", 3);
	n += 3;
	if (write(pl->fd, line, (size_t)n) == n)
		pl->drawn = 1;
}

void progress_end(struct progress_line *pl)
{
	if (pl->fd < 0 || !pl->drawn)
		return;
	if (write(pl->fd, "\r\033[K", 4) != 4) {
		/* the terminal is gone: nothing left to clear */
	}
	pl->drawn = 0;
}

void progress_bytes(char *buf, size_t n, uint64_t bytes)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, n, v < 10 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void progress_rate(char *buf, size_t n, uint64_t bytes, long ms)
{
	char b[32];

	if (ms <= 0) {
		snprintf(buf, n, "-");
		return;
	}
	progress_bytes(b, sizeof(b), (uint64_t)((double)bytes * 1000.0 / (double)ms));
	snprintf(buf, n, "%s/s", b);
}
