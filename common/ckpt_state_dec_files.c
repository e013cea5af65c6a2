/*
 * Validating decoding of the FILES section (see ckpt_state_dec.c for the rules): each open
 * file description with its socket, anonymous-inode and lock records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ckpt_state.h"
#include "ckpt_state_dec_int.h"


/* A fixed-room address: length-prefixed, at most CKPT_SOCK_ADDR_MAX bytes. */
static void get_addr(struct dec *d, uint8_t *v, uint32_t *lenp, const char *what)
{
	uint32_t n = get_count(d, CKPT_SOCK_ADDR_MAX, 1, what);

	*lenp = d->why ? 0 : n;
	if (!d->why)
		get(d, v, n, what);
}

/* A socket's record (ckpt_sock), checked against its file (index i). */
/*
 * The runs of a unix socket's queue that came with fds or credentials: at most one per
 * message, in order, inside the data, a datagram or seqpacket run exactly one message; the
 * files named must be files of this image (nfiles of them).
 */
static void get_scm(struct dec *d, uint32_t i, const struct ckpt_file *f, struct ckpt_sock *s,
		    uint32_t nfiles)
{
	uint64_t end = 0, moff = 0;
	uint32_t m = 0;

	s->nscm = get_count(d, CKPT_MAX_SOCK_MSGS, 40, "runs with ancillary data");
	s->scm = dec_calloc(d, s->nscm, sizeof(*s->scm));
	for (uint32_t k = 0; k < s->nscm && !d->why; k++) {
		struct ckpt_sock_scm *c = &s->scm[k];

		c->off = get_u64(d, "ancillary data offset");
		c->len = get_u64(d, "ancillary data length");
		c->msg = get_u32(d, "ancillary data message");
		c->flags = get_u32(d, "ancillary data flags");
		c->pid = get_i32(d, "SCM_CREDENTIALS pid");
		c->uid = get_u32(d, "SCM_CREDENTIALS uid");
		c->gid = get_u32(d, "SCM_CREDENTIALS gid");
		c->nfiles = get_count(d, CKPT_MAX_SCM_FILES, 4, "files in flight");
		c->files = dec_calloc(d, c->nfiles, sizeof(*c->files));
		for (uint32_t j = 0; j < c->nfiles && !d->why; j++)
			if ((c->files[j] = get_u32(d, "file in flight")) >= nfiles)
				dec_failf(d, "file %lu: a file in flight is %s", i,
					  "not a file of the image");
		if (d->why)
			break;
		if (c->flags & ~(uint32_t)CKPT_SCM_CREDS)
			dec_failf(d, "file %lu: ancillary data flags %s", i, "unknown");
		else if (!c->nfiles && !(c->flags & CKPT_SCM_CREDS))
			dec_failf(d, "file %lu: ancillary data %s", i, "empty");
		else if (c->off < end || c->off > f->data_len || c->len > f->data_len - c->off)
			dec_failf(d, "file %lu: ancillary data %s", i,
				  "out of order or outside the queued data");
		else if (s->family != AF_UNIX)
			dec_failf(d, "file %lu: ancillary data on a %s", i, "non-unix socket");
		else if (s->type == SOCK_STREAM && (c->msg || (k && c->off == end && !c->len)))
			dec_failf(d, "file %lu: ancillary data %s", i, "twice at one place");
		end = c->off + c->len;
		if (d->why || s->type == SOCK_STREAM)
			continue;
		/* a message's run: its index, after the previous run's, and its place */
		if (c->msg < m || c->msg >= s->nmsgs) {
			dec_failf(d, "file %lu: ancillary data %s", i, "not on a queued message");
			break;
		}
		while (m < c->msg)
			moff += s->msg_len[m++];
		if (moff != c->off || s->msg_len[m] != c->len)
			dec_failf(d, "file %lu: ancillary data %s", i, "not on its message");
		moff += s->msg_len[m++];
	}
}

