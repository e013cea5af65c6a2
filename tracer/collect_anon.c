/*
 * Collecting an anonymous-inode file (anon_inode:[eventfd] and the like) of a suspended
 * process: the kinds that can be made again at restart (eventfd, timerfd, signalfd, epoll,
 * pidfd, inotify: collect_inotify.c) are described from /proc/PID/fdinfo/FD into a struct
 * ckpt_anon; every other kind (fanotify, userfaultfd, io_uring, perf_event, bpf...) fails the
 * checkpoint with a reason naming the fd and the kind, since restoring something else in its
 * place would lie to the program.
 *
 * A pidfd is saved as the pid of the process it names, which must be a live process of the
 * computation (the restart makes exactly those again, with their pids; a zombie's pidfd is
 * refused, as a restart in a new PID namespace may leave zombies out); the restart opens it
 * in the restored process once the tree exists (one description again when several processes
 * share it, by its share key).
 *
 * An epoll set is saved as its interest list: each watched file by the fd number it was added
 * with. The restart adds each again through that fd, so that fd must still be that file in the
 * process: kcmp(KCMP_EPOLL_TFD) says so (or, where the kernel lacks it, the inode fdinfo names
 * matches the fd's). A file that was closed or moved away since (a watch the kernel keeps on a
 * file no fd number reaches) fails the checkpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "procfs.h"

#define NSEC 1000000000ull
#define KCMP_EPOLL_TFD 7

struct kcmp_slot { /* struct kcmp_epoll_slot */
	uint32_t efd, tfd, toff;
};

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
		{ "[eventpoll]", "an epoll set" },
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
	/* Older kernels (before 6.4 or so) do not show the semaphore flag: there an eventfd
	 * cannot be saved faithfully (a semaphore made again as a counter reads differently). */
	if (field_u64(buf, "eventfd-semaphore", 10, &sem))
		return -1;
	if (sem)
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

/* Is pid's fd tfd the file its epoll set efd watches under tfd (inode ino from fdinfo)? 1 yes,
 * 0 no, -ESRCH when the process is gone. */
static int same_target(pid_t pid, int efd, int tfd, uint64_t ino)
{
	struct kcmp_slot slot = { (uint32_t)efd, (uint32_t)tfd, 0 };
	char name[32], path[96];
	struct stat st;
	long r;

	r = syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, tfd, (unsigned long)&slot);
	if (r >= 0)
		return r == 0;
	if (errno == ESRCH)
		return -ESRCH;
	if (errno == EBADF || errno == ENOENT)
		return 0; /* no such fd, or no such watch */
	/* no kcmp here (ENOSYS, EOPNOTSUPP) */
	snprintf(name, sizeof(name), "fd/%d", tfd);
	procfs_path(path, sizeof(path), pid, 0, name);
	return stat(path, &st) == 0 && st.st_ino == ino;
}

/* The interest list: a "tfd: N events: X data: X  pos:N ino:X sdev:X" line per watch. */
static int epoll_of(pid_t pid, int fd, const char *buf, struct ckpt_anon *a, char *why,
		    size_t whylen)
{
	const char *l, *next;

	for (l = buf; l && *l; l = next) {
		struct ckpt_epoll_item *it;
		unsigned long long data, ino = 0;
		unsigned int events;
		int tfd, same;
		const char *s;

		next = strchr(l, '\n');
		next = next ? next + 1 : NULL;
		if (strncmp(l, "tfd:", 4))
			continue;
		if (sscanf(l, "tfd: %d events: %x data: %llx", &tfd, &events, &data) != 3 ||
		    tfd < 0)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
						 "fd %d: an epoll set whose watch line in "
						 "/proc/%d/fdinfo/%d cannot be read", fd, pid, fd);
		if ((s = strstr(l, "ino:")) && (!next || s < next))
			ino = strtoull(s + 4, NULL, 16);
		same = same_target(pid, fd, tfd, ino);
		if (same < 0)
			return same;
		if (!same)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
						 "fd %d is an epoll set watching a file it was given "
						 "as fd %d, which is no longer that file (closed or "
						 "replaced); it cannot be checkpointed", fd, tfd);
		if (a->nitems == CKPT_MAX_EPOLL_ITEMS)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
						 "fd %d: an epoll set watching more than %u files",
						 fd, CKPT_MAX_EPOLL_ITEMS);
		if (!(a->nitems & (a->nitems - 1))) { /* 0, 1, 2, 4...: room for twice as many */
			it = realloc(a->items, (a->nitems ? a->nitems * 2 : 1) * sizeof(*it));
			if (!it)
				return -ENOMEM;
			a->items = it;
		}
		a->items[a->nitems++] = (struct ckpt_epoll_item){ tfd, events, data };
	}
	return 0;
}

