/*
 * dmtcp_command --where: the answer, read and printed. The coordinator sends one
 * MSG_WHERE_PART per process (its list line, whether it answered, its note, and the F_THREAD /
 * F_FRAME lines of common/where_line.h), then the COMMAND_REPLY; this prints, per process and
 * thread,
 *
 *	pid 1234 (prog) thread 1235 (reader):
 *	  #0 0x00007f3a12345678 in read+0x12 (/usr/lib/x86_64-linux-gnu/libc.so.6)
 *	  #1 ...
 *
 * with a blank line between threads, or the same as one JSON object (--json).
 */
#ifndef DMTCP_CMD_WHERE_H
#define DMTCP_CMD_WHERE_H

#include <stdio.h>

#include "proto.h"

struct where_answer {
	struct proto_in *parts;
	int n, cap;
};

/*
 * Read the parts from fd into a, and the message that ends them into *end (the COMMAND_REPLY,
 * or a REFUSE): each within timeout_ms. Returns 0, or -errno with *why as proto_recv() says.
 */
int cmd_where_recv(int fd, struct where_answer *a, struct proto_in *end, int timeout_ms,
		   const char **why);
void cmd_where_free(struct where_answer *a);

/* Print the answer (reply: its COMMAND_REPLY, for the coordinator's host and computation).
 * Return the number of processes that did not answer (0: every one did), or -EIO when the
 * output could not be written. */
int cmd_where_print(FILE *f, const struct where_answer *a, const struct proto_in *reply);
int cmd_where_print_json(FILE *f, const struct where_answer *a, const struct proto_in *reply);

#endif
