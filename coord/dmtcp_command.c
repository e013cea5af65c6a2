/*
 * dmtcp_command: send one command to a running coordinator and print its answer: DMTCP-style
 * text, or one JSON object (--json). -bc and -kc wait for the end of the checkpoint, with a
 * progress line on a terminal (cmd_progress.c). --where prints every thread's backtrace
 * (cmd_where.c).
 * Exit codes: 0 success, 1 usage, 2 coordinator unreachable, refused, or the command failed
 * (--where: or a process did not answer; what the others said is printed all the same).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_progress.h"
#include "cmd_where.h"
#include "coordclient.h"
#include "json.h"
#include "log.h"
#include "status_fmt.h"
#include "units.h"
#include "util.h"

#define RC_USAGE 1
#define RC_COORD 2
#define REPLY_TIMEOUT_MS 30000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dmtcp_command [OPTIONS] COMMAND\n"
		"Send a command to the dmtcp_coordinator.\n\n"
		"Options:\n"
		"  -h, --coord-host H   coordinator host (default $DMTCP_COORD_HOST, $DMTCP_HOST,\n"
		"                       else 127.0.0.1)\n"
		"  -p, --coord-port N   coordinator port (default $DMTCP_COORD_PORT, $DMTCP_PORT,\n"
		"                       else 7779)\n"
		"      --json           print status, list or --where as one JSON object\n"
		"      --help           this text\n"
		"      --version        print the version\n\n"
		"Commands:\n"
		"  -s, --status         status of the computation\n"
		"  -l, --list           list the processes\n"
		"  -c, --checkpoint     start a checkpoint\n"
		"  -bc, --bcheckpoint   checkpoint; return when done and the restart script is written\n"
		"                       (on a terminal, a line shows its progress after a second)\n"
		"  -kc, --kcheckpoint   checkpoint, then kill the computation; return when done\n"
		"  -i, --interval N     set the checkpoint interval to N seconds (0 = none)\n"
		"  -k, --kill           kill the computation\n"
		"  -q, --quit           kill the computation and the coordinator\n"
		"      --detach         let the computation go: its processes run on untraced\n"
		"                       (only processes taken with dmtcp_launch --attach; refused,\n"
		"                       with nothing changed, if any other is in it; checkpoint\n"
		"                       first with -bc if an image is wanted)\n"
		"      --where          print every thread's backtrace, per process: where a\n"
		"                       long-running or hung program is (each process is stopped\n"
		"                       for a few milliseconds; waits at most 5 s for the answers;\n"
		"                       refused while a checkpoint or restart runs)\n\n"
		"Exit status: 0 success, 1 usage error, 2 coordinator unreachable or command failed\n"
		"(--where: also when a process did not answer; the others are printed).\n");
}

static void __attribute__((noreturn)) bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "dmtcp_command: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'dmtcp_command --help'.\n");
	exit(RC_USAGE);
}

struct cmd_spec {
	const char *shortopt, *longopt, *bare, *cmd;
	bool has_arg;
};

static const struct cmd_spec cmds[] = {
	{ "-s", "--status", "s", "s", false },	    { "-l", "--list", "l", "l", false },
	{ "-c", "--checkpoint", "c", "c", false },   { "-bc", "--bcheckpoint", "bc", "bc", false },
	{ "-kc", "--kcheckpoint", "kc", "kc", false }, { "-i", "--interval", "i", "i", true },
	{ "-k", "--kill", "k", "k", false },	    { "-q", "--quit", "q", "q", false },
	{ "--where", "--where", "where", "where", false },
	{ "--detach", "--detach", "d", "d", false },
};

static uint64_t get_u(const struct proto_in *in, uint16_t tag)
{
	uint64_t v = 0;

	proto_get_u64(in, tag, &v);
	return v;
}

static const char *get_s(const struct proto_in *in, uint16_t tag)
{
	const char *s = proto_get_str(in, tag);

	return s ? s : "";
}

/* "checkpoint": the running checkpoint, or null. */
static void json_checkpoint(struct json_writer *w, const struct proto_in *in)
{
	struct ckpt_progress p;

	if (!ckpt_progress_get(in, &p)) {
		json_null(w, "checkpoint");
		return;
	}
	json_object_begin(w, "checkpoint");
	json_uint(w, "generation", p.generation);
	json_uint(w, "done", p.done);
	json_uint(w, "total", p.total);
	if (p.bytes >= 0)
		json_uint(w, "bytes", (uint64_t)p.bytes);
	else
		json_null(w, "bytes");
	json_uint(w, "elapsed_ms", p.elapsed_ms);
	json_object_end(w);
}

