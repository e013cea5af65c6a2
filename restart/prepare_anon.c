/*
 * Making an eventfd, timerfd, signalfd, epoll set, inotify instance or pidfd again from its
 * record (struct ckpt_anon) at restart. Status flags other than O_NONBLOCK do not apply to these
 * files; close-on-exec is the fd's and is set when the fd is put in place.
 *
 * An inotify instance gets its watches again by path, each with the watch descriptor the
 * program holds. The kernel hands out wds cyclically from 1 (an idr, never reusing a number
 * until it wraps), so adding the watches by increasing wd into a new instance gives the same
 * numbers provided each gap is used up first: a throwaway watch on a pipe of ours (an inode no
 * watch of the program can be on) added and removed once per missing number. Each wd is
 * checked; any other number fails the restart. Removing a throwaway watch queues an
 * IN_IGNORED event, so the queue is emptied once all watches are in place: events on the
 * program's files during those microseconds are lost with those between checkpoint and
 * restart. Events unread at checkpoint were not saved (collect_inotify.c): a warning says so.
 *
 * A pidfd is opened by the restored process itself (prepare_anon_pidfd), after every process
 * of the tree exists with its saved pid. One that several processes share (since a fork) is
 * opened by the first of them, which sends a copy to each other one over a seqpacket pair
 * made before the tree (so that every process inherits it): every first holder sends all it
 * has to before any process waits to receive, so no two processes wait on each other.
 *
 * An epoll set is made empty with the other files; its watches are added in the restored
 * process once every fd is at its number (prepare_anon_epoll_fill), since each is added
 * through the fd number it was added with. Sets within sets need no order: the kernel takes an
 * epoll fd into another set whatever that set holds.
 *
 * A timerfd's unread expirations come back with TFD_IOC_SET_TICKS (the kernel's
 * checkpoint/restore ioctl); where the kernel lacks it the timer is made to fire at once
 * instead, so that the program sees at least one expiration (the exact count is then lost,
 * with a warning).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "restart/prepare_fds_int.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#define NSEC 1000000000ull

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / NSEC), .tv_nsec = (long)(ns % NSEC) };
}

static int make_eventfd(const struct ckpt_file *f, const struct ckpt_anon *a)
{
	int fl = EFD_CLOEXEC | ((f->oflags & O_NONBLOCK) ? EFD_NONBLOCK : 0);
	int fd;

	if (a->flags & CKPT_AF_SEMAPHORE)
		fl |= EFD_SEMAPHORE;
	/* eventfd() takes an int's worth; a write adds the full 64-bit counter */
	fd = eventfd(0, fl);
	if (fd >= 0 && a->count && write(fd, &a->count, sizeof(a->count)) != sizeof(a->count)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int make_timerfd(const struct ckpt_file *f, const struct ckpt_anon *a, const char *img,
			int fdno)
{
	int fl = TFD_CLOEXEC | ((f->oflags & O_NONBLOCK) ? TFD_NONBLOCK : 0);
	struct itimerspec its = { .it_interval = ts_of(a->interval_ns),
				  .it_value = ts_of(a->value_ns) };
	int sflags = 0, fd, e;
	uint64_t ticks = a->count;

	if (a->flags & CKPT_AF_ABSTIME)
		sflags |= TFD_TIMER_ABSTIME;
	if (a->flags & CKPT_AF_CANCEL)
		sflags |= TFD_TIMER_CANCEL_ON_SET;
	fd = timerfd_create(a->clock, fl);
	if (fd < 0)
		return -1;
	if ((a->value_ns || a->interval_ns) && timerfd_settime(fd, sflags, &its, NULL))
		goto fail;
	if (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks)) {
		if (errno != ENOTTY && errno != EINVAL)
			goto fail;
		/* No such ioctl here: one expiration right now instead of ticks. */
		pr_warn("%s: fd %d: timerfd had %llu unread expirations; this kernel cannot set "
			"them (no TFD_IOC_SET_TICKS): it expires once at once instead",
			img, fdno, (unsigned long long)ticks);
		its.it_value = ts_of(1);
		if (timerfd_settime(fd, 0, &its, NULL))
			goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int make_signalfd(const struct ckpt_file *f, const struct ckpt_anon *a)
{
	int fl = SFD_CLOEXEC | ((f->oflags & O_NONBLOCK) ? SFD_NONBLOCK : 0);
	sigset_t set;

	sigemptyset(&set);
	for (int sig = 1; sig <= CKPT_NSIG; sig++)
		if (a->sigmask & (1ull << (sig - 1)))
			sigaddset(&set, sig);
	return signalfd(-1, &set, fl);
}

#define WD_GAP_MAX (1 << 22) /* throwaway watches, per instance: about a second */

/* Use up wd numbers up to (not including) want with throwaway watches on path. */
static int inotify_skip_to(int fd, int *next, int want, const char *path, const char *img,
			   int fdno, long *used)
{
	while (*next < want) {
		int t;

		if (++*used > WD_GAP_MAX) {
			pr_err("%s: fd %d: inotify wd %d cannot be made again: more than %d unused "
			       "numbers before it", img, fdno, want, WD_GAP_MAX);
			return -ERANGE;
		}
		t = inotify_add_watch(fd, path, IN_DELETE_SELF);
		if (t < 0 || inotify_rm_watch(fd, t)) {
			int r = -errno;

			pr_err("%s: fd %d: cannot use up inotify wd %d: %s", img, fdno, *next,
			       strerror(-r));
			return r;
		}
		if (t != *next) {
			pr_err("%s: fd %d: the kernel gave inotify wd %d where %d was expected; the "
			       "program's wds cannot be made again", img, fdno, t, *next);
			return -ERANGE;
		}
		++*next;
	}
	return 0;
}

static int make_inotify(const struct ckpt_file *f, const struct ckpt_anon *a, const char *img,
			int fdno)
{
	int fd, next = 1, p[2] = { -1, -1 }, r = 0;
	char pipe_path[64];
	long used = 0;
	char buf[4096];

	/* non-blocking while the queue is emptied; its own flags once done */
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -errno;
	for (uint32_t k = 0; k < a->nwatches && !r; k++) {
		const struct ckpt_inotify_watch *w = &a->watches[k];
		int wd;

		if (next < w->wd && p[0] < 0) {
			if (pipe2(p, O_CLOEXEC)) {
				r = -errno;
				break;
			}
			snprintf(pipe_path, sizeof(pipe_path), "/proc/self/fd/%d", p[0]);
		}
		r = inotify_skip_to(fd, &next, w->wd, pipe_path, img, fdno, &used);
		if (r)
			break;
		/* the saved path is the inode's own name: a symlink is watched as itself */
		wd = inotify_add_watch(fd, w->path, w->mask | IN_DONT_FOLLOW);
		if (wd < 0) {
			r = -errno;
			pr_err("%s: fd %d: cannot watch %s again (inotify wd %d, mask %#x): %s", img,
			       fdno, w->path, w->wd, w->mask, strerror(-r));
		} else if (wd != w->wd) {
			r = -ERANGE;
			pr_err("%s: fd %d: watching %s again gave inotify wd %d, not %d (is it now "
			       "the file another watch is on?)", img, fdno, w->path, wd, w->wd);
		}
		next = w->wd + 1;
	}
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
		while (!r && read(fd, buf, sizeof(buf)) > 0)
			;
	}
	if (!r && !(f->oflags & O_NONBLOCK) && fcntl(fd, F_SETFL, 0))
		r = -errno;
	if (r) {
		close(fd);
		errno = -r;
		return -1;
	}
	if (a->count)
		pr_warn("%s: fd %d: the inotify instance had %llu bytes of events unread at the "
			"checkpoint, which could not be saved: the program will not see them", img,
			fdno, (unsigned long long)a->count);
	return fd;
}

static int is_pidfd(const struct ckpt_file *f)
{
	return f->type == CKPT_FILE_ANON && f->anon && f->anon->kind == CKPT_ANON_PIDFD;
}

/* How many images hold pidfd description key, and the first of them. */
static int pidfd_holders(const struct restart_set *s, uint64_t key, int *first)
{
	int n = 0;

	*first = -1;
	for (int im = 0; im < s->n; im++) {
		const struct ckpt_proc *p = &s->img[im].proc;

		for (uint32_t k = 0; k < p->nfiles; k++) {
			if (is_pidfd(&p->files[k]) && p->files[k].share_key == key) {
				if (*first < 0)
					*first = im;
				n++;
				break;
			}
		}
	}
	return n;
}

int prepare_anon_pidfd_chan(struct fd_shared *fs, const struct restart_set *s, int im,
			    const struct ckpt_file *f)
{
	struct timeval tv = { 10, 0 }; /* the first holder sends at once once it runs */
	int first, sv[2], a, b;

	(void)im;
	if (!f->share_key || pidfd_holders(s, f->share_key, &first) < 2 ||
	    fd_obj_find(fs, FD_OBJ_PIDFD_CHAN, f->share_key, 0) >= 0)
		return 0;
	/* seqpacket: each holder takes one whole message, with its fd */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		int r = -errno;

		pr_err("cannot make a channel for a shared pidfd: %s", strerror(-r));
		return r;
	}
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sv[0] = fd_move_high(sv[0], fs->base);
	sv[1] = fd_move_high(sv[1], fs->base);
	a = sv[0] < 0 ? -ENOMEM : fd_obj_add(fs, FD_OBJ_PIDFD_CHAN, f->share_key, 0, sv[0]);
	b = sv[1] < 0 || a < 0 ? -ENOMEM :
				  fd_obj_add(fs, FD_OBJ_PIDFD_CHAN, f->share_key, 1, sv[1]);
	if (a < 0 || b < 0) {
		if (a < 0 && sv[0] >= 0)
			close(sv[0]);
		if (b < 0 && sv[1] >= 0)
			close(sv[1]);
		return -ENOMEM;
	}
	return 0;
}

