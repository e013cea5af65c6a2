/*
 * One updating line on a terminal for an operation a person waits for (a checkpoint from
 * dmtcp_command -bc, a restart): shown only when the fd is a terminal and the operation has
 * taken more than a second, redrawn in place with a carriage return, cleared at the end.
 * Nothing at all when the fd is not a terminal, so pipes and log files never see it. A text
 * wider than the terminal is cut (a line that wraps cannot be rewritten in place). Sizes and
 * rates in it are written with common/units.h.
 */
#ifndef DMTCP_PROGRESS_H
#define DMTCP_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct progress_line {
	int fd;		 /* -1: not a terminal, nothing is ever drawn */
	long start_ms;	 /* when the operation began */
	long next_ms;	 /* the next redraw is due */
	int drawn;	 /* something is on the line (to clear) */
};

/* Begin an operation whose progress would go to fd (shown only if fd is a terminal). */
void progress_begin(struct progress_line *pl, int fd);
/* Redraw the line with this text (printf format), if more than a second has passed since
 * progress_begin() and the last redraw was long enough ago. */
void progress_show(struct progress_line *pl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Clear the line (if drawn); the operation is over. */
void progress_end(struct progress_line *pl);
/* Milliseconds since progress_begin(). */
long progress_elapsed_ms(const struct progress_line *pl);

#endif
