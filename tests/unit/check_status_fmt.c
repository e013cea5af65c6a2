/*
 * Unit tests of what the coordinator says about a checkpoint: sizes, rates, durations and
 * times for people (common/units.c); the F_PEER line with its image fields, the progress
 * fields and texts, the waiting line (coord/status_fmt.c); and the coordinator's bookkeeping
 * of progress, images, reasons and the last error on a hand-built computation
 * (coord/progress.c).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "coord/coord.h"
#include "units.h"

#define FMT(fn, ...)                                                                               \
	({                                                                                         \
		static char b_[128];                                                               \
		fn(b_, sizeof(b_), __VA_ARGS__);                                                   \
	})

START_TEST(test_bytes)
{
	ck_assert_str_eq(FMT(fmt_bytes, 0), "0 B");
	ck_assert_str_eq(FMT(fmt_bytes, 1023), "1023 B");
	ck_assert_str_eq(FMT(fmt_bytes, 1024), "1.0 KiB");
	ck_assert_str_eq(FMT(fmt_bytes, 1536), "1.5 KiB");
	ck_assert_str_eq(FMT(fmt_bytes, 640ull << 20), "640.0 MiB");
	ck_assert_str_eq(FMT(fmt_bytes, (1ull << 30) + (1ull << 28)), "1.2 GiB");
	/* Rounding never prints 1024.0 of a unit: it is one of the next. */
	ck_assert_str_eq(FMT(fmt_bytes, (1ull << 30) - 1), "1.0 GiB");
	ck_assert_str_eq(FMT(fmt_bytes, (1023ull << 20) + (900ull << 10)), "1023.9 MiB");
	ck_assert_str_eq(FMT(fmt_bytes, UINT64_MAX), "16.0 EiB");
}
END_TEST

START_TEST(test_rate)
{
	ck_assert_str_eq(FMT(fmt_rate, 640ull << 20, 0), "-");
	ck_assert_str_eq(FMT(fmt_rate, 0, 1000), "0.0 B/s");
	ck_assert_str_eq(FMT(fmt_rate, 500, 1000), "500 B/s");
	ck_assert_str_eq(FMT(fmt_rate, 812ull << 20, 1000), "812 MiB/s");
	ck_assert_str_eq(FMT(fmt_rate, 640ull << 20, 800), "800 MiB/s");
	ck_assert_str_eq(FMT(fmt_rate, 453ull << 20, 10000), "45.3 MiB/s");
	ck_assert_str_eq(FMT(fmt_rate, 3ull << 30, 2000), "1.5 GiB/s");
	/* Just under 1024 MiB/s rounds to the next unit, not to "1024 MiB/s". */
	ck_assert_str_eq(FMT(fmt_rate, (1023ull << 20) + (700ull << 10), 1000), "1.0 GiB/s");
}
END_TEST

START_TEST(test_duration_and_time)
{
	ck_assert_str_eq(FMT(fmt_duration_ms, 0), "0.0 s");
	ck_assert_str_eq(FMT(fmt_duration_ms, 3149), "3.1 s");
	ck_assert_str_eq(FMT(fmt_duration_ms, 59900), "59.9 s");
	ck_assert_str_eq(FMT(fmt_duration_ms, 65000), "1 min 05 s");
	ck_assert_str_eq(FMT(fmt_duration_ms, 3660000), "61 min 00 s");
	ck_assert_str_eq(FMT(fmt_utc_time, 0), "1970-01-01T00:00:00Z");
	ck_assert_str_eq(FMT(fmt_utc_time, 1796305135), "2026-12-03T13:38:55Z");
}
END_TEST