static struct ckpt_sock *get_sock(struct dec *d, uint32_t i, const struct ckpt_file *f,
				  uint32_t nfiles)
{
	struct ckpt_sock *s = calloc(1, sizeof(*s));
	uint64_t sum = 0;
	uint32_t nfrom;

	if (!s) {
		dec_fail(d, "out of memory");
		return NULL;
	}
	s->family = get_u32(d, "socket family");
	s->type = get_u32(d, "socket type");
	s->protocol = get_u32(d, "socket protocol");
	s->state = get_u32(d, "socket state");
	s->shutdown = get_u32(d, "socket shutdown");
	s->flags = get_u32(d, "socket flags");
	s->ino = get_u64(d, "socket inode");
	s->peer_ino = get_u64(d, "peer inode");
	s->backlog = get_u32(d, "backlog");
	get_addr(d, s->addr, &s->addr_len, "socket address");
	get_addr(d, s->peer_addr, &s->peer_addr_len, "peer address");
	s->addr_mode = get_u32(d, "socket file mode");
	s->sndbuf = get_i32(d, "SO_SNDBUF");
	s->rcvbuf = get_i32(d, "SO_RCVBUF");
	s->rcvtimeo_us = (int64_t)get_u64(d, "SO_RCVTIMEO");
	s->sndtimeo_us = (int64_t)get_u64(d, "SO_SNDTIMEO");
	s->peek_off = get_i32(d, "SO_PEEK_OFF");
	s->nmsgs = get_count(d, CKPT_MAX_SOCK_MSGS, 4, "queued messages");
	s->msg_len = dec_calloc(d, s->nmsgs, sizeof(*s->msg_len));
	for (uint32_t k = 0; k < s->nmsgs && !d->why; k++)
		sum += s->msg_len[k] = get_u32(d, "message length");
	nfrom = get_count(d, CKPT_MAX_SOCK_MSGS, 4, "message senders");
	if (!d->why && nfrom && nfrom != s->nmsgs)
		dec_failf(d, "file %lu: %s", i, "message senders and messages differ in number");
	s->msg_from = dec_calloc(d, nfrom, sizeof(*s->msg_from));
	for (uint32_t k = 0; k < nfrom && !d->why; k++)
		get_addr(d, s->msg_from[k].addr, &s->msg_from[k].len, "message sender");
	s->npending = get_count(d, CKPT_MAX_SOCK_PENDING, 8, "waiting connections");
	s->pending = dec_calloc(d, s->npending, sizeof(*s->pending));
	for (uint32_t k = 0; k < s->npending && !d->why; k++)
		s->pending[k] = get_u64(d, "waiting connection");
	s->nopts = get_count(d, CKPT_MAX_SOCK_OPTS, 12, "socket options");
	for (uint32_t k = 0; k < s->nopts && !d->why; k++) {
		s->opts[k].level = get_i32(d, "option level");
		s->opts[k].name = get_i32(d, "option name");
		s->opts[k].value = get_i32(d, "option value");
	}
	if (!d->why && f->data_len < sum)
		dec_failf(d, "file %lu: message lengths do not add up to %s", i, "its data");
	if (!d->why)
		get_scm(d, i, f, s, nfiles);
	if (!d->why && s->family != AF_UNIX && s->family != AF_INET && s->family != AF_INET6 &&
	    s->family != AF_NETLINK)
		dec_failf(d, "file %lu: socket family %s", i, "unknown");
	else if (!d->why && s->family == AF_NETLINK &&
		 (s->protocol != 0 || (s->type != SOCK_RAW && s->type != SOCK_DGRAM) ||
		  s->state != CKPT_SOCK_UNCONNECTED || s->nmsgs))
		dec_failf(d, "file %lu: a netlink socket %s", i, "other than an idle route socket");
	else if (!d->why && (s->family == AF_INET || s->family == AF_INET6) &&
		 s->type != SOCK_STREAM && s->type != SOCK_DGRAM)
		dec_failf(d, "file %lu: socket type %s", i, "unknown for an internet socket");
	else if (!d->why && s->msg_from && s->family == AF_UNIX)
		dec_failf(d, "file %lu: message senders on a %s", i, "unix socket");
	else if (s->type != SOCK_STREAM && s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET &&
		 s->family != AF_NETLINK)
		dec_failf(d, "file %lu: socket type %s", i, "unknown");
	else if (s->state == CKPT_SOCK_CONNECTING && s->family == AF_UNIX)
		dec_failf(d, "file %lu: a connecting %s", i, "unix socket");
	else if (s->type != f->sock_type)
		dec_failf(d, "file %lu: socket type %s", i, "differs from the file's");
	else if (s->state == 0 || s->state >= CKPT_SOCK__MAX)
		dec_failf(d, "file %lu: socket state %s", i, "unknown");
	else if (s->shutdown & ~3u)
		dec_failf(d, "file %lu: socket shutdown %s", i, "unknown");
	else if (s->flags & ~(uint32_t)(CKPT_SF_PASSCRED | CKPT_SF_PEEK_OFF))
		dec_failf(d, "file %lu: socket flags %s", i, "unknown");
	else if ((s->addr_len && s->addr_len < sizeof(sa_family_t)) ||
		 (s->peer_addr_len && s->peer_addr_len < sizeof(sa_family_t)))
		dec_failf(d, "file %lu: socket address %s", i, "too short");
	else if (s->type == SOCK_STREAM && s->nmsgs)
		dec_failf(d, "file %lu: message boundaries on a %s", i, "stream socket");
	else if (s->npending && s->state != CKPT_SOCK_LISTENING)
		dec_failf(d, "file %lu: waiting connections on a socket %s", i, "not listening");
	else if (s->nmsgs && sum != f->data_len)
		dec_failf(d, "file %lu: message lengths do not add up to %s", i, "its data");
	if (d->why) {
		ckpt_sock_free(s);
		return NULL;
	}
	return s;
}

