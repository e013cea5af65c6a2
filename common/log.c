/*
 * Logging for the libc-side commands; see log.h.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *g_prog = "dmtcp";
static enum log_level g_level = LOG_INFO;
static int g_fd = STDERR_FILENO;

/* Warnings already printed (hashes of their text), when each is to be printed once. */
#define SEEN_MAX 512
static uint64_t g_seen[SEEN_MAX];
static unsigned g_nseen;
static int g_warn_once;

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

void log_warn_once(int on)
{
	g_warn_once = on;
}

/* 1 the first time this text is warned about; 0 after (and when the table is full). */
static int first_time(const char *text)
{
	uint64_t h = 1469598103934665603ull;
	unsigned i;

	for (; *text; text++)
		h = (h ^ (unsigned char)*text) * 1099511628211ull;
	for (i = 0; i < g_nseen; i++)
		if (g_seen[i] == h)
			return 0;
	if (g_nseen < SEEN_MAX)
		g_seen[g_nseen++] = h;
	return 1;
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
	if (level == LOG_WARN && g_warn_once && !first_time(line + n)) {
		errno = saved;
		return;
	}
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

int log_parse_level(const char *s, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{ "none", LOG_NONE }, { "error", LOG_ERROR }, { "warn", LOG_WARN },
		{ "warning", LOG_WARN }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name)) {
			*out = names[i].level;
			return 0;
		}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	switch (level) {
	case LOG_NONE:
		return "none";
	case LOG_ERROR:
		return "error";
	case LOG_WARN:
		return "warn";
	case LOG_INFO:
		return "info";
	case LOG_DEBUG:
		return "debug";
	}
	return "?";
}

int log_opts_from_env(struct log_opts *o, enum log_level dflt)
{
	const char *v;

	o->level = dflt;
	o->file = NULL;
	o->err[0] = '\0';
	v = getenv("DMTCP_LOG_LEVEL");
	if (v && *v && log_parse_level(v, &o->level)) {
		snprintf(o->err, sizeof(o->err),
			 "DMTCP_LOG_LEVEL='%.40s' is not a level (error, warn, info, debug)", v);
		return -EINVAL;
	}
	/* DMTCP's: 1 like -q, 2 like -q -q */
	v = getenv("DMTCP_QUIET");
	if (v && *v) {
		if (strcmp(v, "0") && strcmp(v, "1") && strcmp(v, "2")) {
			snprintf(o->err, sizeof(o->err), "DMTCP_QUIET='%.40s' is not 0, 1 or 2", v);
			return -EINVAL;
		}
		if (*v >= '1')
			log_opts_quieter(o);
		if (*v == '2')
			log_opts_quieter(o);
	}
	if (getenv("DMTCP_DEBUG"))
		o->level = LOG_DEBUG;
	v = getenv("DMTCP_LOG_FILE");
	if (v && *v)
		o->file = v;
	return 0;
}

void log_opts_quieter(struct log_opts *o)
{
	o->level = o->level > LOG_ERROR ? LOG_ERROR : LOG_NONE;
}

int log_opts_apply(struct log_opts *o)
{
	int fd;

	if (o->file) {
		fd = open(o->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0) {
			int err = -errno;

			snprintf(o->err, sizeof(o->err), "cannot open the log file %.100s: %s", o->file,
				 strerror(-err));
			return err;
		}
		log_set_fd(fd);
	}
	log_set_level(o->level);
	log_warn_once(1);
	return 0;
}

int log_opt_apply(struct log_opts *o, int c, const char *arg)
{
	switch (c) {
	case LOG_OPT_LEVEL:
		if (log_parse_level(arg, &o->level) < 0) {
			snprintf(o->err, sizeof(o->err),
				 "--log-level '%.40s': not a level (error, warn, info, debug)", arg);
			return -EINVAL;
		}
		return 1;
	case LOG_OPT_FILE:
		o->file = arg;
		return 1;
	}
	return 0;
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
