/*
 * Identifiers that must stay stable and unique across hosts and restarts:
 * a process's unique pid and a computation id, both "<hostid-hex>-<pid>-<time-hex>".
 */
#ifndef DMTCP_IDS_H
#define DMTCP_IDS_H

#include <stddef.h>
#include <sys/types.h>

#define IDS_MAX 64 /* enough for either id, NUL included */

/* gethostid() as 8 hex digits' worth of number (asked once per process). */
unsigned long read_hostid(void);

/*
 * "<hostid-hex>-<pid>-<start-time-hex>", start time in clock ticks since boot from
 * /proc/PID/stat, so that a recycled pid gives a different id. Returns 0 or -errno
 * (-ESRCH when the process is gone).
 */
int format_uniquepid(pid_t pid, char *buf, size_t n);

/* "<hostid-hex>-<pid of the caller>-<wall time in ns, hex>" for a new computation. */
void format_compid(char *buf, size_t n);

/* 1 when s has the shape of either id (three '-'-separated parts: hex, decimal, hex). */
int check_id_syntax(const char *s);

#endif