/* The clocks a timerfd may use (timerfd_create accepts no other). */
static int timerfd_clock_ok(int32_t c)
{
	return c == 0 /* REALTIME */ || c == 1 /* MONOTONIC */ || c == 7 /* BOOTTIME */ ||
	       c == 8 /* REALTIME_ALARM */ || c == 9 /* BOOTTIME_ALARM */;
}

/* inotify_add_watch's mask bits the kernel keeps on a watch: events, IN_ONESHOT,
 * IN_EXCL_UNLINK. */
#define INOTIFY_EVENTS	  0xfffu
#define INOTIFY_KEPT_BITS (INOTIFY_EVENTS | 0x80000000u | 0x04000000u)

/* An inotify instance's watches (file index i): wds increasing, masks known, paths absolute. */
static void get_watches(struct dec *d, uint32_t i, struct ckpt_anon *a)
{
	a->nwatches = get_count(d, CKPT_MAX_INOTIFY_WATCHES, 28, "inotify watches");
	a->watches = dec_calloc(d, a->nwatches, sizeof(*a->watches));
	for (uint32_t k = 0; k < a->nwatches && !d->why; k++) {
		struct ckpt_inotify_watch *w = &a->watches[k];

		w->wd = get_i32(d, "inotify wd");
		w->mask = get_u32(d, "inotify mask");
		w->dev = get_u64(d, "inotify dev");
		w->ino = get_u64(d, "inotify inode");
		w->path = get_str(d, "inotify path");
		if (d->why)
			break;
		if (w->wd <= 0 || (k && w->wd <= a->watches[k - 1].wd))
			dec_failf(d, "file %lu: inotify wd %s", i, "not positive and increasing");
		else if (!(w->mask & INOTIFY_EVENTS) || (w->mask & ~INOTIFY_KEPT_BITS))
			dec_failf(d, "file %lu: inotify mask %s", i, "unknown or without events");
		else if (w->path[0] != '/')
			dec_failf(d, "file %lu: inotify path %s", i, "not absolute");
	}
}

