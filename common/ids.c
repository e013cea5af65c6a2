/*
 * Unique pids and computation ids (see ids.h).
 */
#include "ids.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"

unsigned long read_hostid(void)
{
	/* Without /etc/hostid glibc derives the id from the host name's address, which may
	 * mean a lookup: ask once per process. */
	static unsigned long id;
	static int known;

	if (!known) {
		id = (unsigned long)gethostid() & 0xffffffffUL;
		known = 1;
	}
	return id;
}

int format_uniquepid(pid_t pid, char *buf, size_t n)
{
	unsigned long long start;
	int r;

	if (pid <= 0)
		return -ESRCH; /* not "the caller", which pid 0 means to procfs */
	r = procfs_start_time(pid, &start);
	if (r)
		return r;
	snprintf(buf, n, "%lx-%d-%llx", read_hostid(), (int)pid, start);
	return 0;
}

void format_compid(char *buf, size_t n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, n, "%lx-%d-%llx", read_hostid(), (int)getpid(),
		 (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec);
}

static const char *skip_digits(const char *s, int hex)
{
	const char *b = s;

	while (hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s))
		s++;
	return s == b ? NULL : s;
}

int check_id_syntax(const char *s)
{
	if (!s || strlen(s) >= IDS_MAX)
		return 0;
	s = skip_digits(s, 1);
	if (!s || *s++ != '-')
		return 0;
	s = skip_digits(s, 0);
	if (!s || *s++ != '-')
		return 0;
	s = skip_digits(s, 1);
	return s && *s == '\0';
}