/* "Pid:" of a pidfd: the process it names, in the tracer's PID namespace; -1 once it is gone. */
static int pidfd_of(pid_t pid, int fd, const char *buf, const struct ckpt_file *f,
		    const struct collect_tree *tree, struct ckpt_anon *a, char *why, size_t whylen)
{
	int32_t target, nspid[CKPT_MAX_NS_LEVELS];
	int n;

	if (procfs_status_ints(buf, "Pid", &target, 1) != 1)
		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
					 "fd %d is a pidfd whose process this kernel's "
					 "/proc/%d/fdinfo/%d does not show", fd, pid, fd);
	if (target <= 0)
		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
					 "fd %d is a pidfd of a process that has ended and been "
					 "reaped (pid -1 in /proc/%d/fdinfo/%d); it cannot be "
					 "checkpointed", fd, pid, fd);
	if (f->oflags & O_EXCL) /* PIDFD_THREAD */
		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
					 "fd %d is a pidfd of thread %d (PIDFD_THREAD), which "
					 "cannot be checkpointed yet", fd, target);
	if (tree && tree->pid_in_tree ? !tree->pid_in_tree(tree->arg, target) : target != pid)
		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
					 "fd %d is a pidfd of pid %d, which is not a live process "
					 "of the computation (a restart would not make it again); "
					 "it cannot be checkpointed", fd, target);
	/* NSpid: from the tracer's namespace down to the process's own, which is the
	 * program's (the computation shares one) */
	n = procfs_status_ints(buf, "NSpid", nspid, CKPT_MAX_NS_LEVELS);
	a->pid = n > 0 ? nspid[n - 1] : target;
	return 0;
}

int collect_anon(pid_t pid, int fd, int in_flight, struct ckpt_file *f,
		 const struct collect_tree *tree, char *why, size_t whylen)
{
	const char *name = f->path + strlen("anon_inode:");
	struct ckpt_anon *a;
	char fdname[32], *buf;
	int r = 0;

	if (!strcmp(name, "[eventpoll]")) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		a->kind = CKPT_ANON_EPOLL;
		snprintf(fdname, sizeof(fdname), "fdinfo/%d", fd);
		r = procfs_read(pid, 0, fdname, &buf, NULL);
		if (!r) {
			r = epoll_of(pid, fd, buf, a, why, whylen);
			free(buf);
		}
		if (r) {
			ckpt_anon_free(a);
			return r;
		}
		f->anon = a;
		return 0;
	}
	if (!strcmp(name, "[pidfd]") || !strcmp(name, "inotify")) {
		if (in_flight)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
						 "fd %d has %s in flight (SCM_RIGHTS), which cannot "
						 "be checkpointed yet", fd, kind_words(name));
		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		snprintf(fdname, sizeof(fdname), "fdinfo/%d", fd);
		r = procfs_read(pid, 0, fdname, &buf, NULL);
		if (!r) {
			if (name[0] == 'i') {
				r = collect_inotify(pid, fd, buf, a, why, whylen);
			} else {
				a->kind = CKPT_ANON_PIDFD;
				r = pidfd_of(pid, fd, buf, f, tree, a, why, whylen);
			}
			free(buf);
		}
		if (r) {
			ckpt_anon_free(a);
			return r;
		}
		f->anon = a;
		return 0;
	}
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