/* An anonymous-inode file's record (ckpt_anon), checked (file index i). */
static struct ckpt_anon *get_anon(struct dec *d, uint32_t i)
{
	struct ckpt_anon *a = calloc(1, sizeof(*a));
	uint32_t ok_flags = 0;

	if (!a) {
		dec_fail(d, "out of memory");
		return NULL;
	}
	a->kind = get_u32(d, "anon kind");
	a->flags = get_u32(d, "anon flags");
	a->clock = get_i32(d, "timer clock");
	a->count = get_u64(d, "anon count");
	a->sigmask = get_u64(d, "signal mask");
	a->value_ns = get_u64(d, "timer value");
	a->interval_ns = get_u64(d, "timer interval");
	a->nitems = get_count(d, CKPT_MAX_EPOLL_ITEMS, 16, "epoll items");
	a->items = dec_calloc(d, a->nitems, sizeof(*a->items));
	for (uint32_t k = 0; k < a->nitems && !d->why; k++) {
		a->items[k].tfd = get_i32(d, "epoll fd");
		a->items[k].events = get_u32(d, "epoll events");
		a->items[k].data = get_u64(d, "epoll data");
		if (!d->why && a->items[k].tfd < 0)
			dec_failf(d, "file %lu: epoll watches %s", i, "a negative fd");
	}
	a->pid = get_i32(d, "pidfd pid");
	if (!d->why)
		get_watches(d, i, a);
	if (a->kind == CKPT_ANON_EVENTFD)
		ok_flags = CKPT_AF_SEMAPHORE;
	else if (a->kind == CKPT_ANON_TIMERFD)
		ok_flags = CKPT_AF_ABSTIME | CKPT_AF_CANCEL;
	if (d->why) {
		ckpt_anon_free(a);
		return NULL;
	}
	if (a->kind == 0 || a->kind >= CKPT_ANON__MAX)
		dec_failf(d, "file %lu: anonymous inode kind %s", i, "unknown");
	else if (a->flags & ~ok_flags)
		dec_failf(d, "file %lu: %s flags unknown for its kind", i, "anonymous inode");
	else if (a->kind == CKPT_ANON_EVENTFD && a->count == UINT64_MAX)
		dec_failf(d, "file %lu: eventfd counter %s", i, "out of range");
	else if (a->kind == CKPT_ANON_TIMERFD && !timerfd_clock_ok(a->clock))
		dec_failf(d, "file %lu: timerfd clock %s", i, "unknown");
	else if (a->kind == CKPT_ANON_TIMERFD && (a->flags & CKPT_AF_CANCEL) &&
		 (!(a->flags & CKPT_AF_ABSTIME) || (a->clock != 0 && a->clock != 8)))
		dec_failf(d, "file %lu: timerfd %s", i,
			  "cancel-on-set without an absolute realtime timer");
	else if (a->kind == CKPT_ANON_TIMERFD &&
		 (a->value_ns > INT64_MAX || a->interval_ns > INT64_MAX))
		dec_failf(d, "file %lu: timerfd time %s", i, "out of range");
	else if (a->kind == CKPT_ANON_SIGNALFD && !a->sigmask)
		dec_failf(d, "file %lu: signalfd %s", i, "with an empty mask");
	else if (a->kind != CKPT_ANON_TIMERFD &&
		 (a->clock || a->value_ns || a->interval_ns))
		dec_failf(d, "file %lu: timer values on %s", i, "a file that is not a timerfd");
	else if (a->kind == CKPT_ANON_SIGNALFD && a->count)
		dec_failf(d, "file %lu: a count on %s", i, "a signalfd");
	else if (a->kind != CKPT_ANON_SIGNALFD && a->sigmask)
		dec_failf(d, "file %lu: a signal mask on %s", i, "a file that is not a signalfd");
	else if (a->kind == CKPT_ANON_EPOLL && a->count)
		dec_failf(d, "file %lu: a count on %s", i, "an epoll set");
	else if (a->kind != CKPT_ANON_EPOLL && a->nitems)
		dec_failf(d, "file %lu: watched fds on %s", i, "a file that is not an epoll set");
	else if (a->kind == CKPT_ANON_PIDFD && (a->pid <= 0 || a->count))
		dec_failf(d, "file %lu: pidfd %s", i, "without a process or with a count");
	else if (a->kind != CKPT_ANON_PIDFD && a->pid)
		dec_failf(d, "file %lu: a pid on %s", i, "a file that is not a pidfd");
	else if (a->kind != CKPT_ANON_INOTIFY && a->nwatches)
		dec_failf(d, "file %lu: watches on %s", i, "a file that is not an inotify instance");
	if (d->why) {
		ckpt_anon_free(a);
		return NULL;
	}
	return a;
}