static void json_peer(struct json_writer *w, const struct peer_line *pl)
{
	char when[32];

	json_object_begin(w, NULL);
	json_uint(w, "id", pl->id);
	json_string(w, "prog", pl->prog);
	json_uint(w, "pid", pl->pid);
	json_string(w, "host", pl->host);
	json_string(w, "state", pl->state);
	json_string(w, "uniquepid", pl->uniquepid);
	json_string(w, "image", pl->image);
	if (pl->image && pl->image_size >= 0)
		json_uint(w, "image_size", (uint64_t)pl->image_size);
	else
		json_null(w, "image_size");
	json_string(w, "image_time", pl->image && pl->image_time >= 0 ?
			fmt_utc_time(when, sizeof(when), pl->image_time) : NULL);
	json_object_end(w);
}

/* Status and list as one JSON object (common/json.c does the escaping and the commas). */
static int print_json(const struct proto_in *in)
{
	struct json_writer w;
	uint32_t pos = 0;
	const char *p;

	json_init(&w, stdout, 0);
	json_object_begin(&w, NULL);
	json_uint(&w, "num_peers", get_u(in, F_NUM_PEERS));
	json_bool(&w, "running", get_u(in, F_RUNNING) != 0);
	json_uint(&w, "checkpoint_interval", get_u(in, F_INTERVAL));
	json_string(&w, "computation_id", get_s(in, F_COMPID));
	json_string(&w, "ckpt_dir", get_s(in, F_CKPTDIR));
	json_string(&w, "host", get_s(in, F_HOST));
	json_uint(&w, "port", get_u(in, F_PORT));
	json_string(&w, "coord_state", get_s(in, F_COORD_STATE));
	json_uint(&w, "ckpt_count", get_u(in, F_CKPT_COUNT));
	json_string(&w, "last_ckpt", get_s(in, F_LAST_CKPT));
	json_checkpoint(&w, in);
	json_string(&w, "waiting", proto_get_str(in, F_WAITING));
	json_string(&w, "last_error", proto_get_str(in, F_LAST_ERROR));
	json_array_begin(&w, "peers");
	while ((p = proto_next_str(in, F_PEER, &pos))) {
		char copy[PROTO_MAX_STR + 1];
		struct peer_line pl;

		if (!peer_line_parse(p, copy, sizeof(copy), &pl))
			json_peer(&w, &pl);
	}
	json_array_end(&w);
	json_object_end(&w);
	return json_finish(&w);
}

/* WAITING= and LAST_ERROR=, when there is something to say. */
static void print_reasons(const struct proto_in *in)
{
	const char *s;

	s = proto_get_str(in, F_WAITING);
	if (s)
		printf("WAITING=%s\n", s);
	s = proto_get_str(in, F_LAST_ERROR);
	if (s)
		printf("LAST_ERROR=%s\n", s);
}

