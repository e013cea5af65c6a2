/*
 * Recreating the open files of the restored processes (see prepare_fds.h).
 */
#include "restart/prepare_fds.h"
#include "restart/prepare_fds_int.h"

#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"

/* Status flags F_SETFL can change; the rest are fixed at open. */
#define SETFL_MASK (O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK)

int fd_move_high(int fd, int base)
{
	int nfd;

	if (fd < 0 || fd >= base)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (nfd < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return nfd;
}

int fd_obj_add(struct fd_shared *fs, uint32_t type, uint64_t a, uint64_t b, int fd)
{
	if (fs->n == fs->cap) {
		int cap = fs->cap ? fs->cap * 2 : 32;
		struct fd_obj *n = realloc(fs->obj, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		fs->obj = n;
		fs->cap = cap;
	}
	fs->obj[fs->n] = (struct fd_obj){ .type = type, .key_a = a, .key_b = b, .fd = fd };
	return fs->n++;
}

int fd_obj_find(const struct fd_shared *fs, uint32_t type, uint64_t a, uint64_t b)
{
	int i;

	for (i = 0; i < fs->n; i++)
		if (fs->obj[i].type == type && fs->obj[i].key_a == a && fs->obj[i].key_b == b)
			return i;
	return -1;
}

static int write_all_nb(int fd, const uint8_t *buf, uint64_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += w;
		len -= w;
	}
	return 0;
}

/* Put saved bytes back into a pipe or FIFO without ever blocking on it. */
static int refill_pipe(int wfd, const struct ckpt_file *f)
{
	int fl = fcntl(wfd, F_GETFL), r;

	if (!(f->flags & CKPT_FF_HAS_DATA) || !f->data_len)
		return 0;
	if (f->data_len > 65536 && fcntl(wfd, F_SETPIPE_SZ, (int)f->data_len) < 0)
		return -errno;
	fcntl(wfd, F_SETFL, fl | O_NONBLOCK);
	r = write_all_nb(wfd, f->data, f->data_len);
	fcntl(wfd, F_SETFL, fl);
	return r;
}

static int open_saved_flags(const struct ckpt_file *f)
{
	return (f->oflags & ~(O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_TMPFILE)) | O_CLOEXEC |
	       O_NOCTTY;
}

/* A deleted regular file: an unnamed file in its old directory with the saved bytes. */
static int open_deleted(const struct ckpt_file *f, const char *img, int fdno)
{
	char *dup = strdup(f->path ? f->path : "/tmp/x"), *dir, name[32], proc[64];
	int tmp, fd;

	if (!dup)
		return -ENOMEM;
	dir = dirname(dup);
	tmp = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, f->mode & 07777);
	if (tmp < 0) {
		/* The old directory may be gone or not support O_TMPFILE. */
		tmp = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, f->mode & 07777);
	}
	if (tmp < 0) {
		int e = errno;

		pr_err("%s: fd %d: cannot recreate deleted file %s: %s", img, fdno, f->path,
		       strerror(e));
		free(dup);
		return -e;
	}
	free(dup);
	if ((f->flags & CKPT_FF_HAS_DATA) && write_all_nb(tmp, f->data, f->data_len) < 0) {
		int e = errno;

		pr_err("%s: fd %d: cannot write deleted file's data: %s", img, fdno, strerror(e));
		close(tmp);
		return -e;
	}
	/* Reopen through the magic link to get the saved access mode and flags. */
	snprintf(name, sizeof(name), "fd/%d", tmp);
	procfs_path(proc, sizeof(proc), 0, 0, name);
	fd = open(proc, open_saved_flags(f));
	if (fd < 0) {
		int e = errno;

		pr_err("%s: fd %d: cannot reopen recreated %s: %s", img, fdno, f->path,
		       strerror(e));
		close(tmp);
		return -e;
	}
	close(tmp);
	return fd;
}

/*
 * The memfd of f's inode, made once for the whole restart: its name, creation flags and
 * contents, then its seals. Seals come last (a write seal forbids the writes before it);
 * a shared mapping of it is made by the restorer later, which a write seal allows only
 * read-only, as it allowed the program. Returns its obj index or -errno (logged).
 */