/* The locks held through file i: kinds and types known, ranges in order, on regular files
 * and directories (which the restart reopens by path). */
static void get_locks(struct dec *d, uint32_t i, struct ckpt_file *f)
{
	f->nlocks = get_count(d, CKPT_MAX_FILE_LOCKS, 32, "file locks");
	f->locks = dec_calloc(d, f->nlocks, sizeof(*f->locks));
	for (uint32_t k = 0; k < f->nlocks && !d->why; k++) {
		struct ckpt_lock *l = &f->locks[k];

		l->kind = get_u32(d, "lock kind");
		l->type = get_u32(d, "lock type");
		l->flags = get_u32(d, "lock flags");
		l->pid = get_i32(d, "lock holder");
		l->start = get_u64(d, "lock start");
		l->end = get_u64(d, "lock end");
		if (d->why)
			break;
		if (f->type != CKPT_FILE_REG && f->type != CKPT_FILE_DIR)
			dec_failf(d, "file %lu: a lock on %s", i,
				  "a file that is neither regular nor a directory");
		else if (l->kind == 0 || l->kind >= CKPT_LOCK__MAX)
			dec_failf(d, "file %lu: lock kind %s", i, "unknown");
		else if (l->type == 0 || l->type >= CKPT_LOCK_TYPE__MAX)
			dec_failf(d, "file %lu: lock type %s", i, "unknown");
		else if (l->flags & ~(uint32_t)CKPT_LKF_TO_EOF)
			dec_failf(d, "file %lu: lock flags %s", i, "unknown");
		else if ((l->flags & CKPT_LKF_TO_EOF) && l->end)
			dec_failf(d, "file %lu: a lock to end of file %s", i, "with an end");
		else if (!(l->flags & CKPT_LKF_TO_EOF) &&
			 (l->start > l->end || l->end > INT64_MAX))
			dec_failf(d, "file %lu: lock range %s", i, "out of order or too large");
		else if (l->start > INT64_MAX)
			dec_failf(d, "file %lu: lock start %s", i, "too large");
		else if (l->kind == CKPT_LOCK_POSIX ? l->pid <= 0 : l->pid != 0)
			dec_failf(d, "file %lu: lock holder %s", i,
				  "missing on a POSIX lock or present on another kind");
		else if (l->kind == CKPT_LOCK_FLOCK &&
			 (l->start || !(l->flags & CKPT_LKF_TO_EOF)))
			dec_failf(d, "file %lu: a flock lock %s", i, "on part of a file");
	}
}

