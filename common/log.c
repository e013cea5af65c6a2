/*
 * Logging for the libc-side commands; see log.h.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_prog = "dmtcp";
static enum log_level g_level = LOG_INFO;
static int g_fd = STDERR_FILENO;

void log_set_prog(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	g_prog = slash ? slash + 1 : prog;
	if (getenv("DMTCP_DEBUG"))
		g_level = LOG_DEBUG;
}

const char *log_prog(void)
{
	return g_prog;
}

void log_set_level(enum log_level level)
{
	g_level = level;
}

enum log_level log_get_level(void)
{
	return g_level;
}

void log_set_fd(int fd)
{
	g_fd = fd;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;
	int saved = errno;

	if (level > g_level)
		return;
	n = snprintf(line, sizeof(line), "%s[%d]: ", g_prog, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line so lines of concurrent processes do not interleave. */
	if (write(g_fd, line, n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int fail_rc(void)
{
	const char *s = getenv("DMTCP_FAIL_RC");
	char *end;
	long v;

	if (!s || !*s)
		return 99;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 255)
		return 99;
	return (int)v;
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(fail_rc());
}
