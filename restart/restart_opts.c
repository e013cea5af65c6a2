/*
 * Option parsing for dmtcp_restart and mtcp_restart (see restart_opts.h).
 *
 * DMTCP's quirks are kept on purpose: -h is --coord-host (not help), --join is an alias of
 * --join-coordinator, and the mode options are last-one-wins as in DMTCP.
 */
#include "restart/restart_opts.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_NO_STRICT = COORD_OPT_END,
	OPT_HELP,
	OPT_VERSION,
	OPT_SHOW,
	OPT_TMPDIR,
	OPT_PIDNS,
	OPT_JSON,
};

static const struct option restart_long[] = {
	COORD_LONG_OPTIONS,
	LOG_LONG_OPTIONS,
	{ "interval", required_argument, NULL, 'i' },
	{ "ckptdir", required_argument, NULL, 'c' },
	{ "restartdir", required_argument, NULL, 'r' },
	{ "tmpdir", required_argument, NULL, OPT_TMPDIR },
	{ "no-strict-checking", no_argument, NULL, OPT_NO_STRICT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "show", required_argument, NULL, OPT_SHOW },
	{ "pid-namespace", no_argument, NULL, OPT_PIDNS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};

static int opt_err(struct restart_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int opt_err(struct restart_opts *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->err, sizeof(o->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_interval(const char *s, long *out)
{
	char *end;
	long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > INT_MAX)
		return -1;
	*out = v;
	return 0;
}

static int opts_init(struct restart_opts *o)
{
	memset(o, 0, sizeof(*o));
	coord_opts_from_env(&o->coord);
	if (log_opts_from_env(&o->log, LOG_WARN))
		return opt_err(o, "%s", o->log.err);
	return 0;
}

int restart_parse_opts(int argc, char **argv, struct restart_opts *o)
{
	int c, r;

	if (opts_init(o))
		return -EINVAL;
	/* getopt keeps state across calls; reset it so that unit tests can parse twice. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":" COORD_SHORT_OPTIONS "i:c:r:q", restart_long,
				NULL)) != -1) {
		r = coord_opt_apply(&o->coord, c, optarg, o->err, sizeof(o->err));
		if (r < 0)
			return r;
		if (r)
			continue;
		r = log_opt_apply(&o->log, c, optarg);
		if (r < 0)
			return opt_err(o, "%s", o->log.err);
		if (r)
			continue;
		switch (c) {
		case 'i':
			if (parse_interval(optarg, &o->coord.interval))
				return opt_err(o, "--interval: '%s' is not a number of seconds", optarg);
			break;
		case 'c':
			if (!*optarg)
				return opt_err(o, "--ckptdir: empty directory name");
			o->coord.ckptdir = optarg;
			break;
		case 'r':
			if (!*optarg)
				return opt_err(o, "--restartdir: empty directory name");
			o->restartdir = optarg;
			break;
		case OPT_TMPDIR:
			o->tmpdir = optarg;
			break;
		case OPT_NO_STRICT:
			o->no_strict = 1;
			break;
		case 'q':
			o->quiet++;
			o->coord.quiet = 1;
			log_opts_quieter(&o->log);
			break;
		case OPT_HELP:
			o->action = RESTART_HELP;
			return 0;
		case OPT_VERSION:
			o->action = RESTART_VERSION;
			return 0;
		case OPT_SHOW:
			o->action = RESTART_SHOW;
			o->show = optarg;
			/*
			 * getopt gives --show the next word whatever it is, so "--show --json IMG"
			 * would show an image named "--json": an option word there (not one
			 * glued on as --show=WORD) is given back to getopt, and the image is the
			 * first operand.
			 */
			if (optarg == argv[optind - 1] && optarg[0] == '-' && optarg[1]) {
				optind--;
				o->show = NULL;
			}
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_PIDNS:
			o->force_newns = 1;
			break;
		case ':':
			return opt_err(o, "option '%s' needs an argument", argv[optind - 1]);
		default:
			return opt_err(o, "unknown option '%s'", argv[optind - 1]);
		}
	}
	o->images = argv + optind;
	o->nimages = argc - optind;
	if (o->action == RESTART_SHOW) {
		/* --show IMG [IMG...]: the others are shown too */
		if (!o->show) {
			if (!o->nimages)
				return opt_err(o, "--show: no checkpoint image given");
			o->show = o->images[0];
			o->images++;
			o->nimages--;
		}
		return 0;
	}
	if (o->json)
		return opt_err(o, "--json goes with --show only");
	if (o->restartdir && o->nimages)
		return opt_err(o, "give either --restartdir or image files, not both");
	if (!o->restartdir && !o->nimages)
		return opt_err(o, "no checkpoint image given");
	return 0;
}

void restart_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS] <ckpt1.dmtcp> [ckpt2.dmtcp...]\n"
		"       %s [OPTIONS] --restartdir DIR\n"
		"       %s --show [--json] IMG...\n\n"
		"Restart the processes of a computation from their checkpoint images.\n\n"
		"Connecting to the DMTCP Coordinator:\n"
		"  -h, --coord-host HOSTNAME (environment variable DMTCP_COORD_HOST)\n"
		"              Hostname where dmtcp_coordinator is run (default: localhost)\n"
		"  -p, --coord-port PORT_NUM (environment variable DMTCP_COORD_PORT)\n"
		"              Port where dmtcp_coordinator is run (default: 7779)\n"
		"  --port-file FILENAME\n"
		"              File to write listener port number.\n"
		"              (Useful with '--coord-port 0', in order to assign a random port)\n"
		"  -j, --join-coordinator\n"
		"              Join an existing coordinator, raise error if one doesn't\n"
		"              already exist\n"
		"  --new-coordinator\n"
		"              Create a new coordinator at the given port. Fail if one\n"
		"              already exists on the given port. The port can be specified\n"
		"              with --coord-port, or with environment variable\n"
		"              DMTCP_COORD_PORT.\n"
		"              If no port is specified, start coordinator at a random port\n"
		"              (same as specifying port '0').\n"
		"  --any-coordinator\n"
		"              Use --join-coordinator if possible, but only if port was specified.\n"
		"              Else use --new-coordinator with specified port (if avail.),\n"
		"              and otherwise with the default port: --coord-port 7779.\n"
		"              (This is the default.)\n"
		"  -i, --interval SECONDS (environment variable DMTCP_CHECKPOINT_INTERVAL)\n"
		"              Time in seconds between automatic checkpoints.\n"
		"              0 implies never (manual ckpt only); if not set and no env var,\n"
		"              use default value set in dmtcp_coordinator or dmtcp_command.\n"
		"              Not allowed if --join-coordinator is specified\n\n"
		"Other options:\n"
		"  -c, --ckptdir (environment variable DMTCP_CHECKPOINT_DIR):\n"
		"              Directory to store checkpoint images\n"
		"              (default: use the same dir used in previous checkpoint)\n"
		"  -r, --restartdir PATH\n"
		"              Directory to read checkpoint images from (every ckpt_*.dmtcp)\n"
		"  --tmpdir PATH\n"
		"              Directory to store temporary files (accepted, unused)\n"
		"  --no-strict-checking\n"
		"              Disable the check that the images belong to the current user\n"
		"  --pid-namespace\n"
		"              Always restore in a new PID namespace, even when the original\n"
		"              PIDs are free here\n"
		"  --show IMG...\n"
		"              Validate and describe the images and exit (nonzero if one is bad)\n"
		"  --json      With --show: print the images as one JSON document, an array with\n"
		"              one object per image (see dmtcp_restart(1))\n"
		"  -q, --quiet (or set environment variable DMTCP_QUIET = 0, 1, or 2)\n"
		"              No warnings; if given twice, no errors either (only the exit\n"
		"              code). Nothing is printed on success.\n"
		"  --log-level error|warn|info|debug (environment variable DMTCP_LOG_LEVEL)\n"
		"              What dmtcp_restart and its tracer print (default warn)\n"
		"  --log-file F (environment variable DMTCP_LOG_FILE)\n"
		"              Append those messages to F instead of stderr\n"
		"  --coord-logfile F\n"
		"              The log of a coordinator dmtcp_restart starts (default:\n"
		"              dmtcp_coordinator.log beside --port-file, else in the checkpoint\n"
		"              directory, else in the current directory)\n"
		"  --help      Print this message and exit.\n"
		"  --version   Print version information and exit.\n\n"
		"Exit status: the restored root program's, or DMTCP_FAIL_RC (default 99) when the\n"
		"restart itself fails.\n",
		prog, prog, prog);
}

