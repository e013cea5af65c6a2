/*
 * dmtcp_nocheckpoint: run a command outside checkpoint control.
 *
 * Under dmtcp_launch it tells the tracer (through the API's virtual syscall) that this
 * process and everything it starts leave the computation: no coordinator peer, never
 * suspended, never checkpointed. Then it execs the command. Outside dmtcp the virtual syscall
 * fails with ENOSYS and the command simply runs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "api_abi.h"
#include "log.h"

int main(int argc, char **argv)
{
	long r;

	log_set_prog("dmtcp_nocheckpoint");
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout,
			"Usage: dmtcp_nocheckpoint <command> [args...]\n"
			"Run command outside checkpoint control (not a peer, not checkpointed).\n");
		return argc < 2 ? fail_rc() : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("dmtcp_nocheckpoint (dmtcp-ptrace) %s\n", DMTCP_VERSION);
		return 0;
	}
	r = syscall(DMTCP_API_SYSCALL, DMTCP_OP_NOCHECKPOINT, 0, 0, 0);
	if (r < 0 && errno != ENOSYS)
		die("the tracer refused to release this process: %s", strerror(errno));
	execvp(argv[1], argv + 1);
	die("cannot execute '%s': %s", argv[1], strerror(errno));
}
