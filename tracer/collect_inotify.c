/*
 * Collecting an inotify instance (anon_inode:inotify) of a suspended process: its watches, one
 * "inotify wd:N ino:X sdev:X mask:X ..." line each in /proc/PID/fdinfo/FD, and for each a path
 * that names the watched inode, since the restart adds every watch again by path.
 *
 * The kernel names a watch by inode, device and file handle only. With CAP_DAC_READ_SEARCH
 * (root) open_by_handle_at turns the handle into a file, through any file of that device,
 * and /proc/self/fd names it. Without (an unprivileged checkpoint: EPERM, tried once), or
 * when that name is not the inode's in our view, the path is searched for: first the
 * process's own names (its cwd, the paths of its fds and their directories), then the
 * directories of each mount of the watched device, breadth first, without following symlinks
 * or leaving the device, within a budget of entries looked at. A path is taken only when
 * lstat() shows that very device and inode. A watch found nowhere (its file deleted but kept
 * alive, or out of reach of the search) fails the checkpoint, naming inode and device.
 *
 * Events queued and not yet read cannot be saved: FIONREAD gives their size, and reading them
 * would take them from the program. Their byte count goes in the image (ckpt_anon.count) so
 * that the restart can say they were lost.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "collect.h"
#include "probe.h"
#include "procfs.h"

#define INOTIFY_EVENTS	  0xfffu
#define INOTIFY_KEPT_BITS (INOTIFY_EVENTS | 0x80000000u | 0x04000000u) /* ONESHOT, EXCL_UNLINK */
#define SEARCH_BUDGET	  200000 /* directory entries looked at, per watch */
#define SEARCH_DEPTH	  24

/* A list of paths (the search's queue, the start points). */
struct paths {
	char **v;
	size_t n, cap, head;
};

