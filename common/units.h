/*
 * Sizes, rates, durations and times written for people: "640.0 MiB", "812 MiB/s", "3.2 s",
 * "2026-12-03T13:38:55Z". Binary units (KiB = 1024 bytes), as the images are measured in
 * pages. Each function writes a NUL-terminated string into buf (truncated to n) and returns buf.
 */
#ifndef DMTCP_UNITS_H
#define DMTCP_UNITS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "0 B", "1023 B", "1.0 KiB", "640.0 MiB", "1.2 GiB": one decimal from KiB on. */
char *fmt_bytes(char *buf, size_t n, uint64_t bytes);
/* bytes per elapsed_ms as "812 MiB/s", "45.3 MiB/s" (no decimal from 100 on); "-" when
 * elapsed_ms is 0. */
char *fmt_rate(char *buf, size_t n, uint64_t bytes, uint64_t elapsed_ms);
/* "0.4 s", "59.9 s", "1 min 05 s", "61 min 00 s". */
char *fmt_duration_ms(char *buf, size_t n, uint64_t ms);
/* Seconds since the epoch as ISO-8601 UTC: "2026-12-03T13:38:55Z". */
char *fmt_utc_time(char *buf, size_t n, int64_t epoch_s);

#endif