START_TEST(test_peer_line)
{
	struct peer_line in = { .id = 3, .pid = 1234, .prog = "sleeper", .host = "h1",
				.state = "RUNNING", .uniquepid = "7f01-1234-5",
				.image = "/ck/ckpt_sleeper_7f01-1234-5.dmtcp", .image_size = 4096,
				.image_time = 1796305135 };
	struct peer_line out;
	char line[512], copy[512];

	peer_line_format(line, sizeof(line), &in);
	ck_assert_str_eq(line, "3\tsleeper\t1234\th1\tRUNNING\t7f01-1234-5\t"
			       "/ck/ckpt_sleeper_7f01-1234-5.dmtcp\t4096\t1796305135");
	ck_assert_int_eq(peer_line_parse(line, copy, sizeof(copy), &out), 0);
	ck_assert_uint_eq(out.id, 3);
	ck_assert_uint_eq(out.pid, 1234);
	ck_assert_str_eq(out.prog, "sleeper");
	ck_assert_str_eq(out.host, "h1");
	ck_assert_str_eq(out.state, "RUNNING");
	ck_assert_str_eq(out.uniquepid, "7f01-1234-5");
	ck_assert_str_eq(out.image, in.image);
	ck_assert_int_eq(out.image_size, 4096);
	ck_assert_int_eq(out.image_time, 1796305135);
	ck_assert_str_eq(fmt_peer_text(line, sizeof(line), &out),
			 "3, sleeper[1234]@h1, RUNNING, 7f01-1234-5, "
			 "/ck/ckpt_sleeper_7f01-1234-5.dmtcp (4.0 KiB, 2026-12-03T13:38:55Z)");

	/* A size that was not reported stays unknown: empty on the wire, not 0. */
	in.image_size = -1;
	peer_line_format(line, sizeof(line), &in);
	ck_assert_ptr_nonnull(strstr(line, ".dmtcp\t\t1796305135"));
	ck_assert_int_eq(peer_line_parse(line, copy, sizeof(copy), &out), 0);
	ck_assert_int_eq(out.image_size, -1);
	ck_assert_int_eq(out.image_time, 1796305135);
	ck_assert_ptr_nonnull(strstr(fmt_peer_text(line, sizeof(line), &out), "(size unknown, "));

	/* No image yet: three empty fields; the first six are as they always were. */
	in.image = NULL;
	peer_line_format(line, sizeof(line), &in);
	ck_assert_str_eq(line, "3\tsleeper\t1234\th1\tRUNNING\t7f01-1234-5\t\t\t");
	ck_assert_int_eq(peer_line_parse(line, copy, sizeof(copy), &out), 0);
	ck_assert_ptr_null(out.image);
	ck_assert_int_eq(out.image_size, -1);
	ck_assert_int_eq(out.image_time, -1);
	ck_assert_str_eq(fmt_peer_text(line, sizeof(line), &out),
			 "3, sleeper[1234]@h1, RUNNING, 7f01-1234-5");

	/* An older coordinator's six fields; empty fields are kept in place (strtok would not). */
	ck_assert_int_eq(peer_line_parse("1\tp\t2\th\tSTOPPED\tu", copy, sizeof(copy), &out), 0);
	ck_assert_str_eq(out.uniquepid, "u");
	ck_assert_ptr_null(out.image);
	ck_assert_int_eq(peer_line_parse("1\t\t2\th\tS\tu\t/i\tx\t", copy, sizeof(copy), &out), 0);
	ck_assert_str_eq(out.prog, "");
	ck_assert_str_eq(out.host, "h");
	ck_assert_str_eq(out.image, "/i");
	ck_assert_int_eq(out.image_size, -1); /* malformed reads as unknown */
	ck_assert_int_eq(out.image_time, -1);
	ck_assert_int_eq(peer_line_parse("1\tp\t2\th\tS", copy, sizeof(copy), &out), -EINVAL);
	ck_assert_int_eq(peer_line_parse("1\tp\t2\th\tS\tu", copy, 5, &out), -EINVAL);
}
END_TEST

START_TEST(test_progress_fields)
{
	struct ckpt_progress p = { .generation = 2, .done = 1, .total = 3,
				   .bytes = 640ll << 20, .elapsed_ms = 800 };
	struct ckpt_progress q;
	struct proto_msg m;
	struct proto_in in;
	const char *why;
	uint8_t *payload;
	char buf[128];

	ck_assert_str_eq(fmt_ckpt_line(buf, sizeof(buf), &p),
			 "checkpoint 2: 1/3 processes, 640.0 MiB written, 800 MiB/s");
	ck_assert_str_eq(fmt_ckpt_status(buf, sizeof(buf), &p),
			 "1/3 processes, 640.0 MiB written, 0.8 s");
	/* Cut short, still terminated. */
	ck_assert_str_eq(fmt_ckpt_line(buf, 12, &p), "checkpoint ");

	/* Through a message and back, without bytes: they stay unknown. */
	p.bytes = -1;
	p.elapsed_ms = 3100;
	proto_msg_init(&m, MSG_COMMAND_REPLY);
	ckpt_progress_put(&m, &p);
	ck_assert_int_eq(proto_finish(&m), 0);
	payload = malloc(m.len - PROTO_HDR_SIZE + 1);
	memcpy(payload, m.buf + PROTO_HDR_SIZE, m.len - PROTO_HDR_SIZE);
	ck_assert_int_eq(proto_parse(MSG_COMMAND_REPLY, payload, m.len - PROTO_HDR_SIZE, &in, &why),
			 0);
	ck_assert(ckpt_progress_get(&in, &q));
	ck_assert_int_eq(q.bytes, -1);
	ck_assert_uint_eq(q.generation, 2);
	ck_assert_uint_eq(q.total, 3);
	ck_assert_uint_eq(q.elapsed_ms, 3100);
	ck_assert_str_eq(fmt_ckpt_line(buf, sizeof(buf), &q), "checkpoint 2: 1/3 processes, 3.1 s");
	ck_assert_str_eq(fmt_ckpt_status(buf, sizeof(buf), &q), "1/3 processes, 3.1 s");
	proto_in_free(&in);
	proto_msg_free(&m);

	/* No checkpoint running: no F_CKPT_TOTAL. */
	proto_msg_init(&m, MSG_COMMAND_REPLY);
	proto_put_u64(&m, F_STATUS, 0);
	proto_finish(&m);
	payload = malloc(m.len - PROTO_HDR_SIZE + 1);
	memcpy(payload, m.buf + PROTO_HDR_SIZE, m.len - PROTO_HDR_SIZE);
	ck_assert_int_eq(proto_parse(MSG_COMMAND_REPLY, payload, m.len - PROTO_HDR_SIZE, &in, &why),
			 0);
	ck_assert(!ckpt_progress_get(&in, &q));
	proto_in_free(&in);
	proto_msg_free(&m);
}
END_TEST