static int memfd_obj(struct fd_shared *fs, const struct ckpt_file *f, const char *img, int fdno)
{
	int i = fd_obj_find(fs, FD_OBJ_MEMFD, f->dev, f->ino), fd, r, have;
	const char *what;

	if (i >= 0)
		return i;
	fd = memfd_create(f->path + 7, MFD_CLOEXEC | f->mfd_flags);
	if (fd < 0) {
		what = "create";
		goto fail;
	}
	what = "fill";
	if ((f->flags & CKPT_FF_HAS_DATA) && write_all_nb(fd, f->data, f->data_len) < 0)
		goto fail;
	what = "size";
	if (ftruncate(fd, (off_t)f->size) < 0)
		goto fail;
	what = "seal";
	have = fcntl(fd, F_GET_SEALS);
	if (have < 0 || ((f->seals & ~(uint32_t)have) &&
			 fcntl(fd, F_ADD_SEALS, (int)(f->seals & ~(uint32_t)have)) < 0))
		goto fail;
	fd = fd_move_high(fd, fs->base);
	if (fd < 0) {
		what = "move";
		goto fail;
	}
	i = fd_obj_add(fs, FD_OBJ_MEMFD, f->dev, f->ino, fd);
	if (i < 0)
		close(fd);
	return i;
fail:
	r = -errno;
	pr_err("%s: fd %d: cannot %s memfd %s: %s", img, fdno, what, f->path, strerror(-r));
	if (fd >= 0)
		close(fd);
	return r;
}

/* One description of a memfd: reopened from its object, for the saved access mode and flags. */
static int open_memfd(struct fd_shared *fs, const struct ckpt_file *f, const char *img, int fdno)
{
	char name[32], proc[64];
	int i = memfd_obj(fs, f, img, fdno), fd;

	if (i < 0)
		return i;
	snprintf(name, sizeof(name), "fd/%d", fs->obj[i].fd);
	procfs_path(proc, sizeof(proc), 0, 0, name);
	fd = open(proc, open_saved_flags(f));
	if (fd < 0) {
		int e = errno;

		pr_err("%s: fd %d: cannot reopen memfd %s: %s", img, fdno, f->path, strerror(e));
		return -e;
	}
	return fd;
}

/* The saved terminal settings of f onto terminal fd (nothing when f has none). */
static void apply_termios(int fd, const struct ckpt_file *f, const char *img, int fdno)
{
	struct termios2 t;

	if (!(f->flags & CKPT_FF_TERMIOS) || ioctl(fd, TCGETS2, &t) < 0)
		return;
	t.c_iflag = f->tio.iflag;
	t.c_oflag = f->tio.oflag;
	t.c_cflag = f->tio.cflag;
	t.c_lflag = f->tio.lflag;
	t.c_line = f->tio.line;
	memcpy(t.c_cc, f->tio.cc,
	       sizeof(f->tio.cc) < sizeof(t.c_cc) ? sizeof(f->tio.cc) : sizeof(t.c_cc));
	if (ioctl(fd, TCSETS2, &t) < 0)
		pr_warn("%s: fd %d: cannot apply the saved terminal settings: %s", img, fdno,
			strerror(errno));
}

/* The restart's own terminal, for the program's old one. */
static int open_tty(const struct ckpt_file *f, const char *img, int fdno)
{
	int i, fd = -1;

	for (i = 0; i < 3 && fd < 0; i++)
		if (isatty(i))
			fd = fcntl(i, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		pr_warn("%s: fd %d was terminal %s; this restart has no terminal: /dev/null "
			"takes its place", img, fdno, f->path ? f->path : "?");
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	}
	apply_termios(fd, f, img, fdno);
	return fd;
}

/* The restart's own fds 0-2, held above the saved numbers, for the descriptions that follow
 * them (CKPT_FDF_STDIO). */
static int hold_restart_stdio(struct fd_shared *fs)
{
	int i, fd, o;

	for (i = 0; i < 3; i++) {
		fs->stdio_obj[i] = 0;
		fd = fcntl(i, F_DUPFD_CLOEXEC, fs->base);
		if (fd < 0) {
			if (errno == EBADF)
				continue; /* closed: the saved file is opened instead */
			return -errno;
		}
		o = fd_obj_add(fs, CKPT_FILE__MAX, (uint64_t)i, 0, fd);
		if (o < 0) {
			close(fd);
			return o;
		}
		fs->stdio_obj[i] = o + 1;
	}
	return 0;
}

