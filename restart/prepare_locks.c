/*
 * Taking the saved file locks again (struct ckpt_lock). An OFD or flock lock belongs to the
 * open file description: the restart takes it as soon as it has made the description again
 * (prepare_fds_shared()), and every restored process that shares the description inherits
 * it. A POSIX lock belongs to the process: the restored process takes it itself, once its
 * fds are at their numbers and every other fd is closed (closing any fd of a file drops the
 * process's POSIX locks on it).
 *
 * Nothing waits: a lock someone outside the restart holds makes the restart fail, before its
 * point of no return, with the holder named as far as the kernel tells (F_GETLK,
 * F_OFD_GETLK); the descriptions made so far are closed with their locks. The POSIX locks are
 * looked for (F_GETLK) already when the restart makes their descriptions, before any process
 * exists: the restart's own OFD and flock locks cannot conflict with them (they were held
 * together), so a conflict there is someone else's, and the restart ends at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "restart/prepare_fds_int.h"

static const char *const kind_names[CKPT_LOCK__MAX] = {
	[CKPT_LOCK_POSIX] = "POSIX",
	[CKPT_LOCK_OFD] = "OFD",
	[CKPT_LOCK_FLOCK] = "flock",
};

static void range_text(char *buf, size_t n, uint64_t start, uint64_t end, int to_eof)
{
	if (to_eof)
		snprintf(buf, n, "bytes %llu-EOF", (unsigned long long)start);
	else
		snprintf(buf, n, "bytes %llu-%llu", (unsigned long long)start,
			 (unsigned long long)end);
}

static void to_flock(const struct ckpt_lock *l, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = l->type == CKPT_LOCK_READ ? F_RDLCK : F_WRLCK;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)l->start;
	fl->l_len = (l->flags & CKPT_LKF_TO_EOF) ? 0 : (off_t)(l->end - l->start + 1);
}

/* Who holds what conflicts with l on fd, as the kernel tells: into buf. */
static void conflict_text(int fd, const struct ckpt_lock *l, char *buf, size_t n)
{
	struct flock fl;
	char range[64];

	if (l->kind == CKPT_LOCK_FLOCK) {
		snprintf(buf, n, "another open file description of the file holds a flock lock");
		return;
	}
	to_flock(l, &fl);
	if (fcntl(fd, l->kind == CKPT_LOCK_POSIX ? F_GETLK : F_OFD_GETLK, &fl) < 0 ||
	    fl.l_type == F_UNLCK) {
		snprintf(buf, n, "someone holds a conflicting lock");
		return;
	}
	range_text(range, sizeof(range), (uint64_t)fl.l_start,
		   (uint64_t)(fl.l_start + fl.l_len - 1), fl.l_len == 0);
	if (fl.l_pid > 0)
		snprintf(buf, n, "pid %d holds a %s lock on %s", (int)fl.l_pid,
			 fl.l_type == F_RDLCK ? "read" : "write", range);
	else if (fl.l_pid < 0)
		snprintf(buf, n, "an open file description holds a %s OFD lock on %s",
			 fl.l_type == F_RDLCK ? "read" : "write", range);
	else
		snprintf(buf, n, "a process outside this PID namespace holds a %s lock on %s",
			 fl.l_type == F_RDLCK ? "read" : "write", range);
}

static int take_lock(int fd, const struct ckpt_lock *l, const char *img, int fdno, const char *path)
{
	struct flock fl;
	char range[64], who[160];
	int r;

	if (l->kind == CKPT_LOCK_FLOCK)
		r = flock(fd, (l->type == CKPT_LOCK_READ ? LOCK_SH : LOCK_EX) | LOCK_NB);
	else {
		to_flock(l, &fl);
		r = fcntl(fd, l->kind == CKPT_LOCK_POSIX ? F_SETLK : F_OFD_SETLK, &fl);
	}
	if (r == 0)
		return 0;
	r = -errno;
	range_text(range, sizeof(range), l->start, l->end, !!(l->flags & CKPT_LKF_TO_EOF));
	if (r == -EAGAIN || r == -EACCES || r == -EWOULDBLOCK)
		conflict_text(fd, l, who, sizeof(who));
	else
		snprintf(who, sizeof(who), "%s", strerror(-r));
	pr_err("%s: fd %d (%s): cannot take its %s %s lock on %s again: %s", img, fdno, path,
	       kind_names[l->kind], l->type == CKPT_LOCK_READ ? "read" : "write", range, who);
	return r;
}

int prepare_locks_probe(int fd, const struct ckpt_file *f, const char *img, int fdno)
{
	for (uint32_t k = 0; k < f->nlocks; k++) {
		const struct ckpt_lock *l = &f->locks[k];
		struct flock fl;
		char range[64], who[160];

		if (l->kind != CKPT_LOCK_POSIX)
			continue;
		to_flock(l, &fl);
		if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
			continue;
		range_text(range, sizeof(range), l->start, l->end, !!(l->flags & CKPT_LKF_TO_EOF));
		conflict_text(fd, l, who, sizeof(who));
		pr_err("%s: fd %d (%s): cannot take its %s %s lock on %s again: %s", img, fdno,
		       f->path, kind_names[l->kind], l->type == CKPT_LOCK_READ ? "read" : "write",
		       range, who);
		return -EAGAIN;
	}
	return 0;
}

int prepare_locks_desc(int fd, const struct ckpt_file *f, const char *img, int fdno)
{
	for (uint32_t k = 0; k < f->nlocks; k++) {
		int r;

		if (f->locks[k].kind == CKPT_LOCK_POSIX)
			continue;
		r = take_lock(fd, &f->locks[k], img, fdno, f->path);
		if (r)
			return r;
	}
	return prepare_locks_probe(fd, f, img, fdno);
}

/* Whether a fd the restore keeps (a file to map) is on the inode of fd: closing it later
 * drops the POSIX locks. */
static int kept_on_inode(int fd, const int *keep, int nkeep)
{
	struct stat a, b;

	if (fstat(fd, &a))
		return 0;
	for (int i = 0; i < nkeep; i++)
		if (!fstat(keep[i], &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return 1;
	return 0;
}

int prepare_locks_posix(const struct ckpt_proc *p, const char *img, const int *keep, int nkeep)
{
	for (uint32_t i = 0; i < p->nfiles; i++) {
		const struct ckpt_file *f = &p->files[i];
		int fd = -1, warned = 0;

		for (uint32_t k = 0; k < p->nfds && fd < 0; k++)
			if (p->fds[k].file == i)
				fd = p->fds[k].fd;
		for (uint32_t k = 0; k < f->nlocks; k++) {
			int r;

			if (f->locks[k].kind != CKPT_LOCK_POSIX)
				continue;
			if (fd < 0) {
				pr_err("%s: a POSIX lock on %s, which no fd of the process holds",
				       img, f->path);
				return -EINVAL;
			}
			r = take_lock(fd, &f->locks[k], img, fd, f->path);
			if (r)
				return r;
			if (!warned && kept_on_inode(fd, keep, nkeep)) {
				pr_warn("%s: fd %d (%s): the process also maps the file; its POSIX "
					"locks on it are lost when the restore closes the "
					"mapping's fd",
					img, fd, f->path);
				warned = 1;
			}
		}
	}
	return 0;
}
