/*
 * Command-line options of dmtcp_restart and mtcp_restart, parsed the way DMTCP's commands
 * parse them, so that scripts written for DMTCP (and the restart script our coordinator
 * writes) work unchanged. Parsing is kept apart from the command mains so that it can be unit
 * tested; it never exits, it returns -EINVAL with the reason in opts->err.
 */
#ifndef DMTCP_RESTART_OPTS_H
#define DMTCP_RESTART_OPTS_H

#include <stdio.h>

#include "coordclient.h"
#include "log.h"

enum restart_action {
	RESTART_RUN = 0, /* restart the images */
	RESTART_HELP,	 /* --help: print usage, exit 0 */
	RESTART_VERSION, /* --version */
	RESTART_SHOW,	 /* --show IMG: describe one image and exit */
};

struct restart_opts {
	enum restart_action action;
	struct coord_opts coord;
	struct log_opts log;	 /* -q, --log-level, --log-file and their variables */
	const char *restartdir;	 /* -r/--restartdir: every ckpt_*.dmtcp in it */
	const char *tmpdir;	 /* --tmpdir (accepted for DMTCP compatibility) */
	int no_strict;		 /* --no-strict-checking: skip the image-owner check */
	int quiet;		 /* -q count */
	int force_newns;	 /* --pid-namespace (ours): always restore in a new PID namespace */
	const char *show;	 /* --show IMG */
	int json;		 /* --json (with --show only): the images as one JSON document */
	char **images;		 /* the IMG arguments, in argv order (points into argv) */
	int nimages;
	char err[256];		 /* what was wrong, when parsing returns -EINVAL */
};

/* Parse dmtcp_restart's argv. Defaults come from the environment (coord_opts_from_env()). */
int restart_parse_opts(int argc, char **argv, struct restart_opts *o);
void restart_usage(FILE *f, const char *prog);

/* mtcp_restart: "[--no-strict-checking] [-q] IMG" (and --help/--version). */
int mtcp_parse_opts(int argc, char **argv, struct restart_opts *o);
void mtcp_usage(FILE *f, const char *prog);

#endif
