/*
 * dmtcp_coordinator: one per computation. Options and environment, the listening socket, and
 * the single-threaded poll loop that drives everything in coord/: connections, barriers,
 * the interval timer (timerfd), signals (signalfd), the --timeout / --stale-timeout clocks,
 * and the commands typed on standard input.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "coord.h"
#include "coordclient.h"
#include "log.h"
#include "procfs.h"
#include "clock.h"
#include "util.h"

#define QUIT_FLUSH_MS 2000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dmtcp_coordinator [OPTIONS] [port]\n"
		"Coordinates checkpoints of the processes of one computation.\n\n"
		"  -p, --port, --coord-port N  listen on port N (0: pick a free one; default 7779,\n"
		"                              or $DMTCP_COORD_PORT / $DMTCP_PORT)\n"
		"      --port-file F           write the port in use to F once listening\n"
		"      --status-file F         rewrite the status text in F after every change\n"
		"  -c, --ckptdir D             checkpoint directory (default $DMTCP_CHECKPOINT_DIR,\n"
		"                              else the current directory)\n"
		"  -i, --interval S            checkpoint every S seconds (0: never; default\n"
		"                              $DMTCP_CHECKPOINT_INTERVAL, else 0)\n"
		"      --exit-on-last          exit when the last process leaves\n"
		"      --kill-after-ckpt       kill the computation after each checkpoint\n"
		"      --timeout S             quit (killing the computation) after S seconds\n"
		"      --stale-timeout S       quit when no process has been connected for S seconds\n"
		"      --daemon                run in the background; return once listening\n"
		"      --coord-logfile F       write the log to F\n"
		"  -q, --quiet                 log only warnings and errors\n"
		"  -h, --help                  this text\n"
		"      --version               print the version\n\n"
		"Commands on standard input (each followed by Enter):\n"
		"  l list   s status   c checkpoint   bc checkpoint, wait   kc checkpoint, then kill\n"
		"  i N set the interval   k kill the computation   q kill and quit   ? help\n"
		"  d detach: processes taken with dmtcp_launch --attach run on untraced\n\n"
		"Only those who know its key can join or command it: a random key in\n"
		"$DMTCP_COORD_KEY_FILE (used as it is if it exists), else\n"
		"$XDG_RUNTIME_DIR/dmtcp/coord-PORT.key, else /tmp/dmtcp-UID/coord-PORT.key\n"
		"(mode 0600), where the commands of the same user find it.\n");
}

static void print_stdin_help(void)
{
	printf("Commands: l (list), s (status), c (checkpoint), bc (checkpoint and report when\n"
	       "done), kc (checkpoint, then kill), i N (interval N s, 0 = none), k (kill all),\n"
	       "d (detach: attached processes run on untraced), q (kill all and quit),\n"
	       "? or h (this help)\n");
	fflush(stdout);
}

static void bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "dmtcp_coordinator: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'dmtcp_coordinator --help'.\n");
	exit(1);
}

static long parse_seconds(const char *opt, const char *s)
{
	long v;

	if (parse_long(s, 0, 100L * 365 * 24 * 3600, &v)) {
		fprintf(stderr, "dmtcp_coordinator: %s: '%s' is not a number of seconds\n", opt, s);
		fprintf(stderr, "Try 'dmtcp_coordinator --help'.\n");
		exit(1);
	}
	return v;
}

enum { OPT_PORT_FILE = 256, OPT_STATUS_FILE, OPT_EXIT_ON_LAST, OPT_KILL_AFTER, OPT_TIMEOUT,
       OPT_STALE, OPT_DAEMON, OPT_LOGFILE, OPT_VERSION };

static void parse_options(struct coord *co, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "coord-port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "status-file", required_argument, NULL, OPT_STATUS_FILE },
		{ "ckptdir", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "exit-on-last", no_argument, NULL, OPT_EXIT_ON_LAST },
		{ "kill-after-ckpt", no_argument, NULL, OPT_KILL_AFTER },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "stale-timeout", required_argument, NULL, OPT_STALE },
		{ "daemon", no_argument, NULL, OPT_DAEMON },
		{ "coord-logfile", required_argument, NULL, OPT_LOGFILE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *ckptdir = getenv("DMTCP_CHECKPOINT_DIR");
	const char *env, *port_arg = NULL;
	int opt;

	co->o.port = -1;
	co->o.interval = -1;
	while ((opt = getopt_long(argc, argv, "p:c:i:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			port_arg = optarg;
			break;
		case OPT_PORT_FILE:
			co->o.port_file = optarg;
			break;
		case OPT_STATUS_FILE:
			co->o.status_file = optarg;
			break;
		case 'c':
			ckptdir = optarg;
			break;
		case 'i':
			co->o.interval = parse_seconds("--interval", optarg);
			break;
		case OPT_EXIT_ON_LAST:
			co->o.exit_on_last = true;
			break;
		case OPT_KILL_AFTER:
			co->o.kill_after_ckpt = true;
			break;
		case OPT_TIMEOUT:
			co->o.timeout_s = parse_seconds("--timeout", optarg);
			break;
		case OPT_STALE:
			co->o.stale_timeout_s = parse_seconds("--stale-timeout", optarg);
			break;
		case OPT_DAEMON:
			co->o.daemon = true;
			break;
		case OPT_LOGFILE:
			co->o.logfile = optarg;
			break;
		case 'q':
			co->o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("dmtcp_coordinator %s\n", DMTCP_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'dmtcp_coordinator --help'.\n");
			exit(1);
		}
	}
	if (optind < argc) {
		if (port_arg || optind + 1 < argc)
			bad_usage("unexpected argument '%s'", argv[port_arg ? optind : optind + 1]);
		port_arg = argv[optind];
	}
	if (port_arg) {
		co->o.port = coord_parse_port(port_arg);
		if (co->o.port < 0)
			bad_usage("port '%s' is not a number 0..65535", port_arg);
	} else {
		const char *name = "DMTCP_COORD_PORT";

		env = getenv(name);
		if (!env || !*env)
			env = getenv(name = "DMTCP_PORT");
		if (env && *env) {
			co->o.port = coord_parse_port(env);
			if (co->o.port < 0) {
				fprintf(stderr, "dmtcp_coordinator: %s='%s' is not a port number\n",
					name, env);
				exit(1);
			}
		} else {
			co->o.port = DMTCP_DEFAULT_PORT;
		}
	}
	if (co->o.interval < 0) {
		env = getenv("DMTCP_CHECKPOINT_INTERVAL");
		co->o.interval = env && *env ? parse_seconds("DMTCP_CHECKPOINT_INTERVAL", env) : 0;
	}
	co->interval = co->o.interval;
	if (!ckptdir || !*ckptdir)
		ckptdir = ".";
	if (mkdir(ckptdir, 0755) && errno != EEXIST)
		bad_usage("cannot create checkpoint directory '%s'", ckptdir);
	if (!realpath(ckptdir, co->o.ckptdir))
		bad_usage("checkpoint directory '%s' is not usable", ckptdir);
}

static int write_port_file(const char *path, int port)
{
	char tmp[PATH_MAX + 32];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", port);
	if (fclose(f) || rename(tmp, path)) {
		int ret = -errno;

		unlink(tmp);
		return ret;
	}
	return 0;
}

static int listen_on(int port, int *bound)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t sl;
	int fd, one = 1, zero = 0;

	/* Dual-stack where IPv6 exists, so that both 127.0.0.1 and ::1 reach us. */
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0)
			goto bound;
		if (errno == EADDRINUSE) {
			close(fd);
			return -EADDRINUSE;
		}
		close(fd);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