int mtcp_parse_opts(int argc, char **argv, struct restart_opts *o)
{
	int i;

	if (opts_init(o))
		return -EINVAL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--no-strict-checking"))
			o->no_strict = 1;
		else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet++;
			log_opts_quieter(&o->log);
		}
		else if (!strcmp(a, "--help")) {
			o->action = RESTART_HELP;
			return 0;
		} else if (!strcmp(a, "--version")) {
			o->action = RESTART_VERSION;
			return 0;
		} else
			return opt_err(o, "unknown option '%s'", a);
	}
	o->images = argv + i;
	o->nimages = argc - i;
	if (o->nimages != 1)
		return opt_err(o, o->nimages ? "exactly one image, please (got %d)"
					     : "no checkpoint image given%.0d",
			       o->nimages);
	return 0;
}

void mtcp_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [--no-strict-checking] [-q] <ckpt.dmtcp>\n\n"
		"Restore one process from its checkpoint image, standalone: no coordinator and\n"
		"no tracing afterwards. The process comes back as a child of this command with\n"
		"its saved pid (in a new PID namespace when that pid is taken or cannot be\n"
		"chosen), and this command exits with its exit status.\n\n"
		"  --no-strict-checking  do not check that the image belongs to the current user\n"
		"  -q, --quiet           no warnings; twice: no errors either (DMTCP_QUIET=1, 2;\n"
		"                        DMTCP_LOG_LEVEL and DMTCP_LOG_FILE as for dmtcp_restart)\n"
		"  --help, --version\n",
		prog);
}
