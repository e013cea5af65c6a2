/*
 * Finding, starting and joining a coordinator (see coordclient.h): the options and
 * environment every command shares, a bounded TCP connect, and starting a background
 * dmtcp_coordinator when none answers.
 */
#include "coordclient.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "coordauth.h"
#include "log.h"
#include "procfs.h"

#define CONNECT_TIMEOUT_MS 5000
#define START_TIMEOUT_MS   10000

int coord_parse_port(const char *s)
{
	char *end;
	long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

int coord_opt_apply(struct coord_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	int port;

	switch (c) {
	case 'h':
		if (!*arg || strlen(arg) >= sizeof(o->host)) {
			snprintf(err, errlen, "--coord-host: bad host name '%s'", arg);
			return -EINVAL;
		}
		snprintf(o->host, sizeof(o->host), "%s", arg);
		return 1;
	case 'p':
		port = coord_parse_port(arg);
		if (port < 0) {
			snprintf(err, errlen, "--coord-port: '%s' is not a port number (0..65535)",
				 arg);
			return -EINVAL;
		}
		o->port = port;
		return 1;
	case COORD_OPT_PORT_FILE:
		o->port_file = arg;
		return 1;
	case 'j':
		o->mode = COORD_JOIN;
		return 1;
	case COORD_OPT_NEW:
		o->mode = COORD_NEW;
		return 1;
	case COORD_OPT_ANY:
		o->mode = COORD_ANY;
		return 1;
	case COORD_OPT_LOGFILE:
		o->logfile = arg;
		return 1;
	default:
		return 0;
	}
}

static const char *env_first(const char *a, const char *b, const char **which)
{
	const char *v = getenv(a);

	if (v && *v) {
		*which = a;
		return v;
	}
	v = getenv(b);
	if (v && *v) {
		*which = b;
		return v;
	}
	return NULL;
}

void coord_opts_from_env(struct coord_opts *o)
{
	const char *v, *which = NULL;

	memset(o, 0, sizeof(*o));
	snprintf(o->host, sizeof(o->host), "127.0.0.1");
	o->port = -1;
	o->mode = COORD_ANY;
	o->interval = -1;
	v = env_first("DMTCP_COORD_HOST", "DMTCP_HOST", &which);
	if (v) {
		if (strlen(v) >= sizeof(o->host))
			pr_warn("%s is too long; using %s", which, o->host);
		else
			snprintf(o->host, sizeof(o->host), "%s", v);
	}
	v = env_first("DMTCP_COORD_PORT", "DMTCP_PORT", &which);
	if (v) {
		int p = coord_parse_port(v);

		if (p < 0) {
			o->port = -2;
			o->bad_env = which;
			o->bad_val = v;
		} else {
			o->port = p;
		}
	}
}


int coord_tcp_connect(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	char service[16];
	int ret = -ECONNREFUSED, g, fd = -1;

	snprintf(service, sizeof(service), "%d", port);
	g = getaddrinfo(host, service, &hints, &res);
	if (g) {
		pr_err("cannot resolve coordinator host '%s': %s", host, gai_strerror(g));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd p;
		socklen_t sl = sizeof(int);
		int soerr = 0, one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			ret = -errno;
			goto next;
		}
		p.fd = fd;
		p.events = POLLOUT;
		for (;;) {
			g = poll(&p, 1, timeout_ms);
			if (g >= 0 || errno != EINTR)
				break;
		}
		if (g == 0) {
			ret = -ETIMEDOUT;
			goto next;
		}
		if (g < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
			ret = -errno;
			goto next;
		}
		if (soerr) {
			ret = -soerr;
			goto next;
		}
		/* Back to blocking: callers use the simple proto_send/proto_recv helpers. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		freeaddrinfo(res);
		return fd;
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return ret;
}

/* "<dir of /proc/self/exe>/dmtcp_coordinator" when it exists, else the bare name (PATH). */
static void find_coordinator(char *out, size_t n)
{
	char exe[PATH_MAX];
	char *slash;

	if (!procfs_readlink(0, 0, "exe", exe, sizeof(exe))) {
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(out, n, "%.*s/dmtcp_coordinator", (int)(n - 20),
					     exe) < n &&
			    access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, n, "dmtcp_coordinator");
}

static int read_port_file(const char *path)
{
	char buf[32];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -ENODATA;
	buf[r] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	r = coord_parse_port(buf);
	return r > 0 ? (int)r : -EPROTO;
}

void coord_default_logfile(const struct coord_opts *o, char *buf, size_t n)
{
	const char *slash = o->port_file ? strrchr(o->port_file, '/') : NULL;
	const char *envdir = getenv("DMTCP_CHECKPOINT_DIR");

	if (o->port_file && slash)
		snprintf(buf, n, "%.*s/dmtcp_coordinator.log", (int)(slash - o->port_file),
			 o->port_file);
	else if (o->port_file)
		snprintf(buf, n, "dmtcp_coordinator.log");
	else if (o->ckptdir && *o->ckptdir)
		snprintf(buf, n, "%s/dmtcp_coordinator.log", o->ckptdir);
	else if (envdir && *envdir) /* the coordinator's checkpoint directory then */
		snprintf(buf, n, "%s/dmtcp_coordinator.log", envdir);
	else
		snprintf(buf, n, "dmtcp_coordinator.log");
}

/*
 * Start "dmtcp_coordinator --daemon --exit-on-last" on o->port. Its daemon parent returns once
 * the port is bound and the port file written, so waiting for it (bounded) is the readiness
 * check. Returns the port it took, or -errno.
 */
static int start_coordinator(struct coord_opts *o)
{
	char coord[PATH_MAX], portarg[16], intarg[32], tmpdir[] = "/tmp/dmtcp-coord.XXXXXX";
	char logfile[PATH_MAX];
	char pfile[sizeof(tmpdir) + 16];
	const char *argv[20];
	const char *pf = o->port_file;
	int argc = 0, status, port;
	long deadline;
	pid_t pid, w;

	find_coordinator(coord, sizeof(coord));
	if (!pf) {
		if (!mkdtemp(tmpdir)) {
			port = -errno;
			pr_err("cannot create a temporary directory for the port file: %s",
			       strerror(errno));
			return port;
		}
		snprintf(pfile, sizeof(pfile), "%s/port", tmpdir);
		pf = pfile;
	} else {
		unlink(pf);
	}
	snprintf(portarg, sizeof(portarg), "%d", o->port < 0 ? DMTCP_DEFAULT_PORT : o->port);
	argv[argc++] = coord;
	argv[argc++] = "--daemon";
	argv[argc++] = "--exit-on-last";
	argv[argc++] = "--port";
	argv[argc++] = portarg;
	argv[argc++] = "--port-file";
	argv[argc++] = pf;
	if (o->ckptdir) {
		argv[argc++] = "--ckptdir";
		argv[argc++] = o->ckptdir;
	}
	if (o->interval >= 0) {
		snprintf(intarg, sizeof(intarg), "%ld", o->interval);
		argv[argc++] = "--interval";
		argv[argc++] = intarg;
	}
	if (o->quiet)
		argv[argc++] = "-q";
	/* Its log never goes into the launching program's streams. */
	if (o->logfile)
		snprintf(logfile, sizeof(logfile), "%s", o->logfile);
	else
		coord_default_logfile(o, logfile, sizeof(logfile));
	argv[argc++] = "--coord-logfile";
	argv[argc++] = logfile;
	argv[argc] = NULL;

	pid = fork();
	if (pid < 0) {
		port = -errno;
		pr_err("cannot fork to start %s: %s", coord, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		execvp(coord, (char *const *)argv);
		pr_err("cannot run %s: %s", coord, strerror(errno));
		_exit(127);
	}
	deadline = mono_now_ms() + START_TIMEOUT_MS;
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (mono_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			pr_err("%s did not come up within %d ms", coord, START_TIMEOUT_MS);
			port = -ETIMEDOUT;
			goto out;
		}
		/* The daemon's parent exits within milliseconds; poll its end cheaply. */
		poll(NULL, 0, 10);
	}
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		pr_err("%s failed to start (exit status %d)", coord,
		       w == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		port = -ECONNREFUSED;
		goto out;
	}
	port = read_port_file(pf);
	if (port < 0)
		pr_err("%s started but its port file %s is unreadable: %s", coord, pf,
		       strerror(-port));
out:
	if (pf == pfile) {
		unlink(pfile);
		rmdir(tmpdir);
	}
	return port;
}

/* A coordinator we start listens here: only worth it when the host named is this one. */
static bool host_is_local(const char *host)
{
	char self[256] = "";

	if (!strncmp(host, "127.", 4) || !strcmp(host, "localhost") || !strcmp(host, "::1"))
		return true;
	gethostname(self, sizeof(self) - 1);
	return !strcmp(host, self);
}

int coord_ensure(struct coord_opts *o)
{
	int fd, port;

	if (o->port == -2) {
		pr_err("%s='%s' is not a port number (0..65535)", o->bad_env, o->bad_val);
		return -EINVAL;
	}
	if (o->port < 0)
		o->port = DMTCP_DEFAULT_PORT;
	if (o->mode != COORD_NEW && o->port != 0) {
		fd = coord_tcp_connect(o->host, o->port, CONNECT_TIMEOUT_MS);
		if (fd >= 0)
			return fd;
		if (o->mode == COORD_JOIN || fd != -ECONNREFUSED || !host_is_local(o->host)) {
			pr_err("no coordinator at %s:%d: %s", o->host, o->port, strerror(-fd));
			return fd;
		}
	}
	if (!host_is_local(o->host)) {
		pr_err("cannot start a coordinator on %s: it is not this host", o->host);
		return -EHOSTUNREACH;
	}
	port = start_coordinator(o);
	if (port < 0) {
		if (o->mode == COORD_ANY && o->port != 0) {
			/* Lost a race with another starter: join theirs. */
			fd = coord_tcp_connect(o->host, o->port, CONNECT_TIMEOUT_MS);
			if (fd >= 0)
				return fd;
		}
		return port;
	}
	o->port = port;
	fd = coord_tcp_connect("127.0.0.1", port, CONNECT_TIMEOUT_MS);
	if (fd < 0)
		pr_err("cannot connect to the coordinator started on port %d: %s", port,
		       strerror(-fd));
	return fd;
}

#define HELLO_TIMEOUT_MS 5000

int coord_hello(int fd, const char *host, int port, struct proto_msg *hello)
{
	char cn[COORD_HEX_LEN + 1], proof[COORD_HEX_LEN + 1], path[PATH_MAX], kerr[PATH_MAX + 200];
	const char *sn, *why = "?";
	struct coord_key key;
	struct proto_in in;
	struct proto_msg m;
	int r, have_key, coord_ok;

	have_key = coord_key_load(port, &key, path, sizeof(path), kerr, sizeof(kerr)) == 0;
	/* Without the key the handshake still runs, with a key of nobody's: the coordinator
	 * logs the refusal, and we report what was wrong with the key file. */
	if (!have_key) {
		coord_nonce_hex(cn);
		memcpy(key.k, cn, sizeof(key.k));
	}
	coord_nonce_hex(cn);
	proto_put_str(hello, F_NONCE, cn);
	r = proto_send(fd, hello);
	if (!r)
		r = proto_recv(fd, &in, HELLO_TIMEOUT_MS, &why);
	if (r) {
		pr_err("no answer from the coordinator at %s:%d: %s", host, port,
		       r == -EPROTO ? why : strerror(-r));
		return r;
	}
	if (in.type == MSG_REFUSE) {
		pr_err("the coordinator at %s:%d refused: %s", host, port,
		       proto_get_str(&in, F_REASON) ? proto_get_str(&in, F_REASON) : "?");
		proto_in_free(&in);
		return -EACCES;
	}
	sn = proto_get_str(&in, F_NONCE);
	if (in.type != MSG_CHALLENGE || !sn) {
		pr_err("the coordinator at %s:%d answered %s, not CHALLENGE (another protocol?)",
		       host, port, proto_type_name(in.type));
		proto_in_free(&in);
		return -EPROTO;
	}
	coord_ok = coord_auth_check(&key, true, sn, cn, proto_get_str(&in, F_AUTH));
	r = coord_auth_proof(&key, false, sn, cn, proof);
	proto_in_free(&in);
	if (r) {
		pr_err("the coordinator at %s:%d sent a malformed challenge", host, port);
		return -EPROTO;
	}
	proto_msg_init(&m, MSG_AUTH);
	proto_put_str(&m, F_AUTH, proof);
	r = proto_send(fd, &m);
	proto_msg_free(&m);
	if (!have_key) {
		pr_err("%s: the coordinator at %s:%d cannot be used without its key (a coordinator "
		       "of another user? DMTCP_COORD_KEY_FILE names the key file)", kerr, host,
		       port);
		return -EACCES;
	}
	if (!coord_ok) {
		pr_err("the coordinator at %s:%d does not know the key in %s: it is not the "
		       "coordinator that key belongs to", host, port, path);
		return -EACCES;
	}
	return r;
}

int coord_check_key(const char *host, int port)
{
	struct proto_msg m;
	int fd, r;

	fd = coord_tcp_connect(host, port, CONNECT_TIMEOUT_MS);
	if (fd < 0) {
		pr_err("no coordinator at %s:%d: %s", host, port, strerror(-fd));
		return fd;
	}
	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "client");
	r = coord_hello(fd, host, port, &m);
	proto_msg_free(&m);
	close(fd);
	return r;
}
