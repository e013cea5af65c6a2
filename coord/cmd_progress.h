/*
 * The progress line of dmtcp_command -bc / -kc: while the command waits for the reply that
 * ends the checkpoint, a second connection asks the coordinator's status a few times a second
 * and one line on the terminal says how far the checkpoint is ("checkpoint 2: 1/3 processes,
 * 640.0 MiB written, 812 MiB/s"), rewritten in place and erased before the outcome is printed.
 * Only for a checkpoint that has taken more than a second, and only on a terminal.
 */
#ifndef DMTCP_CMD_PROGRESS_H
#define DMTCP_CMD_PROGRESS_H

/*
 * Wait until fd (the connection the checkpoint command went out on) has input. With tty_fd
 * >= 0, keep the progress line on tty_fd meanwhile, asking host:port for the status; any
 * trouble with that second connection only ends the line, never the wait. Returns 0 when fd
 * is readable (or closed: the caller's read says which), or -errno when poll fails.
 */
int cmd_progress_wait(int fd, const char *host, int port, int tty_fd);

#endif
