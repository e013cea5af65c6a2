/*
 * dmtcp_launch: run a program under checkpoint control, or (--attach PID) take running
 * processes under it.
 *
 * dmtcp_launch finds (or starts) the coordinator, then forks the tracer, which forks the
 * program under ptrace + the seccomp filter. dmtcp_launch itself only waits for the tracer's
 * reports on a pipe: the program's pid, an exec failure, the program's end. It returns the
 * moment the program ends, with its status (re-raising a fatal signal), while the tracer stays
 * as long as any traced process lives. All three stay in the caller's session and process
 * group so that the terminal's signals reach the program as usual.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "coordclient.h"
#include "log.h"
#include "report.h"
#include "tracer.h"

struct launch_opts {
	struct coord_opts coord;
	struct log_opts log;
	const char *ckptdir;
	long interval;
	int gzip;
	int quiet;
	char **argv;
	pid_t attach[64]; /* --attach PID... (then no argv) */
	int nattach;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dmtcp_launch [OPTIONS] <command> [args...]\n"
		"       dmtcp_launch [OPTIONS] --attach PID [--attach PID...]\n"
		"Start a process under checkpoint control (ptrace + seccomp; no preload), or take\n"
		"running processes under it.\n\n"
		"Attaching:\n"
		"  --attach PID           take the running process PID, every thread and every\n"
		"                         descendant, under checkpoint control (no filter, no\n"
		"                         preload: any program you may ptrace, static or dynamic);\n"
		"                         returns 0 once all of it runs on under the tracer, which\n"
		"                         stays in the background while any of it lives. The\n"
		"                         program sees a short pause and nothing else; killing the\n"
		"                         tracer leaves it running untraced\n\n"
		"Connecting to the coordinator:\n"
		"  -h, --coord-host, --host HOSTNAME  (environment variable DMTCP_COORD_HOST)\n"
		"  -p, --coord-port, --port PORT      (environment variable DMTCP_COORD_PORT,\n"
		"                                      default %d; 0: any free port)\n"
		"  --port-file FILENAME   write the coordinator's port number there\n"
		"  -j, --join-coordinator join an existing coordinator; fail if none answers\n"
		"  --new-coordinator      start a new coordinator; fail if the port is taken\n"
		"  --any-coordinator      join one, or start one in the background (default)\n"
		"  -i, --interval SECONDS checkpoint interval for a coordinator we start\n"
		"                         (environment variable DMTCP_CHECKPOINT_INTERVAL)\n\n"
		"Checkpoint images:\n"
		"  -c, --ckptdir PATH     where images go (environment variable DMTCP_CHECKPOINT_DIR)\n"
		"  --gzip, --no-gzip      compress images or not (environment variable DMTCP_GZIP,\n"
		"                         default on)\n"
		"  --ckpt-signal N        accepted for compatibility: no signal is taken from the\n"
		"                         program (environment variable DMTCP_SIGCKPT)\n"
		"  --with-plugin A.so[:B.so]  reserved for the plugin interface\n\n"
		"Messages (nothing is printed on success; the program's own stdout and stderr\n"
		"hold only what it writes):\n"
		"  -q, --quiet            no warnings; twice: no errors either, only the exit code\n"
		"                         (environment variable DMTCP_QUIET=1 or 2)\n"
		"  --log-level L          error, warn (default), info or debug, for dmtcp_launch and\n"
		"                         its tracer (environment variable DMTCP_LOG_LEVEL)\n"
		"  --log-file F           append those messages to F instead of stderr\n"
		"                         (environment variable DMTCP_LOG_FILE)\n"
		"  --coord-logfile F      the log of a coordinator dmtcp_launch starts; by default\n"
		"                         dmtcp_coordinator.log beside --port-file, else in the\n"
		"                         checkpoint directory, else in the current directory\n\n"
		"Other:\n"
		"  --help                 this text\n"
		"  --version              version\n\n"
		"Failures of dmtcp_launch itself exit with DMTCP_FAIL_RC (default 99).\n",
		DMTCP_DEFAULT_PORT);
}

static long parse_num(const char *what, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die("%s must be a number from %ld to %ld, not '%s'", what, lo, hi, s);
	return v;
}

static int parse_bool_env(const char *name, int dflt)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return dflt;
	if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false"))
		return 0;
	if (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "true"))
		return 1;
	die("%s='%s' is not a boolean (0 or 1)", name, v);
}

