/*
 * Waiting for TCP send queues to reach local peers at the drain step (see sockdrain.h).
 *
 * inet_diag's write queue of an established TCP socket counts the bytes sent and not yet
 * acknowledged plus those not sent yet; on a connection between two local sockets an ACK
 * means the bytes are in the peer's receive queue. So the step re-reads the table until every
 * connection of the process to a local peer shows an empty write queue. A peer on another
 * host is not waited for: such a connection comes back reset at restart.
 */
#include "sockdrain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "core.h"
#include "hooks.h"
#include "log.h"
#include "procfs.h"
#include "sockdiag.h"

/* How long the bytes may take to reach a local peer. */
#define DRAIN_WAIT_MS 3000

struct sock_fd {
	int fd;
	uint32_t ino;
};

/* p's socket fds (inode from the link "socket:[N]"). */
static int socket_fds(pid_t pid, struct sock_fd **out, uint32_t *nout)
{
	int *fds, rc;
	uint32_t n, k = 0;
	struct sock_fd *v;

	*out = NULL;
	*nout = 0;
	if ((rc = procfs_list_fds(pid, &fds, &n)))
		return rc;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		free(fds);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		char link[64];
		unsigned long ino;

		if (procfs_fd_link(pid, fds[i], link, sizeof(link)) ||
		    sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		v[k++] = (struct sock_fd){ fds[i], (uint32_t)ino };
	}
	free(fds);
	*out = v;
	*nout = k;
	return 0;
}

/* A connection of p whose bytes are still on their way to a local peer: its fd, else -1. */
static int undelivered(const struct sockdiag_inet_set *d, const struct sock_fd *v, uint32_t n,
		       uint32_t *bytes)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct sockdiag_inet *me = sockdiag_tcp_find(d, v[i].ino);

		/* ESTABLISHED, FIN_WAIT1, CLOSE_WAIT, LAST_ACK, CLOSING: may have bytes out */
		if (!me || !me->wqueue ||
		    (me->state != 1 && me->state != 4 && me->state != 8 && me->state != 9 &&
		     me->state != 11))
			continue;
		if (!sockdiag_tcp_mirror(d, me))
			continue; /* a peer on another host */
		*bytes = me->wqueue;
		return v[i].fd;
	}
	return -1;
}

static int drain_step(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *step, void *arg)
{
	struct sock_fd *v;
	uint32_t n, bytes = 0;
	long deadline = mono_now_ms() + DRAIN_WAIT_MS;
	int rc, fd;

	(void)tr;
	(void)arg;
	if ((rc = socket_fds(p->pid, &v, &n)))
		return rc;
	for (fd = -1; n;) {
		struct sockdiag_inet_set d;
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		if ((rc = sockdiag_tcp_dump(&d))) {
			snprintf(step->reason, sizeof(step->reason),
				 "pid %d: cannot list the TCP sockets (inet_diag): %s", p->pid,
				 strerror(-rc));
			break;
		}
		fd = undelivered(&d, v, n, &bytes);
		sockdiag_inet_free(&d);
		if (fd < 0 || mono_now_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	free(v);
	if (rc)
		return rc;
	if (fd >= 0) {
		snprintf(step->reason, sizeof(step->reason),
			 "pid %d (%.40s): fd %d: %u bytes sent on this TCP connection have not "
			 "reached its local peer in %d s (its receive window is full?)",
			 p->pid, p->prog, fd, bytes, DRAIN_WAIT_MS / 1000);
		return -EAGAIN;
	}
	return 0;
}

int sockdrain_init(struct tracer *tr)
{
	return hooks_on_step(tr, STEP_DRAIN, drain_step, NULL);
}
