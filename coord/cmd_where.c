/*
 * dmtcp_command --where: reading and printing the answer (see cmd_where.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_where.h"
#include "json.h"
#include "status_fmt.h"
#include "where_line.h"

int cmd_where_recv(int fd, struct where_answer *a, struct proto_in *end, int timeout_ms,
		   const char **why)
{
	for (;;) {
		struct proto_in in;
		int ret = proto_recv(fd, &in, timeout_ms, why);

		if (ret)
			return ret;
		if (in.type != MSG_WHERE_PART) {
			*end = in;
			return 0;
		}
		if (a->n == a->cap) {
			int cap = a->cap ? a->cap * 2 : 16;
			struct proto_in *np = realloc(a->parts, (size_t)cap * sizeof(*np));

			if (!np) {
				proto_in_free(&in);
				*why = "out of memory";
				return -ENOMEM;
			}
			a->parts = np;
			a->cap = cap;
		}
		a->parts[a->n++] = in;
	}
}

void cmd_where_free(struct where_answer *a)
{
	for (int i = 0; i < a->n; i++)
		proto_in_free(&a->parts[i]);
	free(a->parts);
	memset(a, 0, sizeof(*a));
}

/* One process of the answer, as its part says. */
struct where_proc {
	struct peer_line pl;
	char pl_copy[PROTO_MAX_STR + 1];
	int64_t status;
	const char *reason; /* when status != 0 */
	const char *note;   /* NULL: none */
};

static int get_proc(const struct proto_in *in, struct where_proc *wp)
{
	const char *line = proto_get_str(in, F_PEER);
	uint64_t st = (uint64_t)(int64_t)-EPROTO;

	if (!line || peer_line_parse(line, wp->pl_copy, sizeof(wp->pl_copy), &wp->pl))
		return -EINVAL;
	proto_get_u64(in, F_STATUS, &st);
	wp->status = (int64_t)st;
	wp->reason = proto_get_str(in, F_REASON);
	if (wp->status && !wp->reason)
		wp->reason = strerror((int)-wp->status);
	wp->note = proto_get_str(in, F_NOTE);
	if (wp->note && !*wp->note)
		wp->note = NULL;
	return 0;
}

/* s as text for a terminal: a control character becomes '?' (a tracer that is not ours could
 * send anything). */
