/*
 * coordensure: exercise coord_ensure() (common/coordclient.c) from a test. It applies the
 * given mode, prints "connected PORT" on success, then optionally says hello as a peer (so
 * that an --exit-on-last coordinator it started has a computation to end) and waits for a
 * line on stdin before leaving. Exit status: 0 connected, 2 usage, 3 coord_ensure failed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordclient.h"
#include "ids.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct coord_opts o;
	bool hello = false, hold = false;
	int fd;

	log_set_prog("coordensure");
	coord_opts_from_env(&o);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--any"))
			o.mode = COORD_ANY;
		else if (!strcmp(argv[i], "--join"))
			o.mode = COORD_JOIN;
		else if (!strcmp(argv[i], "--new"))
			o.mode = COORD_NEW;
		else if (!strcmp(argv[i], "--hello"))
			hello = true;
		else if (!strcmp(argv[i], "--hold"))
			hold = true;
		else if (!strcmp(argv[i], "-p") && i + 1 < argc)
			o.port = coord_parse_port(argv[++i]);
		else if (!strcmp(argv[i], "--port-file") && i + 1 < argc)
			o.port_file = argv[++i];
		else if (!strcmp(argv[i], "--ckptdir") && i + 1 < argc)
			o.ckptdir = argv[++i];
		else if (!strcmp(argv[i], "--interval") && i + 1 < argc)
			o.interval = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: coordensure [--any|--join|--new] [-p PORT] "
					"[--port-file F] [--ckptdir D] [--interval N] [--hello] [--hold]\n");
			return 2;
		}
	}
	fd = coord_ensure(&o);
	if (fd < 0)
		return 3;
	printf("connected %d\n", o.port);
	fflush(stdout);
	if (hello) {
		struct proto_msg m;
		struct proto_in in;
		const char *why;
		char uniq[IDS_MAX];

		format_uniquepid(getpid(), uniq, sizeof(uniq));
		proto_msg_init(&m, MSG_HELLO);
		proto_put_str(&m, F_ROLE, "peer");
		proto_put_str(&m, F_PROG, "coordensure");
		proto_put_u64(&m, F_PID, (uint64_t)getpid());
		proto_put_u64(&m, F_PPID, (uint64_t)getppid());
		proto_put_str(&m, F_UNIQUEPID, uniq);
		proto_put_str(&m, F_HOST, "localhost");
		proto_put_str(&m, F_STATE, "RUNNING");
		if (coord_hello(fd, o.host, o.port, &m) || proto_recv(fd, &in, 5000, &why) ||
		    in.type != MSG_WELCOME)
			return 3;
		printf("welcome %s %s\n", proto_get_str(&in, F_COMPID), proto_get_str(&in, F_CKPTDIR));
		fflush(stdout);
		proto_in_free(&in);
		proto_msg_free(&m);
	}
	if (hold) {
		char line[16];

		if (!fgets(line, sizeof(line), stdin)) {
			/* end of input: leave */
		}
	}
	close(fd);
	return 0;
}
