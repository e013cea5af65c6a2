/*
 * api_ckpt: the dmtcp.h API as a program sees it (the program is the oracle).
 *
 *   api_ckpt STOPFILE
 *
 * Prints "enabled E", calls dmtcp_checkpoint() and prints "checkpoint R" with its result,
 * then the local checkpoint count ("done N"); then waits until STOPFILE exists and prints
 * "PASS". Under dmtcp_launch R is 1 (DMTCP_AFTER_CHECKPOINT); in a process restarted from
 * that checkpoint the same call returns again, with 2 (DMTCP_AFTER_RESTART), and the count
 * starts again from 0 under the new tracer; outside dmtcp R is 3 (DMTCP_NOT_PRESENT) and the count is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmtcp.h"

int main(int argc, char **argv)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int enabled, r, done = -1, failed = -1;

	if (argc != 2) {
		fprintf(stderr, "usage: api_ckpt STOPFILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	enabled = dmtcp_is_enabled();
	printf("enabled %d\n", enabled);
	r = dmtcp_checkpoint();
	printf("checkpoint %d%s%s\n", r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
	if (dmtcp_get_local_status(&done, &failed) == 0)
		printf("done %d failed %d\n", done, failed);
	else
		printf("status %s\n", strerror(errno));
	if (enabled && r == DMTCP_AFTER_CHECKPOINT && done != 1)
		printf("FAIL: after a checkpoint the count is %d\n", done);
	while (access(argv[1], F_OK) != 0)
		nanosleep(&tick, NULL);
	printf("PASS\n");
	return 0;
}
