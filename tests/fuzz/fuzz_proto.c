/*
 * Fuzz target "proto": the input is a byte stream arriving on a coordinator-protocol
 * connection (common/proto.c), read the two ways the commands read it:
 *
 *   1. the poll-loop codec of the coordinator and the tracers: the bytes are written into a
 *      socketpair in slices of random sizes (the generator seeded from the input, so a run
 *      repeats) and taken with proto_conn_fill()/proto_conn_next() after each slice, then the
 *      writer closes;
 *   2. the blocking proto_recv() of dmtcp_command and dmtcp_restart, message after message,
 *      from a file holding the bytes (its end is the peer closing).
 *
 * Every message that decodes is checked (type, field kinds and sizes, strings terminated in
 * place, values inside the payload, proto_get_*() and proto_next_str() answers) and encoded
 * again with proto_put_*(), which must decode to the same fields. Oracles: both readers see
 * the same messages and end the same way (same reason for an invalid stream, or the end of
 * the input), and an invalid stream always comes with a reason.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

/* What a reader saw: a digest of every message, then how the stream ended. */
struct outcome {
	uint64_t digest; /* of the messages, in order */
	unsigned nmsgs;
	const char *why; /* reason of an invalid stream; NULL: the input ended */
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int same_fields(const struct proto_in *a, const struct proto_in *b)
{
	if (a->type != b->type || a->nfields != b->nfields)
		return 0;
	for (uint32_t i = 0; i < a->nfields; i++) {
		const struct proto_field *x = &a->fields[i], *y = &b->fields[i];

		if (x->tag != y->tag || x->kind != y->kind || x->len != y->len ||
		    memcmp(x->val, y->val, x->len))
			return 0;
	}
	return 1;
}

/* The message built again from its fields must decode to the same fields. */
static void check_reencode(const struct proto_in *in)
{
	struct proto_msg m;
	struct proto_in back;
	const char *why;
	uint8_t *payload;
	uint16_t type;
	long plen;

	proto_msg_init(&m, in->type);
	for (uint32_t i = 0; i < in->nfields; i++) {
		const struct proto_field *f = &in->fields[i];

		if (f->kind == PROTO_U64) {
			uint64_t v = 0;

			for (int k = 7; k >= 0; k--)
				v = v << 8 | f->val[k];
			proto_put_u64(&m, f->tag, v);
		} else {
			proto_put_strn(&m, f->tag, (const char *)f->val, f->len);
		}
	}
	if (proto_finish(&m))
		fuzz_fail("a decoded %s message cannot be encoded again",
			  proto_type_name(in->type));
	plen = proto_check_header(m.buf, &type);
	if (plen < 0 || (size_t)plen != m.len - PROTO_HDR_SIZE || type != in->type)
		fuzz_fail("the header of a re-encoded message is refused (%ld)", plen);
	payload = malloc(plen ? (size_t)plen : 1);
	if (!payload)
		fuzz_fail("out of memory");
	memcpy(payload, m.buf + PROTO_HDR_SIZE, (size_t)plen);
	if (proto_parse(type, payload, (uint32_t)plen, &back, &why))
		fuzz_fail("a re-encoded %s message is refused: %s", proto_type_name(type), why);
	if (!same_fields(in, &back))
		fuzz_fail("a re-encoded %s message decodes to other fields",
			  proto_type_name(type));
	proto_in_free(&back);
	proto_msg_free(&m);
}

/* Checks a decoded message and adds it to the digest. */
static void check_msg(const struct proto_in *in, struct outcome *o)
{
	uint32_t npeer = 0, pos = 0;

	if (in->type == 0 || in->type >= MSG__COUNT || !strcmp(proto_type_name(in->type), "?"))
		fuzz_fail("a message of unknown type %u decoded", in->type);
	if (in->nfields > PROTO_MAX_FIELDS)
		fuzz_fail("%u fields decoded", in->nfields);
	o->digest = mix(o->digest, &in->type, sizeof(in->type));
	for (uint32_t i = 0; i < in->nfields; i++) {
		const struct proto_field *f = &in->fields[i];

		if (proto_field_kind(f->tag) == 0 || f->kind != proto_field_kind(f->tag))
			fuzz_fail("field %u: tag %u of kind %u decoded", i, f->tag, f->kind);
		if (f->val < in->payload || f->len > in->len ||
		    f->val - in->payload > (ptrdiff_t)(in->len - f->len))
			fuzz_fail("field %u (%s) points outside the payload", i,
				  proto_tag_name(f->tag));
		if (f->kind == PROTO_U64 && f->len != 8)
			fuzz_fail("integer field %s of %u bytes", proto_tag_name(f->tag), f->len);
		if (f->kind == PROTO_STR &&
		    (f->len > PROTO_MAX_STR || f->val[f->len] || strlen((const char *)f->val) != f->len))
			fuzz_fail("string field %s of %u bytes is not terminated in place",
				  proto_tag_name(f->tag), f->len);
		if (f->tag == F_PEER)
			npeer++;
		o->digest = mix(o->digest, &f->tag, sizeof(f->tag));
		o->digest = mix(o->digest, &f->len, sizeof(f->len));
		o->digest = mix(o->digest, f->val, f->len);
	}
	/* The getters answer with the first field of each tag. */
	for (uint16_t tag = 0; tag <= F_TAG__COUNT; tag++) {
		const struct proto_field *first = NULL;
		const char *s = proto_get_str(in, tag);
		uint64_t v;
		int r = proto_get_u64(in, tag, &v);

		for (uint32_t i = 0; i < in->nfields && !first; i++)
			if (in->fields[i].tag == tag)
				first = &in->fields[i];
		if ((r == 0) != (first && first->kind == PROTO_U64))
			fuzz_fail("proto_get_u64(%s) disagrees with the fields", proto_tag_name(tag));
		if ((s != NULL) != (first && first->kind == PROTO_STR) ||
		    (s && s != (const char *)first->val))
			fuzz_fail("proto_get_str(%s) disagrees with the fields", proto_tag_name(tag));
	}
	while (proto_next_str(in, F_PEER, &pos))
		npeer--;
	if (npeer)
		fuzz_fail("proto_next_str(PEER) misses fields");
	o->nmsgs++;
	check_reencode(in);
}

/* Reader 1: the buffered codec, fed through a socketpair in slices. */
static void read_conn(const uint8_t *data, size_t size, struct outcome *o)
{
	uint64_t rs = fuzz_hash(data, size);
	struct proto_conn c;
	size_t off = 0;
	int sv[2], eof = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_fail("socketpair: %s", strerror(errno));
	proto_conn_init(&c, sv[0]);
	while (!eof) {
		int r;

		if (off < size) {
			/* Mostly short slices (headers cut anywhere), now and then a big one. */
			uint64_t x = fuzz_rand(&rs);
			size_t want = x % 4 ? 1 + (x >> 8) % 24 : 1 + (x >> 8) % 65536;
			ssize_t n;

			if (want > size - off)
				want = size - off;
			n = write(sv[1], data + off, want);
			if (n < 0 && errno != EAGAIN)
				fuzz_fail("write to the socketpair: %s", strerror(errno));
			if (n > 0)
				off += (size_t)n;
		}
		if (off == size && sv[1] >= 0) {
			close(sv[1]); /* the peer is done: EOF once the bytes are read */
			sv[1] = -1;
		}
		r = proto_conn_fill(&c);
		if (r == 0)
			eof = 1;
		else if (r < 0 && r != -EAGAIN)
			fuzz_fail("proto_conn_fill: %s", strerror(-r));
		for (;;) {
			struct proto_in in;
			const char *why = "unset";
			int n = proto_conn_next(&c, &in, &why);

			if (n == 0)
				break;
			if (n < 0) {
				if (!why)
					fuzz_fail("proto_conn_next failed (%d) without a reason", n);
				o->why = why;
				goto out;
			}
			if (n != 1)
				fuzz_fail("proto_conn_next returned %d", n);
			check_msg(&in, o);
			proto_in_free(&in);
		}
	}
	if (c.rlen >= PROTO_HDR_SIZE + PROTO_MAX_PAYLOAD)
		fuzz_fail("a complete message was left in the buffer");
out:
	/* The buffer doubles from the bytes it holds plus one read's worth. */
	if (c.rcap > 2 * (size + (64u << 10)))
		fuzz_fail("a %zu-byte stream grew the read buffer to %zu bytes", size, c.rcap);
	proto_conn_free(&c);
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
}

/* Reader 2: proto_recv(), message after message, from a file holding the stream. */
static void read_recv(const uint8_t *data, size_t size, struct outcome *o)
{
	int fd = memfd_create("dmtcp-fuzz-proto", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0)
			fuzz_fail("write to the memory file: %s", strerror(errno));
		off += (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		struct proto_in in;
		const char *why = "unset";
		int r = proto_recv(fd, &in, 1000, &why);

		if (r == -ECONNRESET)
			break; /* the input ended, inside a message or between two */
		if (r < 0) {
			if (!why)
				fuzz_fail("proto_recv failed (%d) without a reason", r);
			if (r == -ETIMEDOUT || r == -ENOMEM)
				fuzz_fail("proto_recv: %s", why);
			o->why = why;
			break;
		}
		check_msg(&in, o);
		proto_in_free(&in);
	}
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome a = { .digest = 1 }, b = { .digest = 1 };

	read_conn(data, size, &a);
	read_recv(data, size, &b);
	if (a.nmsgs != b.nmsgs || a.digest != b.digest)
		fuzz_fail("proto_conn_next read %u messages, proto_recv %u (or others)", a.nmsgs,
			  b.nmsgs);
	if ((a.why == NULL) != (b.why == NULL) || (a.why && strcmp(a.why, b.why)))
		fuzz_fail("proto_conn_next ends with \"%s\", proto_recv with \"%s\"",
			  a.why ? a.why : "end of input", b.why ? b.why : "end of input");
	if (!a.why && a.nmsgs)
		fuzz_accepted++;
	return 0;
}
