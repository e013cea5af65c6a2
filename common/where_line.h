/*
 * The lines of a --where answer (dmtcp_command --where): one F_THREAD per thread and one
 * F_FRAME per frame of its backtrace, written by the tracer, passed on by the coordinator and
 * read by dmtcp_command. Kept in one place so that the three agree; pure functions, no I/O
 * (unit-tested in check_proto).
 *
 *   F_THREAD  "tid\tname\tnote"                      note: why it has no frames, or ""
 *   F_FRAME   "tid\tn\tip\toffset\tfunction\tobject"  ip, offset in hex ("0x7f3a..."), n from 0
 *
 * No field holds a tab or a control character: the writer puts '?' in their place (a thread
 * name, a symbol or a file name may hold anything).
 */
#ifndef DMTCP_WHERE_LINE_H
#define DMTCP_WHERE_LINE_H

#include <stddef.h>
#include <stdint.h>

struct where_thread {
	uint64_t tid;
	const char *name; /* the thread's comm */
	const char *note; /* "" when the thread was unwound */
};

struct where_frame {
	uint64_t tid;
	uint32_t n;	  /* 0: the innermost frame */
	uint64_t ip;
	uint64_t off;	  /* from the start of func */
	const char *func; /* "??" when unknown */
	const char *obj;  /* the mapping's path, "anonymous" or "?" */
};

/* Each returns what snprintf returns (the line is cut at n). */
int where_thread_format(char *buf, size_t n, const struct where_thread *t);
int where_frame_format(char *buf, size_t n, const struct where_frame *f);

/*
 * Parse line into t (f), whose strings point into copy (n bytes). Return 0, or -EINVAL when
 * the line does not have the form above.
 */
int where_thread_parse(const char *line, char *copy, size_t n, struct where_thread *t);
int where_frame_parse(const char *line, char *copy, size_t n, struct where_frame *f);

#endif
