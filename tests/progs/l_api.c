/*
 * l_api: exercises the dmtcp.h API's virtual syscall directly (common/api_abi.h).
 *
 *   l_api enabled      prints "enabled R" with R the raw answer of DMTCP_OP_IS_ENABLED
 *                      (1 under dmtcp_launch, -ENOSYS outside)
 *   l_api checkpoint   asks for a checkpoint; prints "checkpoint R"
 *   l_api bogus        an unknown op; prints "bogus R" (-EINVAL under dmtcp_launch)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../common/api_abi.h"

static long api(long op)
{
	long r;

	/* raw syscall: glibc's syscall() would fold the error into errno */
	__asm__ volatile("syscall" : "=a"(r) : "a"((long)DMTCP_API_SYSCALL), "D"(op)
			 : "rcx", "r11", "memory");
	return r;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "enabled"))
		printf("enabled %ld\n", api(DMTCP_OP_IS_ENABLED));
	else if (argc == 2 && !strcmp(argv[1], "checkpoint"))
		printf("checkpoint %ld\n", api(DMTCP_OP_CHECKPOINT));
	else if (argc == 2 && !strcmp(argv[1], "bogus"))
		printf("bogus %ld\n", api(9999));
	else {
		fprintf(stderr, "usage: l_api enabled|checkpoint|bogus\n");
		return 2;
	}
	return 0;
}
