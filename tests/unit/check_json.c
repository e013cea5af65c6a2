/*
 * Unit tests of common/json.c: nesting and commas, empty containers, compact and pretty
 * layouts, string escaping (quotes, backslashes, control characters, bytes that are not
 * UTF-8), 64-bit numbers, and misuse refused instead of a broken document.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* An in-memory document: begin with doc_open(), end with doc_close() (json_finish's rc). */
struct doc {
	struct json_writer w;
	FILE *f;
	char *buf;
	size_t len;
	int rc;
};

static void doc_open(struct doc *d, unsigned flags)
{
	memset(d, 0, sizeof(*d));
	d->f = open_memstream(&d->buf, &d->len);
	ck_assert_ptr_nonnull(d->f);
	json_init(&d->w, d->f, flags);
}

static const char *doc_close(struct doc *d)
{
	d->rc = json_finish(&d->w);
	fclose(d->f);
	return d->buf;
}

/* One string value as a whole document. */
static void check_string(const char *in, size_t len, const char *want)
{
	struct doc d;

	doc_open(&d, 0);
	json_string_len(&d.w, NULL, in, len);
	ck_assert_str_eq(doc_close(&d), want);
	ck_assert_int_eq(d.rc, 0);
	free(d.buf);
}

START_TEST(test_nesting)
{
	struct doc d;

	doc_open(&d, 0);
	json_object_begin(&d.w, NULL);
	json_int(&d.w, "a", -1);
	json_array_begin(&d.w, "b");
	json_uint(&d.w, NULL, 1);
	json_object_begin(&d.w, NULL);
	json_bool(&d.w, "t", 1);
	json_bool(&d.w, "f", 0);
	json_null(&d.w, "n");
	json_object_end(&d.w);
	json_array_begin(&d.w, NULL);
	json_string(&d.w, NULL, "x");
	json_array_end(&d.w);
	json_array_end(&d.w);
	json_string(&d.w, "c", NULL);
	json_object_end(&d.w);
	ck_assert_str_eq(doc_close(&d), "{\"a\":-1,\"b\":[1,{\"t\":true,\"f\":false,\"n\":null},"
					"[\"x\"]],\"c\":null}\n");
	ck_assert_int_eq(d.rc, 0);
	free(d.buf);
}
END_TEST

START_TEST(test_empty)
{
	struct doc d;

	doc_open(&d, 0);
	json_array_begin(&d.w, NULL);
	json_array_end(&d.w);
	ck_assert_str_eq(doc_close(&d), "[]\n");
	ck_assert_int_eq(d.rc, 0);
	free(d.buf);

	/* Pretty: empty containers stay on one line, the others get one member per line. */
	doc_open(&d, JSON_PRETTY);
	json_object_begin(&d.w, NULL);
	json_object_begin(&d.w, "o");
	json_object_end(&d.w);
	json_array_begin(&d.w, "a");
	json_array_end(&d.w);
	json_array_begin(&d.w, "l");
	json_int(&d.w, NULL, 1);
	json_object_begin(&d.w, NULL);
	json_string(&d.w, "k", "v");
	json_object_end(&d.w);
	json_array_end(&d.w);
	json_object_end(&d.w);
	ck_assert_str_eq(doc_close(&d), "{\n"
					"  \"o\": {},\n"
					"  \"a\": [],\n"
					"  \"l\": [\n"
					"    1,\n"
					"    {\n"
					"      \"k\": \"v\"\n"
					"    }\n"
					"  ]\n"
					"}\n");
	ck_assert_int_eq(d.rc, 0);
	free(d.buf);
}
END_TEST

