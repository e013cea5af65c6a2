/*
 * Unit tests of the coordinator protocol codec (common/proto.c): round trips of every field
 * kind, each malformed input rejected with the right error, unknown tags skipped, and stream
 * reassembly through proto_conn fed one byte at a time; the F_THREAD and F_FRAME lines of a
 * --where answer (common/where_line.c).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coordclient.h"
#include "ids.h"
#include "proto.h"
#include "util.h"
#include "where_line.h"

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

/* Build a raw message: header with the given fields, then payload bytes. */
static size_t raw_msg(uint8_t *out, uint32_t magic, uint16_t ver, uint16_t type, uint32_t len,
		      uint32_t resv, const uint8_t *payload, size_t plen)
{
	le32(out, magic);
	le16(out + 4, ver);
	le16(out + 6, type);
	le32(out + 8, len);
	le32(out + 12, resv);
	if (plen)
		memcpy(out + PROTO_HDR_SIZE, payload, plen);
	return PROTO_HDR_SIZE + plen;
}

static size_t raw_field(uint8_t *out, uint16_t tag, uint16_t kind, const void *v, uint32_t n)
{
	le16(out, tag);
	le16(out + 2, kind);
	le32(out + 4, n);
	memcpy(out + 8, v, n);
	return 8 + n;
}

/* Parse a payload built by hand; returns proto_parse's result. */
static int parse_raw(const uint8_t *p, size_t n, struct proto_in *in, const char **why)
{
	uint8_t *copy = malloc(n ? n : 1);

	memcpy(copy, p, n);
	return proto_parse(MSG_HELLO, copy, (uint32_t)n, in, why);
}

/* Round-trip a finished message through header check + parse. */
static void decode(struct proto_msg *m, struct proto_in *in)
{
	uint16_t type;
	long len;
	const char *why;
	uint8_t *payload;

	ck_assert_int_eq(proto_finish(m), 0);
	len = proto_check_header(m->buf, &type);
	ck_assert_int_ge(len, 0);
	ck_assert_uint_eq((size_t)len + PROTO_HDR_SIZE, m->len);
	ck_assert_uint_eq(type, m->type);
	payload = malloc(len ? len : 1);
	memcpy(payload, m->buf + PROTO_HDR_SIZE, len);
	ck_assert_int_eq(proto_parse(type, payload, (uint32_t)len, in, &why), 0);
}

