/*
 * SO_REUSEADDR on a process's TCP sockets before it is killed (see sockports.h), through
 * pidfd_getfd duplicates: the same sockets, not new ones.
 */
#include "sockports.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"

void sockports_release(pid_t pid)
{
	int *fds, pidfd, one = 1;
	uint32_t n;

	if (procfs_list_fds(pid, &fds, &n))
		return;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (uint32_t i = 0; pidfd >= 0 && i < n; i++) {
		int lfd, family = 0, type = 0;
		socklen_t l = sizeof(family);

		if (!procfs_fd_socket_ino(pid, fds[i]) ||
		    (lfd = (int)syscall(SYS_pidfd_getfd, pidfd, fds[i], 0)) < 0)
			continue;
		if (!getsockopt(lfd, SOL_SOCKET, SO_DOMAIN, &family, &l) &&
		    (family == AF_INET || family == AF_INET6) && (l = sizeof(type)) &&
		    !getsockopt(lfd, SOL_SOCKET, SO_TYPE, &type, &l) && type == SOCK_STREAM)
			setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		close(lfd);
	}
	if (pidfd >= 0)
		close(pidfd);
	free(fds);
}
