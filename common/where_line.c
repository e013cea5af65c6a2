/*
 * The lines of a --where answer (see where_line.h).
 */
#include "where_line.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s with every control character (a tab too) as '?', into dst[n]. */
static const char *printable(char *dst, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < n && s && s[i]; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	dst[i] = '\0';
	return dst;
}

int where_thread_format(char *buf, size_t n, const struct where_thread *t)
{
	char name[64], note[512];

	return snprintf(buf, n, "%llu\t%s\t%s", (unsigned long long)t->tid,
			printable(name, sizeof(name), t->name), printable(note, sizeof(note), t->note));
}

int where_frame_format(char *buf, size_t n, const struct where_frame *f)
{
	char func[256], obj[512];

	return snprintf(buf, n, "%llu\t%u\t0x%llx\t0x%llx\t%s\t%s", (unsigned long long)f->tid,
			f->n, (unsigned long long)f->ip, (unsigned long long)f->off,
			printable(func, sizeof(func), f->func), printable(obj, sizeof(obj), f->obj));
}

/* Split copy on every tab into exactly k fields (empty ones kept). */
static int split(const char *line, char *copy, size_t n, char **field, int k)
{
	char *s = copy;
	int i;

	if (n == 0 || (size_t)snprintf(copy, n, "%s", line) >= n)
		return -EINVAL;
	for (i = 0; i < k; i++) {
		char *tab = strchr(s, '\t');

		field[i] = s;
		if (!tab)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	return i == k - 1 ? 0 : -EINVAL;
}

/* A whole number in base (10, or 16 with its "0x"); -EINVAL for anything else. */
static int parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;

	if (base == 16 && strncmp(s, "0x", 2))
		return -EINVAL;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	return *end || errno ? -EINVAL : 0;
}

int where_thread_parse(const char *line, char *copy, size_t n, struct where_thread *t)
{
	char *field[3];

	memset(t, 0, sizeof(*t));
	if (split(line, copy, n, field, 3) || parse_u64(field[0], 10, &t->tid) || !t->tid)
		return -EINVAL;
	t->name = field[1];
	t->note = field[2];
	return 0;
}

int where_frame_parse(const char *line, char *copy, size_t n, struct where_frame *f)
{
	char *field[6];
	uint64_t k;

	memset(f, 0, sizeof(*f));
	if (split(line, copy, n, field, 6) || parse_u64(field[0], 10, &f->tid) || !f->tid ||
	    parse_u64(field[1], 10, &k) || k > UINT32_MAX || parse_u64(field[2], 16, &f->ip) ||
	    parse_u64(field[3], 16, &f->off))
		return -EINVAL;
	f->n = (uint32_t)k;
	f->func = field[4];
	f->obj = field[5];
	return 0;
}
