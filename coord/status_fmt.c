/*
 * The status forms shared by the coordinator and dmtcp_command (see status_fmt.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status_fmt.h"
#include "units.h"

/* Appending to a fixed buffer: output past the end is dropped, the string stays terminated. */
struct sbuf {
	char *p;
	size_t n, len;
};

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (b->len + 1 >= b->n)
		return;
	va_start(ap, fmt);
	r = vsnprintf(b->p + b->len, b->n - b->len, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	b->len += (size_t)r;
	if (b->len >= b->n)
		b->len = b->n - 1;
}

/* ---- F_PEER ------------------------------------------------------------------------------ */

int peer_line_format(char *buf, size_t n, const struct peer_line *p)
{
	char size[24] = "", when[24] = "";

	if (p->image && p->image_size >= 0)
		snprintf(size, sizeof(size), "%lld", (long long)p->image_size);
	if (p->image && p->image_time >= 0)
		snprintf(when, sizeof(when), "%lld", (long long)p->image_time);
	return snprintf(buf, n, "%llu\t%s\t%llu\t%s\t%s\t%s\t%s\t%s\t%s", (unsigned long long)p->id,
			p->prog, (unsigned long long)p->pid, p->host, p->state, p->uniquepid,
			p->image ? p->image : "", size, when);
}

/* A non-negative decimal number filling s; -1 for "" or anything else. */
static int64_t parse_i64(const char *s)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno)
		return -1;
	return v;
}

int peer_line_parse(const char *line, char *copy, size_t n, struct peer_line *p)
{
	char *field[9] = { NULL };
	char *s = copy;
	int k = 0;
	int64_t v;

	memset(p, 0, sizeof(*p));
	p->image_size = p->image_time = -1;
	if (n == 0 || (size_t)snprintf(copy, n, "%s", line) >= n)
		return -EINVAL;
	/* Split on every tab, keeping empty fields (strtok would merge them). */
	while (k < 9) {
		char *tab = strchr(s, '\t');

		field[k++] = s;
		if (!tab)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	if (k < 6)
		return -EINVAL;
	v = parse_i64(field[0]);
	p->id = v < 0 ? 0 : (uint64_t)v;
	p->prog = field[1];
	v = parse_i64(field[2]);
	p->pid = v < 0 ? 0 : (uint64_t)v;
	p->host = field[3];
	p->state = field[4];
	p->uniquepid = field[5];
	if (k > 6 && *field[6]) {
		p->image = field[6];
		if (k > 7)
			p->image_size = parse_i64(field[7]);
		if (k > 8)
			p->image_time = parse_i64(field[8]);
	}
	return 0;
}

char *fmt_peer_text(char *buf, size_t n, const struct peer_line *p)
{
	struct sbuf b = { buf, n, 0 };
	char size[32], when[32];

	if (n)
		buf[0] = '\0';
	sb_printf(&b, "%llu, %s[%llu]@%s, %s, %s", (unsigned long long)p->id, p->prog,
		  (unsigned long long)p->pid, p->host, p->state, p->uniquepid);
	if (p->image)
		sb_printf(&b, ", %s (%s, %s)", p->image,
			  p->image_size >= 0 ? fmt_bytes(size, sizeof(size), (uint64_t)p->image_size)
					     : "size unknown",
			  p->image_time >= 0 ? fmt_utc_time(when, sizeof(when), p->image_time)
					     : "time unknown");
	return buf;
}

/* ---- the running checkpoint --------------------------------------------------------------- */

void ckpt_progress_put(struct proto_msg *m, const struct ckpt_progress *p)
{
	proto_put_u64(m, F_GENERATION, p->generation);
	proto_put_u64(m, F_CKPT_DONE, p->done);
	proto_put_u64(m, F_CKPT_TOTAL, p->total);
	if (p->bytes >= 0)
		proto_put_u64(m, F_CKPT_BYTES, (uint64_t)p->bytes);
	proto_put_u64(m, F_CKPT_ELAPSED_MS, p->elapsed_ms);
}

bool ckpt_progress_get(const struct proto_in *in, struct ckpt_progress *p)
{
	uint64_t v;

	memset(p, 0, sizeof(*p));
	p->bytes = -1;
	if (proto_get_u64(in, F_CKPT_TOTAL, &p->total))
		return false;
	proto_get_u64(in, F_GENERATION, &p->generation);
	proto_get_u64(in, F_CKPT_DONE, &p->done);
	proto_get_u64(in, F_CKPT_ELAPSED_MS, &p->elapsed_ms);
	if (!proto_get_u64(in, F_CKPT_BYTES, &v) && v <= INT64_MAX)
		p->bytes = (int64_t)v;
	return true;
}

char *fmt_ckpt_status(char *buf, size_t n, const struct ckpt_progress *p)
{
	struct sbuf b = { buf, n, 0 };
	char size[32], dur[32];

	if (n)
		buf[0] = '\0';
	sb_printf(&b, "%llu/%llu processes", (unsigned long long)p->done,
		  (unsigned long long)p->total);
	if (p->bytes >= 0)
		sb_printf(&b, ", %s written", fmt_bytes(size, sizeof(size), (uint64_t)p->bytes));
	sb_printf(&b, ", %s", fmt_duration_ms(dur, sizeof(dur), p->elapsed_ms));
	return buf;
}

char *fmt_ckpt_line(char *buf, size_t n, const struct ckpt_progress *p)
{
	struct sbuf b = { buf, n, 0 };
	char size[32], rate[32], dur[32];

	if (n)
		buf[0] = '\0';
	sb_printf(&b, "checkpoint %llu: %llu/%llu processes", (unsigned long long)p->generation,
		  (unsigned long long)p->done, (unsigned long long)p->total);
	if (p->bytes >= 0)
		sb_printf(&b, ", %s written, %s", fmt_bytes(size, sizeof(size), (uint64_t)p->bytes),
			  fmt_rate(rate, sizeof(rate), (uint64_t)p->bytes, p->elapsed_ms));
	else
		sb_printf(&b, ", %s", fmt_duration_ms(dur, sizeof(dur), p->elapsed_ms));
	return buf;
}

/* ---- why it waits ------------------------------------------------------------------------- */

char *fmt_waiting(char *buf, size_t n, const char *what, const char *barrier, uint64_t total,
		  const struct wait_hold *h, uint64_t nh)
{
	struct sbuf b = { buf, n, 0 };

	if (n)
		buf[0] = '\0';
	sb_printf(&b, "%s at barrier %s: waiting for %llu of %llu process%s", what, barrier,
		  (unsigned long long)nh, (unsigned long long)total, total == 1 ? "" : "es");
	for (uint64_t i = 0; i < nh && i < WAIT_MAX_NAMED; i++) {
		sb_printf(&b, "%s%s[%llu]@%s", i ? ", " : ": ", h[i].prog,
			  (unsigned long long)h[i].pid, h[i].host);
		if (h[i].why && *h[i].why)
			sb_printf(&b, " (%s)", h[i].why);
	}
	if (nh > WAIT_MAX_NAMED)
		sb_printf(&b, " and %llu more", (unsigned long long)(nh - WAIT_MAX_NAMED));
	/* One line, whatever a peer put in its reason. */
	for (char *s = buf; n && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
	return buf;
}
