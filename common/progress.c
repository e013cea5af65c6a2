/*
 * The progress line (see progress.h).
 */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"

#define SHOW_AFTER_MS 1000 /* nothing for operations shorter than this */
#define REDRAW_MS     200

static int term_width(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col;
	return 80;
}

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
	/* the carriage return and less than the terminal's width: a line that wraps cannot be
	 * rewritten in place */
	if (n > term_width(pl->fd))
		n = term_width(pl->fd);
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