static int paths_add(struct paths *q, const char *dir, const char *name)
{
	char *s;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		char **v = realloc(q->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	if (name) {
		if (asprintf(&s, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0)
			return -ENOMEM;
	} else if (!(s = strdup(dir))) {
		return -ENOMEM;
	}
	q->v[q->n++] = s;
	return 0;
}

static void paths_free(struct paths *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[i]);
	free(q->v);
	memset(q, 0, sizeof(*q));
}

static int is_inode(const char *path, dev_t dev, uint64_t ino)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* Where the search begins: the process's cwd, each fd's path and its directory, and the mount
 * points of the device (from the process's mountinfo). */
static int start_points(pid_t pid, dev_t dev, struct paths *s)
{
	char link[4096], name[32], *buf, *l, *next;
	int *fds = NULL, r;
	uint32_t n = 0;

	if (procfs_readlink(pid, 0, "cwd", link, sizeof(link)) == 0 && link[0] == '/' &&
	    (r = paths_add(s, link, NULL)))
		return r;
	if (procfs_list_fds(pid, &fds, &n) == 0) {
		for (uint32_t i = 0; i < n; i++) {
			char *slash;

			snprintf(name, sizeof(name), "fd/%d", fds[i]);
			if (procfs_readlink(pid, 0, name, link, sizeof(link)) || link[0] != '/')
				continue;
			if ((r = paths_add(s, link, NULL))) {
				free(fds);
				return r;
			}
			slash = strrchr(link, '/');
			slash[slash == link ? 1 : 0] = 0;
			if ((r = paths_add(s, link, NULL))) {
				free(fds);
				return r;
			}
		}
		free(fds);
	}
	if (procfs_read(pid, 0, "mountinfo", &buf, NULL))
		return 0;
	/* "id parent major:minor root mountpoint ..." */
	for (l = buf; l && *l; l = next) {
		unsigned int maj, min;
		char mp[4096];

		next = strchr(l, '\n');
		if (next)
			*next++ = 0;
		if (sscanf(l, "%*u %*u %u:%u %*s %4095s", &maj, &min, mp) != 3 ||
		    makedev(maj, min) != dev || strchr(mp, '\\'))
			continue; /* (a mount point with an escaped space: left out) */
		if ((r = paths_add(s, mp, NULL))) {
			free(buf);
			return r;
		}
	}
	free(buf);
	return 0;
}

/* Breadth first from each start point on dev; the found path in *out (malloc'd), or NULL. */
static int search(const struct paths *starts, dev_t dev, uint64_t ino, char **out)
{
	struct paths q = { 0 };
	long budget = SEARCH_BUDGET;
	int r = 0;

	*out = NULL;
	for (size_t i = 0; i < starts->n; i++) {
		if (is_inode(starts->v[i], dev, ino))
			return (*out = strdup(starts->v[i])) ? 0 : -ENOMEM;
	}
	for (size_t i = 0; i < starts->n && !r; i++)
		r = paths_add(&q, starts->v[i], NULL);
	/* levels by hand: the queue holds level after level; depth counts the levels */
	for (size_t end = q.n, depth = 0; !r && q.head < q.n && budget > 0; depth++, end = q.n) {
		if (depth > SEARCH_DEPTH)
			break;
		for (; !r && q.head < end && budget > 0; q.head++) {
			const char *dir = q.v[q.head];
			struct dirent *e;
			struct stat st;
			DIR *d;

			if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_dev != dev)
				continue;
			d = opendir(dir);
			if (!d)
				continue;
			while (!r && budget > 0 && (e = readdir(d))) {
				struct stat es;

				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				budget--;
				if (fstatat(dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW))
					continue;
				if (es.st_dev == dev && es.st_ino == ino) {
					if (asprintf(out, "%s%s%s", dir,
						     dir[strlen(dir) - 1] == '/' ? "" : "/",
						     e->d_name) < 0) {
						*out = NULL;
						r = -ENOMEM;
					}
					break;
				}
				if (S_ISDIR(es.st_mode) && es.st_dev == dev)
					r = paths_add(&q, dir, e->d_name);
			}
			closedir(d);
			if (*out)
				break;
		}
		if (*out)
			break;
	}
	paths_free(&q);
	return r;
}

/* The handle of fdinfo's "fhandle-bytes:%x fhandle-type:%x f_handle:<hex>" opened through
 * a start point on dev and named by /proc/self/fd, if lstat agrees; else NULL in *out. 1 when
 * the kernel said EPERM (no CAP_DAC_READ_SEARCH: not worth trying again). */
static int by_handle(const char *line, const struct paths *starts, dev_t dev, uint64_t ino,
		     char **out)
{
	union {
		struct file_handle fh;
		unsigned char b[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h;
	unsigned int nbytes, type, k;
	const char *s = strstr(line, "fhandle-bytes:");
	char link[4096], self[64];
	int eperm = 0;

	*out = NULL;
	if (!s || sscanf(s, "fhandle-bytes:%x fhandle-type:%x", &nbytes, &type) != 2 ||
	    nbytes > MAX_HANDLE_SZ || !(s = strstr(s, "f_handle:")))
		return 0;
	s += strlen("f_handle:");
	for (k = 0; k < nbytes; k++)
		if (sscanf(s + 2 * k, "%2hhx", &h.fh.f_handle[k]) != 1)
			return 0;
	h.fh.handle_bytes = nbytes;
	h.fh.handle_type = (int)type;
	for (size_t i = 0; i < starts->n && !*out && !eperm; i++) {
		struct stat st;
		int mfd, fd;
		ssize_t n;

		/* (an O_PATH mount fd is EBADF; only directories are opened: no side effect) */
		if (lstat(starts->v[i], &st) || st.st_dev != dev || !S_ISDIR(st.st_mode))
			continue;
		mfd = open(starts->v[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (mfd < 0)
			continue;
		fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
		eperm = fd < 0 && errno == EPERM;
		close(mfd);
		if (fd < 0)
			continue;
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		n = readlink(self, link, sizeof(link) - 1);
		close(fd);
		if (n <= 0 || link[0] != '/')
			continue;
		link[n] = 0;
		if (is_inode(link, dev, ino))
			*out = strdup(link);
	}
	return eperm;
}

static int by_wd(const void *a, const void *b)
{
	const struct ckpt_inotify_watch *x = a, *y = b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

/* Bytes of events queued on pid's fd (FIONREAD on the tracer's copy); 0 when unknown. */
static uint64_t unread_bytes(pid_t pid, int fd)
{
	int pidfd, lfd, n = 0;

	if (!kfeat()->pidfd_getfd)
		return 0;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return 0;
	lfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	if (lfd < 0)
		return 0;
	if (ioctl(lfd, FIONREAD, &n))
		n = 0;
	close(lfd);
	return n > 0 ? (uint64_t)n : 0;
}

int collect_inotify(pid_t pid, int fd, const char *buf, struct ckpt_anon *a, char *why,
		    size_t whylen)
{
	struct paths starts = { 0 };
	const char *l, *next;
	uint32_t cap = 0;
	int r = 0, have_starts = 0;
	uint64_t cur_dev = 0;
	int no_handles = 0;

	a->kind = CKPT_ANON_INOTIFY;
	for (l = buf; l && *l; l = next) {
		struct ckpt_inotify_watch *w;
		unsigned long long ino, sdev;
		unsigned int mask, ignored;
		int wd;

		next = strchr(l, '\n');
		next = next ? next + 1 : NULL;
		if (strncmp(l, "inotify ", 8))
			continue;
		if (sscanf(l, "inotify wd:%d ino:%llx sdev:%llx mask:%x ignored_mask:%x", &wd, &ino,
			   &sdev, &mask, &ignored) != 5 || wd <= 0)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
						 "fd %d: an inotify instance whose watch line in "
						 "/proc/%d/fdinfo/%d cannot be read", fd, pid, fd);
		if (!(mask & INOTIFY_EVENTS) || (mask & ~INOTIFY_KEPT_BITS) || ignored)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
						 "fd %d: an inotify watch (wd %d) with mask %#x, "
						 "which cannot be checkpointed", fd, wd, mask);
		if (a->nwatches == CKPT_MAX_INOTIFY_WATCHES)
			return collect_sock_fail(why, whylen, -EOPNOTSUPP,
						 "fd %d: an inotify instance with more than %u "
						 "watches", fd, CKPT_MAX_INOTIFY_WATCHES);
		if (a->nwatches == cap) {
			cap = cap ? cap * 2 : 4;
			w = realloc(a->watches, cap * sizeof(*w));
			if (!w)
				return -ENOMEM;
			a->watches = w;
		}
		/* the kernel's s_dev is MKDEV (major << 20 | minor), not the st_dev encoding */
		a->watches[a->nwatches++] = (struct ckpt_inotify_watch){
			wd, mask, makedev((unsigned)(sdev >> 20), (unsigned)(sdev & 0xfffff)), ino,
			NULL
		};
	}
	qsort(a->watches, a->nwatches, sizeof(*a->watches), by_wd);
	for (uint32_t k = 0; k < a->nwatches && !r; k++) {
		struct ckpt_inotify_watch *w = &a->watches[k];

		/* the start points include the mounts of the watch's device */
		if (!have_starts || w->dev != cur_dev) {
			paths_free(&starts);
			r = start_points(pid, (dev_t)w->dev, &starts);
			cur_dev = w->dev;
			have_starts = 1;
		}
		if (!r && !no_handles) {
			char key[48];
			const char *line;

			snprintf(key, sizeof(key), "inotify wd:%d ", w->wd);
			line = strstr(buf, key);
			if (line)
				no_handles = by_handle(line, &starts, (dev_t)w->dev, w->ino,
						       &w->path);
		}
		if (!r && !w->path)
			r = search(&starts, (dev_t)w->dev, w->ino, &w->path);
		if (!r && !w->path)
			r = collect_sock_fail(why, whylen, -EOPNOTSUPP,
					      "fd %d is an inotify instance watching inode %" PRIu64
					      " on device %u:%u (wd %d), for which no path was "
					      "found (deleted, or out of reach of the search from "
					      "its cwd, its files and the device's mounts); it "
					      "cannot be checkpointed",
					      fd, w->ino, major((dev_t)w->dev), minor((dev_t)w->dev),
					      w->wd);
	}
	paths_free(&starts);
	if (!r)
		a->count = unread_bytes(pid, fd);
	return r;
}