static void print_status(const struct proto_in *in)
{
	uint64_t interval = get_u(in, F_INTERVAL);
	struct ckpt_progress p;
	char line[256];

	printf("Coordinator:\n");
	printf("  Host: %s\n", get_s(in, F_HOST));
	printf("  Port: %llu\n", (unsigned long long)get_u(in, F_PORT));
	if (interval)
		printf("  Checkpoint Interval: %llu\n", (unsigned long long)interval);
	else
		printf("  Checkpoint Interval: disabled (checkpoint manually)\n");
	printf("  Computation Id: %s\n", *get_s(in, F_COMPID) ? get_s(in, F_COMPID) : "-");
	printf("  Checkpoint Dir: %s\n", get_s(in, F_CKPTDIR));
	printf("Status...\n");
	printf("NUM_PEERS=%llu\n", (unsigned long long)get_u(in, F_NUM_PEERS));
	printf("RUNNING=%s\n", get_u(in, F_RUNNING) ? "yes" : "no");
	printf("COORD_STATE=%s\n", get_s(in, F_COORD_STATE));
	printf("CKPT_COUNT=%llu\n", (unsigned long long)get_u(in, F_CKPT_COUNT));
	printf("LAST_CKPT=%s\n", get_s(in, F_LAST_CKPT));
	if (ckpt_progress_get(in, &p))
		printf("CKPT_PROGRESS=%s\n", fmt_ckpt_status(line, sizeof(line), &p));
	print_reasons(in);
}

static void print_list(const struct proto_in *in)
{
	uint32_t pos = 0;
	const char *p;

	printf("Client List:\n");
	printf("#, PROG[PID]@HOST, STATE, UNIQUEPID, LAST IMAGE\n");
	while ((p = proto_next_str(in, F_PEER, &pos))) {
		char copy[PROTO_MAX_STR + 1], line[PROTO_MAX_STR + 256];
		struct peer_line pl;

		if (peer_line_parse(p, copy, sizeof(copy), &pl))
			continue;
		printf("%s\n", fmt_peer_text(line, sizeof(line), &pl));
	}
	print_reasons(in);
}

