/*
 * Collecting an anonymous-inode file (anon_inode:[eventfd] and the like) of a suspended
 * process: the kinds that can be made again at restart (eventfd, timerfd, signalfd) are
 * described from /proc/PID/fdinfo/FD into a struct ckpt_anon; every other kind (epoll,
 * inotify, fanotify, userfaultfd, io_uring, perf_event, bpf, pidfd...) fails the checkpoint
 * with a reason naming the fd and the kind, since restoring something else in its place would
 * lie to the program.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect.h"
#include "procfs.h"

#define NSEC 1000000000ull

/* fdinfo's "key: number" in the given base; -1 when the line is missing or not a number. */
static int field_u64(const char *buf, const char *key, int base, uint64_t *v)
{
	const char *s = procfs_status_field(buf, key);
	char *end;

	if (!s)
		return -1;
	errno = 0;
	*v = strtoull(s, &end, base);
	return end == s || errno ? -1 : 0;
}

/* fdinfo's "key: (sec, nsec)" as nanoseconds. */
static int field_ts(const char *buf, const char *key, uint64_t *ns)
{
	const char *s = procfs_status_field(buf, key);
	long long sec, nsec;

	if (!s || sscanf(s, "(%lld, %lld)", &sec, &nsec) != 2 || sec < 0 || nsec < 0 ||
	    nsec >= (long long)NSEC || (uint64_t)sec > INT64_MAX / NSEC - 1)
		return -1;
	*ns = (uint64_t)sec * NSEC + (uint64_t)nsec;
	return 0;
}

/* What people call the kind of anon_inode:<name>, for the refusal. */
static const char *kind_words(const char *name)
{
	static const struct {
		const char *name, *words;
	} known[] = {
		{ "[eventpoll]", "an epoll instance" },
		{ "inotify", "an inotify instance" },
		{ "[fanotify]", "a fanotify group" },
		{ "[userfaultfd]", "a userfaultfd" },
		{ "[io_uring]", "an io_uring instance" },
		{ "[perf_event]", "a perf event" },
		{ "[pidfd]", "a pidfd" },
		{ "[timerfd]", "a timerfd" },
		{ "[signalfd]", "a signalfd" },
		{ "[eventfd]", "an eventfd" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(name, known[i].name))
			return known[i].words;
	if (!strncmp(name, "bpf", 3))
		return "a bpf object";
	return "an anonymous inode";
}

static int eventfd_of(const char *buf, struct ckpt_anon *a)
{
	uint64_t sem = 0;

	/* the kernel prints the counter in hex ("%16llx") */
	if (field_u64(buf, "eventfd-count", 16, &a->count))
		return -1;
	if (!field_u64(buf, "eventfd-semaphore", 10, &sem) && sem)
		a->flags |= CKPT_AF_SEMAPHORE;
	return 0;
}

static int timerfd_of(const char *buf, struct ckpt_anon *a)
{
	uint64_t clk, tflags, left;
	struct timespec now;

	if (field_u64(buf, "clockid", 10, &clk) || clk > INT32_MAX ||
	    field_u64(buf, "ticks", 10, &a->count) ||
	    field_u64(buf, "settime flags", 8, &tflags) || field_ts(buf, "it_value", &left) ||
	    field_ts(buf, "it_interval", &a->interval_ns))
		return -1;
	a->clock = (int32_t)clk;
	if (tflags & 1) /* TFD_TIMER_ABSTIME */
		a->flags |= CKPT_AF_ABSTIME;
	if (tflags & 2) /* TFD_TIMER_CANCEL_ON_SET */
		a->flags |= CKPT_AF_CANCEL;
	/* A periodic timer that expired and was not read since shows no time left: the kernel
	 * moves it on at the next read. Its next expiry is within one period. */
	if (!left && a->interval_ns)
		left = a->interval_ns;
	a->value_ns = left;
	/* fdinfo gives the time left even for an absolute timer: make it the absolute time again
	 * on its clock (off by the microseconds between the two readings). */
	if ((a->flags & CKPT_AF_ABSTIME) && left) {
		if (clock_gettime((clockid_t)a->clock, &now))
			return -1;
		a->value_ns = (uint64_t)now.tv_sec * NSEC + (uint64_t)now.tv_nsec + left;
	}
	return 0;
}

int collect_anon(pid_t pid, int fd, struct ckpt_file *f, char *why, size_t whylen)
{
	const char *name = f->path + strlen("anon_inode:");
	struct ckpt_anon *a;
	char fdname[32], *buf;
	int r = 0;

	if (!strcmp(name, "[eventfd]") || !strcmp(name, "[timerfd]") ||
	    !strcmp(name, "[signalfd]")) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		snprintf(fdname, sizeof(fdname), "fdinfo/%d", fd);
		r = procfs_read(pid, 0, fdname, &buf, NULL);
		if (r) {
			free(a);
			return r;
		}
		if (name[1] == 'e') {
			a->kind = CKPT_ANON_EVENTFD;
			r = eventfd_of(buf, a);
		} else if (name[1] == 't') {
			a->kind = CKPT_ANON_TIMERFD;
			r = timerfd_of(buf, a);
		} else {
			a->kind = CKPT_ANON_SIGNALFD;
			/* "sigmask: %016llx"; SIGKILL and SIGSTOP are never in it */
			r = field_u64(buf, "sigmask", 16, &a->sigmask);
			if (!r && !a->sigmask)
				r = -1;
		}
		free(buf);
		if (r) {
			free(a);
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
						 "fd %d is %s whose state this kernel's "
						 "/proc/%d/fdinfo/%d does not show",
						 fd, kind_words(name), pid, fd);
		}
		f->anon = a;
		return 0;
	}
	return collect_sock_fail(why, whylen, -EOPNOTSUPP,
				 "fd %d is %s (%s), which cannot be checkpointed yet", fd,
				 kind_words(name), f->path);
}
