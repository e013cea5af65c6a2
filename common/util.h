/*
 * Small helpers shared by the commands: strict number parsing for options and environment.
 */
#ifndef DMTCP_UTIL_H
#define DMTCP_UTIL_H

/* Parse a whole decimal string into [min, max]; returns 0, or -EINVAL / -ERANGE. */
int parse_long(const char *s, long min, long max, long *out);

#endif