/*
 * A description one of whose fds is marked CKPT_FDF_STDIO is the restart's own fd of that
 * number, at every fd of the process that held it (a dup of stdout follows stdout), shared
 * by every process that held it.
 */
static void follow_restart_stdio(struct fd_shared *fs, const struct restart_img *img, int im)
{
	const struct ckpt_proc *p = &img->proc;
	uint32_t k;

	for (k = 0; k < p->nfds; k++) {
		const struct ckpt_fd *d = &p->fds[k];
		int o;

		if (!(d->fd_flags & CKPT_FDF_STDIO) || fs->file_obj[im][d->file] != UINT32_MAX)
			continue;
		o = fs->stdio_obj[d->fd] - 1; /* the decoder keeps marked fds within 0-2 */
		if (o < 0)
			continue;
		fs->file_obj[im][d->file] = (uint32_t)o;
		if (p->files[d->file].type == CKPT_FILE_TTY && isatty(fs->obj[o].fd))
			apply_termios(fs->obj[o].fd, &p->files[d->file], img->path, d->fd);
		pr_debug("%s: fd %d is the restart's fd %d", img->path, d->fd, d->fd);
	}
}

static int open_fifo(struct fd_shared *fs, const struct ckpt_file *f, const char *img, int fdno)
{
	int holder, fd, i;

	/* O_RDWR on a FIFO never blocks and gives the other ends a peer while they open. */
	holder = open(f->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (holder < 0) {
		int e = errno;

		pr_err("%s: fd %d: cannot open FIFO %s: %s", img, fdno, f->path, strerror(e));
		return -e;
	}
	fd = open(f->path, open_saved_flags(f) | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		pr_err("%s: fd %d: cannot open FIFO %s: %s", img, fdno, f->path, strerror(e));
		close(holder);
		return -e;
	}
	fcntl(fd, F_SETFL, f->oflags & SETFL_MASK);
	/* Put the bytes back once per FIFO; a second description of it finds it done. */
	for (i = 0; i < fs->n; i++)
		if (fs->obj[i].type == CKPT_FILE_FIFO && fs->obj[i].key_b == f->ino)
			break;
	if (i == fs->n && refill_pipe(holder, f) < 0)
		pr_warn("%s: fd %d: could not put back all %llu bytes of FIFO %s", img, fdno,
			(unsigned long long)f->data_len, f->path);
	close(holder);
	return fd;
}

static int open_pipe(struct fd_shared *fs, const struct ckpt_file *f, const char *img,
		     int fdno, int *idx)
{
	int p[2], r, end, i, a, b;

	end = f->pipe_end >= 0 ? f->pipe_end : ((f->oflags & O_ACCMODE) == O_RDONLY ? 0 : 1);
	i = fd_obj_find(fs, CKPT_FILE_PIPE, f->ino, end);
	if (i >= 0) {
		*idx = i;
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		pr_err("%s: fd %d: cannot create a pipe: %s", img, fdno, strerror(-r));
		return r;
	}
	p[0] = fd_move_high(p[0], fs->base);
	p[1] = fd_move_high(p[1], fs->base);
	if (p[0] < 0 || p[1] < 0) {
		r = -errno;
		if (p[0] >= 0)
			close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
		return r;
	}
	r = refill_pipe(p[1], f);
	if (r < 0)
		pr_warn("%s: fd %d: could not put back all %llu bytes of its pipe: %s", img, fdno,
			(unsigned long long)f->data_len, strerror(-r));
	fcntl(p[end], F_SETFL, f->oflags & SETFL_MASK);
	a = fd_obj_add(fs, CKPT_FILE_PIPE, f->ino, 0, p[0]);
	b = fd_obj_add(fs, CKPT_FILE_PIPE, f->ino, 1, p[1]);
	if (a < 0 || b < 0) {
		close(p[0]);
		close(p[1]);
		return -ENOMEM;
	}
	*idx = end ? b : a;
	return 0;
}

/* Open one saved file description; returns its obj index or -errno. */
static int open_file(struct fd_shared *fs, const struct restart_set *s, int im,
		     const struct ckpt_file *f, int fdno)
{
	const struct restart_img *img = &s->img[im];
	uint64_t key = f->share_key ? f->share_key : ((uint64_t)(im + 1) << 32 | f->id);
	int fd = -1, i = -1, r;

	if (f->type == CKPT_FILE_PIPE) {
		r = open_pipe(fs, f, img->path, fdno, &i);
		return r < 0 ? r : i;
	}
	if (f->type == CKPT_FILE_SOCKET)
		return prepare_sock_open(fs, s, im, f, fdno);
	i = fd_obj_find(fs, f->type, key, 0);
	if (i >= 0) {
		/* made for another process: this one's POSIX locks are its own */
		r = prepare_locks_probe(fs->obj[i].fd, f, img->path, fdno);
		return r ? r : i;
	}
	switch (f->type) {
	case CKPT_FILE_REG:
		if (f->flags & CKPT_FF_MEMFD) {
			fd = open_memfd(fs, f, img->path, fdno);
			if (fd < 0)
				return fd;
			break;
		}
		if (f->flags & CKPT_FF_DELETED) {
			fd = open_deleted(f, img->path, fdno);
			if (fd < 0)
				return fd;
			break;
		}
		/* fallthrough */
	case CKPT_FILE_DIR:
	case CKPT_FILE_CHR:
	case CKPT_FILE_BLK:
		fd = open(f->path, open_saved_flags(f));
		if (fd < 0) {
			r = -errno;
			pr_err("%s: fd %d: cannot reopen %s: %s", img->path, fdno, f->path,
			       strerror(-r));
			return r;
		}
		break;
	case CKPT_FILE_TTY:
		fd = open_tty(f, img->path, fdno);
		break;
	case CKPT_FILE_FIFO:
		fd = open_fifo(fs, f, img->path, fdno);
		if (fd < 0)
			return fd;
		break;
	case CKPT_FILE_ANON: /* eventfd, timerfd, signalfd, epoll, inotify (pidfds come later) */
		fd = prepare_anon_open(f, img->path, fdno);
		if (fd < 0)
			return fd;
		break;
	default: /* a kind no checkpoint saves: never pretend with something else */
		pr_err("%s: fd %d (%s %s) cannot be made again at restart", img->path, fdno,
		       ckpt_file_type_name(f->type), f->path ? f->path : "");
		return -EINVAL;
	}
	if (fd < 0) {
		r = -errno;
		pr_err("%s: fd %d: %s", img->path, fdno, strerror(-r));
		return r;
	}
	/* (An O_PATH fd has no offset: lseek fails on it with EBADF.) */
	if ((f->type == CKPT_FILE_REG || f->type == CKPT_FILE_DIR) && !(f->oflags & O_PATH) &&
	    lseek(fd, (off_t)f->pos, SEEK_SET) < 0) {
		r = -errno;
		pr_err("%s: fd %d: cannot seek %s to %llu: %s", img->path, fdno, f->path,
		       (unsigned long long)f->pos, strerror(-r));
		close(fd);
		return r;
	}
	r = prepare_locks_desc(fd, f, img->path, fdno);
	if (r) {
		close(fd);
		return r;
	}
	fd = fd_move_high(fd, fs->base);
	if (fd < 0) {
		r = -errno;
		pr_err("%s: fd %d: cannot move it above fd %d: %s", img->path, fdno, fs->base,
		       strerror(-r));
		return r;
	}
	i = fd_obj_add(fs, f->type, key, f->type == CKPT_FILE_FIFO ? f->ino : 0, fd);
	if (i < 0)
		close(fd);
	return i;
}

int prepare_file_open(struct fd_shared *fs, const struct restart_set *s, int im, uint32_t id,
		      int fdno)
{
	const struct ckpt_proc *p = &s->img[im].proc;
	int i;

	if (id >= p->nfiles)
		return -EINVAL;
	i = open_file(fs, s, im, &p->files[id], fdno);
	return i < 0 ? i : fs->obj[i].fd;
}

/*
 * A path under /proc/<N>/ (or /proc/<N> itself) where N is a pid or tid of the saved
 * computation: it names a restored process, which does not exist while the restart opens the
 * shared files (and another process may hold that pid in the restart's namespace). Such a
 * file is opened later, by the restored process itself (open_own_proc()). Returns 1 if so.
 */
static int names_saved_task(const struct restart_set *s, const char *path)
{
	long n = restart_proc_pid(path);
	int im;
	uint32_t k;

	if (!n)
		return 0;
	for (im = 0; im < s->n; im++) {
		const struct ckpt_proc *p = &s->img[im].proc;

		/* The path is as the program saw it: in its innermost PID namespace. */
		if (restart_img_pid(p) == n)
			return 1;
		for (k = 0; k < p->nthreads; k++)
			if (restart_thread_tid(p, &p->threads[k]) == n)
				return 1;
	}
	return 0;
}

/*
 * In the restored process: reopen a /proc file of the computation (names_saved_task()) at
 * its saved offset. Every saved pid is in place by now (the tree is complete before any
 * process restores itself), in the namespace whose /proc this process sees; the other
 * threads' tids are not (they are recreated later), so such a path fails here, named.
 */
static int open_own_proc(const struct restart_img *img, const struct ckpt_file *f, int fdno)
{
	int fd, r;

	fd = open(f->path, open_saved_flags(f));
	if (fd < 0) {
		r = -errno;
		pr_err("%s: fd %d: cannot reopen %s in the restored process: %s", img->path, fdno,
		       f->path, strerror(-r));
		return r;
	}
	/* A seq_file (maps, status...) seeks by reading up to the offset: best effort, as
	 * its content is the restored process's now anyway. */
	if (f->type == CKPT_FILE_REG && f->pos && lseek(fd, (off_t)f->pos, SEEK_SET) < 0)
		pr_warn("%s: fd %d: cannot seek %s to %llu: %s", img->path, fdno, f->path,
			(unsigned long long)f->pos, strerror(errno));
	return fd;
}

int prepare_fds_shared(struct restart_set *s, struct fd_shared *fs)
{
	int im, r;
	uint32_t k;

	memset(fs, 0, sizeof(*fs));
	fs->base = s->max_fd + 1 > 10 ? s->max_fd + 1 : 10;
	fs->nimg = s->n;
	fs->file_obj = calloc(s->n, sizeof(*fs->file_obj));
	if (!fs->file_obj)
		return -ENOMEM;
	r = hold_restart_stdio(fs);
	if (r)
		goto fail;
	/* TCP connections within the images first: their ports must be free to bind */
	r = prepare_socks_tcp_early(fs, s);
	if (r)
		goto fail;
	for (im = 0; im < s->n; im++) {
		const struct restart_img *img = &s->img[im];
		const struct ckpt_proc *p = &img->proc;

		fs->file_obj[im] = calloc(p->nfiles + 1, sizeof(uint32_t));
		if (!fs->file_obj[im]) {
			r = -ENOMEM;
			goto fail;
		}
		for (k = 0; k < p->nfiles; k++)
			fs->file_obj[im][k] = UINT32_MAX;
		follow_restart_stdio(fs, img, im);
		/* Only descriptions some fd still refers to are opened. */
		for (k = 0; k < p->nfds; k++) {
			const struct ckpt_fd *d = &p->fds[k];

			if (fs->file_obj[im][d->file] != UINT32_MAX)
				continue;
			if (names_saved_task(s, p->files[d->file].path)) {
				fs->file_obj[im][d->file] = FD_OBJ_OWN_PROC;
				continue;
			}
			if (p->files[d->file].type == CKPT_FILE_ANON && p->files[d->file].anon &&
			    p->files[d->file].anon->kind == CKPT_ANON_PIDFD) {
				fs->file_obj[im][d->file] = FD_OBJ_PIDFD;
				r = prepare_anon_pidfd_chan(fs, s, im, &p->files[d->file]);
				if (r)
					goto fail;
				continue;
			}
			r = open_file(fs, s, im, &p->files[d->file], d->fd);
			if (r < 0)
				goto fail;
			fs->file_obj[im][d->file] = r;
		}
	}
	/* UDP datagrams come back from their senders, which now all exist */
	r = prepare_socks_inet_late(fs, s);
	if (r)
		goto fail;
	return 0;
fail:
	prepare_fds_free(fs);
	return r;
}

static int in_list(int fd, const int *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (v[i] == fd)
			return 1;
	return 0;
}

/* What the restored process keeps open: its saved fds and those the restore still needs. */
struct fd_keep {
	const struct ckpt_proc *p;
	const int *keep;
	int nkeep;
};

static int close_unless_kept(int fd, void *arg)
{
	const struct fd_keep *fk = arg;
	uint32_t k;

	for (k = 0; k < fk->p->nfds; k++)
		if (fk->p->fds[k].fd == fd)
			return 0;
	if (!in_list(fd, fk->keep, fk->nkeep))
		close(fd);
	return 0;
}

int prepare_fds_install(const struct restart_set *s, int img, const struct fd_shared *fs,
			const int *keep, int nkeep)
{
	const struct ckpt_proc *p = &s->img[img].proc;
	struct fd_keep fk = { p, keep, nkeep };
	int *made = calloc(p->nfiles + 1, sizeof(int));
	uint32_t k;
	int r;

	if (!made)
		return -ENOMEM;
	r = prepare_anon_pidfds_send(fs, s, img, made);
	if (r)
		goto out;

	for (k = 0; k < p->nfds; k++) {
		const struct ckpt_fd *f = &p->fds[k];
		uint32_t oi = fs->file_obj[img][f->file];
		int from, own = -1;
		uint32_t j;

		if (in_list(f->fd, keep, nkeep)) {
			pr_err("%s: fd %d collides with one the restore still needs", s->img[img].path,
			       f->fd);
			r = -EBUSY;
			goto out;
		}
		if (oi == FD_OBJ_OWN_PROC) {
			own = open_own_proc(&s->img[img], &p->files[f->file], f->fd);
			if (own < 0) {
				r = own;
				goto out;
			}
			from = own;
		} else if (oi == FD_OBJ_PIDFD) {
			/* one description: a dup of the fd that got it first, if one did */
			for (j = 0; j < k && p->fds[j].file != f->file; j++)
				;
			if (j < k) {
				from = p->fds[j].fd;
			} else {
				own = made[f->file];
				made[f->file] = -1;
				if (own < 0)
					own = prepare_anon_pidfd(fs, s, &p->files[f->file],
								 s->img[img].path, f->fd);
				if (own < 0) {
					r = own;
					goto out;
				}
				from = own;
			}
		} else {
			from = fs->obj[oi].fd;
		}
		if (from == f->fd) /* opened right at its number */
			r = fcntl(f->fd, F_SETFD, f->fd_flags & CKPT_FDF_CLOEXEC ? FD_CLOEXEC : 0);
		else
			r = dup3(from, f->fd, (f->fd_flags & CKPT_FDF_CLOEXEC) ? O_CLOEXEC : 0);
		if (own >= 0 && own != f->fd)
			close(own);
		if (r < 0) {
			r = -errno;
			pr_err("%s: cannot put fd %d in place: %s", s->img[img].path, f->fd,
			       strerror(-r));
			goto out;
		}
	}
	/* Epoll sets watch fds by number: every fd is in place now. */
	for (k = 0; k < p->nfds; k++) {
		r = prepare_anon_epoll_fill(&p->files[p->fds[k].file], p->fds[k].fd,
					    s->img[img].path);
		if (r)
			goto out;
	}
		/* Close everything else: our own fds, and the other processes' shared objects. */
	r = procfs_each_fd(0, close_unless_kept, &fk);
	if (r) {
		pr_err("cannot list /proc/self/fd: %s", strerror(-r));
		goto out;
	}
	/* Only now: closing any other fd of a locked file would drop them. */
	r = prepare_locks_posix(p, s->img[img].path, keep, nkeep);
out:
	/* (a pidfd made for a saved fd that was never reached: on failure only) */
	for (k = 0; k < p->nfiles; k++)
		if (made[k] >= 0)
			close(made[k]);
	free(made);
	return r;
}

void prepare_fds_free(struct fd_shared *fs)
{
	int i;

	for (i = 0; i < fs->n; i++)
		close(fs->obj[i].fd);
	free(fs->obj);
	if (fs->file_obj)
		for (i = 0; i < fs->nimg; i++)
			free(fs->file_obj[i]);
	free(fs->file_obj);
	memset(fs, 0, sizeof(*fs));
}