enum {
	OPT_GZIP = COORD_OPT_END,
	OPT_NO_GZIP,
	OPT_CKPT_SIGNAL,
	OPT_PLUGIN,
	OPT_ATTACH,
	OPT_HELP,
	OPT_VERSION,
};

static void parse_args(int argc, char **argv, struct launch_opts *o)
{
	static const struct option longopts[] = {
		COORD_LONG_OPTIONS,
		LOG_LONG_OPTIONS,
		{ "interval", required_argument, 0, 'i' },
		{ "ckptdir", required_argument, 0, 'c' },
		{ "gzip", no_argument, 0, OPT_GZIP },
		{ "no-gzip", no_argument, 0, OPT_NO_GZIP },
		{ "ckpt-signal", required_argument, 0, OPT_CKPT_SIGNAL },
		{ "with-plugin", required_argument, 0, OPT_PLUGIN },
		{ "attach", required_argument, 0, OPT_ATTACH },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, OPT_HELP },
		{ "version", no_argument, 0, OPT_VERSION },
		{ 0, 0, 0, 0 },
	};
	const char *v;
	char err[320];
	int c, r;

	coord_opts_from_env(&o->coord);
	if (log_opts_from_env(&o->log, LOG_WARN))
		die("%s", o->log.err);
	o->interval = -1;
	v = getenv("DMTCP_CHECKPOINT_INTERVAL");
	if (v && *v)
		o->interval = parse_num("DMTCP_CHECKPOINT_INTERVAL", v, 0, LONG_MAX);
	v = getenv("DMTCP_CHECKPOINT_DIR");
	if (v && *v)
		o->ckptdir = v;
	o->gzip = parse_bool_env("DMTCP_GZIP", 1);
	v = getenv("DMTCP_SIGCKPT");
	if (v && *v)
		parse_num("DMTCP_SIGCKPT", v, 1, NSIG - 1);

	opterr = 0;
	/* '+': options end at the program's name; its own options are its own. */
	while ((c = getopt_long(argc, argv, "+:" COORD_SHORT_OPTIONS "i:c:q", longopts, NULL)) !=
	       -1) {
		r = coord_opt_apply(&o->coord, c, optarg, err, sizeof(err));
		if (r < 0)
			die("%s", err);
		if (r)
			continue;
		r = log_opt_apply(&o->log, c, optarg);
		if (r < 0)
			die("%s", o->log.err);
		if (r)
			continue;
		switch (c) {
		case 'i':
			o->interval = parse_num("--interval", optarg, 0, LONG_MAX);
			break;
		case 'c':
			o->ckptdir = optarg;
			break;
		case OPT_GZIP:
			o->gzip = 1;
			break;
		case OPT_NO_GZIP:
			o->gzip = 0;
			break;
		case OPT_CKPT_SIGNAL:
			parse_num("--ckpt-signal", optarg, 1, NSIG - 1);
			break;
		case OPT_PLUGIN:
			die("--with-plugin: the plugin interface does not exist yet; "
			    "cannot load '%s'", optarg);
		case OPT_ATTACH:
			if (o->nattach == (int)(sizeof(o->attach) / sizeof(o->attach[0])))
				die("--attach: at most %d processes at once",
				    (int)(sizeof(o->attach) / sizeof(o->attach[0])));
			o->attach[o->nattach++] = (pid_t)parse_num("--attach", optarg, 1, INT_MAX);
			break;
		case 'q':
			o->quiet++;
			log_opts_quieter(&o->log);
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("dmtcp_launch (dmtcp-ptrace) %s\n", DMTCP_VERSION);
			exit(0);
		case ':':
			die("option '%s' needs an argument (see dmtcp_launch --help)",
			    argv[optind - 1]);
		default:
			if (optopt)
				die("unknown option '-%c' (see dmtcp_launch --help)", optopt);
			die("unknown option '%s' (see dmtcp_launch --help)", argv[optind - 1]);
		}
	}
	if (o->nattach && optind < argc)
		die("--attach takes running processes: no program to launch with it ('%s')",
		    argv[optind]);
	if (!o->nattach && optind >= argc)
		die("no program to launch (see dmtcp_launch --help)");
	if (o->coord.mode == COORD_JOIN && o->interval >= 0 && getenv("DMTCP_CHECKPOINT_INTERVAL") == NULL)
		die("--interval cannot be used with --join-coordinator: "
		    "the coordinator's interval is set where it runs");
	o->argv = argv + optind;
}

/* Where peers of this computation connect: the address the first connection reached. */
static void coord_address(int fd, const struct coord_opts *co, char *host, size_t hlen,
			  int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	snprintf(host, hlen, "%s", co->host);
	*port = co->port;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, (socklen_t)hlen);
		*port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, (socklen_t)hlen);
		*port = ntohs(in6->sin6_port);
	}
}

