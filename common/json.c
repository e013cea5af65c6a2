/*
 * The JSON writer of common/json.h: nesting and commas, string escaping, numbers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_init(struct json_writer *w, FILE *f, unsigned flags)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->flags = flags;
}

static void misuse(struct json_writer *w)
{
	if (!w->err)
		w->err = -EINVAL;
}

static void newline(struct json_writer *w, unsigned depth)
{
	if (!(w->flags & JSON_PRETTY))
		return;
	fputc('\n', w->f);
	while (depth--)
		fputs("  ", w->f);
}

/*
 * The length of the valid UTF-8 sequence at s (at most n bytes), or 0 if s does not start one
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */
	/* The second byte's range is narrower for the first bytes that could go out of range. */
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* U+D800..U+DFFF */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void put_escaped(struct json_writer *w, const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i = 0, plain = 0, n;

	fputc('"', w->f);
	while (i < len) {
		unsigned char c = s[i];
		const char *esc = NULL;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f &&
		    (n = utf8_len(s + i, len - i))) {
			i += n;
			continue;
		}
		/* Everything before this byte goes out as it is. */
		fwrite(s + plain, 1, i - plain, w->f);
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		}
		if (esc)
			fputs(esc, w->f);
		else
			fprintf(w->f, "\\u%04x", c); /* control character, or not UTF-8 */
		plain = ++i;
	}
	fwrite(s + plain, 1, len - plain, w->f);
	fputc('"', w->f);
}

/* Comma, line, key: what comes before any value. Returns 0 if the value may be written. */
static int value_begin(struct json_writer *w, const char *key)
{
	unsigned d = w->depth;

	if (w->err)
		return -1;
	if (!d) {
		if (w->done || key)
			goto bad;
		return 0;
	}
	if ((w->open[d - 1] == '{') != (key != NULL))
		goto bad;
	if (w->members[d - 1])
		fputc(',', w->f);
	w->members[d - 1] = 1;
	newline(w, d);
	if (key) {
		put_escaped(w, key, strlen(key));
		fputs((w->flags & JSON_PRETTY) ? ": " : ":", w->f);
	}
	return 0;
bad:
	misuse(w);
	return -1;
}

static void value_end(struct json_writer *w)
{
	if (!w->depth)
		w->done = 1;
}

static void begin(struct json_writer *w, const char *key, char open)
{
	if (w->depth >= JSON_MAX_DEPTH) {
		misuse(w);
		return;
	}
	if (value_begin(w, key))
		return;
	fputc(open, w->f);
	w->open[w->depth] = open;
	w->members[w->depth] = 0;
	w->depth++;
}

static void end(struct json_writer *w, char open)
{
	if (w->err)
		return;
	if (!w->depth || w->open[w->depth - 1] != open) {
		misuse(w);
		return;
	}
	w->depth--;
	if (w->members[w->depth])
		newline(w, w->depth);
	fputc(open == '{' ? '}' : ']', w->f);
	value_end(w);
}

void json_object_begin(struct json_writer *w, const char *key)
{
	begin(w, key, '{');
}

void json_object_end(struct json_writer *w)
{
	end(w, '{');
}

void json_array_begin(struct json_writer *w, const char *key)
{
	begin(w, key, '[');
}

void json_array_end(struct json_writer *w)
{
	end(w, '[');
}

void json_string_len(struct json_writer *w, const char *key, const void *s, size_t len)
{
	if (value_begin(w, key))
		return;
	put_escaped(w, s, len);
	value_end(w);
}

void json_string(struct json_writer *w, const char *key, const char *s)
{
	if (!s)
		json_null(w, key);
	else
		json_string_len(w, key, s, strlen(s));
}

void json_stringf(struct json_writer *w, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (!w->err)
			w->err = -ENOMEM;
		return;
	}
	json_string_len(w, key, s, (size_t)n);
	free(s);
}

/* A value that is written as it is (numbers, true, false, null). */
static void bare(struct json_writer *w, const char *key, const char *text)
{
	if (value_begin(w, key))
		return;
	fputs(text, w->f);
	value_end(w);
}

void json_int(struct json_writer *w, const char *key, int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRId64, v);
	bare(w, key, b);
}

void json_uint(struct json_writer *w, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	bare(w, key, b);
}

void json_hex(struct json_writer *w, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "\"0x%" PRIx64 "\"", v);
	bare(w, key, b);
}

void json_bool(struct json_writer *w, const char *key, int v)
{
	bare(w, key, v ? "true" : "false");
}

void json_null(struct json_writer *w, const char *key)
{
	bare(w, key, "null");
}

int json_finish(struct json_writer *w)
{
	if (!w->err && (w->depth || !w->done))
		misuse(w);
	if (!w->err)
		fputc('\n', w->f);
	if (fflush(w->f) || ferror(w->f)) {
		if (!w->err)
			w->err = -EIO;
	}
	return w->err;
}
