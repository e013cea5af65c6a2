/*
 * Logging for the libc-side commands.
 *
 * Every message is one line on stderr: "<prog>[<pid>]: <text>". log_set_prog() names the
 * command once at start; -q lowers the level. die() is for the command level only: it logs
 * and exits with DMTCP_FAIL_RC (default 99). Library code returns -errno and logs once where
 * the failure is known.
 */
#ifndef DMTCP_LOG_H
#define DMTCP_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_prog(const char *prog);
const char *log_prog(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Send log lines to an already open fd instead of stderr (e.g. --coord-logfile). */
void log_set_fd(int fd);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* The exit code for our own failures: $DMTCP_FAIL_RC if it is a number 1..255, else 99. */
int fail_rc(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