bound:
	if (listen(fd, 128)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	sl = sizeof(a6);
	if (getsockname(fd, (struct sockaddr *)&a6, &sl) == 0)
		*bound = ntohs(a6.sin6_port); /* same offset in sockaddr_in and sockaddr_in6 */
	return fd;
}

static void daemonize(void)
{
	pid_t pid;
	int fd;

	/* Nothing buffered in stdio may be written twice. */
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("cannot fork into the background: %s", strerror(errno));
	if (pid > 0)
		_exit(0); /* the port is bound and its file written: the caller can connect */
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/* ---- standard input ---------------------------------------------------------------------- */

struct stdin_state {
	bool open;
	char buf[512];
	size_t len;
};

/* Run a command typed on stdin through the same code as a client's, and print the outcome. */
static void run_stdin_command(struct coord *co, char *line)
{
	char *cmd = strtok(line, " \t\r");
	char *arg = cmd ? strtok(NULL, " \t\r") : NULL;
	struct proto_msg m;
	struct proto_in in;
	const char *why, *reason;
	uint64_t st = 0;
	uint8_t *payload;
	long v = 0;

	if (!cmd)
		return;
	if (!strcmp(cmd, "?") || !strcmp(cmd, "h")) {
		print_stdin_help();
		return;
	}
	if (!strcmp(cmd, "i") && (!arg || parse_long(arg, 0, 100L * 365 * 24 * 3600, &v))) {
		printf("i needs an interval in seconds, e.g. 'i 60' (0 = none)\n");
		fflush(stdout);
		return;
	}
	if (strcmp(cmd, "i") && arg) {
		printf("command '%s' takes no argument (type '?' for help)\n", cmd);
		fflush(stdout);
		return;
	}
	if (strcmp(cmd, "s") && strcmp(cmd, "l") && strcmp(cmd, "c") && strcmp(cmd, "bc") &&
	    strcmp(cmd, "kc") && strcmp(cmd, "i") && strcmp(cmd, "k") && strcmp(cmd, "d") &&
	    strcmp(cmd, "q")) {
		printf("unknown command '%.40s' (type '?' for help)\n", cmd);
		fflush(stdout);
		return;
	}
	proto_msg_init(&m, MSG_COMMAND_REPLY);
	coord_run_command(co, cmd, (uint64_t)v, !strcmp(cmd, "i"), &m, NULL);
	if (proto_finish(&m) == 0) {
		payload = malloc(m.len - PROTO_HDR_SIZE + 1);
		if (payload) {
			memcpy(payload, m.buf + PROTO_HDR_SIZE, m.len - PROTO_HDR_SIZE);
			if (proto_parse(MSG_COMMAND_REPLY, payload, m.len - PROTO_HDR_SIZE, &in,
					&why) == 0) {
				proto_get_u64(&in, F_STATUS, &st);
				reason = proto_get_str(&in, F_REASON);
				if (st)
					printf("%s: %s\n", cmd, reason ? reason : "failed");
				proto_in_free(&in);
			}
		}
	}
	proto_msg_free(&m);
	if (st == 0) {
		if (!strcmp(cmd, "s"))
			coord_print_status(co, stdout);
		else if (!strcmp(cmd, "l"))
			coord_print_list(co, stdout, true);
		else if (!strcmp(cmd, "c") || !strcmp(cmd, "bc") || !strcmp(cmd, "kc"))
			printf("checkpoint %llu started\n", (unsigned long long)co->generation);
		else if (!strcmp(cmd, "i"))
			printf("checkpoint interval: %ld s\n", co->interval);
	}
	fflush(stdout);
}

static void read_stdin(struct coord *co, struct stdin_state *in)
{
	ssize_t r;
	char *nl;

	r = read(STDIN_FILENO, in->buf + in->len, sizeof(in->buf) - 1 - in->len);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		/* End of input is not a quit: DMTCP's coordinator runs on under nohup too. */
		in->open = false;
		pr_info("end of standard input; still serving (use dmtcp_command or a signal)");
		return;
	}
	in->len += (size_t)r;
	in->buf[in->len] = '\0';
	while ((nl = strchr(in->buf, '\n'))) {
		*nl = '\0';
		run_stdin_command(co, in->buf);
		in->len -= (size_t)(nl + 1 - in->buf);
		memmove(in->buf, nl + 1, in->len + 1);
	}
	if (in->len == sizeof(in->buf) - 1) {
		printf("input line too long; ignored\n");
		fflush(stdout);
		in->len = 0;
	}
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void arm_interval(struct coord *co, int tfd)
{
	struct itimerspec its = { { co->interval, 0 }, { co->interval, 0 } };

	if (timerfd_settime(tfd, 0, &its, NULL))
		pr_warn("cannot arm the interval timer: %s", strerror(errno));
	co->timer_dirty = false;
}

static void reap_conns(struct coord *co)
{
	struct conn **pp = &co->conns;

	while (*pp) {
		struct conn *c = *pp;

		if (!c->dead && c->closing && c->pc.wlen == 0)
			coord_close_conn(co, c, NULL);
		if (c->dead) {
			*pp = c->next;
			proto_conn_free(&c->pc);
			free(c->image);
			free(c->last_image);
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

/* Best effort, bounded: let queued replies (e.g. to 'q') and KILLs reach their readers. */
static void flush_all(struct coord *co)
{
	long deadline = mono_now_ms() + QUIT_FLUSH_MS;

	for (;;) {
		struct pollfd pf[256];
		int n = 0;

		for (struct conn *c = co->conns; c && n < 256; c = c->next) {
			if (c->dead || !c->pc.wlen)
				continue;
			if (proto_conn_flush(&c->pc) < 0) {
				c->pc.wlen = 0;
				continue;
			}
			if (c->pc.wlen)
				pf[n++] = (struct pollfd){ .fd = c->pc.fd, .events = POLLOUT };
		}
		if (n == 0 || mono_now_ms() >= deadline)
			return;
		poll(pf, n, (int)(deadline - mono_now_ms()));
	}
}

static long min_deadline(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static int run_loop(struct coord *co, int sfd, int tfd)
{
	struct stdin_state in = { .open = true };
	long timeout_at = co->o.timeout_s ? mono_now_ms() + co->o.timeout_s * 1000 : -1;
	struct pollfd *pf = NULL;
	struct conn **pc = NULL;
	size_t cap = 0;

	co->stale_since_ms = mono_now_ms();
	if (co->interval)
		arm_interval(co, tfd);
	while (!co->quit) {
		size_t n = 0, nconn = 0, base;
		long now, deadline, stale_at = -1;
		int tmo, r;

		for (struct conn *c = co->conns; c; c = c->next)
			nconn++;
		if (nconn + 4 > cap) {
			cap = (nconn + 4) * 2;
			pf = realloc(pf, cap * sizeof(*pf));
			pc = realloc(pc, cap * sizeof(*pc));
			if (!pf || !pc)
				die("out of memory");
		}
		pf[n++] = (struct pollfd){ .fd = co->listen_fd, .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = tfd, .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = in.open ? STDIN_FILENO : -1, .events = POLLIN };
		base = n;
		for (struct conn *c = co->conns; c; c = c->next) {
			pc[n - base] = c;
			pf[n++] = (struct pollfd){ .fd = c->pc.fd,
						   .events = POLLIN | (c->pc.wlen ? POLLOUT : 0) };
		}
		now = mono_now_ms();
		if (co->o.stale_timeout_s && co->stale_since_ms >= 0)
			stale_at = co->stale_since_ms + co->o.stale_timeout_s * 1000;
		deadline = min_deadline(min_deadline(timeout_at, stale_at), coord_kv_next_deadline(co));
		deadline = min_deadline(deadline, coord_where_deadline(co));
		deadline = min_deadline(deadline, coord_auth_next_deadline(co));
		tmo = deadline < 0 ? -1 : deadline <= now ? 0 : (int)(deadline - now);
		r = poll(pf, n, tmo);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		now = mono_now_ms();
		if (r > 0) {
			if (pf[1].revents & POLLIN) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					pr_info("%s: killing the computation and quitting",
						strsignal((int)si.ssi_signo));
					coord_kill_peers(co);
					co->quit = true;
				}
			}
			if (pf[2].revents & POLLIN) {
				uint64_t ticks;
				const char *why;

				if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks) &&
				    co->interval) {
					if (coord_all_running(co)) {
						if (coord_start_ckpt(co, co->o.kill_after_ckpt, &why))
							pr_warn("interval checkpoint not started: %s",
								why);
					} else {
						pr_debug("interval checkpoint skipped: not every "
							 "process is running");
					}
				}
			}
			if (in.open && (pf[3].revents & (POLLIN | POLLHUP | POLLERR)))
				read_stdin(co, &in);
			for (size_t i = base; i < n; i++) {
				struct conn *c = pc[i - base];

				if (c->dead)
					continue;
				if (pf[i].revents & POLLOUT) {
					int fr = proto_conn_flush(&c->pc);

					if (fr < 0)
						coord_close_conn(co, c, strerror(-fr));
				}
				if (!c->dead && (pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
					coord_handle_input(co, c);
			}
			if (pf[0].revents & POLLIN) {
				/* Accept a bounded batch so a flood cannot starve the others. */
				for (int k = 0; k < 64 && coord_accept(co); k++)
					;
			}
		}
		coord_kv_expire(co, now);
		coord_where_expire(co, now);
		coord_auth_expire(co, now);
		reap_conns(co);
		if (co->timer_dirty)
			arm_interval(co, tfd);
		if (coord_num_peers(co) == 0) {
			if (co->stale_since_ms < 0)
				co->stale_since_ms = now;
			if (co->o.exit_on_last && co->ever_had_peer && co->run.kind == RUN_NONE) {
				pr_info("last process left; exiting (--exit-on-last)");
				co->quit = true;
			}
			if (stale_at >= 0 && now >= stale_at) {
				pr_info("no process connected for %ld s; exiting (--stale-timeout)",
					co->o.stale_timeout_s);
				co->quit = true;
			}
		}
		if (timeout_at >= 0 && now >= timeout_at) {
			pr_info("--timeout of %ld s reached: killing the computation and quitting",
				co->o.timeout_s);
			coord_kill_peers(co);
			co->quit = true;
		}
	}
	flush_all(co);
	free(pf);
	free(pc);
	return co->exit_code;
}

int main(int argc, char **argv)
{
	static struct coord co;
	char exe[PATH_MAX], err[PATH_MAX + 200];
	sigset_t mask;
	int sfd, tfd, ret;

	log_set_prog(argv[0]);
	parse_options(&co, argc, argv);
	if (co.o.quiet)
		log_set_level(LOG_WARN);
	if (co.o.logfile) {
		int fd = open(co.o.logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0) {
			fprintf(stderr, "dmtcp_coordinator: cannot open log file '%s': %s\n",
				co.o.logfile, strerror(errno));
			exit(1);
		}
		log_set_fd(fd);
	}
	signal(SIGPIPE, SIG_IGN);
	/* a restart script or log over RLIMIT_FSIZE: a failed write, not a dead coordinator */
	signal(SIGXFSZ, SIG_IGN);
	/* Checkpoint ids must differ from every other coordinator's, earlier ones included. */
	while (!co.ckpt_epoch)
		if (getrandom(&co.ckpt_epoch, sizeof(co.ckpt_epoch), 0) != sizeof(co.ckpt_epoch))
			co.ckpt_epoch = (uint32_t)(time(NULL) ^ (getpid() << 16));
	if (gethostname(co.host, sizeof(co.host) - 1))
		snprintf(co.host, sizeof(co.host), "localhost");
	if (procfs_readlink(0, 0, "exe", exe, sizeof(exe)) == 0) {
		char *slash;

		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(co.self_dir, sizeof(co.self_dir), "%s", exe);
	}

	co.listen_fd = listen_on(co.o.port, &co.port);
	if (co.listen_fd < 0)
		die("cannot listen on port %d: %s", co.o.port, strerror(-co.listen_fd));
	/* The key before the port file: whoever reads the port finds the key too. */
	ret = coord_key_setup(co.port, &co.key, co.key_path, sizeof(co.key_path), &co.key_created,
			      err, sizeof(err));
	if (ret)
		die("%s", err);
	if (co.o.port_file) {
		ret = write_port_file(co.o.port_file, co.port);
		if (ret)
			die("cannot write port file %s: %s", co.o.port_file, strerror(-ret));
	}
	pr_info("listening on port %d; checkpoint directory %s; interval %ld s; key in %s", co.port,
		co.o.ckptdir, co.interval, co.key_path);
	if (co.o.daemon)
		daemonize();

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0)
		die("cannot create signalfd/timerfd: %s", strerror(errno));
	coord_state_changed(&co);
	ret = run_loop(&co, sfd, tfd);
	coord_kv_clear(&co);
	if (co.key_created)
		coord_key_remove(co.key_path, &co.key);
	return ret;
}
