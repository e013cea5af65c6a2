/*
 * Collecting the file descriptors of a suspended process: every fd of /proc/PID/fd at its
 * number with FD_CLOEXEC, and the open file descriptions behind them (type, path, status
 * flags, position, mount id, inode), one record per description: fds that share one (dup,
 * fork) point at the same record, confirmed with kcmp(KCMP_FILE).
 *
 * To look inside a description without disturbing it the tracer takes a duplicate of the fd
 * (pidfd_getfd when the kernel has it, tracer/probe.h; else it reopens /proc/PID/fd/N, which
 * is a new description of the same object): terminals give termios and window size; pipes
 * their buffered bytes, copied with tee(2) into a private pipe so that nothing is consumed. A
 * pipe whose read end is not in the process is opened for reading through /proc/PID/fd/N (a
 * pipe may be opened like a FIFO); if even that fails the bytes are not saved and the file
 * says CKPT_FF_DATA_TRUNC. Sockets are described by collect_sock.c, on the same duplicate;
 * anonymous inodes (eventfd, timerfd, signalfd, epoll, pidfd, inotify; others refused) by
 * collect_anon.c, the locks held through it by collect_locks.c, and a file of no known kind
 * is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/vfs.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "collect.h"
#include "log.h"
#include "probe.h"
#include "procfs.h"

#define KCMP_FILE 0

struct fd_ent {
	int fd;
	uint32_t file;
};

struct fd_ctx {
	pid_t pid;
	int pidfd; /* -1: pidfd_getfd not available, reopen through /proc */
	int *rep;  /* per file: an fd that shows it */
	uint8_t *rep_self; /* per file: rep is the tracer's own fd (a file in flight) */
	int self_fd; /* >= 0: describing this fd of the tracer, a file in flight */
	struct sock_tables socks; /* the network namespace's sockets, dumped when needed */
	const struct collect_tree *tree; /* may be NULL */
	char *why;		       /* the reason of a failure (may be NULL) */
	size_t whylen;
};

/* A duplicate of the target's fd in the tracer, or -errno. */
static int take_fd(struct fd_ctx *c, int fd, int oflags)
{
	char name[32];
	int lfd;

	if (c->self_fd >= 0) {
		lfd = fcntl(c->self_fd, F_DUPFD_CLOEXEC, 0);
		return lfd < 0 ? -errno : lfd;
	}
	if (c->pidfd >= 0) {
		lfd = (int)syscall(SYS_pidfd_getfd, c->pidfd, fd, 0);
		if (lfd >= 0)
			return lfd;
		if (errno == ESRCH)
			return -ESRCH;
	}
	snprintf(name, sizeof(name), "fd/%d", fd);
	return procfs_open(c->pid, 0, name,
			   (oflags & O_ACCMODE) == O_WRONLY ? O_RDONLY | O_NONBLOCK :
							      O_RDONLY | O_NONBLOCK | O_NOCTTY);
}