int ckpt_decode_files(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	n = get_count(&d, CKPT_MAX_FILES, 100, "files");
	if (!d.why && n != p->nfiles)
		dec_failf(&d, "FILES section has %lu files, the %s", n,
			  "process record says otherwise");
	p->files = dec_calloc(&d, n, sizeof(*p->files));
	for (i = 0; i < n && !d.why; i++) {
		struct ckpt_file *f = &p->files[i];

		f->id = get_u32(&d, "file id");
		f->type = get_u32(&d, "file type");
		f->oflags = get_u32(&d, "file flags");
		f->flags = get_u32(&d, "file state");
		f->pos = get_u64(&d, "file position");
		f->mnt_id = get_u32(&d, "mount id");
		f->mode = get_u32(&d, "file mode");
		f->dev = get_u64(&d, "file device");
		f->ino = get_u64(&d, "inode");
		f->rdev = get_u64(&d, "rdev");
		f->size = get_u64(&d, "file size");
		f->share_key = get_u64(&d, "share key");
		f->pipe_end = get_i32(&d, "pipe end");
		f->sock_type = get_u32(&d, "socket type");
		f->data_len = get_u64(&d, "data length");
		f->tio.iflag = get_u32(&d, "termios");
		f->tio.oflag = get_u32(&d, "termios");
		f->tio.cflag = get_u32(&d, "termios");
		f->tio.lflag = get_u32(&d, "termios");
		f->tio.line = get_u8(&d, "termios");
		get(&d, f->tio.cc, sizeof(f->tio.cc), "termios");
		f->tio.ws_row = get_u16(&d, "winsize");
		f->tio.ws_col = get_u16(&d, "winsize");
		f->tio.ws_xpixel = get_u16(&d, "winsize");
		f->tio.ws_ypixel = get_u16(&d, "winsize");
		f->path = get_str(&d, "file path");
		if (!d.why && (f->flags & CKPT_FF_MEMFD)) {
			f->mfd_flags = get_u32(&d, "memfd flags");
			f->seals = get_u32(&d, "memfd seals");
		}
		if (!d.why)
			get_locks(&d, i, f);
		if (!d.why && f->type == CKPT_FILE_SOCKET)
			f->sock = get_sock(&d, i, f, n);
		if (!d.why && f->type == CKPT_FILE_ANON)
			f->anon = get_anon(&d, i);
		if (d.why)
			break;
		if (f->id != i)
			dec_failf(&d, "file %lu has %s", i, "the wrong id");
		else if (f->type == 0 || f->type >= CKPT_FILE__MAX)
			dec_failf(&d, "file %lu has an unknown %s", i, "type");
		else if (f->flags & ~(uint32_t)(CKPT_FF_DELETED | CKPT_FF_HAS_DATA |
						CKPT_FF_TERMIOS | CKPT_FF_DATA_TRUNC |
						CKPT_FF_MEMFD))
			dec_failf(&d, "file %lu has unknown %s", i, "state flags");
		else if ((f->flags & CKPT_FF_MEMFD) &&
			 (f->type != CKPT_FILE_REG || !(f->flags & CKPT_FF_DELETED) || !f->path ||
			  strncmp(f->path, "/memfd:", 7)))
			dec_failf(&d, "file %lu: %s", i, "a memfd that is not a deleted /memfd: file");
		else if (f->mfd_flags & ~CKPT_MFD_KNOWN)
			dec_failf(&d, "file %lu has unknown %s", i, "memfd flags");
		else if (f->seals & ~CKPT_SEALS_KNOWN)
			dec_failf(&d, "file %lu has unknown %s", i, "memfd seals");
		else if (!(f->flags & CKPT_FF_HAS_DATA) && f->data_len)
			dec_failf(&d, "file %lu has a data length but %s", i, "no data");
		else if (f->data_len > CKPT_MAX_FILEDATA)
			dec_failf(&d, "file %lu: %s too large", i, "data");
		else if (f->pipe_end < -1 || f->pipe_end > 1)
			dec_failf(&d, "file %lu: %s out of range", i, "pipe end");
		else if ((f->flags & CKPT_FF_TERMIOS) && f->type != CKPT_FILE_TTY)
			dec_failf(&d, "file %lu: termios on a %s", i, "non-terminal");
	}
	if (dec_end(&d, why, "FILES"))
		return -EINVAL;
	return 0;
}