int main(int argc, char **argv)
{
	const struct cmd_spec *spec = NULL;
	struct coord_opts o;
	struct proto_msg m;
	struct proto_in in;
	struct where_answer where = { 0 };
	const char *why, *reason;
	bool json = false, waits;
	long arg = 0;
	uint64_t st;
	int fd, ret, rc = 0;

	log_set_prog(argv[0]);
	coord_opts_from_env(&o);
	o.mode = COORD_JOIN;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct cmd_spec *found = NULL;
		size_t k;

		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			printf("dmtcp_command %s\n", DMTCP_VERSION);
			return 0;
		}
		if (!strcmp(a, "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--coord-host") ||
		    !strncmp(a, "--coord-host=", 13)) {
			val = a[1] == '-' && a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : NULL);
			if (!val || !*val || strlen(val) >= sizeof(o.host))
				bad_usage("option '%s' needs a host name", a);
			snprintf(o.host, sizeof(o.host), "%s", val);
			continue;
		}
		if (!strcmp(a, "-p") || !strcmp(a, "--coord-port") ||
		    !strncmp(a, "--coord-port=", 13)) {
			val = a[1] == '-' && a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : NULL);
			if (!val)
				bad_usage("option '%s' needs a port number", a);
			o.port = coord_parse_port(val);
			if (o.port <= 0)
				bad_usage("port '%s' is not a number 1..65535", val);
			continue;
		}
		for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
			if (!strcmp(a, cmds[k].shortopt) || !strcmp(a, cmds[k].longopt) ||
			    !strcmp(a, cmds[k].bare))
				found = &cmds[k];
		if (!found && !strncmp(a, "--interval=", 11)) {
			found = &cmds[5];
			val = a + 11;
		}
		if (!found)
			bad_usage("unknown option or command '%s'", a);
		if (spec)
			bad_usage("more than one command given ('%s')", a);
		spec = found;
		if (spec->has_arg) {
			if (!val)
				val = i + 1 < argc ? argv[++i] : NULL;
			if (!val || parse_long(val, 0, 100L * 365 * 24 * 3600, &arg))
				bad_usage("the interval '%s' is not a number of seconds",
					  val ? val : "(missing)");
		}
	}
	if (!spec)
		bad_usage("%s", "no command given");

	fd = coord_ensure(&o);
	if (fd == -EINVAL)
		return RC_USAGE; /* a bad DMTCP_COORD_PORT: a usage error, already reported */
	if (fd < 0)
		return RC_COORD;
	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "client");
	ret = coord_hello(fd, o.host, o.port, &m);
	proto_msg_free(&m);
	if (ret == -EACCES) {
		close(fd);
		return RC_COORD; /* no key, or the wrong one: coord_hello said which */
	}
	if (!ret) {
		proto_msg_init(&m, MSG_COMMAND);
		proto_put_str(&m, F_CMD, spec->cmd);
		if (spec->has_arg)
			proto_put_u64(&m, F_ARG, (uint64_t)arg);
		ret = proto_send(fd, &m);
		proto_msg_free(&m);
	}
	if (ret) {
		pr_err("cannot send to the coordinator at %s:%d: %s", o.host, o.port, strerror(-ret));
		close(fd);
		return RC_COORD;
	}
	/* bc and kc answer when the checkpoint is over, however long that takes. */
	waits = !strcmp(spec->cmd, "bc") || !strcmp(spec->cmd, "kc");
	ret = waits ? cmd_progress_wait(fd, o.host, o.port,
					isatty(STDERR_FILENO) ? STDERR_FILENO : -1)
		    : 0;
	if (ret)
		why = strerror(-ret);
	else if (!strcmp(spec->cmd, "where"))
		ret = cmd_where_recv(fd, &where, &in, REPLY_TIMEOUT_MS, &why);
	else
		ret = proto_recv(fd, &in, waits ? -1 : REPLY_TIMEOUT_MS, &why);
	close(fd);
	if (ret) {
		pr_err("no answer from the coordinator at %s:%d: %s", o.host, o.port, why);
		cmd_where_free(&where);
		return RC_COORD;
	}
	if (in.type == MSG_REFUSE) {
		pr_err("the coordinator refused: %s", get_s(&in, F_REASON));
		proto_in_free(&in);
		cmd_where_free(&where);
		return RC_COORD;
	}
	if (in.type != MSG_COMMAND_REPLY || proto_get_u64(&in, F_STATUS, &st)) {
		pr_err("unexpected %s message from the coordinator", proto_type_name(in.type));
		proto_in_free(&in);
		cmd_where_free(&where);
		return RC_COORD;
	}
	reason = proto_get_str(&in, F_REASON);
	if (st) {
		fprintf(stderr, "dmtcp_command: %s failed: %s\n", spec->longopt + 2,
			reason ? reason : strerror((int)-(int64_t)st));
		proto_in_free(&in);
		cmd_where_free(&where);
		return RC_COORD;
	}
	if (!strcmp(spec->cmd, "where")) {
		ret = json ? cmd_where_print_json(stdout, &where, &in)
			   : cmd_where_print(stdout, &where, &in);
		if (ret < 0)
			fprintf(stderr, "dmtcp_command: cannot write the answer: %s\n",
				strerror(-ret));
		else if (ret > 0)
			fprintf(stderr, "dmtcp_command: where: %d of %d processes did not answer\n",
				ret, where.n);
		rc = ret ? RC_COORD : 0;
	} else if (json) {
		if (print_json(&in))
			fprintf(stderr, "dmtcp_command: cannot write the JSON document\n");
	} else if (!strcmp(spec->cmd, "s"))
		print_status(&in);
	else if (!strcmp(spec->cmd, "l"))
		print_list(&in);
	else if (!strcmp(spec->cmd, "bc") || !strcmp(spec->cmd, "kc"))
		printf("checkpoint %llu done: %s\n", (unsigned long long)get_u(&in, F_CKPT_COUNT),
		       get_s(&in, F_LAST_CKPT));
	proto_in_free(&in);
	cmd_where_free(&where);
	return rc;
}