int collect_open_fd_data(pid_t pid, int fd)
{
	char name[32];
	int lfd, pidfd;

	/* A new read-only description through the magic link: works whatever the program's
	 * access mode was (a write-only fd cannot be read through a duplicate). */
	snprintf(name, sizeof(name), "fd/%d", fd);
	lfd = procfs_open(pid, 0, name, O_RDONLY | O_NOCTTY);
	if (lfd >= 0 || lfd == -ESRCH || !kfeat()->pidfd_getfd)
		return lfd;
	/* Not permitted (file mode): a duplicate of the program's own description. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	lfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (lfd < 0)
		lfd = -errno;
	close(pidfd);
	return lfd;
}

int collect_data_append(struct ckpt_file *f, const void *buf, size_t n)
{
	uint8_t *nd = realloc(f->data, f->data_len + n);

	if (!nd)
		return -ENOMEM;
	memcpy(nd + f->data_len, buf, n);
	f->data = nd;
	f->data_len += n;
	return 0;
}

/* The bytes buffered in a pipe, through a read end rfd, without consuming them. */
static int save_pipe(struct ckpt_file *f, int rfd)
{
	int pp[2], sz, rc = 0;
	ssize_t n;
	char buf[65536];

	if (pipe2(pp, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	sz = fcntl(rfd, F_GETPIPE_SZ);
	/* The private pipe must hold everything the source holds or tee stops short. */
	if (sz > 0 && fcntl(pp[1], F_SETPIPE_SZ, sz) < 0)
		f->flags |= CKPT_FF_DATA_TRUNC;
	n = tee(rfd, pp[1], INT_MAX, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN) {
		rc = -errno;
		goto out;
	}
	close(pp[1]);
	pp[1] = -1;
	while ((n = read(pp[0], buf, sizeof(buf))) > 0) {
		if ((rc = collect_data_append(f, buf, (size_t)n)))
			goto out;
	}
	f->flags |= CKPT_FF_HAS_DATA;
out:
	close(pp[0]);
	if (pp[1] >= 0)
		close(pp[1]);
	return rc;
}

static uint32_t type_of(const struct stat *st, const char *path)
{
	if (!strncmp(path, "anon_inode:", 11))
		return CKPT_FILE_ANON;
	if (!strncmp(path, "pipe:[", 6))
		return CKPT_FILE_PIPE;
	if (!strncmp(path, "socket:[", 8))
		return CKPT_FILE_SOCKET;
	switch (st->st_mode & S_IFMT) {
	case S_IFREG: return CKPT_FILE_REG;
	case S_IFDIR: return CKPT_FILE_DIR;
	case S_IFCHR: return CKPT_FILE_CHR;
	case S_IFBLK: return CKPT_FILE_BLK;
	case S_IFIFO: return CKPT_FILE_FIFO;
	case S_IFSOCK: return CKPT_FILE_SOCKET;
	}
	return CKPT_FILE_OTHER;
}

/*
 * A deleted file named "/memfd:NAME" is a memfd when its seals can be read (a tmpfs file
 * answers F_GET_SEALS too, but no other file has that name). Sealing was allowed at its
 * creation unless the seals are F_SEAL_SEAL alone, which is also what a memfd made without
 * MFD_ALLOW_SEALING shows: a restart makes that case without the flag, the same state.
 */
static int inspect_memfd(struct fd_ctx *c, int fd, struct ckpt_file *f)
{
	struct statfs sfs;
	int lfd = take_fd(c, fd, (int)f->oflags), seals;

	if (lfd < 0)
		return lfd == -ESRCH ? lfd : 0; /* then only a deleted file, as before */
	seals = fcntl(lfd, F_GET_SEALS);
	if (seals >= 0) {
		f->flags |= CKPT_FF_MEMFD;
		f->seals = (uint32_t)seals & CKPT_SEALS_KNOWN;
		if ((uint32_t)seals != F_SEAL_SEAL)
			f->mfd_flags |= MFD_ALLOW_SEALING;
		if (fstatfs(lfd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC)
			f->mfd_flags |= MFD_HUGETLB;
	}
	close(lfd);
	return 0;
}

/* Look inside the description: terminal state, deleted contents, pipe bytes, socket type. */
static int inspect(struct fd_ctx *c, int fd, struct ckpt_file *f, int pipe_data_wanted)
{
	int lfd, rc = 0;

	if (f->type == CKPT_FILE_REG && (f->flags & CKPT_FF_DELETED)) {
		if (!strncmp(f->path, "/memfd:", 7)) {
			rc = inspect_memfd(c, fd, f);
			if (rc)
				return rc;
		}
		/* The contents are streamed into the image at dump time (dump_image.c), not held
		 * in memory: a deleted file may be large. Its size cannot change meanwhile unless
		 * a process outside the tree writes it; the dump checks. */
		f->flags |= CKPT_FF_HAS_DATA;
		f->data_len = f->size;
		return 0;
	}
	if (f->type != CKPT_FILE_CHR && f->type != CKPT_FILE_PIPE && f->type != CKPT_FILE_FIFO &&
	    f->type != CKPT_FILE_SOCKET)
		return 0;
	if (f->type == CKPT_FILE_PIPE && !pipe_data_wanted)
		return 0;
	lfd = take_fd(c, fd, (int)f->oflags);
	if (lfd < 0) {
		if (lfd == -ESRCH)
			return lfd;
		if (f->type == CKPT_FILE_SOCKET) {
			/* Nothing can be said of it: it cannot be restored. */
			if (c->why)
				snprintf(c->why, c->whylen, "fd %d: cannot look at socket %s: %s%s",
					 fd, f->path, strerror(-lfd),
					 kfeat()->pidfd_getfd ? "" : " (no pidfd_getfd here)");
			return lfd == -ENXIO ? -EOPNOTSUPP : lfd;
		}
		if (f->type == CKPT_FILE_PIPE || f->type == CKPT_FILE_FIFO) {
			pr_warn("pid %d: fd %d (%s): cannot look inside: %s", c->pid, fd, f->path,
				strerror(-lfd));
			f->flags |= CKPT_FF_DATA_TRUNC;
		}
		return 0;
	}
	if (f->type == CKPT_FILE_CHR) {
		struct termios tio;
		struct winsize ws;

		if (tcgetattr(lfd, &tio) == 0) {
			f->type = CKPT_FILE_TTY;
			f->flags |= CKPT_FF_TERMIOS;
			f->tio.iflag = tio.c_iflag;
			f->tio.oflag = tio.c_oflag;
			f->tio.cflag = tio.c_cflag;
			f->tio.lflag = tio.c_lflag;
			f->tio.line = tio.c_line;
			memcpy(f->tio.cc, tio.c_cc, sizeof(f->tio.cc));
			if (ioctl(lfd, TIOCGWINSZ, &ws) == 0) {
				f->tio.ws_row = ws.ws_row;
				f->tio.ws_col = ws.ws_col;
				f->tio.ws_xpixel = ws.ws_xpixel;
				f->tio.ws_ypixel = ws.ws_ypixel;
			}
		}
	} else if (f->type == CKPT_FILE_SOCKET) {
		rc = collect_sock(c->pid, fd, lfd, f, &c->socks, c->tree, c->why, c->whylen);
		close(lfd);
		return rc;
	} else if (f->type == CKPT_FILE_PIPE || f->type == CKPT_FILE_FIFO) {
		int rfd = lfd;

		/* tee needs the read side. A write-end duplicate cannot be read: open the pipe
		 * for reading through /proc (O_NONBLOCK: never wait for a writer). */
		if (f->pipe_end == 1) {
			char name[32];

			snprintf(name, sizeof(name), "fd/%d", c->self_fd >= 0 ? c->self_fd : fd);
			rfd = procfs_open(c->self_fd >= 0 ? 0 : c->pid, 0, name,
					  O_RDONLY | O_NONBLOCK);
		}
		if (rfd < 0) {
			pr_warn("pid %d: fd %d (%s): no read end to copy its bytes from: %s",
				c->pid, fd, f->path, strerror(-rfd));
			f->flags |= CKPT_FF_DATA_TRUNC;
		} else {
			rc = save_pipe(f, rfd);
			if (rfd != lfd)
				close(rfd);
		}
	}
	close(lfd);
	if (rc)
		pr_err("pid %d: fd %d (%s): cannot save its data: %s", c->pid, fd, f->path,
		       strerror(-rc));
	return rc;
}

/* The mqueue filesystem's statfs f_type (ipc/mqueue.c; not in the uapi headers). */
#define MQUEUE_FS_MAGIC 0x19800202

/* Whether the file behind procfs path p lives on the mqueue filesystem. */
static int is_mqueue(const char *p)
{
	struct statfs sf;

	return statfs(p, &sf) == 0 && sf.f_type == MQUEUE_FS_MAGIC;
}

/* Adds the description behind fd, or finds it among those seen (kcmp). */
static int add_file(struct fd_ctx *c, struct ckpt_proc *p, int fd, uint32_t *cap,
		    uint32_t *idx, collect_fd_share_fn share, void *arg)
{
	char name[32], path[64], buf[CKPT_MAX_PATH], *link;
	struct procfs_fdinfo fi;
	struct stat st;
	struct ckpt_file *f;
	uint32_t i;
	int rc, want_pipe_data = 1;
	static const char del[] = " (deleted)";
	/* a file in flight is the tracer's fd self_fd; fd names the receiving socket */
	int self = c->self_fd >= 0, src = self ? c->self_fd : fd;
	pid_t ppid = self ? 0 : c->pid, kpid = self ? getpid() : c->pid;

	/* The fd was closed meanwhile is impossible (suspended): gone, the process died. */
	rc = procfs_fd_link(ppid, src, buf, sizeof(buf));
	if (rc)
		return rc;
	snprintf(name, sizeof(name), "fd/%d", src);
	procfs_path(path, sizeof(path), ppid, 0, name);
	if (stat(path, &st))
		return errno == ENOENT ? -ESRCH : -errno;
	link = strdup(buf);
	if (!link)
		return -ENOMEM;
	for (i = 0; i < p->nfiles; i++) {
		f = &p->files[i];
		if (f->dev != st.st_dev || f->ino != st.st_ino)
			continue;
		/* the pipe's bytes are saved once per process; a pipe in flight carries them
		 * too, since the restart may make it before the fd that had them */
		if (f->type == CKPT_FILE_PIPE && !self)
			want_pipe_data = 0;
		if (syscall(SYS_kcmp, kpid, c->rep_self[i] ? getpid() : c->pid, KCMP_FILE, src,
			    c->rep[i]) == 0) {
			free(link);
			*idx = i;
			return 0;
		}
	}
	if (p->nfiles == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 16;
		struct ckpt_file *nf = realloc(p->files, ncap * sizeof(*nf));
		int *nr = realloc(c->rep, ncap * sizeof(*nr));
		uint8_t *ns = realloc(c->rep_self, ncap);

		if (nf)
			p->files = nf;
		if (nr)
			c->rep = nr;
		if (ns)
			c->rep_self = ns;
		if (!nf || !nr || !ns) {
			free(link);
			return -ENOMEM;
		}
		*cap = ncap;
	}
	f = &p->files[p->nfiles];
	memset(f, 0, sizeof(*f));
	f->id = p->nfiles;
	c->rep[p->nfiles] = src;
	c->rep_self[p->nfiles] = (uint8_t)self;
	p->nfiles++;
	f->path = link;
	f->mode = st.st_mode;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->rdev = st.st_rdev;
	f->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	f->pipe_end = -1;
	f->type = type_of(&st, link);
	{
		size_t l = strlen(link);

		if (f->type == CKPT_FILE_REG && l > sizeof(del) - 1 &&
		    !strcmp(link + l - (sizeof(del) - 1), del) && st.st_nlink == 0) {
			link[l - (sizeof(del) - 1)] = 0;
			f->flags |= CKPT_FF_DELETED;
		}
	}
	if ((rc = procfs_fdinfo(ppid, src, &fi)))
		return rc;
	f->pos = fi.pos;
	f->mnt_id = fi.mnt_id;
	/* O_CLOEXEC is a property of the fd, not of the description */
	f->oflags = fi.flags & ~(uint32_t)O_CLOEXEC;
	if (f->type == CKPT_FILE_PIPE || f->type == CKPT_FILE_FIFO)
		f->pipe_end = (f->oflags & O_ACCMODE) == O_RDONLY ? 0 :
			      (f->oflags & O_ACCMODE) == O_WRONLY ? 1 : -1;
	f->share_key = share ? share(arg, kpid, src, f) :
			       ((uint64_t)(uint32_t)kpid << 32 | (uint32_t)src);
	*idx = f->id;
	/* a file in flight holds no lock of the process (closing its fd dropped them) */
	if (!self && (rc = collect_locks(c->pid, p->pid, fd, f, c->why, c->whylen)))
		return rc;
	if (f->type == CKPT_FILE_ANON)
		return collect_anon(c->pid, fd, self, f, c->tree, c->why, c->whylen);
	if (f->type == CKPT_FILE_OTHER)
		return collect_sock_fail(c->why, c->whylen, -EOPNOTSUPP,
					 "fd %d (%s) is a file of a kind that cannot be "
					 "checkpointed yet", fd, link);
	/* A POSIX message queue looks like a regular file named /NAME; reopening that path
	 * at restart would open something else, or nothing. */
	if (f->type == CKPT_FILE_REG && is_mqueue(path))
		return collect_sock_fail(c->why, c->whylen, -EOPNOTSUPP,
					 "fd %d is a POSIX message queue (%s), which cannot be "
					 "checkpointed yet", fd, link);
	return inspect(c, fd, f, want_pipe_data);
}

/* Whether fd (0-2) still holds the file the computation's starting command had there. */
static int is_launch_stdio(const struct collect_tree *tree, int fd, const struct ckpt_file *f)
{
	const struct stdio_ident *id;

	if (fd < 0 || fd > 2 || !tree || !tree->stdio)
		return 0;
	id = &tree->stdio[fd];
	return id->valid && id->dev == f->dev && id->ino == f->ino;
}

static int sock_carries_files(const struct ckpt_sock *k)
{
	for (uint32_t i = 0; i < k->nscm; i++)
		if (k->scm[i].nfiles)
			return 1;
	return 0;
}

/*
 * The files in flight on the process's unix sockets (SCM_RIGHTS, peeked into the tracer by
 * collect_sock.c), once every fd of the process is described: each is one of the process's
 * descriptions (kcmp), or another of the tree (the share key), or a file of its own that no
 * fd shows. Kinds the restart could not send again fail the checkpoint.
 */
static int add_inflight(struct fd_ctx *c, struct ckpt_proc *p, uint32_t *cap,
			collect_fd_share_fn share, void *arg)
{
	int rc = 0;

	for (uint32_t i = 0; i < c->socks.ninflight && !rc; i++) {
		struct sock_inflight in = c->socks.inflight[i];
		const struct ckpt_file *f;
		const char *bad = NULL;
		uint32_t idx = 0;

		c->self_fd = in.lfd;
		c->socks.nested = 1;
		rc = add_file(c, p, in.fd, cap, &idx, share, arg);
		c->socks.nested = 0;
		c->self_fd = -1;
		if (rc)
			break;
		f = &p->files[idx];
		if (f->type == CKPT_FILE_ANON || f->type == CKPT_FILE_OTHER)
			bad = "a kind of file the restart cannot make again";
		else if (f->type == CKPT_FILE_REG && (f->flags & CKPT_FF_DELETED))
			bad = "a deleted file";
		else if (!strncmp(f->path, "/proc/", 6))
			bad = "a file under /proc";
		else if (f->sock && sock_carries_files(f->sock))
			bad = "a unix socket with file descriptors in flight itself";
		if (bad) {
			rc = collect_sock_fail(c->why, c->whylen, -EOPNOTSUPP,
					       "fd %d: a file in flight on this unix socket (%s) is "
					       "%s, which cannot be checkpointed", in.fd, f->path, bad);
			break;
		}
		in.s->scm[in.scm].files[in.slot] = idx;
	}
	return rc;
}

int collect_fds(pid_t pid, struct ckpt_proc *p, const struct collect_tree *tree)
{
	struct fd_ctx c = { .pid = pid, .pidfd = -1, .self_fd = -1, .socks = SOCK_TABLES_INIT,
			    .tree = tree,
			    .why = tree ? tree->why : NULL, .whylen = tree ? tree->whylen : 0 };
	collect_fd_share_fn share = tree ? tree->fd_share : NULL;
	void *arg = tree ? tree->arg : NULL;
	struct fd_ent *ents = NULL;
	uint32_t n = 0, fcap = 0, i;
	int rc, *fds;

	rc = procfs_list_fds(pid, &fds, &n);
	if (rc) {
		if (rc != -ESRCH)
			pr_err("pid %d: cannot list /proc/%d/fd: %s", pid, pid, strerror(-rc));
		return rc;
	}
	ents = calloc(n ? n : 1, sizeof(*ents));
	if (!ents) {
		free(fds);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		ents[i].fd = fds[i]; /* ascending */
	free(fds);

	if (kfeat()->pidfd_getfd)
		c.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (i = 0; i < n && !rc; i++)
		rc = add_file(&c, p, ents[i].fd, &fcap, &ents[i].file, share, arg);
	if (!rc)
		rc = add_inflight(&c, p, &fcap, share, arg);
	if (rc)
		goto out;
	p->fds = calloc(n ? n : 1, sizeof(*p->fds));
	if (!p->fds) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct procfs_fdinfo fi;

		p->fds[i].fd = ents[i].fd;
		p->fds[i].file = ents[i].file;
		rc = procfs_fdinfo(pid, ents[i].fd, &fi);
		if (rc)
			goto out;
		p->fds[i].fd_flags = (fi.flags & O_CLOEXEC) ? CKPT_FDF_CLOEXEC : 0;
		if (is_launch_stdio(tree, ents[i].fd, &p->files[ents[i].file]))
			p->fds[i].fd_flags |= CKPT_FDF_STDIO;
	}
	p->nfds = n;
out:
	if (c.pidfd >= 0)
		close(c.pidfd);
	collect_sock_tables_free(&c.socks);
	free(c.rep);
	free(c.rep_self);
	free(ents);
	return rc;
}
