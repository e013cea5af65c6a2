/*
 * dmtcp_restart: restart a computation from its images.
 *
 * This first version only inspects: `dmtcp_restart --show IMG...` validates each image
 * (container checksums, then every content section) and prints its header, process, threads,
 * signals, fds, files and memory map as text. Every other invocation says that restarting is
 * not available yet and exits with DMTCP_FAIL_RC. The restart side replaces this file.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ckpt_show.h"
#include "image.h"
#include "log.h"
#include "restart_opts.h"

int main(int argc, char **argv)
{
	struct restart_opts o;
	int i, bad = 0;

	log_set_prog("dmtcp_restart");
	if (restart_parse_opts(argc, argv, &o)) {
		fprintf(stderr, "dmtcp_restart: %s\n", o.err);
		restart_usage(stderr, "dmtcp_restart");
		return fail_rc();
	}
	switch (o.action) {
	case RESTART_HELP:
		restart_usage(stdout, "dmtcp_restart");
		return 0;
	case RESTART_VERSION:
		printf("dmtcp_restart %s\n", DMTCP_VERSION);
		return 0;
	case RESTART_SHOW:
		if (ckpt_show(stdout, o.show, IMAGE_SHOW_RUNS))
			bad++;
		for (i = 0; i < o.nimages; i++) {
			putchar('\n');
			if (ckpt_show(stdout, o.images[i], IMAGE_SHOW_RUNS))
				bad++;
		}
		fflush(stdout);
		return bad ? fail_rc() : 0;
	case RESTART_RUN:
		break;
	}
	pr_err("restarting is not available yet in this build; only --show IMG works");
	return fail_rc();
}