START_TEST(test_waiting_line)
{
	struct wait_hold h[] = {
		{ "a", 1, "h1", "in a disabled-checkpoint section" },
		{ "b", 2, "h2", NULL },
		{ "c", 3, "h1", "" },
		{ "d", 4, "h1", "line\none" },
		{ "e", 5, "h1", NULL },
	};
	char buf[512];

	ck_assert_str_eq(fmt_waiting(buf, sizeof(buf), "checkpoint 3", "checkpoint", 1, h + 1, 1),
			 "checkpoint 3 at barrier checkpoint: waiting for 1 of 1 process: b[2]@h2");
	ck_assert_str_eq(fmt_waiting(buf, sizeof(buf), "checkpoint 3", "suspend", 3, h, 2),
			 "checkpoint 3 at barrier suspend: waiting for 2 of 3 processes: "
			 "a[1]@h1 (in a disabled-checkpoint section), b[2]@h2");
	/* At most WAIT_MAX_NAMED named; a reason is kept on one line. */
	ck_assert_str_eq(fmt_waiting(buf, sizeof(buf), "restart", "refill", 9, h + 1, 7),
			 "restart at barrier refill: waiting for 7 of 9 processes: b[2]@h2, "
			 "c[3]@h1, d[4]@h1 (line one), e[5]@h1 and 3 more");
	ck_assert_uint_eq(strlen(fmt_waiting(buf, 20, "checkpoint 3", "suspend", 3, h, 2)), 19);
}
END_TEST

/* ---- the coordinator's bookkeeping on a hand-built computation ----------------------------- */

static struct conn *add_peer(struct coord *co, uint64_t id, const char *prog, uint64_t pid)
{
	struct conn *c = calloc(1, sizeof(*c)), **pp;

