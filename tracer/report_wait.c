/*
 * The command side of dmtcp_launch and dmtcp_restart. Both commands fork the tracer and then
 * only wait for its reports on a pipe (struct launch_report): the program's pid, so that
 * SIGTERM/SIGHUP sent to the command reach the program, and the program's end, which ends the
 * command the same way, while the tracer stays as long as any traced process lives.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "tracer.h"

int tracer_report_wait(int rfd, const sigset_t *fwd, struct launch_report *rep)
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
