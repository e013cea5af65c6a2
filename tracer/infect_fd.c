/*
 * Infection library, file descriptors across the boundary: a target's fd into the tracer
 * (pidfd_getfd when the kernel has it, tracer/probe.h; else /proc/PID/fd), a tracer's fd into
 * the target (SCM_RIGHTS over a socketpair made in the target), and remote close. See
 * infect.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "infect_int.h"
#include "log.h"
#include "probe.h"
#include "procfs.h"

/* ---- a target's fd into the tracer --------------------------------------------------------- */

int infect_open_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int getfd_by_proc(pid_t pid, int remote_fd, int *local_fd)
{
	static const int modes[] = {O_RDWR, O_RDONLY, O_WRONLY};
	char name[32];
	int i, fd = -EBADF;

	snprintf(name, sizeof(name), "fd/%d", remote_fd);
	for (i = 0; i < 3 && fd < 0 && fd != -ESRCH; i++)
		fd = procfs_open(pid, 0, name, modes[i]);
	/* No such entry in a live process: the fd is not open, as pidfd_getfd would say. */
	if (fd == -ESRCH && !kill(pid, 0))
		fd = -EBADF;
	if (fd < 0) {
		if (fd != -ESRCH)
			pr_err("pid %d: cannot reopen /proc/%d/%s: %s", pid, pid, name,
			       strerror(-fd));
		return fd;
	}
	*local_fd = fd;
	return 0;
}

static int getfd_by_pidfd(int pidfd, pid_t pid, int remote_fd, int *local_fd)
{
	int fd, e;

	if (!kfeat()->pidfd_getfd || pidfd < 0)
		return getfd_by_proc(pid, remote_fd, local_fd);
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd, 0);
	if (fd >= 0) {
		*local_fd = fd;
		return 0;
	}
	e = errno;
	if (e == ESRCH)
		return -ESRCH;
	pr_err("pid %d: pidfd_getfd(%d): %s", pid, remote_fd, strerror(e));
	return -e;
}

int infect_getfd(pid_t pid, int remote_fd, int *local_fd)
{
	int pidfd = kfeat()->pidfd_getfd ? infect_open_pidfd(pid) : -1;
	int err;

	if (pidfd < 0 && kfeat()->pidfd_getfd && errno == ESRCH)
		return -ESRCH;
	err = getfd_by_pidfd(pidfd, pid, remote_fd, local_fd);
	if (pidfd >= 0)
		close(pidfd);
	return err;
}

int infect_take_fd(struct infect_ctx *ctx, int remote_fd, int *local_fd)
{
	return getfd_by_pidfd(ctx->pidfd, ctx->pid, remote_fd, local_fd);
}

int infect_remote_close(struct infect_ctx *ctx, int remote_fd)
{
	const uint64_t a[6] = {(uint64_t)remote_fd};
	long r;
	int err = infect_remote_syscall(ctx, __NR_close, a, &r);

	if (err)
		return err;
	if (r < 0)
		pr_err("pid %d: remote close(%d): %s", ctx->pid, remote_fd, strerror((int)-r));
	return (int)r;
}

/* Scratch layout for infect_give_fd: the remote socketpair, a msghdr, an iovec, a data byte
 * and the control buffer, all at remote addresses built locally. */
struct give_fd_scratch {
	int sv[2];
	struct msghdr msg;
	struct iovec iov;
	char byte;
	char pad[7];
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
};

/* Where member off of the scratch layout is in the target, as the pointer the target's msghdr
 * holds (the tracer never dereferences it). */
static void *remote_member(raddr_t base, size_t off)
{
	return (void *)(uintptr_t)raddr_add(base, off).v;
}

static int send_fd(int sock, int fd)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	char byte = 'F';
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {0};
	struct cmsghdr *h;

	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	h = CMSG_FIRSTHDR(&msg);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
		int e = errno;

		pr_err("cannot send fd %d to the target: %s", fd, strerror(e));
		return -e;
	}
	return 0;
}

int infect_give_fd(struct infect_ctx *ctx, int local_fd, int *remote_fd)
{
	raddr_t rbase;
	size_t ss;
	struct give_fd_scratch *s = infect_scratch(ctx, &rbase, &ss);
	uint64_t a[6] = {AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, 0, 0, 0};
	int err, lsock = -1, got = -1;
	long r;

	memset(s, 0, sizeof(*s));
	a[3] = raddr_add(rbase, offsetof(struct give_fd_scratch, sv)).v;
	err = infect_remote_syscall(ctx, __NR_socketpair, a, &r);
	if (err)
		return err;
	if (r < 0) {
		pr_err("pid %d: remote socketpair: %s", ctx->pid, strerror((int)-r));
		return (int)r;
	}
	err = infect_take_fd(ctx, s->sv[0], &lsock);
	if (!err)
		err = send_fd(lsock, local_fd);
	if (!err) {
		/* The msghdr as the target will read it: every pointer is a remote address. */
		s->iov.iov_base = remote_member(rbase, offsetof(struct give_fd_scratch, byte));
		s->iov.iov_len = 1;
		s->msg.msg_iov = remote_member(rbase, offsetof(struct give_fd_scratch, iov));
		s->msg.msg_iovlen = 1;
		s->msg.msg_control = remote_member(rbase, offsetof(struct give_fd_scratch, cmsg));
		s->msg.msg_controllen = sizeof(s->cmsg.buf);
		a[0] = (uint64_t)s->sv[1];
		a[1] = raddr_add(rbase, offsetof(struct give_fd_scratch, msg)).v;
		a[2] = MSG_CMSG_CLOEXEC | MSG_DONTWAIT;
		err = infect_remote_syscall(ctx, __NR_recvmsg, a, &r);
		if (!err && r < 0) {
			pr_err("pid %d: remote recvmsg of a passed fd: %s", ctx->pid,
			       strerror((int)-r));
			err = (int)r;
		}
	}
	if (!err) {
		/* The target wrote the cmsg into the scratch area; read it through our view,
		 * translating its msg_control pointer back to the local copy. */
		struct cmsghdr *h = &s->cmsg.hdr;

		if (s->msg.msg_controllen >= CMSG_LEN(sizeof(int)) && h->cmsg_level == SOL_SOCKET &&
		    h->cmsg_type == SCM_RIGHTS)
			memcpy(&got, CMSG_DATA(h), sizeof(int));
		if (got < 0) {
			pr_err("pid %d: passed fd did not arrive in the target", ctx->pid);
			err = -EPROTO;
		}
	}
	if (lsock >= 0)
		close(lsock);
	if (err != -ESRCH) {
		int e1 = infect_remote_close(ctx, s->sv[0]);
		int e2 = infect_remote_close(ctx, s->sv[1]);

		if (!err)
			err = e1 ? e1 : e2;
		if (err && got >= 0 && err != -ESRCH)
			infect_remote_close(ctx, got);
	}
	if (!err)
		*remote_fd = got;
	return err;
}
