/*
 * Finding, starting and joining a coordinator, as dmtcp_launch, dmtcp_restart and
 * dmtcp_command do.
 *
 * Host and port come from the command line, else DMTCP_COORD_HOST / DMTCP_COORD_PORT, else the
 * older DMTCP_HOST / DMTCP_PORT, else "127.0.0.1" and 7779 (DMTCP's default port).
 */
#ifndef DMTCP_COORDCLIENT_H
#define DMTCP_COORDCLIENT_H

#include "proto.h"

#define DMTCP_DEFAULT_PORT 7779

enum coord_mode {
	COORD_ANY = 0, /* join one if it answers, else start one in the background (default) */
	COORD_JOIN,    /* join; fail if none answers */
	COORD_NEW,     /* start a new one; fail if the port is taken */
};

struct coord_opts {
	char host[256];
	int port;	       /* -1: not given anywhere -> default; 0: let a new coordinator pick;
				  -2: the environment's value is not a port (bad_env names it) */
	const char *bad_env;   /* "DMTCP_COORD_PORT" or "DMTCP_PORT" when port == -2 */
	const char *bad_val;
	enum coord_mode mode;
	const char *port_file; /* --port-file: where the coordinator writes the port it took */
	const char *ckptdir;   /* passed on to a coordinator we start (may be NULL) */
	long interval;	       /* -1: not given; passed on to a coordinator we start */
	int quiet;
	const char *logfile;   /* --coord-logfile: the log of a coordinator we start (NULL: the
				  default, see coord_default_logfile()) */
};

/* Defaults, then environment; command-line parsing overrides fields afterwards. A port in the
 * environment that is not a number is an error reported by coord_ensure(), unless the
 * command line gave a port: joining the default port instead could join another computation. */
void coord_opts_from_env(struct coord_opts *o);

/* TCP connect with a bound on the time; returns fd or -errno. */
int coord_tcp_connect(const char *host, int port, int timeout_ms);

/*
 * Where a coordinator we start logs unless --coord-logfile says: dmtcp_coordinator.log beside
 * the port file (--port-file), else in the checkpoint directory (--ckptdir, else
 * $DMTCP_CHECKPOINT_DIR), else in the current one.
 * Never the program's own stdout or stderr.
 */
void coord_default_logfile(const struct coord_opts *o, char *buf, size_t n);

/*
 * Apply o->mode: connect, or start "dmtcp_coordinator --daemon --exit-on-last" (found next to
 * the running executable, else in PATH) and connect to it. On success returns the connected
 * fd and sets o->port to the port in use. On failure logs the reason and returns -errno.
 */
int coord_ensure(struct coord_opts *o);

/*
 * Open an authenticated connection on fd (connected to the coordinator at host:port): send
 * hello (built by the caller with F_ROLE and its fields; F_NONCE is added), check the
 * coordinator's proof of its key and prove ours (coordauth.h), as the coordinator asks of
 * every connection. The connection is then the caller's: the coordinator's answer to the
 * HELLO (WELCOME, REFUSE, a command's reply) comes next. 0, or -errno with the reason logged
 * (-EACCES: no key, a wrong key, or refused).
 */
int coord_hello(int fd, const char *host, int port, struct proto_msg *hello);

/* Whether we can join the coordinator at host:port: a client connection proves the key and
 * checks the coordinator's proof, then closes. 0, or -errno with the reason logged. */
int coord_check_key(const char *host, int port);

/* Parse a port number "0".."65535"; returns -1 on garbage. */
int coord_parse_port(const char *s);

/*
 * The coordinator options dmtcp_launch and dmtcp_restart share: COORD_LONG_OPTIONS goes into
 * their getopt_long tables (the file includes <getopt.h>), COORD_SHORT_OPTIONS into the short
 * string, and coord_opt_apply() takes getopt's answer. Their own long-only options are
 * numbered from COORD_OPT_END.
 */
enum {
	COORD_OPT_PORT_FILE = 0x100,
	COORD_OPT_NEW,
	COORD_OPT_ANY,
	COORD_OPT_LOGFILE,
	COORD_OPT_END,
};
#define COORD_SHORT_OPTIONS "h:p:j"
/* clang-format off */
#define COORD_LONG_OPTIONS \
	{ "coord-host", required_argument, NULL, 'h' }, \
	{ "host", required_argument, NULL, 'h' }, \
	{ "coord-port", required_argument, NULL, 'p' }, \
	{ "port", required_argument, NULL, 'p' }, \
	{ "port-file", required_argument, NULL, COORD_OPT_PORT_FILE }, \
	{ "join-coordinator", no_argument, NULL, 'j' }, \
	{ "join", no_argument, NULL, 'j' }, \
	{ "new-coordinator", no_argument, NULL, COORD_OPT_NEW }, \
	{ "any-coordinator", no_argument, NULL, COORD_OPT_ANY }, \
	{ "coord-logfile", required_argument, NULL, COORD_OPT_LOGFILE }
/* clang-format on */

/*
 * Applies getopt's answer c (its argument arg) to o when c is one of COORD_LONG_OPTIONS:
 * returns 1. Returns 0 when c is another option, and -EINVAL with a message in err when arg
 * is bad. The mode options are last-one-wins, as in DMTCP.
 */
int coord_opt_apply(struct coord_opts *o, int c, const char *arg, char *err, size_t errlen);

#endif
