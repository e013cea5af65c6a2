/*
 * Making an eventfd, timerfd, signalfd or epoll set again from its record (struct ckpt_anon) at
 * restart. Status flags other than O_NONBLOCK do not apply to these files; close-on-exec is the
 * fd's and is set when the fd is put in place.
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
#include <sys/ioctl.h>
#include <sys/signalfd.h>
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