START_TEST(test_roundtrip)
{
	struct proto_msg m;
	struct proto_in in;
	uint64_t v;
	uint32_t pos = 0;
	const char *s;

	proto_msg_init(&m, MSG_COMMAND_REPLY);
	proto_put_u64(&m, F_STATUS, (uint64_t)(int64_t)-ETIMEDOUT);
	proto_put_u64(&m, F_PORT, 0);
	proto_put_u64(&m, F_ARG, UINT64_MAX);
	proto_put_str(&m, F_REASON, "no processes");
	proto_put_str(&m, F_COMPID, "");
	proto_put_strn(&m, F_KEY, "abcdef", 3);
	proto_put_str(&m, F_PEER, "1\ta\t10\th\tRUNNING\tu1");
	proto_put_str(&m, F_PEER, "2\tb\t11\th\tRUNNING\tu2");
	decode(&m, &in);
	ck_assert_uint_eq(in.type, MSG_COMMAND_REPLY);
	ck_assert_int_eq(proto_get_u64(&in, F_STATUS, &v), 0);
	ck_assert_int_eq((int64_t)v, -ETIMEDOUT);
	ck_assert_int_eq(proto_get_u64(&in, F_PORT, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(proto_get_u64(&in, F_ARG, &v), 0);
	ck_assert(v == UINT64_MAX);
	ck_assert_int_eq(proto_get_u64(&in, F_PID, &v), -ENOENT);
	ck_assert_str_eq(proto_get_str(&in, F_REASON), "no processes");
	ck_assert_str_eq(proto_get_str(&in, F_COMPID), "");
	ck_assert_str_eq(proto_get_str(&in, F_KEY), "abc");
	ck_assert_ptr_null(proto_get_str(&in, F_HOST));
	/* A u64 tag is never returned as a string and vice versa. */
	ck_assert_ptr_null(proto_get_str(&in, F_STATUS));
	ck_assert_int_eq(proto_get_u64(&in, F_REASON, &v), -ENOENT);
	s = proto_next_str(&in, F_PEER, &pos);
	ck_assert_str_eq(s, "1\ta\t10\th\tRUNNING\tu1");
	s = proto_next_str(&in, F_PEER, &pos);
	ck_assert_str_eq(s, "2\tb\t11\th\tRUNNING\tu2");
	ck_assert_ptr_null(proto_next_str(&in, F_PEER, &pos));
	proto_in_free(&in);
	proto_msg_free(&m);
}
END_TEST

START_TEST(test_empty_and_large)
{
	struct proto_msg m;
	struct proto_in in;
	char *big = malloc(PROTO_MAX_STR + 2);

	proto_msg_init(&m, MSG_CKPT_REQUEST);
	decode(&m, &in);
	ck_assert_uint_eq(in.nfields, 0);
	proto_in_free(&in);
	proto_msg_free(&m);

	memset(big, 'x', PROTO_MAX_STR + 1);
	big[PROTO_MAX_STR + 1] = 0;
	proto_msg_init(&m, MSG_KV_PUT);
	proto_put_strn(&m, F_VALUE, big, PROTO_MAX_STR);
	decode(&m, &in);
	ck_assert_uint_eq(strlen(proto_get_str(&in, F_VALUE)), PROTO_MAX_STR);
	proto_in_free(&in);
	proto_msg_free(&m);

	/* Too long a string, a NUL inside one, a payload past the limit: refused at build time. */
	proto_msg_init(&m, MSG_KV_PUT);
	proto_put_str(&m, F_VALUE, big);
	ck_assert_int_eq(proto_finish(&m), -EMSGSIZE);
	proto_msg_free(&m);
	proto_msg_init(&m, MSG_KV_PUT);
	proto_put_strn(&m, F_VALUE, "a\0b", 3);
	ck_assert_int_eq(proto_finish(&m), -EINVAL);
	proto_msg_free(&m);
	proto_msg_init(&m, MSG_COMMAND_REPLY);
	for (int i = 0; i < 20; i++)
		proto_put_strn(&m, F_PEER, big, PROTO_MAX_STR);
	ck_assert_int_eq(proto_finish(&m), -EMSGSIZE);
	proto_msg_free(&m);
	free(big);
}
END_TEST

START_TEST(test_bad_header)
{
	uint8_t h[PROTO_HDR_SIZE];
	uint16_t type;

	raw_msg(h, PROTO_MAGIC, PROTO_VERSION, MSG_HELLO, 10, 0, NULL, 0);
	ck_assert_int_eq(proto_check_header(h, &type), 10);
	ck_assert_uint_eq(type, MSG_HELLO);
	raw_msg(h, 0x12345678, PROTO_VERSION, MSG_HELLO, 10, 0, NULL, 0);
	ck_assert_int_eq(proto_check_header(h, &type), -EPROTO);
	raw_msg(h, PROTO_MAGIC, PROTO_VERSION + 1, MSG_HELLO, 10, 0, NULL, 0);
	ck_assert_int_eq(proto_check_header(h, &type), -EPROTONOSUPPORT);
	raw_msg(h, PROTO_MAGIC, PROTO_VERSION, MSG_HELLO, PROTO_MAX_PAYLOAD + 1, 0, NULL, 0);
	ck_assert_int_eq(proto_check_header(h, &type), -EMSGSIZE);
	raw_msg(h, PROTO_MAGIC, PROTO_VERSION, MSG_HELLO, PROTO_MAX_PAYLOAD, 0, NULL, 0);
	ck_assert_int_eq(proto_check_header(h, &type), (long)PROTO_MAX_PAYLOAD);
	raw_msg(h, PROTO_MAGIC, PROTO_VERSION, 0, 10, 0, NULL, 0);
	ck_assert_int_eq(proto_check_header(h, &type), -EPROTO);
	raw_msg(h, PROTO_MAGIC, PROTO_VERSION, MSG__COUNT, 10, 0, NULL, 0);
	ck_assert_int_eq(proto_check_header(h, &type), -EPROTO);
	raw_msg(h, PROTO_MAGIC, PROTO_VERSION, MSG_HELLO, 10, 1, NULL, 0);
	ck_assert_int_eq(proto_check_header(h, &type), -EPROTO);
}
END_TEST

START_TEST(test_bad_fields)
{
	uint8_t p[256];
	uint64_t v = 5;
	struct proto_in in;
	const char *why;
	size_t n;

	/* truncated field header */
	n = raw_field(p, F_PID, PROTO_U64, &v, 8);
	ck_assert_int_eq(parse_raw(p, 5, &in, &why), -EPROTO);
	ck_assert_ptr_nonnull(why);
	/* truncated value */
	ck_assert_int_eq(parse_raw(p, n - 1, &in, &why), -EPROTO);
	ck_assert_str_eq(why, "field value runs past the end of the message");
	/* wrong kind for the tag */
	n = raw_field(p, F_PID, PROTO_STR, "12", 2);
	ck_assert_int_eq(parse_raw(p, n, &in, &why), -EPROTO);
	ck_assert_str_eq(why, "field of the wrong kind for its tag");
	/* unknown kind */
	n = raw_field(p, F_PID, 7, &v, 8);
	ck_assert_int_eq(parse_raw(p, n, &in, &why), -EPROTO);
	/* wrong size for an integer */
	n = raw_field(p, F_PID, PROTO_U64, &v, 4);
	ck_assert_int_eq(parse_raw(p, n, &in, &why), -EPROTO);
	ck_assert_str_eq(why, "integer field whose size is not 8");
	/* duplicate non-repeatable */
	n = raw_field(p, F_PID, PROTO_U64, &v, 8);
	n += raw_field(p + n, F_PID, PROTO_U64, &v, 8);
	ck_assert_int_eq(parse_raw(p, n, &in, &why), -EPROTO);
	ck_assert_str_eq(why, "non-repeatable field given twice");
	/* NUL in a string */
	n = raw_field(p, F_PROG, PROTO_STR, "a\0b", 3);
	ck_assert_int_eq(parse_raw(p, n, &in, &why), -EPROTO);
	ck_assert_str_eq(why, "NUL byte inside a string field");
	/* a repeatable tag twice is fine */
	n = raw_field(p, F_PEER, PROTO_STR, "x", 1);
	n += raw_field(p + n, F_PEER, PROTO_STR, "y", 1);
	ck_assert_int_eq(parse_raw(p, n, &in, &why), 0);
	ck_assert_uint_eq(in.nfields, 2);
	proto_in_free(&in);
}
END_TEST

START_TEST(test_unknown_tag_skipped)
{
	uint8_t p[256];
	uint64_t v = 42, got;
	struct proto_in in;
	const char *why;
	size_t n;

	n = raw_field(p, 999, PROTO_STR, "future", 6);
	n += raw_field(p + n, F_PID, PROTO_U64, &v, 8);
	n += raw_field(p + n, 1000, PROTO_U64, &v, 8);
	n += raw_field(p + n, F_PROG, PROTO_STR, "prog", 4);
	ck_assert_int_eq(parse_raw(p, n, &in, &why), 0);
	ck_assert_uint_eq(in.nfields, 2);
	ck_assert_int_eq(proto_get_u64(&in, F_PID, &got), 0);
	ck_assert_uint_eq(got, 42);
	ck_assert_str_eq(proto_get_str(&in, F_PROG), "prog");
	proto_in_free(&in);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(proto_type_name(MSG_HELLO), "HELLO");
	ck_assert_str_eq(proto_type_name(MSG_CKPT_REQUEST), "CKPT_REQUEST");
	ck_assert_str_eq(proto_type_name(0), "?");
	ck_assert_str_eq(proto_type_name(MSG__COUNT), "?");
	ck_assert_str_eq(proto_tag_name(F_EXIT_STATUS), "EXIT_STATUS");
	ck_assert_str_eq(proto_tag_name(9999), "?");
	for (int t = 1; t < F_TAG__COUNT; t++) {
		ck_assert_int_ne(proto_field_kind(t), 0);
		ck_assert_str_ne(proto_tag_name(t), "?");
	}
	for (int t = 1; t < MSG__COUNT; t++)
		ck_assert_str_ne(proto_type_name(t), "?");
	ck_assert_int_eq(proto_field_kind(F_PEER), PROTO_STR);
	ck_assert_int_eq(proto_field_kind(F_PID), PROTO_U64);
}
END_TEST

/* Two messages written back to back, fed to proto_conn one byte at a time. */
START_TEST(test_stream_bytewise)
{
	struct proto_msg a, b;
	struct proto_conn c;
	struct proto_in in;
	const char *why;
	int sv[2], got = 0;
	uint8_t all[1024];
	size_t n = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	proto_msg_init(&a, MSG_HELLO);
	proto_put_str(&a, F_ROLE, "client");
	ck_assert_int_eq(proto_finish(&a), 0);
	proto_msg_init(&b, MSG_COMMAND);
	proto_put_str(&b, F_CMD, "s");
	proto_put_u64(&b, F_ARG, 3);
	ck_assert_int_eq(proto_finish(&b), 0);
	memcpy(all, a.buf, a.len);
	memcpy(all + a.len, b.buf, b.len);
	n = a.len + b.len;
	proto_conn_init(&c, sv[0]);
	ck_assert_int_eq(proto_conn_fill(&c), -EAGAIN);
	for (size_t i = 0; i < n; i++) {
		int r;

		ck_assert_int_eq(write(sv[1], all + i, 1), 1);
		ck_assert_int_eq(proto_conn_fill(&c), 1);
		while ((r = proto_conn_next(&c, &in, &why)) == 1) {
			got++;
			if (got == 1) {
				ck_assert_uint_eq(i, a.len - 1);
				ck_assert_str_eq(proto_get_str(&in, F_ROLE), "client");
			} else {
				uint64_t v;

				ck_assert_uint_eq(i, n - 1);
				ck_assert_str_eq(proto_get_str(&in, F_CMD), "s");
				ck_assert_int_eq(proto_get_u64(&in, F_ARG, &v), 0);
				ck_assert_uint_eq(v, 3);
			}
			proto_in_free(&in);
		}
		ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(got, 2);
	close(sv[1]);
	ck_assert_int_eq(proto_conn_fill(&c), 0);
	proto_conn_free(&c);
	close(sv[0]);
	proto_msg_free(&a);
	proto_msg_free(&b);
}
END_TEST

/* A bad header is reported as soon as its 16 bytes are in, with a reason. */
START_TEST(test_stream_garbage)
{
	struct proto_conn c;
	struct proto_in in;
	const char *why;
	int sv[2];
	uint8_t h[PROTO_HDR_SIZE];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	proto_conn_init(&c, sv[0]);
	ck_assert_int_eq(write(sv[1], "GET / HTTP/1.0\r\n\r\n", 18), 18);
	ck_assert_int_gt(proto_conn_fill(&c), 0);
	ck_assert_int_eq(proto_conn_next(&c, &in, &why), -EPROTO);
	ck_assert_str_eq(why, "bad magic (not a DMTP message)");
	proto_conn_free(&c);

	proto_conn_init(&c, sv[0]);
	raw_msg(h, PROTO_MAGIC, PROTO_VERSION, MSG_HELLO, 0xffffffffu, 0, NULL, 0);
	ck_assert_int_eq(write(sv[1], h, sizeof(h)), (ssize_t)sizeof(h));
	ck_assert_int_gt(proto_conn_fill(&c), 0);
	ck_assert_int_eq(proto_conn_next(&c, &in, &why), -EMSGSIZE);
	proto_conn_free(&c);

	proto_conn_init(&c, sv[0]);
	raw_msg(h, PROTO_MAGIC, 9, MSG_HELLO, 0, 0, NULL, 0);
	ck_assert_int_eq(write(sv[1], h, sizeof(h)), (ssize_t)sizeof(h));
	ck_assert_int_gt(proto_conn_fill(&c), 0);
	ck_assert_int_eq(proto_conn_next(&c, &in, &why), -EPROTONOSUPPORT);
	ck_assert_str_eq(why, "unsupported protocol version");
	proto_conn_free(&c);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Blocking helpers: send/recv round trip, timeout, truncated message on EOF. */
START_TEST(test_send_recv)
{
	struct proto_msg m;
	struct proto_in in;
	const char *why;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(proto_recv(sv[0], &in, 10, &why), -ETIMEDOUT);
	proto_msg_init(&m, MSG_KV_GET);
	proto_put_str(&m, F_KEY, "k");
	proto_put_u64(&m, F_TIMEOUT_MS, 100);
	ck_assert_int_eq(proto_send(sv[1], &m), 0);
	ck_assert_int_eq(proto_recv(sv[0], &in, 1000, &why), 0);
	ck_assert_uint_eq(in.type, MSG_KV_GET);
	ck_assert_str_eq(proto_get_str(&in, F_KEY), "k");
	proto_in_free(&in);
	/* Half a message, then EOF. */
	ck_assert_int_eq(write(sv[1], m.buf, m.len - 3), (ssize_t)m.len - 3);
	close(sv[1]);
	ck_assert_int_eq(proto_recv(sv[0], &in, 1000, &why), -ECONNRESET);
	ck_assert_str_eq(why, "truncated message");
	proto_msg_free(&m);
	close(sv[0]);
}
END_TEST

/* Output queued on a connection is written by flush, in order. */
START_TEST(test_queue_flush)
{
	struct proto_msg m;
	struct proto_conn c;
	struct proto_in in;
	const char *why;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	proto_conn_init(&c, sv[0]);
	for (int i = 0; i < 3; i++) {
		proto_msg_init(&m, MSG_BARRIER);
		proto_put_str(&m, F_BARRIER, BARRIER_SUSPEND);
		proto_put_u64(&m, F_GENERATION, i);
		ck_assert_int_eq(proto_finish(&m), 0);
		ck_assert_int_eq(proto_conn_queue(&c, &m), 0);
		proto_msg_free(&m);
	}
	ck_assert_int_eq(proto_conn_flush(&c), 0);
	for (int i = 0; i < 3; i++) {
		uint64_t g;

		ck_assert_int_eq(proto_recv(sv[1], &in, 1000, &why), 0);
		ck_assert_int_eq(proto_get_u64(&in, F_GENERATION, &g), 0);
		ck_assert_uint_eq(g, (uint64_t)i);
		proto_in_free(&in);
	}
	proto_conn_free(&c);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* The id helpers and number parsing that the protocol's fields rely on. */
START_TEST(test_ids_and_numbers)
{
	char id[IDS_MAX], again[IDS_MAX];
	long v;

	ck_assert_int_eq(format_uniquepid(getpid(), id, sizeof(id)), 0);
	ck_assert(check_id_syntax(id));
	ck_assert_int_eq(format_uniquepid(getpid(), again, sizeof(again)), 0);
	ck_assert_str_eq(id, again); /* stable for one process */
	ck_assert_int_eq(format_uniquepid(0x7ffffff0, id, sizeof(id)), -ESRCH);
	format_compid(id, sizeof(id));
	ck_assert(check_id_syntax(id));
	ck_assert(check_id_syntax("abc-12-ff"));
	ck_assert(!check_id_syntax("abc-12"));
	ck_assert(!check_id_syntax("abc-1x-ff"));
	ck_assert(!check_id_syntax("-12-ff"));
	ck_assert(!check_id_syntax("abc-12-ff-"));
	ck_assert(!check_id_syntax(""));

	ck_assert_int_eq(parse_long("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(parse_long("101", 0, 100, &v), -ERANGE);
	ck_assert_int_eq(parse_long("-1", 0, 100, &v), -ERANGE);
	ck_assert_int_eq(parse_long("4x", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_long("", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_long(" 4", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(parse_long("99999999999999999999", 0, 100, &v), -ERANGE);

	ck_assert_int_eq(coord_parse_port("0"), 0);
	ck_assert_int_eq(coord_parse_port("65535"), 65535);
	ck_assert_int_eq(coord_parse_port("65536"), -1);
	ck_assert_int_eq(coord_parse_port("-1"), -1);
	ck_assert_int_eq(coord_parse_port("80a"), -1);
	ck_assert_int_eq(coord_parse_port(""), -1);
}
END_TEST

/* The shared coordinator options of dmtcp_launch and dmtcp_restart. */
START_TEST(test_coord_opt_apply)
{
	struct coord_opts o;
	char err[320] = "";

	memset(&o, 0, sizeof(o));
	o.port = -1;
	ck_assert_int_eq(coord_opt_apply(&o, 'h', "node7", err, sizeof(err)), 1);
	ck_assert_str_eq(o.host, "node7");
	ck_assert_int_eq(coord_opt_apply(&o, 'p', "7781", err, sizeof(err)), 1);
	ck_assert_int_eq(o.port, 7781);
	ck_assert_int_eq(coord_opt_apply(&o, COORD_OPT_PORT_FILE, "/tmp/pf", err, sizeof(err)), 1);
	ck_assert_str_eq(o.port_file, "/tmp/pf");
	ck_assert_int_eq(coord_opt_apply(&o, 'j', NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(o.mode, COORD_JOIN);
	ck_assert_int_eq(coord_opt_apply(&o, COORD_OPT_NEW, NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(o.mode, COORD_NEW);
	ck_assert_int_eq(coord_opt_apply(&o, COORD_OPT_ANY, NULL, err, sizeof(err)), 1);
	ck_assert_int_eq(o.mode, COORD_ANY);
	/* not a coordinator option: untouched */
	ck_assert_int_eq(coord_opt_apply(&o, 'i', "5", err, sizeof(err)), 0);
	ck_assert_int_eq(coord_opt_apply(&o, COORD_OPT_END, "x", err, sizeof(err)), 0);
	/* bad values name the option and the value, and change nothing */
	ck_assert_int_eq(coord_opt_apply(&o, 'p', "77x", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--coord-port: '77x' is not a port number"));
	ck_assert_int_eq(o.port, 7781);
	ck_assert_int_eq(coord_opt_apply(&o, 'h', "", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "--coord-host: bad host name"));
	ck_assert_str_eq(o.host, "node7");
}
END_TEST

/* Environment defaults: DMTCP_COORD_* wins over DMTCP_*, garbage is an error. */
START_TEST(test_opts_env)
{
	struct coord_opts o;

	unsetenv("DMTCP_COORD_HOST");
	unsetenv("DMTCP_HOST");
	unsetenv("DMTCP_COORD_PORT");
	unsetenv("DMTCP_PORT");
	coord_opts_from_env(&o);
	ck_assert_str_eq(o.host, "127.0.0.1");
	ck_assert_int_eq(o.port, -1);
	ck_assert_int_eq(o.mode, COORD_ANY);
	ck_assert_int_eq(o.interval, -1);
	setenv("DMTCP_HOST", "old", 1);
	setenv("DMTCP_PORT", "1234", 1);
	coord_opts_from_env(&o);
	ck_assert_str_eq(o.host, "old");
	ck_assert_int_eq(o.port, 1234);
	setenv("DMTCP_COORD_HOST", "new", 1);
	setenv("DMTCP_COORD_PORT", "4321", 1);
	coord_opts_from_env(&o);
	ck_assert_str_eq(o.host, "new");
	ck_assert_int_eq(o.port, 4321);
	/* Garbage is remembered and refused by coord_ensure(), unless a -p overrides it. */
	setenv("DMTCP_COORD_PORT", "nope", 1);
	coord_opts_from_env(&o);
	ck_assert_int_eq(o.port, -2);
	ck_assert_str_eq(o.bad_env, "DMTCP_COORD_PORT");
	ck_assert_int_eq(coord_ensure(&o), -EINVAL);
	unsetenv("DMTCP_COORD_PORT");
}
END_TEST

START_TEST(test_where_lines)
{
	struct where_thread t = { 1235, "reader", "" };
	struct where_frame f = { 1235, 3, 0x7f0011223344ull, 0x1f, "level_b", "/bin/x y" };
	char line[512], copy[512];

	where_thread_format(line, sizeof(line), &t);
	ck_assert_str_eq(line, "1235\treader\t");
	ck_assert_int_eq(where_thread_parse(line, copy, sizeof(copy), &t), 0);
	ck_assert_uint_eq(t.tid, 1235);
	ck_assert_str_eq(t.name, "reader");
	ck_assert_str_eq(t.note, "");
	where_frame_format(line, sizeof(line), &f);
	ck_assert_str_eq(line, "1235\t3\t0x7f0011223344\t0x1f\tlevel_b\t/bin/x y");
	ck_assert_int_eq(where_frame_parse(line, copy, sizeof(copy), &f), 0);
	ck_assert_uint_eq(f.tid, 1235);
	ck_assert_uint_eq(f.n, 3);
	ck_assert_uint_eq(f.ip, 0x7f0011223344ull);
	ck_assert_uint_eq(f.off, 0x1f);
	ck_assert_str_eq(f.func, "level_b");
	ck_assert_str_eq(f.obj, "/bin/x y");

	/* A tab or a newline in a name cannot split or break a line: it becomes '?'. */
	t = (struct where_thread){ 7, "a\tb", "not\nstopped" };
	where_thread_format(line, sizeof(line), &t);
	ck_assert_str_eq(line, "7\ta?b\tnot?stopped");
	f = (struct where_frame){ 7, 0, 1, 0, "f\tg", "/tmp/a\tb" };
	where_frame_format(line, sizeof(line), &f);
	ck_assert_int_eq(where_frame_parse(line, copy, sizeof(copy), &f), 0);
	ck_assert_str_eq(f.func, "f?g");
	ck_assert_str_eq(f.obj, "/tmp/a?b");

	/* Anything else is refused. */
	ck_assert_int_eq(where_thread_parse("", copy, sizeof(copy), &t), -EINVAL);
	ck_assert_int_eq(where_thread_parse("12\tx", copy, sizeof(copy), &t), -EINVAL);
	ck_assert_int_eq(where_thread_parse("12\tx\ty\tz", copy, sizeof(copy), &t), -EINVAL);
	ck_assert_int_eq(where_thread_parse("0\tx\t", copy, sizeof(copy), &t), -EINVAL);
	ck_assert_int_eq(where_thread_parse("-1\tx\t", copy, sizeof(copy), &t), -EINVAL);
	ck_assert_int_eq(where_frame_parse("1\t0\t10\t0x0\tf\to", copy, sizeof(copy), &f),
			 -EINVAL); /* ip without 0x */
	ck_assert_int_eq(where_frame_parse("1\t0\t0x\t0x0\tf\to", copy, sizeof(copy), &f),
			 -EINVAL);
	ck_assert_int_eq(where_frame_parse("1\tx\t0x1\t0x0\tf\to", copy, sizeof(copy), &f),
			 -EINVAL);
	ck_assert_int_eq(where_frame_parse("1\t0\t0x1\t0x0\tf", copy, sizeof(copy), &f), -EINVAL);
	ck_assert_int_eq(where_frame_parse("1\t0\t0x1\t0x0\tf\to", copy, 8, &f), -EINVAL);
	ck_assert_int_eq(where_frame_parse("1\t0\t0x1\t0x0\t\t", copy, sizeof(copy), &f), 0);
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_coord_opt_apply);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_empty_and_large);
	tcase_add_test(tc, test_bad_header);
	tcase_add_test(tc, test_bad_fields);
	tcase_add_test(tc, test_unknown_tag_skipped);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_stream_bytewise);
	tcase_add_test(tc, test_stream_garbage);
	tcase_add_test(tc, test_send_recv);
	tcase_add_test(tc, test_queue_flush);
	tcase_add_test(tc, test_ids_and_numbers);
	tcase_add_test(tc, test_opts_env);
	tcase_add_test(tc, test_where_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
