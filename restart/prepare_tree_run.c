/*
 * Creating the planned tree (see prepare_tree.h and the shape described in prepare_tree.c):
 * the processes' side (each one forks its children, sets its session and group, reports in,
 * waits for its release), the reaper, and the restart's side (channels, reports, release,
 * abort).
 */
#include "restart/prepare_tree.h"
#include "restart/prepare_tree_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"

/* ---- the processes' side ---------------------------------------------------------------- */

static void send_report(struct tree *t, int idx, int kind, int value, const char *why)
{
	struct tree_report r;

	memset(&r, 0, sizeof(r));
	r.idx = idx;
	r.kind = kind;
	r.value = value;
	if (why)
		snprintf(r.why, sizeof(r.why), "%s", why);
	/* A datagram either goes whole or not at all; if the restart is gone, so are we soon. */
	while (send(t->child_report_fd, &r, sizeof(r), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static __attribute__((noreturn)) void child_fail(struct tree *t, int idx, int err,
						 const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void child_fail(struct tree *t, int idx, int err, const char *fmt, ...)
{
	char why[240];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	send_report(t, idx, REP_FAILED, err, why);
	_exit(fail_rc());
}

static long futex_wait(_Atomic uint32_t *w, uint32_t val, int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return syscall(SYS_futex, w, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* The restart died when the alive pipe reads as closed. */
static int restart_gone(struct tree *t)
{
	struct pollfd pfd = { .fd = t->child_alive_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLIN | POLLERR));
}

/*
 * Wait for *w to leave 0, bounded by the tree timeout; -ETIMEDOUT or -ECANCELED (abort).
 *
 * The restart sets the flag before it lets go of the alive pipe, so the flag is read again
 * once the pipe says the restart is gone: a process stopped between the two reads (the
 * restart tracer seizes and holds each one at its gate, then closes the pipe once all are
 * held) finds its gate open when it runs again, not a restart that seems to have died.
 */
static int wait_flag(struct tree *t, _Atomic uint32_t *w, int bounded)
{
	int waited = 0;

	while (atomic_load(w) == 0) {
		if (restart_gone(t))
			return atomic_load(w) ? 0 : -ECANCELED;
		if (bounded && waited >= t->timeout_ms)
			return -ETIMEDOUT;
		futex_wait(w, 0, 50);
		waited += 50;
	}
	return 0;
}

static pid_t clone_with_pid(pid_t pid, uint64_t flags)
{
	struct clone_args ca;
	pid_t want = pid;

	memset(&ca, 0, sizeof(ca));
	ca.flags = flags;
	ca.exit_signal = SIGCHLD;
	if (pid > 0) {
		ca.set_tid = (uint64_t)(uintptr_t)&want;
		ca.set_tid_size = 1;
	}
	return syscall(SYS_clone3, &ca, sizeof(ca));
}

static __attribute__((noreturn)) void tree_child(struct tree *t, int idx);

/* Fork child c of the current process; in the child this never returns. */
static void fork_child(struct tree *t, int self, int c)
{
	pid_t r = clone_with_pid(t->procs[c].pid, 0);

	if (r == 0)
		tree_child(t, c);
	if (r < 0)
		child_fail(t, self < 0 ? c : self, -errno, "cannot create pid %d: %s",
			   t->procs[c].pid,
			   errno == EEXIST ? "the pid is taken" : strerror(errno));
}

/* A zombie: born with its pid, it ends at once the way it had ended; nobody reaps it but the
 * program. */
static void fork_zombies(struct tree *t, int self)
{
	int i;

	for (i = 0; i < t->nzombies; i++) {
		const struct tree_zombie *z = &t->zombies[i];
		pid_t r;

		if (z->parent != self)
			continue;
		r = clone_with_pid(z->pid, 0);
		if (r == 0) {
			if (WIFSIGNALED(z->status)) {
				struct rlimit no_core = { 0, 0 };
				sigset_t none;

				setrlimit(RLIMIT_CORE, &no_core);
				signal(WTERMSIG(z->status), SIG_DFL);
				sigemptyset(&none);
				sigprocmask(SIG_SETMASK, &none, NULL);
				kill(getpid(), WTERMSIG(z->status));
			}
			_exit(WEXITSTATUS(z->status));
		}
		if (r < 0)
			child_fail(t, self, -errno, "cannot recreate zombie %d: %s", z->pid,
				   errno == EEXIST ? "the pid is taken" : strerror(errno));
	}
}

static void fork_children(struct tree *t, int self, int early)
{
	int c;

	for (c = 0; c < t->n; c++)
		if (t->procs[c].parent == self && (self < 0 || t->procs[c].early == early))
			fork_child(t, self, c);
}

static void tree_child(struct tree *t, int idx)
{
	struct tree_proc *p = &t->procs[idx];
	struct tree_slot *s = &t->slots[idx];
	int r;

	if (getpid() != p->pid)
		child_fail(t, idx, -EEXIST, "pid %d came out as %d", p->pid, getpid());
	if (p->sid == p->pid) {
		fork_children(t, idx, 1);
		if (setsid() < 0)
			child_fail(t, idx, -errno, "pid %d: setsid: %s", p->pid, strerror(errno));
	}
	fork_children(t, idx, 0);
	fork_zombies(t, idx);
	if (p->pgid == p->pid) {
		if (getpgrp() != p->pid && setpgid(0, 0) < 0)
			child_fail(t, idx, -errno, "pid %d: setpgid(0, 0): %s", p->pid,
				   strerror(errno));
	} else if (p->sid != p->pid && tree_find_pid(t, p->pgid) >= 0) {
		int l = tree_find_pid(t, p->pgid);

		r = wait_flag(t, &t->slots[l].group_ready, 1);
		if (r < 0)
			child_fail(t, idx, r, "pid %d: leader %d of its process group never came",
				   p->pid, p->pgid);
		if (setpgid(0, p->pgid) < 0)
			child_fail(t, idx, -errno, "pid %d: setpgid(0, %d): %s", p->pid, p->pgid,
				   strerror(errno));
	}
	if (p->pgid == p->pid || p->sid == p->pid) {
		atomic_store(&s->group_ready, 1);
		futex_wake_all(&s->group_ready);
	}
	send_report(t, idx, REP_PLACED, 0, NULL);
	if (wait_flag(t, &s->go, 0) < 0 || atomic_load(&s->go) != GO_RUN)
		_exit(fail_rc());
	r = t->run ? t->run(idx, t->arg) : 0;
	if (r < 0)
		child_fail(t, idx, r, "pid %d: restore failed: %s", p->pid, strerror(-r));
	atomic_store(&s->done, 1);
	_exit(0);
}

static int mount_own_proc(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* Without this our /proc mount would propagate back into the caller's namespace. */
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

/*
 * The reaper lives as long as the restored processes, so it must hold none of what it
 * inherited from the restart once its children have theirs: the program's pipes and FIFOs
 * (a reader would never see the end of a pipe whose writers all exited, nor a writer
 * EPIPE), the images, the restart's connection to the coordinator (which would keep a
 * client connection open for the life of the computation). Only stdin/out/err, which the
 * restart itself keeps too, and the report socket (keep) stay.
 */
static void close_fds(unsigned lo, unsigned hi)
{
	long max;

	if (lo > hi || close_range(lo, hi, 0) == 0 || errno != ENOSYS)
		return;
	/* a kernel before 5.9 */
	max = sysconf(_SC_OPEN_MAX);
	for (; lo <= hi && (long)lo < max; lo++)
		close((int)lo);
}

static void drop_fds(int keep)
{
	if (keep < 3) {
		close_fds(3, ~0U);
		return;
	}
	if (keep > 3)
		close_fds(3, (unsigned)keep - 1);
	close_fds((unsigned)keep + 1, ~0U);
}

/* prepare_tree_keep_reaper(): the reaper outlives the restart from now on. */
static void keep_reaper(int sig)
{
	(void)sig;
	prctl(PR_SET_PDEATHSIG, 0);
}

static __attribute__((noreturn)) void reaper_main(struct tree *t, int sync_fd)
{
	struct sigaction sa = { .sa_handler = keep_reaper, .sa_flags = SA_RESTART };
	int i, r, st, main_idx = -1, main_status = 0;
	char c;
	pid_t w;

	/* (before the death signal: a pid 1 gets only the signals it has a handler for) */
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (restart_gone(t))
		_exit(fail_rc());
	if (sync_fd >= 0) {
		/* Wait until our uid/gid maps are written (unprivileged namespace). */
		if (read(sync_fd, &c, 1) != 1)
			_exit(fail_rc());
		close(sync_fd);
	}
	if (t->mode == TREE_NEWNS) {
		r = mount_own_proc();
		if (r < 0)
			child_fail(t, -1, r, "cannot mount /proc for the new PID namespace: %s",
				   strerror(-r));
	} else {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	}
	/* Children report by themselves; a child that dies early is reported by us below. */
	signal(SIGPIPE, SIG_IGN);
	fork_children(t, -1, 0);
	drop_fds(t->child_report_fd);
	for (i = 0; i < t->n; i++)
		if (t->procs[i].is_main)
			main_idx = i;
	for (;;) {
		w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: nothing left */
		}
		i = tree_find_pid(t, w);
		if (i < 0)
			continue; /* an orphan we inherited */
		if (i == main_idx) {
			main_status = st;
			send_report(t, i, REP_MAIN_EXIT, st, NULL);
		} else if (!atomic_load(&t->slots[i].done)) {
			/*
			 * Until it leaves the tree (prepare_tree_detach(), just before its
			 * restorer) only we can tell the restart that it ended, which would
			 * otherwise wait for its report in vain. Its release (go) says nothing:
			 * every process is released before it stages its memory.
			 */
			char why[96];

			if (WIFSIGNALED(st))
				snprintf(why, sizeof(why),
					 "pid %d was killed by signal %d before its restore completed",
					 t->procs[i].pid, WTERMSIG(st));
			else
				snprintf(why, sizeof(why),
					 "pid %d exited with status %d before its restore completed",
					 t->procs[i].pid, WEXITSTATUS(st));
			send_report(t, i, REP_FAILED, -ECHILD, why);
		}
	}
	if (WIFEXITED(main_status))
		_exit(WEXITSTATUS(main_status));
	_exit(128 + WTERMSIG(main_status));
}

/* ---- the restart's side ------------------------------------------------------------------ */

/* Write text to /proc/PID/NAME; 0 or -errno (-ENOENT: the kernel has no such file). */
static int write_file(pid_t pid, const char *name, const char *text)
{
	char path[64];
	int fd, r = 0;
	size_t len = strlen(text);

	procfs_path(path, sizeof(path), pid, 0, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		r = -errno;
	close(fd);
	return r;
}

/* Map our own uid and gid to themselves in the reaper's new user namespace. */
static int write_id_maps(pid_t pid)
{
	char line[64];
	int r;

	snprintf(line, sizeof(line), "%u %u 1\n", geteuid(), geteuid());
	r = write_file(pid, "uid_map", line);
	if (r < 0) {
		pr_err("cannot write /proc/%d/uid_map: %s", pid, strerror(-r));
		return r;
	}
	/* Unprivileged gid_map needs setgroups denied first. */
	r = write_file(pid, "setgroups", "deny");
	if (r < 0 && r != -ENOENT) {
		pr_err("cannot write /proc/%d/setgroups: %s", pid, strerror(-r));
		return r;
	}
	snprintf(line, sizeof(line), "%u %u 1\n", getegid(), getegid());
	r = write_file(pid, "gid_map", line);
	if (r < 0)
		pr_err("cannot write /proc/%d/gid_map: %s", pid, strerror(-r));
	return r;
}

/* Keep the tree's fds out of the range of the saved fd numbers. */
static int raise_fd(int *fd, int min_fd)
{
	int h;

	if (*fd < 0 || *fd >= min_fd)
		return 0;
	h = fcntl(*fd, F_DUPFD_CLOEXEC, min_fd);
	if (h < 0)
		return -errno;
	close(*fd);
	*fd = h;
	return 0;
}

static int setup_channels(struct tree *t)
{
	int sv[2], pp[2], on = 1;

	t->slots_len = sizeof(struct tree_slot) * (t->n + 1);
	t->slots = mmap(NULL, t->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	if (t->slots == MAP_FAILED) {
		t->slots = NULL;
		pr_err("cannot map the tree's shared slots: %s", strerror(errno));
		return -ENOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		pr_err("socketpair: %s", strerror(errno));
		return -errno;
	}
	t->report_fd = sv[0];
	t->child_report_fd = sv[1];
	if (setsockopt(t->report_fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0) {
		pr_err("SO_PASSCRED: %s", strerror(errno));
		return -errno;
	}
	if (pipe2(pp, O_CLOEXEC) < 0) {
		pr_err("pipe: %s", strerror(errno));
		return -errno;
	}
	t->child_alive_fd = pp[0];
	t->alive_fd = pp[1];
	if (raise_fd(&t->report_fd, t->min_fd) || raise_fd(&t->child_report_fd, t->min_fd) ||
	    raise_fd(&t->alive_fd, t->min_fd) || raise_fd(&t->child_alive_fd, t->min_fd)) {
		pr_err("cannot move the tree's fds above %d: %s", t->min_fd, strerror(errno));
		return -EMFILE;
	}
	return 0;
}

static const char *kind_name(int kind)
{
	static const char *const names[] = {
		[REP_PLACED] = "PLACED", [REP_FAILED] = "FAILED", [REP_STAGE] = "STAGE",
		[REP_MAIN_EXIT] = "MAIN_EXIT", [REP_REAPER_UP] = "REAPER_UP",
	};

	if (kind > 0 && kind < (int)(sizeof(names) / sizeof(names[0])) && names[kind])
		return names[kind];
	return "?";
}

/* Receive one report; 1 with *r filled, 0 on timeout, -errno. */
static int recv_report(struct tree *t, int timeout_ms, struct tree_report *r, pid_t *from)
{
	struct pollfd pfd = { .fd = t->report_fd, .events = POLLIN };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { r, sizeof(*r) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t n;
	int pr;

	do
		pr = poll(&pfd, 1, timeout_ms);
	while (pr < 0 && errno == EINTR);
	if (pr < 0)
		return -errno;
	if (pr == 0)
		return 0;
	n = recvmsg(t->report_fd, &mh, 0);
	if (n < 0)
		return -errno;
	if (n != sizeof(*r))
		return -EPROTO;
	r->why[sizeof(r->why) - 1] = 0;
	*from = 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			*from = uc.pid;
		}
	return 1;
}

int prepare_tree_wait_report(struct tree *t, int timeout_ms, int *idx, int *err)
{
	struct tree_report r;
	pid_t from = 0;
	int ret;

	for (;;) {
		ret = recv_report(t, timeout_ms, &r, &from);
		if (ret <= 0)
			return ret;
		if (r.idx < -1 || r.idx >= t->n)
			return -EPROTO;
		pr_debug("tree report from %d: idx %d %s %d %s", from, r.idx, kind_name(r.kind),
			 r.value, r.why);
		*idx = r.idx;
		switch (r.kind) {
		case REP_PLACED:
			t->procs[r.idx].real_pid = from;
			t->created++;
			return 3;
		case REP_MAIN_EXIT:
			t->main_status = r.value;
			return 2;
		case REP_FAILED:
			pr_err("%s", r.why[0] ? r.why : "a restored process failed");
			*err = r.value < 0 ? r.value : -EIO;
			return 1;
		case REP_STAGE:
			*err = r.value;
			return 1;
		default:
			return -EPROTO;
		}
	}
}

int prepare_tree_announce(struct tree *t, int idx, int value, const char *why)
{
	send_report(t, idx, value < 0 ? REP_FAILED : REP_STAGE, value, why);
	return 0;
}

int prepare_tree_create(struct tree *t)
{
	int r, i, idx, err, sync[2] = { -1, -1 };
	uint64_t flags = 0;
	pid_t pid;

	t->report_fd = t->child_report_fd = t->alive_fd = t->child_alive_fd = -1;
	t->reaper = 0;
	t->created = 0;
	t->released = 0;
	t->main_status = -1;
	if (!t->timeout_ms)
		t->timeout_ms = 10000;
	for (i = 0; i < t->n; i++)
		t->procs[i].real_pid = 0;
	r = setup_channels(t);
	if (r < 0)
		goto fail;
	if (t->mode == TREE_NEWNS) {
		flags = CLONE_NEWPID;
		if (!tree_may_set_tid_here() && geteuid() != 0) {
			flags |= CLONE_NEWUSER;
			if (pipe2(sync, O_CLOEXEC) < 0) {
				r = -errno;
				goto fail;
			}
		}
	}
	pid = clone_with_pid(0, flags);
	if (pid == 0) {
		close(t->report_fd);
		close(t->alive_fd);
		if (sync[1] >= 0)
			close(sync[1]);
		reaper_main(t, sync[0]);
	}
	if (pid < 0) {
		r = -errno;
		pr_err("cannot create the restart's reaper%s: %s",
		       flags & CLONE_NEWUSER ? " in a new user and PID namespace" :
		       flags ? " in a new PID namespace" : "", strerror(errno));
		goto fail;
	}
	t->reaper = pid;
	if (sync[1] >= 0) {
		close(sync[0]);
		sync[0] = -1;
		r = write_id_maps(pid);
		if (r < 0)
			goto fail;
		if (write(sync[1], "g", 1) != 1) {
			r = -EPIPE;
			goto fail;
		}
		close(sync[1]);
		sync[1] = -1;
	}
	close(t->child_report_fd);
	t->child_report_fd = -1;
	close(t->child_alive_fd);
	t->child_alive_fd = -1;
	while (t->created < t->n) {
		r = prepare_tree_wait_report(t, t->timeout_ms, &idx, &err);
		if (r == 0) {
			pr_err("timed out waiting for the restored processes to be created "
			       "(%d of %d)", t->created, t->n);
			r = -ETIMEDOUT;
			goto fail;
		}
		if (r == 3 || (r == 1 && err >= 0))
			continue;
		if (r >= 0)
			r = r == 2 ? -ECHILD : err;
		goto fail;
	}
	return 0;
fail:
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	prepare_tree_abort(t);
	prepare_tree_free(t);
	return r;
}

int prepare_tree_release(struct tree *t, int idx)
{
	int i;

	for (i = 0; i < t->n; i++) {
		if (idx >= 0 && i != idx)
			continue;
		atomic_store(&t->slots[i].go, GO_RUN);
		futex_wake_all(&t->slots[i].go);
		t->released++;
	}
	return 0;
}

int prepare_tree_gate_wait(struct tree *t, int idx)
{
	return wait_flag(t, &t->slots[idx].gate, 0);
}

void prepare_tree_gate_open(struct tree *t, int idx)
{
	atomic_store(&t->slots[idx].gate, 1);
	futex_wake_all(&t->slots[idx].gate);
}

int prepare_tree_child_fds(const struct tree *t, int *fds, int max)
{
	int n = 0;

	if (t->child_report_fd >= 0 && n < max)
		fds[n++] = t->child_report_fd;
	if (t->child_alive_fd >= 0 && n < max)
		fds[n++] = t->child_alive_fd;
	return n;
}

void prepare_tree_abort(struct tree *t)
{
	int i, st;

	if (t->slots)
		for (i = 0; i < t->n; i++) {
			if (atomic_load(&t->slots[i].go) == GO_RUN)
				continue;
			atomic_store(&t->slots[i].go, GO_ABORT);
			futex_wake_all(&t->slots[i].go);
		}
	if (t->alive_fd >= 0) {
		close(t->alive_fd);
		t->alive_fd = -1;
	}
	for (i = 0; i < t->n; i++)
		if (t->procs[i].real_pid > 0) {
			kill(t->procs[i].real_pid, SIGKILL);
			t->procs[i].real_pid = 0;
		}
	if (t->reaper > 0) {
		/*
		 * Let the reaper reap what we killed (it is their parent or subreaper) and leave
		 * when nothing is left, so that every pid is free again when we return; only if
		 * that takes too long kill it (in TREE_NEWNS that takes the namespace with it).
		 */
		for (i = 0; i < t->timeout_ms / 5; i++) {
			pid_t w = waitpid(t->reaper, &st, __WALL | WNOHANG);

			if (w == t->reaper || (w < 0 && errno != EINTR))
				break;
			usleep(5000);
		}
		if (i >= t->timeout_ms / 5) {
			kill(t->reaper, SIGKILL);
			while (waitpid(t->reaper, &st, __WALL) < 0 && errno == EINTR)
				;
		}
		t->reaper = 0;
	}
}

void prepare_tree_keep_reaper(struct tree *t)
{
	if (t->reaper > 0 && kill(t->reaper, SIGUSR1) < 0)
		pr_warn("cannot tell the restart's reaper (pid %d) to outlive the restart: %s",
			t->reaper, strerror(errno));
}

void prepare_tree_free(struct tree *t)
{
	int *fds[] = { &t->report_fd, &t->child_report_fd, &t->alive_fd, &t->child_alive_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	if (t->slots) {
		munmap(t->slots, t->slots_len);
		t->slots = NULL;
	}
}

void prepare_tree_detach(struct tree *t, int idx)
{
	if (t->slots && idx >= 0 && idx < t->n)
		atomic_store(&t->slots[idx].done, 1);
	if (t->child_report_fd >= 0)
		close(t->child_report_fd);
	if (t->child_alive_fd >= 0)
		close(t->child_alive_fd);
	t->child_report_fd = t->child_alive_fd = -1;
	if (t->slots) {
		munmap(t->slots, t->slots_len);
		t->slots = NULL;
	}
}