static int open_pidfd(const struct ckpt_file *f, const char *img, int fdno)
{
	/* pidfd_open() makes it close-on-exec; PIDFD_NONBLOCK is O_NONBLOCK */
	int fd = (int)syscall(SYS_pidfd_open, f->anon->pid, f->oflags & O_NONBLOCK);

	if (fd < 0) {
		int r = -errno;

		pr_err("%s: fd %d: cannot open a pidfd of pid %d again: %s", img, fdno,
		       f->anon->pid, strerror(-r));
		return r;
	}
	return fd;
}

int prepare_anon_pidfds_send(const struct fd_shared *fs, const struct restart_set *s, int im,
			     int *made)
{
	const struct ckpt_proc *p = &s->img[im].proc;

	for (uint32_t k = 0; k < p->nfiles; k++)
		made[k] = -1;
	for (uint32_t k = 0; k < p->nfiles; k++) {
		const struct ckpt_file *f = &p->files[k];
		char c = 'p', cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &c, 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;
		int first, n, ch, fd;
		uint32_t j;

		if (!is_pidfd(f) || !f->share_key)
			continue;
		ch = fd_obj_find(fs, FD_OBJ_PIDFD_CHAN, f->share_key, 0);
		n = pidfd_holders(s, f->share_key, &first);
		if (ch < 0 || first != im)
			continue;
		for (j = 0; j < p->nfds && p->fds[j].file != k; j++)
			;
		fd = open_pidfd(f, s->img[im].path, j < p->nfds ? p->fds[j].fd : -1);
		if (fd < 0)
			return fd;
		/* above every saved fd number: installing the others must not replace it */
		fd = fd_move_high(fd, fs->base);
		if (fd < 0)
			return -errno;
		made[k] = fd;
		memset(cbuf, 0, sizeof(cbuf));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		for (int i = 1; i < n; i++) {
			if (sendmsg(fs->obj[ch].fd, &mh, MSG_NOSIGNAL) != 1) {
				int r = -errno;

				pr_err("%s: cannot pass the pidfd of pid %d to the processes that "
				       "share it: %s", s->img[im].path, f->anon->pid, strerror(-r));
				return r;
			}
		}
	}
	return 0;
}

