/*
 * A small streaming JSON writer (common/json.c), for the machine-readable forms of our
 * commands (dmtcp_restart --show --json; dmtcp_command --json could use it too).
 *
 * Values are written in document order; the writer keeps the nesting, the commas and the
 * string escaping. Every value function takes the member's key: a key inside an object, NULL
 * inside an array and for the top-level value. A misuse (a key where none belongs or none
 * where one does, an end that does not match its begin, nesting deeper than JSON_MAX_DEPTH, a
 * second top-level value) poisons the writer: nothing more is written and json_finish()
 * returns -EINVAL, so a bug gives a clear error rather than a document that does not parse.
 *
 *	struct json_writer w;
 *	json_init(&w, stdout, JSON_PRETTY);
 *	json_object_begin(&w, NULL);
 *	json_int(&w, "pid", 1234);
 *	json_array_begin(&w, "argv");
 *	json_string(&w, NULL, "a.out");
 *	json_array_end(&w);
 *	json_object_end(&w);
 *	rc = json_finish(&w);		(newline, flush: 0, -EINVAL or -EIO)
 *
 * Strings are bytes. Valid UTF-8 is copied as it is; '"', '\\' and the control characters
 * (below 0x20, and 0x7f) are escaped; a byte that is not part of a valid UTF-8 sequence
 * (overlong forms, surrogates and code points above U+10FFFF are not valid) is written as
 * \u00XX, XX its value: the output is always valid UTF-8 and valid JSON, and a reader gets
 * the character U+00XX for such a byte (Latin-1, so an invalid byte 0xe9 and a real "é" read
 * the same: the escape is safe, not reversible).
 */
#ifndef DMTCP_JSON_H
#define DMTCP_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

/* json_init() flags */
#define JSON_PRETTY 0x1u /* one member per line, indented by two spaces per level */

struct json_writer {
	FILE *f;
	unsigned flags;
	int err;			/* first error: -EINVAL misuse, -EIO write failure */
	unsigned depth;			/* open objects and arrays */
	int done;			/* the top-level value is complete */
	char open[JSON_MAX_DEPTH];	/* '{' or '[' for each open level */
	char members[JSON_MAX_DEPTH];	/* whether that level has a member yet */
};

void json_init(struct json_writer *w, FILE *f, unsigned flags);
/* Ends the document (a newline) and flushes: 0, or the first error. */
int json_finish(struct json_writer *w);

void json_object_begin(struct json_writer *w, const char *key);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);

/* s NULL is null. */
void json_string(struct json_writer *w, const char *key, const char *s);
/* len bytes of s, which may hold NULs (written as \u0000). */
void json_string_len(struct json_writer *w, const char *key, const void *s, size_t len);
void json_stringf(struct json_writer *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void json_int(struct json_writer *w, const char *key, int64_t v);
void json_uint(struct json_writer *w, const char *key, uint64_t v);
/* "0x1f": for addresses, registers and masks, exact even for a reader that uses doubles. */
void json_hex(struct json_writer *w, const char *key, uint64_t v);
void json_bool(struct json_writer *w, const char *key, int v);
void json_null(struct json_writer *w, const char *key);

#endif