START_TEST(test_escaping)
{
	/* Quotes and backslashes. */
	check_string("a\"b\\c/", 6, "\"a\\\"b\\\\c/\"\n");
	/* Control characters: the named escapes, the rest as \u00XX; DEL too. */
	check_string("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"\n");
	check_string("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"\n");
	/* A NUL inside a length-given string. */
	check_string("a\0b", 3, "\"a\\u0000b\"\n");
	check_string("", 0, "\"\"\n");
	/* Valid UTF-8 is kept: 2, 3 and 4 byte sequences, the extremes. */
	check_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
		     "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\n");
	check_string("\xc2\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf", 9,
		     "\"\xc2\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"\n");
	/* Bytes that are not UTF-8, each escaped on its own: a lone continuation byte, 0xff. */
	check_string("a\x80z\xff", 4, "\"a\\u0080z\\u00ff\"\n");
	/* Overlong forms (C0 AF is '/', E0 80 AF too, F0 80 80 AF too). */
	check_string("\xc0\xaf", 2, "\"\\u00c0\\u00af\"\n");
	check_string("\xe0\x80\xaf", 3, "\"\\u00e0\\u0080\\u00af\"\n");
	check_string("\xf0\x80\x80\xaf", 4, "\"\\u00f0\\u0080\\u0080\\u00af\"\n");
	/* A surrogate (U+D800), above U+10FFFF (F4 90 80 80), F5. */
	check_string("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"\n");
	check_string("\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\"\n");
	check_string("\xf5\x80", 2, "\"\\u00f5\\u0080\"\n");
	/* Truncated sequences, at the end and before a plain byte. */
	check_string("\xe2\x82", 2, "\"\\u00e2\\u0082\"\n");
	check_string("\xe2\x82x", 3, "\"\\u00e2\\u0082x\"\n");
	check_string("\xf0\x9f\x98", 3, "\"\\u00f0\\u009f\\u0098\"\n");
	/* An escaped byte then a valid sequence. */
	check_string("\xff\xc3\xa9", 3, "\"\\u00ff\xc3\xa9\"\n");
}
END_TEST

START_TEST(test_keys_and_numbers)
{
	struct doc d;

	doc_open(&d, 0);
	json_object_begin(&d.w, NULL);
	json_string(&d.w, "k\"\n\xff", "v");
	json_int(&d.w, "min", INT64_MIN);
	json_uint(&d.w, "max", UINT64_MAX);
	json_hex(&d.w, "addr", 0x7ffff7dd1000ull);
	json_hex(&d.w, "zero", 0);
	json_hex(&d.w, "all", UINT64_MAX);
	json_stringf(&d.w, "f", "%s-%d", "x", 7);
	json_object_end(&d.w);
	ck_assert_str_eq(doc_close(&d),
			 "{\"k\\\"\\n\\u00ff\":\"v\",\"min\":-9223372036854775808,"
			 "\"max\":18446744073709551615,\"addr\":\"0x7ffff7dd1000\","
			 "\"zero\":\"0x0\",\"all\":\"0xffffffffffffffff\",\"f\":\"x-7\"}\n");
	ck_assert_int_eq(d.rc, 0);
	free(d.buf);
}
END_TEST

/* Each misuse poisons the writer: json_finish() says -EINVAL, and nothing follows it. */
START_TEST(test_misuse)
{
	struct doc d;
	int i;

	doc_open(&d, 0); /* a value without a key in an object */
	json_object_begin(&d.w, NULL);
	json_int(&d.w, NULL, 1);
	json_int(&d.w, "later", 2);
	json_object_end(&d.w);
	ck_assert_str_eq(doc_close(&d), "{");
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);

	doc_open(&d, 0); /* a key in an array */
	json_array_begin(&d.w, NULL);
	json_int(&d.w, "k", 1);
	doc_close(&d);
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);

	doc_open(&d, 0); /* a key at the top */
	json_int(&d.w, "k", 1);
	doc_close(&d);
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);

	doc_open(&d, 0); /* an end that does not match */
	json_object_begin(&d.w, NULL);
	json_array_end(&d.w);
	doc_close(&d);
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);

	doc_open(&d, 0); /* an end too many */
	json_array_begin(&d.w, NULL);
	json_array_end(&d.w);
	json_array_end(&d.w);
	doc_close(&d);
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);

	doc_open(&d, 0); /* two top-level values */
	json_int(&d.w, NULL, 1);
	json_int(&d.w, NULL, 2);
	ck_assert_str_eq(doc_close(&d), "1");
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);

	doc_open(&d, 0); /* left open */
	json_array_begin(&d.w, NULL);
	doc_close(&d);
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);

	doc_open(&d, 0); /* nothing at all */
	doc_close(&d);
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);

	doc_open(&d, 0); /* too deep: JSON_MAX_DEPTH levels are fine, one more is not */
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_begin(&d.w, NULL);
	ck_assert_int_eq(d.w.err, 0);
	json_array_begin(&d.w, NULL);
	ck_assert_int_eq(d.w.err, -EINVAL);
	doc_close(&d);
	ck_assert_int_eq(d.rc, -EINVAL);
	free(d.buf);
}
END_TEST

/* A write error (here: a full buffer) is -EIO from json_finish(). */
START_TEST(test_write_error)
{
	struct json_writer w;
	char buf[8];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	ck_assert_ptr_nonnull(f);
	setvbuf(f, NULL, _IONBF, 0);
	json_init(&w, f, 0);
	json_string(&w, NULL, "longer than eight bytes");
	ck_assert_int_eq(json_finish(&w), -EIO);
	fclose(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("writer");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_nesting);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_keys_and_numbers);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_write_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
