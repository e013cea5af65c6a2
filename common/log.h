/*
 * Logging for the libc-side commands.
 *
 * Every message is one line: "<prog>[<pid>]: <text>", on stderr or in the log file. die() is
 * for the command level only: it logs and exits with DMTCP_FAIL_RC (default 99). Library code
 * returns -errno and logs once where the failure is known.
 *
 * dmtcp_launch, dmtcp_restart and mtcp_restart (and the tracers they become) are quiet by
 * default: warnings and errors only, nothing on success, so that a program's own stdout and
 * stderr hold only what the program wrote. Details on demand (struct log_opts):
 *   DMTCP_LOG_LEVEL / --log-level error|warn|info|debug
 *   DMTCP_LOG_FILE / --log-file F      lines appended to F instead of stderr
 *   DMTCP_QUIET=1|2, -q, -q -q        warnings off; then errors too (the exit code stays)
 *   DMTCP_DEBUG (any value)            debug
 * and each distinct warning is printed once (log_warn_once()).
 */
#ifndef DMTCP_LOG_H
#define DMTCP_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_NONE = -1, /* nothing at all (-q -q) */
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

void log_set_prog(const char *prog);
const char *log_prog(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Print each distinct warning text once (the launch/restart side: a condition that lasts,
 * such as an fd that cannot be saved, is said once, not at every checkpoint). */
void log_warn_once(int on);
/* Send log lines to an already open fd instead of stderr (e.g. --coord-logfile). */
void log_set_fd(int fd);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* "error", "warn" (or "warning"), "info", "debug", "none"; -EINVAL for anything else. */
int log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* The log settings of the launch/restart side, from the environment, then the command line. */
struct log_opts {
	enum log_level level;
	const char *file; /* NULL: stderr */
	char err[160];	  /* why log_opts_from_env() or log_opts_apply() failed */
};
/*
 * Defaults (level dflt), then DMTCP_LOG_LEVEL, DMTCP_QUIET, DMTCP_DEBUG, DMTCP_LOG_FILE.
 * Returns 0, or -EINVAL with the reason in o->err (a variable that is not a level).
 */
int log_opts_from_env(struct log_opts *o, enum log_level dflt);
/* One -q: warnings off, then errors off. */
void log_opts_quieter(struct log_opts *o);
/* Take the settings: the level, and the file opened for appending. 0 or -errno (o->err). */
int log_opts_apply(struct log_opts *o);

/*
 * The options dmtcp_launch and dmtcp_restart share (their -q stays their own):
 * LOG_LONG_OPTIONS goes into their getopt_long tables (the file includes <getopt.h>), and
 * log_opt_apply() takes getopt's answer: 1 when c was one of them, 0 when not, -EINVAL with
 * the reason in o->err for a bad level.
 */
enum { LOG_OPT_LEVEL = 0x180, LOG_OPT_FILE };
/* clang-format off */
#define LOG_LONG_OPTIONS \
	{ "log-level", required_argument, NULL, LOG_OPT_LEVEL }, \
	{ "log-file", required_argument, NULL, LOG_OPT_FILE }
/* clang-format on */
int log_opt_apply(struct log_opts *o, int c, const char *arg);

/* The exit code for our own failures: $DMTCP_FAIL_RC if it is a number 1..255, else 99. */
int fail_rc(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