/* DMTCP writes the port file whether it started the coordinator or joined it. */
static void write_port_file(const char *path, int port)
{
	char buf[16];
	FILE *f;

	if (!path || access(path, F_OK) == 0)
		return;
	snprintf(buf, sizeof(buf), "%d\n", port);
	f = fopen(path, "we");
	if (!f || fputs(buf, f) < 0 || fclose(f) != 0)
		die("cannot write the port file %s: %s", path, strerror(errno));
}

/* The tracer's nice value when it may raise its priority. */
#define TRACER_NICE (-5)

static int g_report_fd = -1;

static void tell_root_exit(int wstatus, void *arg)
{
	(void)arg;
	if (g_report_fd >= 0) {
		report_send(g_report_fd, LREP_EXIT, wstatus);
		close(g_report_fd);
		g_report_fd = -1;
	}
}

/* The tracer process's set-up, for a launch or an attach: its signals, its configuration,
 * the tracer itself. Exits (reported) on failure. */
static struct tracer *start_tracer(struct launch_opts *o, int coord_fd, int report_fd)
{
	static const int ignored[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP,
				       SIGTERM, SIGPIPE, SIGXFSZ };
	struct tracer_config cfg;
	struct tracer *tr;
	sigset_t unblock;
	unsigned i;
	int r;

	/*
	 * The terminal's signals are for the program: the tracer must outlive them (its death
	 * kills every launched process through PTRACE_O_EXITKILL). dmtcp_launch forwards SIGTERM
	 * and SIGHUP sent to it. An image larger than the file size limit (RLIMIT_FSIZE, which
	 * batch systems set) must fail its write with EFBIG, a failed checkpoint, not raise
	 * SIGXFSZ and take the tracer and the program with it. The program gets the caller's
	 * dispositions back (tracer_save_sigstate() above).
	 */
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGTERM);
	sigaddset(&unblock, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &unblock, NULL);

	memset(&cfg, 0, sizeof(cfg));
	coord_address(coord_fd, &o->coord, cfg.coord_host, sizeof(cfg.coord_host), &cfg.coord_port);
	cfg.ckptdir = o->ckptdir;
	cfg.interval = o->interval;
	cfg.gzip = o->gzip;
	/* A launched program's standard streams are the command's: they follow a restart (an
	 * attached program's are its own). Noted before they are let go below. */
	if (!o->nattach)
		tracer_config_note_stdio(&cfg);
	cfg.timings = getenv("DMTCP_TRACER_TIMINGS") && !strcmp(getenv("DMTCP_TRACER_TIMINGS"), "1");
	r = tracer_create(&cfg, &tr);
	if (r < 0) {
		report_send(report_fd, LREP_TRACER_ERR, -r);
		_exit(fail_rc());
	}
	return tr;
}

