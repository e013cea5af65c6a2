/*
 * The command side of dmtcp_launch and dmtcp_restart (see report.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "report.h"

void report_send(int fd, int kind, int val)
{
	struct launch_report rep = { kind, val };

	if (fd >= 0 && write(fd, &rep, sizeof(rep)) < 0) {
		/* the reader is gone: nobody left to tell */
	}
}

pid_t report_fork_tracer(int pfds[2], sigset_t *fwd)
{
	pid_t pid;

	if (pipe2(pfds, O_CLOEXEC) < 0)
		die("cannot create a pipe: %s", strerror(errno));
	/* Blocked in both: the command reads them from a signalfd and forwards them. */
	sigemptyset(fwd);
	sigaddset(fwd, SIGTERM);
	sigaddset(fwd, SIGHUP);
	sigprocmask(SIG_BLOCK, fwd, NULL);
	pid = fork();
	if (pid < 0)
		die("cannot fork the tracer: %s", strerror(errno));
	if (pid > 0) {
		close(pfds[1]);
		/* The program gets the terminal's SIGINT/SIGQUIT itself. */
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
	} else {
		close(pfds[0]);
	}
	return pid;
}

int report_wait(int rfd, const sigset_t *fwd, struct launch_report *rep)
{
	struct pollfd pfd[2];
	size_t got = 0;
	pid_t prog = -1;
	int sfd, pending_sig = 0;

	sfd = signalfd(-1, fwd, SFD_CLOEXEC);
	if (sfd < 0)
		die("cannot create a signalfd: %s", strerror(errno));
	pfd[0] = (struct pollfd){ rfd, POLLIN, 0 };
	pfd[1] = (struct pollfd){ sfd, POLLIN, 0 };
	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll failed: %s", strerror(errno));
		}
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			/* Before the program's pid is known, keep the last signal for it. */
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (prog > 0)
					kill(prog, (int)si.ssi_signo);
				else
					pending_sig = (int)si.ssi_signo;
			}
		}
		if (!pfd[0].revents)
			continue;
		n = read(rfd, (char *)rep + got, sizeof(*rep) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got < sizeof(*rep))
			continue;
		got = 0;
		if (rep->kind == LREP_PID) {
			prog = rep->val;
			if (pending_sig)
				kill(prog, pending_sig);
		} else if (rep->kind == LREP_EXIT) {
			exit_like(rep->val);
		} else {
			close(sfd);
			return 1;
		}
	}
	close(sfd);
	return 0;
}

/*
 * dmtcp_launch and dmtcp_restart return the launched (or restored) program's exit status, and
 * re-raise its fatal signal so that a shell sees "killed by signal N" exactly as without dmtcp.
 */
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
