/*
 * mtcp_restart: restore one process from its image, standalone: no coordinator, no tracer.
 *
 * The process comes back as our grandchild (under the reaper of prepare_tree) with its saved
 * pid, here or in a new PID namespace, and we exit with its exit status. Everything before
 * its release is validated and undoable, so a bad image leaves nothing behind and exits with
 * DMTCP_FAIL_RC.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "restart/restart_opts.h"
#include "restart/restart_proc.h"

int main(int argc, char **argv)
{
	struct restart_opts o;
	struct restart_ctx c;
	int r, idx, err, code;

	log_set_prog("mtcp_restart");
	if (mtcp_parse_opts(argc, argv, &o)) {
		fprintf(stderr, "mtcp_restart: %s\n", o.err);
		mtcp_usage(stderr, "mtcp_restart");
		return fail_rc();
	}
	if (o.action == RESTART_HELP) {
		mtcp_usage(stdout, "mtcp_restart");
		return 0;
	}
	if (o.action == RESTART_VERSION) {
		printf("mtcp_restart %s\n", DMTCP_VERSION);
		return 0;
	}
	if (log_opts_apply(&o.log)) {
		fprintf(stderr, "%s: %s\n", log_prog(), o.log.err);
		return fail_rc();
	}
	/* A terminal signal meant for the program must not kill us before it. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	r = restart_prepare(&c, o.images, 1, !o.no_strict, 0);
	if (!r)
		r = restart_create(&c);
	if (r) {
		restart_ctx_free(&c);
		return fail_rc();
	}
	prepare_tree_release(&c.tree, -1);
	for (;;) {
		r = prepare_tree_wait_report(&c.tree, -1, &idx, &err);
		if (r == 2)
			break;
		if (r == 1 && err < 0) {
			/* It failed before its point of no return: nothing of it runs. */
			restart_ctx_free(&c);
			return fail_rc();
		}
		if (r < 0) {
			pr_err("lost the restored process: %s", strerror(-r));
			restart_ctx_free(&c);
			return fail_rc();
		}
	}
	code = restart_exit_code(c.tree.main_status);
	/* Nothing to undo: just let go of our ends. */
	prepare_tree_free(&c.tree);
	prepare_image_shm_free(&c.shm);
	prepare_fds_free(&c.fds);
	restart_set_free(&c.set);
	return code;
}