/* The tracer from here on: raised priority, the caller's streams let go, the loop. */
static void serve(struct launch_opts *o, struct tracer *tr)
{
	int r, fd;

	/*
	 * Every trapped syscall and every suspend waits for this process to be scheduled: when
	 * allowed (root), run it a little ahead of the programs it serves. Done after the fork
	 * so the program keeps the caller's priority.
	 */
	if (setpriority(PRIO_PROCESS, 0, TRACER_NICE) < 0)
		pr_debug("tracer stays at the caller's priority: %s", strerror(errno));
	/* Do not hold the caller's stdin/stdout (a pipe reader would wait for us); keep
	 * stderr for our warnings and errors, unless they go to a log file. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (o->log.file)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	r = tracer_run(tr);
	tracer_destroy(tr);
	_exit(r < 0 ? fail_rc() : 0);
}

/* The tracer process of a launch. Never returns. */
static void run_tracer(struct launch_opts *o, const struct tracer_sigstate *ss, int coord_fd,
		       int report_fd)
{
	struct tracer *tr = start_tracer(o, coord_fd, report_fd);
	pid_t pid;
	int r;

	tracer_on_root_exit(tr, tell_root_exit, NULL);
	g_report_fd = report_fd;
	r = tracer_spawn(tr, o->argv, ss, coord_fd, report_fd, &pid);
	if (r < 0) {
		report_send(report_fd, LREP_TRACER_ERR, -r);
		_exit(fail_rc());
	}
	report_send(report_fd, LREP_PID, pid);
	serve(o, tr);
}

/*
 * The tracer process of an attach. It leaves the caller's session (dmtcp_launch returns at
 * once, the tracer stays as long as an attached process lives, and a terminal's hangup is
 * none of its business); the first named process is the one whose peer carries the
 * coordinator's interval. Never returns.
 */
static void run_attacher(struct launch_opts *o, int coord_fd, int report_fd)
{
	struct tracer *tr = start_tracer(o, coord_fd, report_fd);
	int n;

	if (setsid() < 0)
		pr_debug("the tracer stays in the caller's session: %s", strerror(errno));
	tracer_set_root(tr, o->attach[0]);
	n = tracer_attach(tr, o->attach, o->nattach, coord_fd);
	if (n < 0) {
		report_send(report_fd, LREP_ATTACH_ERR, -n);
		_exit(fail_rc());
	}
	pr_info("attached %d process%s", n, n == 1 ? "" : "es");
	report_send(report_fd, LREP_ATTACHED, n);
	close(report_fd);
	serve(o, tr);
}

int main(int argc, char **argv)
{
	struct tracer_sigstate ss;
	struct launch_opts o;
	struct launch_report rep;
	sigset_t fwd;
	int coord_fd, pfds[2];
	pid_t tracer;

	log_set_prog("dmtcp_launch");
	memset(&o, 0, sizeof(o));
	parse_args(argc, argv, &o);
	if (log_opts_apply(&o.log))
		die("%s", o.log.err);
	o.coord.ckptdir = o.ckptdir;
	o.coord.interval = o.interval;
	o.coord.quiet = o.quiet;
	if (o.ckptdir && o.ckptdir[0] != '/') {
		/* Every process of the computation must mean the same directory. */
		static char abs[PATH_MAX];

		if (!realpath(o.ckptdir, abs))
			die("checkpoint directory '%s': %s", o.ckptdir, strerror(errno));
		o.ckptdir = o.coord.ckptdir = abs;
	}

	/* The checkpoint code reads these in the tracer, as DMTCP's programs see them. */
	if (o.ckptdir && setenv("DMTCP_CHECKPOINT_DIR", o.ckptdir, 1) < 0)
		die("cannot set DMTCP_CHECKPOINT_DIR: %s", strerror(errno));
	if (setenv("DMTCP_GZIP", o.gzip ? "1" : "0", 1) < 0)
		die("cannot set DMTCP_GZIP: %s", strerror(errno));

	coord_fd = coord_ensure(&o.coord);
	if (coord_fd == -EINVAL)
		exit(fail_rc()); /* a bad DMTCP_COORD_PORT, already reported */
	if (coord_fd < 0)
		die("cannot reach a coordinator (%s mode, %s:%d)",
		    o.coord.mode == COORD_JOIN ? "--join-coordinator" :
		    o.coord.mode == COORD_NEW ? "--new-coordinator" : "--any-coordinator",
		    o.coord.host, o.coord.port);
	fcntl(coord_fd, F_SETFD, FD_CLOEXEC);
	/* Every process proves the key when it joins (coordauth.h): fail now, before the
	 * program starts, rather than run it uncheckpointable. */
	if (coord_check_key(o.coord.host, o.coord.port))
		exit(fail_rc());
	write_port_file(o.coord.port_file, o.coord.port);

	/* The caller's signal state, for the program, before we block what we forward. */
	tracer_save_sigstate(&ss);
	tracer = report_fork_tracer(pfds, &fwd);
	if (tracer == 0) {
		if (o.nattach)
			run_attacher(&o, coord_fd, pfds[1]);
		run_tracer(&o, &ss, coord_fd, pfds[1]);
	}
	close(coord_fd);
	/* We wait for the program's verdict. */
	if (!report_wait(pfds[0], &fwd, &rep))
		die("the tracer (pid %d) ended without reporting %s", tracer,
		    o.nattach ? "whether the attach succeeded" : "the program's end");
	switch (rep.kind) {
	case LREP_ATTACHED:
		exit(0);
	case LREP_ATTACH_ERR:
		exit(fail_rc()); /* the tracer said why */
	case LREP_EXEC_ERR:
		die("cannot execute '%s': %s", o.argv[0], strerror(rep.val));
	case LREP_FILTER_ERR:
		die("cannot install the seccomp filter for '%s': %s", o.argv[0], strerror(rep.val));
	case LREP_TRACER_ERR:
		die("the tracer failed to start '%s': %s", o.argv[0], strerror(rep.val));
	default:
		die("the tracer sent an unknown report (%d)", rep.kind);
	}
}