static void put_safe(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* "pid 1234 (prog)", and " on HOST" when the process runs on another host than the
 * coordinator. */
static void put_proc(FILE *f, const struct where_proc *wp, const char *coord_host)
{
	fprintf(f, "pid %llu (", (unsigned long long)wp->pl.pid);
	put_safe(f, wp->pl.prog);
	fputc(')', f);
	if (coord_host && strcmp(coord_host, wp->pl.host)) {
		fputs(" on ", f);
		put_safe(f, wp->pl.host);
	}
}

/* Call fn for every frame line of thread tid, in the order they came (innermost first). */
static void each_frame(const struct proto_in *in, uint64_t tid,
		       void (*fn)(const struct where_frame *wf, void *arg), void *arg)
{
	char copy[PROTO_MAX_STR + 1];
	struct where_frame wf;
	uint32_t pos = 0;
	const char *line;

	while ((line = proto_next_str(in, F_FRAME, &pos)))
		if (!where_frame_parse(line, copy, sizeof(copy), &wf) && wf.tid == tid)
			fn(&wf, arg);
}

/* Call fn for each F_THREAD line of a process's answer that parses. */
static void each_thread(const struct proto_in *in,
			void (*fn)(const struct proto_in *in, const struct where_thread *wt, void *arg),
			void *arg)
{
	char copy[PROTO_MAX_STR + 1];
	struct where_thread wt;
	uint32_t pos = 0;
	const char *line;

	while ((line = proto_next_str(in, F_THREAD, &pos)))
		if (!where_thread_parse(line, copy, sizeof(copy), &wt))
			fn(in, &wt, arg);
}

static void print_frame(const struct where_frame *wf, void *arg)
{
	FILE *f = arg;

	fprintf(f, "  #%u 0x%016llx in ", wf->n, (unsigned long long)wf->ip);
	put_safe(f, wf->func);
	fprintf(f, "+0x%llx (", (unsigned long long)wf->off);
	put_safe(f, wf->obj);
	fputs(")\n", f);
}

struct text_out {
	FILE *f;
	const struct where_proc *wp;
	const char *coord_host;
	int blocks;
};

static void print_thread(const struct proto_in *in, const struct where_thread *wt, void *arg)
{
	struct text_out *o = arg;

	if (o->blocks++)
		fputc('\n', o->f);
	put_proc(o->f, o->wp, o->coord_host);
	fprintf(o->f, " thread %llu (", (unsigned long long)wt->tid);
	put_safe(o->f, wt->name);
	fputs("):", o->f);
	if (*wt->note) {
		fputc(' ', o->f);
		put_safe(o->f, wt->note);
	}
	fputc('\n', o->f);
	each_frame(in, wt->tid, print_frame, o->f);
}

int cmd_where_print(FILE *f, const struct where_answer *a, const struct proto_in *reply)
{
	static struct where_proc wp;
	struct text_out o = { f, &wp, proto_get_str(reply, F_HOST), 0 };
	int failed = 0;

	for (int i = 0; i < a->n; i++) {
		const struct proto_in *in = &a->parts[i];

		if (get_proc(in, &wp))
			continue;
		if (wp.status || wp.note) {
			if (o.blocks++)
				fputc('\n', f);
			put_proc(f, &wp, o.coord_host);
			fputs(": ", f);
			put_safe(f, wp.status ? wp.reason : wp.note);
			fputc('\n', f);
		}
		if (wp.status) {
			failed++;
			continue;
		}
		each_thread(in, print_thread, &o);
	}
	if (fflush(f) || ferror(f))
		return -EIO;
	return failed;
}

static void json_frame(const struct where_frame *wf, void *arg)
{
	struct json_writer *w = arg;

	json_object_begin(w, NULL);
	json_uint(w, "n", wf->n);
	json_hex(w, "ip", wf->ip);
	json_string(w, "function", wf->func);
	json_uint(w, "offset", wf->off);
	json_string(w, "object", wf->obj);
	json_object_end(w);
}

static void json_thread(const struct proto_in *in, const struct where_thread *wt, void *arg)
{
	struct json_writer *w = arg;

	json_object_begin(w, NULL);
	json_uint(w, "tid", wt->tid);
	json_string(w, "name", wt->name);
	json_string(w, "note", *wt->note ? wt->note : NULL);
	json_array_begin(w, "frames");
	each_frame(in, wt->tid, json_frame, w);
	json_array_end(w);
	json_object_end(w);
}

int cmd_where_print_json(FILE *f, const struct where_answer *a, const struct proto_in *reply)
{
	static struct where_proc wp;
	struct json_writer w;
	int failed = 0;

	json_init(&w, f, 0);
	json_object_begin(&w, NULL);
	json_string(&w, "computation_id", proto_get_str(reply, F_COMPID));
	json_string(&w, "host", proto_get_str(reply, F_HOST));
	json_array_begin(&w, "processes");
	for (int i = 0; i < a->n; i++) {
		const struct proto_in *in = &a->parts[i];

		if (get_proc(in, &wp))
			continue;
		failed += wp.status != 0;
		json_object_begin(&w, NULL);
		json_uint(&w, "id", wp.pl.id);
		json_uint(&w, "pid", wp.pl.pid);
		json_string(&w, "prog", wp.pl.prog);
		json_string(&w, "host", wp.pl.host);
		json_string(&w, "state", wp.pl.state);
		json_bool(&w, "answered", wp.status == 0);
		json_string(&w, "error", wp.status ? wp.reason : NULL);
		json_string(&w, "note", wp.note);
		json_array_begin(&w, "threads");
		if (!wp.status)
			each_thread(in, json_thread, &w);
		json_array_end(&w);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_end(&w);
	return json_finish(&w) ? -EIO : failed;
}