	c->role = ROLE_PEER;
	c->id = id;
	c->pid = pid;
	snprintf(c->prog, sizeof(c->prog), "%s", prog);
	snprintf(c->host, sizeof(c->host), "h");
	snprintf(c->state, sizeof(c->state), "RUNNING");
	c->sent_upto = -1;
	coord_progress_init_peer(c);
	for (pp = &co->conns; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	return c;
}

static void free_peers(struct coord *co)
{
	while (co->conns) {
		struct conn *c = co->conns;

		co->conns = c->next;
		free(c->image);
		free(c->last_image);
		free(c);
	}
}

/* A BARRIER_DONE of 'checkpoint' with (or without, size < 0) F_IMAGE_SIZE. */
static void image_answer(struct conn *c, const char *path, int64_t size)
{
	struct proto_msg m;
	struct proto_in in;
	const char *why;
	uint8_t *payload;

	proto_msg_init(&m, MSG_BARRIER_DONE);
	if (size >= 0)
		proto_put_u64(&m, F_IMAGE_SIZE, (uint64_t)size);
	proto_finish(&m);
	payload = malloc(m.len - PROTO_HDR_SIZE + 1);
	memcpy(payload, m.buf + PROTO_HDR_SIZE, m.len - PROTO_HDR_SIZE);
	ck_assert_int_eq(proto_parse(MSG_BARRIER_DONE, payload, m.len - PROTO_HDR_SIZE, &in, &why),
			 0);
	c->image = strdup(path);
	coord_progress_image(c, &in);
	proto_in_free(&in);
	proto_msg_free(&m);
}

static const char *const seq[] = { BARRIER_SUSPEND, BARRIER_DRAIN, BARRIER_CHECKPOINT,
				   BARRIER_COMMIT, BARRIER_REFILL, BARRIER_RESUME };

START_TEST(test_coord_progress)
{
	struct coord co = { 0 };
	struct ckpt_progress p;
	struct conn *a, *b, *c;
	char line[512];

	a = add_peer(&co, 1, "a", 11);
	b = add_peer(&co, 2, "b", 12);
	c = add_peer(&co, 3, "c", 13);
	ck_assert(!coord_progress_get(&co, &p));
	ck_assert(!coord_waiting_line(&co, line, sizeof(line)));

	co.run.kind = RUN_CKPT;
	co.run.seq = seq;
	co.run.nseq = 6;
	co.run.idx = 2;
	co.run.generation = 4;
	co.run.start_ms = mono_now_ms() - 1500;
	for (struct conn *x = co.conns; x; x = x->next)
		x->in_run = true;

	/* Nobody reported bytes: unknown, not 0. */
	ck_assert(coord_progress_get(&co, &p));
	ck_assert_uint_eq(p.generation, 4);
	ck_assert_uint_eq(p.done, 0);
	ck_assert_uint_eq(p.total, 3);
	ck_assert_int_eq(p.bytes, -1);
	ck_assert_uint_ge(p.elapsed_ms, 1500);

	/* a is done with a known size, b reports progress (a stale generation is ignored), c
	 * says why it is late. */
	image_answer(a, "/ck/a.dmtcp", 1000);
	a->done = true;
	coord_progress_bytes(&co, b, 3, 999999);
	coord_progress_bytes(&co, b, 4, 250);
	snprintf(c->waiting, sizeof(c->waiting), "running a hook");
	ck_assert(coord_progress_get(&co, &p));
	ck_assert_uint_eq(p.done, 1);
	ck_assert_int_eq(p.bytes, 1250);
	ck_assert(coord_waiting_line(&co, line, sizeof(line)));
	ck_assert_str_eq(line, "checkpoint 4 at barrier checkpoint: waiting for 2 of 3 processes: "
			       "c[13]@h (running a hook), b[12]@h");

	/* b finishes without a size: its last progress counts; progress after the answer is
	 * ignored. */
	image_answer(b, "/ck/b.dmtcp", -1);
	b->done = true;
	coord_progress_bytes(&co, b, 4, 999999);
	ck_assert(coord_progress_get(&co, &p));
	ck_assert_uint_eq(p.done, 2);
	ck_assert_int_eq(p.bytes, 1250);

	image_answer(c, "/ck/c.dmtcp", 30);
	c->done = true;
	ck_assert(!coord_waiting_line(&co, line, sizeof(line)));

	/* Commit: each image becomes its process's last one, with its size when known. */
	coord_progress_commit(&co);
	ck_assert_str_eq(a->last_image, "/ck/a.dmtcp");
	ck_assert_int_eq(a->last_image_size, 1000);
	ck_assert_int_eq(b->last_image_size, -1);
	ck_assert_int_ge(b->last_image_time, 1);
	ck_assert_ptr_null(a->image);

	/* An abort says so in the waiting line, and is the last error until a success. */
	co.run.aborting = true;
	snprintf(co.run.why, sizeof(co.run.why), "peer 2 (b pid 12) left during barrier drain");
	b->done = false;
	ck_assert(coord_waiting_line(&co, line, sizeof(line)));
	ck_assert_str_eq(line, "checkpoint 4 aborting (peer 2 (b pid 12) left during barrier "
			       "drain) at barrier abort: waiting for 1 of 3 processes: b[12]@h");
	coord_progress_failed(&co, "checkpoint %d aborted: %s", 4, "disk\nfull");
	ck_assert_str_eq(co.last_error, "checkpoint 4 aborted: disk full");
	coord_progress_succeeded(&co);
	ck_assert_str_eq(co.last_error, "");

	/* A restart gathering its processes waits for the missing ones. */
	memset(&co.run, 0, sizeof(co.run));
	co.state = CS_RESTARTING;
	co.num_expected = 5;
	snprintf(co.compid, sizeof(co.compid), "7f-1-2");
	a->restarted = b->restarted = true;
	ck_assert(coord_waiting_line(&co, line, sizeof(line)));
	ck_assert_str_eq(line, "restart of computation 7f-1-2: waiting for 3 of 5 processes to "
			       "connect");
	free_peers(&co);
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("status_fmt");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, test_bytes);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_duration_and_time);
	tcase_add_test(tc, test_peer_line);
	tcase_add_test(tc, test_progress_fields);
	tcase_add_test(tc, test_waiting_line);
	tcase_add_test(tc, test_coord_progress);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(status_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
