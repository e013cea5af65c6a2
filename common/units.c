/*
 * Sizes, rates, durations and times for people (see units.h).
 */
#include "units.h"

#include <stdio.h>

static const char *const unit_names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
#define NUNITS (sizeof(unit_names) / sizeof(unit_names[0]))

/*
 * Scale v (bytes) to the unit in which it prints below 1024 once rounded: limit is where
 * rounding would print 1024 (1023.95 with one decimal, 1023.5 with none), so that
 * "1023.96 MiB" prints as "1.0 GiB", not "1024.0 MiB".
 */
static unsigned scale(double *v, double limit)
{
	unsigned u = 0;

	while (*v >= limit && u + 1 < NUNITS) {
		*v /= 1024.0;
		u++;
	}
	return u;
}

char *fmt_bytes(char *buf, size_t n, uint64_t bytes)
{
	double v = (double)bytes;
	unsigned u;

	if (bytes < 1024) {
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	u = scale(&v, 1023.95);
	snprintf(buf, n, "%.1f %s", v, unit_names[u]);
	return buf;
}

char *fmt_rate(char *buf, size_t n, uint64_t bytes, uint64_t elapsed_ms)
{
	double v;
	unsigned u;

	if (elapsed_ms == 0) {
		snprintf(buf, n, "-");
		return buf;
	}
	v = (double)bytes * 1000.0 / (double)elapsed_ms;
	if (v < 99.95) {
		snprintf(buf, n, "%.1f B/s", v);
		return buf;
	}
	/* Three significant digits are plenty for a rate that changes as one watches it. */
	u = scale(&v, 1023.5);
	if (v >= 99.95)
		snprintf(buf, n, "%.0f %s/s", v, unit_names[u]);
	else
		snprintf(buf, n, "%.1f %s/s", v, unit_names[u]);
	return buf;
}

char *fmt_duration_ms(char *buf, size_t n, uint64_t ms)
{
	if (ms < 59950) {
		snprintf(buf, n, "%.1f s", (double)ms / 1000.0);
		return buf;
	}
	ms = (ms + 500) / 1000;
	snprintf(buf, n, "%llu min %02llu s", (unsigned long long)(ms / 60),
		 (unsigned long long)(ms % 60));
	return buf;
}

char *fmt_utc_time(char *buf, size_t n, int64_t epoch_s)
{
	time_t t = (time_t)epoch_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		if (n)
			snprintf(buf, n, "%lld", (long long)epoch_s);
	}
	return buf;
}