int prepare_anon_pidfd(const struct fd_shared *fs, const struct restart_set *s,
		       const struct ckpt_file *f, const char *img, int fdno)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int ch = f->share_key ? fd_obj_find(fs, FD_OBJ_PIDFD_CHAN, f->share_key, 1) : -1;
	int fd = -1;
	ssize_t r;

	(void)s;
	if (ch < 0)
		return open_pidfd(f, img, fdno);
	/* shared: its first holder opened it and sends one copy per other holder */
	do
		r = recvmsg(fs->obj[ch].fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	cm = r == 1 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (fd < 0) {
		int e = r < 0 ? errno : EPROTO;

		pr_err("%s: fd %d: the pidfd of pid %d shared with another process did not "
		       "come from it: %s", img, fdno, f->anon->pid, strerror(e));
		return -e;
	}
	return fd;
}

int prepare_anon_open(const struct ckpt_file *f, const char *img, int fdno)
{
	const struct ckpt_anon *a = f->anon;
	int fd = -1;

	if (!a) { /* the loader never lets one through */
		pr_err("%s: fd %d: %s has no record", img, fdno, f->path);
		return -EINVAL;
	}
	switch (a->kind) {
	case CKPT_ANON_EVENTFD:
		fd = make_eventfd(f, a);
		break;
	case CKPT_ANON_TIMERFD:
		fd = make_timerfd(f, a, img, fdno);
		break;
	case CKPT_ANON_SIGNALFD:
		fd = make_signalfd(f, a);
		break;
	case CKPT_ANON_INOTIFY:
		fd = make_inotify(f, a, img, fdno);
		break;
	case CKPT_ANON_EPOLL:
		fd = epoll_create1(EPOLL_CLOEXEC);
		if (fd >= 0 && (f->oflags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK)) {
			close(fd);
			fd = -1;
		}
		break;
	default:
		pr_err("%s: fd %d: %s cannot be made again (kind %u)", img, fdno, f->path, a->kind);
		return -EINVAL;
	}
	if (fd < 0) {
		int r = -errno;

		pr_err("%s: fd %d: cannot make the %s again: %s", img, fdno,
		       ckpt_anon_kind_name(a->kind), strerror(-r));
		return r;
	}
	return fd;
}

int prepare_anon_epoll_fill(const struct ckpt_file *f, int fd, const char *img)
{
	const struct ckpt_anon *a = f->anon;

	for (uint32_t k = 0; a && a->kind == CKPT_ANON_EPOLL && k < a->nitems; k++) {
		const struct ckpt_epoll_item *it = &a->items[k];
		struct epoll_event ev = { .events = it->events, .data.u64 = it->data };

		/* EEXIST: another process holding the same set added it already (the
		 * checkpoint made sure every holder has the file at that number). */
		if (epoll_ctl(fd, EPOLL_CTL_ADD, it->tfd, &ev) && errno != EEXIST) {
			int r = -errno;

			pr_err("%s: fd %d: cannot watch fd %d in the epoll set again (events %#x): "
			       "%s", img, fd, it->tfd, it->events, strerror(-r));
			return r;
		}
	}
	return 0;
}
