/*
 * Ending a command the way the program it ran ended: dmtcp_launch and dmtcp_restart return
 * the launched (or restored) program's exit status, and re-raise its fatal signal so that a
 * shell sees "killed by signal N" exactly as without dmtcp.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "tracer.h"

void exit_like(int wstatus)
{
	struct rlimit no_core = { 0, 0 };
	sigset_t all;
	int sig;

	if (WIFEXITED(wstatus))
		exit(WEXITSTATUS(wstatus));
	if (!WIFSIGNALED(wstatus))
		exit(128);
	sig = WTERMSIG(wstatus);
	/* The program dumped its core already (if it could): ours would be noise. */
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigaddset(&all, sig);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	raise(sig);
	exit(128 + sig);
}
