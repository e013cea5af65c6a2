/*
 * The primitives of the checkpoint content decoders (ckpt_state_dec.c, ckpt_state_dec_files.c):
 * a cursor over a section body whose first failure names the field. Private to those files.
 */
#ifndef DMTCP_CKPT_STATE_DEC_INT_H
#define DMTCP_CKPT_STATE_DEC_INT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_state.h"

/* ---- decoder -------------------------------------------------------------------------- */

struct dec {
	const uint8_t *p;
	size_t len, pos;
	const char *why; /* first failure */
};

/* Failures name the field; the text lives in a static buffer per thread so that *why stays
 * valid after the decoder returns. */
static __thread char why_text[160];

static inline int dec_fail(struct dec *d, const char *what)
{
	if (!d->why) {
		snprintf(why_text, sizeof(why_text), "%s", what);
		d->why = why_text;
	}
	return -EINVAL;
}

static inline int dec_failf(struct dec *d, const char *fmt, unsigned long a, const char *what)
{
	if (!d->why) {
		snprintf(why_text, sizeof(why_text), fmt, a, what);
		d->why = why_text;
	}
	return -EINVAL;
}

static inline void get(struct dec *d, void *v, size_t n, const char *what)
{
	if (d->why) {
		memset(v, 0, n);
		return;
	}
	if (d->len - d->pos < n) {
		memset(v, 0, n);
		snprintf(why_text, sizeof(why_text), "truncated at %s", what);
		d->why = why_text;
		return;
	}
	memcpy(v, d->p + d->pos, n);
	d->pos += n;
}

static inline uint8_t get_u8(struct dec *d, const char *w) { uint8_t v; get(d, &v, 1, w); return v; }
static inline uint16_t get_u16(struct dec *d, const char *w) { uint16_t v; get(d, &v, 2, w); return v; }
static inline uint32_t get_u32(struct dec *d, const char *w) { uint32_t v; get(d, &v, 4, w); return v; }
static inline int32_t get_i32(struct dec *d, const char *w) { int32_t v; get(d, &v, 4, w); return v; }
static inline uint64_t get_u64(struct dec *d, const char *w) { uint64_t v; get(d, &v, 8, w); return v; }

/* A count of elements of at least elem_min bytes each: bounded by max and by what is left. */
/* n zeroed elements of size; NULL when n is 0 or the decoding has failed (or fails here, out
 * of memory). */
static inline void *dec_calloc(struct dec *d, uint32_t n, size_t size)
{
	void *p;

	if (d->why || !n)
		return NULL;
	p = calloc(n, size);
	if (!p)
		dec_fail(d, "out of memory");
	return p;
}

static inline uint32_t get_count(struct dec *d, uint32_t max, size_t elem_min, const char *what)
{
	uint32_t n = get_u32(d, what);

	if (d->why)
		return 0;
	if (n > max) {
		dec_failf(d, "%lu %s is over the limit", n, what);
		return 0;
	}
	if (elem_min && (size_t)n * elem_min > d->len - d->pos) {
		dec_failf(d, "%lu %s do not fit in the section", n, what);
		return 0;
	}
	return n;
}

/* Length-prefixed bytes, copied to a fresh buffer with a NUL after them. */
static inline uint8_t *get_blob(struct dec *d, uint32_t max, uint32_t *lenp, const char *what)
{
	uint32_t n = get_count(d, max, 1, what);
	uint8_t *v;

	*lenp = 0;
	if (d->why)
		return NULL;
	v = malloc((size_t)n + 1);
	if (!v) {
		dec_fail(d, "out of memory");
		return NULL;
	}
	get(d, v, n, what);
	v[n] = 0;
	*lenp = n;
	return v;
}

static inline char *get_str(struct dec *d, const char *what)
{
	uint32_t n;
	char *s = (char *)get_blob(d, CKPT_MAX_PATH, &n, what);

	if (s && memchr(s, 0, n)) {
		dec_failf(d, "%lu-byte %s has a NUL byte inside", n, what);
		free(s);
		return NULL;
	}
	return s;
}

static inline struct ckpt_siginfo *get_siginfos(struct dec *d, uint32_t *np, const char *what)
{
	uint32_t n = get_count(d, CKPT_MAX_SIGINFO, CKPT_SIGINFO_SIZE, what), i;
	struct ckpt_siginfo *si;

	*np = 0;
	if (d->why || n == 0)
		return NULL;
	si = calloc(n, sizeof(*si));
	if (!si) {
		dec_fail(d, "out of memory");
		return NULL;
	}
	get(d, si, (size_t)n * sizeof(*si), what);
	for (i = 0; i < n && !d->why; i++) {
		int32_t signo;

		memcpy(&signo, si[i].raw, 4); /* si_signo is the first int of siginfo_t */
		if (signo < 1 || signo > CKPT_NSIG)
			dec_failf(d, "pending signal number %lu out of range in %s",
				  (unsigned long)(uint32_t)signo, what);
	}
	*np = n;
	return si;
}

static inline int dec_end(struct dec *d, const char **why, const char *sec)
{
	if (!d->why && d->pos != d->len) {
		snprintf(why_text, sizeof(why_text), "%zu trailing bytes in %s section",
			 d->len - d->pos, sec);
		d->why = why_text;
	}
	if (d->why) {
		*why = d->why;
		return -EINVAL;
	}
	return 0;
}

static inline void dec_init(struct dec *d, const uint8_t *buf, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->p = buf;
	d->len = len;
}

static inline int check_comm(struct dec *d, const char *comm, const char *what)
{
	if (!memchr(comm, 0, 16))
		return dec_fail(d, what);
	return 0;
}

#endif
