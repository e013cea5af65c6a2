/*
 * The forms of the coordinator's status that both sides read or write, kept in one place so
 * that the coordinator (its stdin commands, the --status-file) and dmtcp_command print the same
 * thing: the F_PEER line of the list, the running checkpoint's progress fields, the one-line
 * waiting reason, and their text. Pure functions: no state, no I/O (unit-tested).
 */
#ifndef DMTCP_STATUS_FMT_H
#define DMTCP_STATUS_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * F_PEER: "id\tprog\tpid\thost\tstate\tuniquepid\timage\timage_size\timage_time". The first six
 * are as they always were (older readers split six); the last three describe the last
 * committed image of the process and are empty when unknown: no image committed yet (image,
 * image_time), or a tracer that did not report the size (image_size). image_time is in seconds
 * since the epoch (UTC). No field holds a tab or a control character (the coordinator
 * replaces them in names and refuses them in image paths).
 */
struct peer_line {
	uint64_t id, pid;
	const char *prog, *host, *state, *uniquepid;
	const char *image;  /* NULL: no committed image */
	int64_t image_size; /* bytes; -1: not reported */
	int64_t image_time; /* seconds since the epoch; -1: no committed image */
};

/* Returns what snprintf returns. */
int peer_line_format(char *buf, size_t n, const struct peer_line *p);
/* Parses line into p, whose strings point into copy (n bytes). Returns 0, or -EINVAL when the
 * line has fewer than six fields. Missing or malformed image fields read as unknown. */
int peer_line_parse(const char *line, char *copy, size_t n, struct peer_line *p);

/* The list's text line: "1, prog[123]@host, RUNNING, <uniquepid>", then, once the process
 * has a committed image, ", <image> (12.3 MiB, 2026-12-03T13:38:55Z)" ("size unknown" when
 * the size was not reported). */
char *fmt_peer_text(char *buf, size_t n, const struct peer_line *p);

/* A running checkpoint, as the status reply carries it (F_GENERATION, F_CKPT_*). */
struct ckpt_progress {
	uint64_t generation;
	uint64_t done;	     /* processes whose image is written */
	uint64_t total;	     /* processes taking part */
	int64_t bytes;	     /* image bytes written so far; -1: no process reported any */
	uint64_t elapsed_ms;
};

void ckpt_progress_put(struct proto_msg *m, const struct ckpt_progress *p);
/* false when the reply carries no running checkpoint. */
bool ckpt_progress_get(const struct proto_in *in, struct ckpt_progress *p);
/* The CKPT_PROGRESS= value: "2/3 processes, 1.2 GiB written, 4.1 s" (no bytes if unknown). */
char *fmt_ckpt_status(char *buf, size_t n, const struct ckpt_progress *p);
/* The progress line of dmtcp_command -bc: "checkpoint 2: 1/3 processes, 640.0 MiB written,
 * 812 MiB/s", or "checkpoint 2: 1/3 processes, 3.1 s" while no size is known. */
char *fmt_ckpt_line(char *buf, size_t n, const struct ckpt_progress *p);

/* One process that a barrier waits for, and why (NULL: it gave no reason). */
struct wait_hold {
	const char *prog;
	uint64_t pid;
	const char *host;
	const char *why;
};

/*
 * The WAITING line: "<what> at barrier <barrier>: waiting for 2 of 3 processes: a[1]@h,
 * b[2]@h (in a disabled-checkpoint section)". At most WAIT_MAX_NAMED processes are named, then
 * "and N more". Always one line; truncated to n.
 */
#define WAIT_MAX_NAMED 4
char *fmt_waiting(char *buf, size_t n, const char *what, const char *barrier, uint64_t total,
		  const struct wait_hold *h, uint64_t nh);

#endif
