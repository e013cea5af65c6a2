/*
 * Validating decoding of the checkpoint content model (common/ckpt_state.h); the encoders
 * are in ckpt_state_enc.c.
 *
 * Every section body is a flat little-endian sequence: fixed-width integers, strings as
 * u32 length + bytes (no NUL), arrays as u32 count + elements. The decoders trust nothing:
 * each count is checked against its CKPT_MAX_* limit and against the bytes left before any
 * allocation, each enum against its range, each string for length and embedded NULs, and the
 * body must be consumed exactly. A checksummed but corrupt image thus fails with a reason that
 * names the field instead of misrestoring a process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ckpt_state.h"

static void free_thread(struct ckpt_thread *t)
{
	free(t->xsave);
	free(t->pending);
	t->xsave = NULL;
	t->pending = NULL;
}

/* ---- decoder -------------------------------------------------------------------------- */

struct dec {
	const uint8_t *p;
	size_t len, pos;
	const char *why; /* first failure */
};

/* Failures name the field; the text lives in a static buffer per thread so that *why stays
 * valid after the decoder returns. */
static __thread char why_text[160];

static int dec_fail(struct dec *d, const char *what)
{
	if (!d->why) {
		snprintf(why_text, sizeof(why_text), "%s", what);
		d->why = why_text;
	}
	return -EINVAL;
}

static int dec_failf(struct dec *d, const char *fmt, unsigned long a, const char *what)
{
	if (!d->why) {
		snprintf(why_text, sizeof(why_text), fmt, a, what);
		d->why = why_text;
	}
	return -EINVAL;
}

static void get(struct dec *d, void *v, size_t n, const char *what)
{
	if (d->why) {
		memset(v, 0, n);
		return;
	}
	if (d->len - d->pos < n) {
		memset(v, 0, n);
		snprintf(why_text, sizeof(why_text), "truncated at %s", what);
		d->why = why_text;
		return;
	}
	memcpy(v, d->p + d->pos, n);
	d->pos += n;
}

static uint8_t get_u8(struct dec *d, const char *w) { uint8_t v; get(d, &v, 1, w); return v; }
static uint16_t get_u16(struct dec *d, const char *w) { uint16_t v; get(d, &v, 2, w); return v; }
static uint32_t get_u32(struct dec *d, const char *w) { uint32_t v; get(d, &v, 4, w); return v; }
static int32_t get_i32(struct dec *d, const char *w) { int32_t v; get(d, &v, 4, w); return v; }
static uint64_t get_u64(struct dec *d, const char *w) { uint64_t v; get(d, &v, 8, w); return v; }

/* A count of elements of at least elem_min bytes each: bounded by max and by what is left. */
/* n zeroed elements of size; NULL when n is 0 or the decoding has failed (or fails here, out
 * of memory). */
static void *dec_calloc(struct dec *d, uint32_t n, size_t size)
{
	void *p;

	if (d->why || !n)
		return NULL;
	p = calloc(n, size);
	if (!p)
		dec_fail(d, "out of memory");
	return p;
}

static uint32_t get_count(struct dec *d, uint32_t max, size_t elem_min, const char *what)
{
	uint32_t n = get_u32(d, what);

	if (d->why)
		return 0;
	if (n > max) {
		dec_failf(d, "%lu %s is over the limit", n, what);
		return 0;
	}
	if (elem_min && (size_t)n * elem_min > d->len - d->pos) {
		dec_failf(d, "%lu %s do not fit in the section", n, what);
		return 0;
	}
	return n;
}

/* Length-prefixed bytes, copied to a fresh buffer with a NUL after them. */
static uint8_t *get_blob(struct dec *d, uint32_t max, uint32_t *lenp, const char *what)
{
	uint32_t n = get_count(d, max, 1, what);
	uint8_t *v;

	*lenp = 0;
	if (d->why)
		return NULL;
	v = malloc((size_t)n + 1);
	if (!v) {
		dec_fail(d, "out of memory");
		return NULL;
	}
	get(d, v, n, what);
	v[n] = 0;
	*lenp = n;
	return v;
}

static char *get_str(struct dec *d, const char *what)
{
	uint32_t n;
	char *s = (char *)get_blob(d, CKPT_MAX_PATH, &n, what);

	if (s && memchr(s, 0, n)) {
		dec_failf(d, "%lu-byte %s has a NUL byte inside", n, what);
		free(s);
		return NULL;
	}
	return s;
}

static struct ckpt_siginfo *get_siginfos(struct dec *d, uint32_t *np, const char *what)
{
	uint32_t n = get_count(d, CKPT_MAX_SIGINFO, CKPT_SIGINFO_SIZE, what), i;
	struct ckpt_siginfo *si;

	*np = 0;
	if (d->why || n == 0)
		return NULL;
	si = calloc(n, sizeof(*si));
	if (!si) {
		dec_fail(d, "out of memory");
		return NULL;
	}
	get(d, si, (size_t)n * sizeof(*si), what);
	for (i = 0; i < n && !d->why; i++) {
		int32_t signo;

		memcpy(&signo, si[i].raw, 4); /* si_signo is the first int of siginfo_t */
		if (signo < 1 || signo > CKPT_NSIG)
			dec_failf(d, "pending signal number %lu out of range in %s",
				  (unsigned long)(uint32_t)signo, what);
	}
	*np = n;
	return si;
}

static int dec_end(struct dec *d, const char **why, const char *sec)
{
	if (!d->why && d->pos != d->len) {
		snprintf(why_text, sizeof(why_text), "%zu trailing bytes in %s section",
			 d->len - d->pos, sec);
		d->why = why_text;
	}
	if (d->why) {
		*why = d->why;
		return -EINVAL;
	}
	return 0;
}

static void dec_init(struct dec *d, const uint8_t *buf, size_t len)
{
	memset(d, 0, sizeof(*d));
	d->p = buf;
	d->len = len;
}

static int check_comm(struct dec *d, const char *comm, const char *what)
{
	if (!memchr(comm, 0, 16))
		return dec_fail(d, what);
	return 0;
}

int ckpt_decode_proc(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;
	int rc;

	dec_init(&d, buf, len);
	ckpt_proc_init(p);
	p->version = get_u32(&d, "version");
	if (!d.why && p->version != CKPT_STATE_VERSION)
		dec_failf(&d, "process record version %lu is not %s", p->version,
			  "supported");
	p->pid = get_i32(&d, "pid");
	p->ppid = get_i32(&d, "ppid");
	p->pgid = get_i32(&d, "pgid");
	p->sid = get_i32(&d, "sid");
	if (!d.why && (p->pid <= 0 || p->ppid < 0 || p->pgid < 0 || p->sid < 0))
		dec_fail(&d, "negative or zero process id");
	p->ns_levels = get_count(&d, CKPT_MAX_NS_LEVELS, 12, "pid namespace levels");
	for (i = 0; i < p->ns_levels; i++) {
		p->ns_pid[i] = get_i32(&d, "NSpid");
		p->ns_pgid[i] = get_i32(&d, "NSpgid");
		p->ns_sid[i] = get_i32(&d, "NSsid");
	}
	get(&d, p->comm, sizeof(p->comm), "comm");
	if (!d.why)
		check_comm(&d, p->comm, "process name is not NUL-terminated");
	p->uniquepid = get_str(&d, "uniquepid");
	p->exe = get_str(&d, "exe path");
	p->cwd = get_str(&d, "cwd");
	p->root = get_str(&d, "root");
	p->cmdline = get_blob(&d, CKPT_MAX_ARGS, &p->cmdline_len, "command line");
	p->environ = get_blob(&d, CKPT_MAX_ARGS, &p->environ_len, "environment");
	p->umask = get_u32(&d, "umask");
	if (!d.why && p->umask != ~0u && p->umask > 0777)
		dec_failf(&d, "umask %lo is not a %s", p->umask, "permission mask");
	p->personality = get_u32(&d, "personality");
	p->start_time = get_u64(&d, "start time");
	get(&d, &p->mm, sizeof(p->mm), "mm boundaries");
	if (!d.why && (p->mm.start_code > p->mm.end_code || p->mm.start_brk > p->mm.brk ||
		       p->mm.arg_start > p->mm.arg_end || p->mm.env_start > p->mm.env_end))
		dec_fail(&d, "mm boundaries: an end is before its start");
	get(&d, p->creds.uid, sizeof(p->creds.uid), "uids");
	get(&d, p->creds.gid, sizeof(p->creds.gid), "gids");
	n = get_count(&d, CKPT_MAX_GROUPS, 4, "supplementary groups");
	if (!d.why && n) {
		p->creds.groups = calloc(n, 4);
		if (!p->creds.groups)
			dec_fail(&d, "out of memory");
		else
			p->creds.ngroups = n;
		get(&d, p->creds.groups, (size_t)p->creds.ngroups * 4, "groups");
	}
	p->creds.cap_inh = get_u64(&d, "CapInh");
	p->creds.cap_prm = get_u64(&d, "CapPrm");
	p->creds.cap_eff = get_u64(&d, "CapEff");
	p->creds.cap_bnd = get_u64(&d, "CapBnd");
	p->creds.cap_amb = get_u64(&d, "CapAmb");
	p->creds.no_new_privs = get_u32(&d, "NoNewPrivs");
	p->creds.seccomp_mode = get_u32(&d, "Seccomp");
	if (!d.why && (p->creds.no_new_privs > 1 || p->creds.seccomp_mode > 2))
		dec_fail(&d, "NoNewPrivs or Seccomp mode out of range");
	for (i = 0; i < CKPT_NRLIMITS; i++) {
		p->rlim[i].cur = get_u64(&d, "rlimit");
		p->rlim[i].max = get_u64(&d, "rlimit");
		if (!d.why && p->rlim[i].cur > p->rlim[i].max)
			dec_failf(&d, "rlimit %lu: soft limit above %s", i, "hard limit");
	}
	n = get_count(&d, CKPT_MAX_ZOMBIES, 8, "zombies");
	if (!d.why && n) {
		p->zombies = calloc(n, sizeof(*p->zombies));
		if (!p->zombies)
			dec_fail(&d, "out of memory");
		else
			p->nzombies = n;
	}
	for (i = 0; i < p->nzombies; i++) {
		p->zombies[i].pid = get_i32(&d, "zombie pid");
		p->zombies[i].exit_code = get_i32(&d, "zombie status");
		if (!d.why && p->zombies[i].pid <= 0)
			dec_failf(&d, "zombie %lu has a bad %s", i, "pid");
	}
	/* Declared counts; the arrays come with their own sections. */
	n = get_u32(&d, "thread count");
	if (!d.why && (n == 0 || n > CKPT_MAX_THREADS))
		dec_failf(&d, "thread count %lu out of %s", n, "range");
	/*
	 * Stash the declared counts in the fields the later sections fill; callers of the
	 * section decoders compare against them (ckpt_validate_proc). No array is allocated
	 * here, threads[] included: its size would come from this 4-byte field alone (65536
	 * threads are 32 MB), so the caller allocates it once it has counted the THREAD
	 * sections, and a small image cannot ask for more memory than its size justifies.
	 */
	p->nthreads = d.why ? 0 : n;
	p->threads = NULL;
	p->nfiles = get_u32(&d, "file count");
	p->nfds = get_u32(&d, "fd count");
	p->nvmas = get_u32(&d, "vma count");
	p->nruns = get_u32(&d, "page run count");
	p->pages_stored = get_u64(&d, "pages stored");
	if (!d.why && (p->nfiles > CKPT_MAX_FILES || p->nfds > CKPT_MAX_FDS ||
		       p->nvmas > CKPT_MAX_VMAS || p->nruns > CKPT_MAX_RUNS))
		dec_fail(&d, "file, fd, vma or page run count over the limit");
	rc = dec_end(&d, why, "PROC");
	/* The arrays of files/fds/vmas/runs are not allocated yet: their decoders do it. Keep the
	 * declared counts in the decoded record and let the section decoders check them. */
	return rc;
}

int ckpt_decode_thread(const uint8_t *buf, size_t len, struct ckpt_thread *t, const char **why)
{
	struct dec d;
	uint32_t i;

	dec_init(&d, buf, len);
	memset(t, 0, sizeof(*t));
	t->tid = get_i32(&d, "tid");
	if (!d.why && t->tid <= 0)
		dec_failf(&d, "thread id %lu is not %s", (unsigned long)(uint32_t)t->tid,
			  "positive");
	t->ns_levels = get_count(&d, CKPT_MAX_NS_LEVELS, 4, "thread pid namespace levels");
	for (i = 0; i < t->ns_levels; i++)
		t->ns_tid[i] = get_i32(&d, "NStid");
	get(&d, t->comm, sizeof(t->comm), "thread comm");
	if (!d.why)
		check_comm(&d, t->comm, "thread name is not NUL-terminated");
	get(&d, &t->regs, sizeof(t->regs), "registers");
	t->stopped_ret = get_u64(&d, "stopped rax");
	t->sysfix = get_u32(&d, "syscall fix-up");
	if (!d.why && t->sysfix > CKPT_SYSFIX_EINTR)
		dec_failf(&d, "syscall fix-up %lu is not a known %s", t->sysfix, "value");
	t->xsave = get_blob(&d, CKPT_MAX_XSAVE, &t->xsave_size, "xsave area");
	/* The xsave area starts with the 512-byte legacy FXSAVE region and a 64-byte header. */
	if (!d.why && t->xsave_size && t->xsave_size < 576)
		dec_failf(&d, "xsave area of %lu bytes is shorter than %s", t->xsave_size,
			  "its 576-byte header");
	t->sigmask = get_u64(&d, "signal mask");
	t->ss_sp = get_u64(&d, "sigaltstack sp");
	t->ss_size = get_u64(&d, "sigaltstack size");
	t->ss_flags = get_u32(&d, "sigaltstack flags");
	t->have_altstack = get_u32(&d, "sigaltstack presence");
	t->rseq_addr = get_u64(&d, "rseq address");
	t->rseq_len = get_u32(&d, "rseq length");
	t->rseq_sig = get_u32(&d, "rseq signature");
	t->rseq_flags = get_u32(&d, "rseq flags");
	if (!d.why && t->rseq_len && (t->rseq_len < 32 || t->rseq_len > 4096 || !t->rseq_addr))
		dec_failf(&d, "rseq area of %lu bytes %s", t->rseq_len, "is not valid");
	t->robust_head = get_u64(&d, "robust list head");
	t->robust_len = get_u64(&d, "robust list length");
	t->clear_tid = get_u64(&d, "clear-tid address");
	t->have_clear_tid = get_u32(&d, "clear-tid presence");
	if (!d.why && (t->have_altstack > 1 || t->have_clear_tid > 1))
		dec_fail(&d, "thread presence flag out of range");
	t->pending = get_siginfos(&d, &t->npending, "thread pending signals");
	if (dec_end(&d, why, "THREAD")) {
		free_thread(t);
		return -EINVAL;
	}
	return 0;
}

int ckpt_decode_signals(const uint8_t *buf, size_t len, struct ckpt_signals *s,
			const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	memset(s, 0, sizeof(*s));
	s->act_source = get_u32(&d, "disposition source");
	if (!d.why && s->act_source > CKPT_SIGSRC_TRACEE)
		dec_fail(&d, "signal disposition source out of range");
	for (i = 0; i < CKPT_NSIG; i++) {
		s->act[i].handler = get_u64(&d, "sigaction handler");
		s->act[i].flags = get_u64(&d, "sigaction flags");
		s->act[i].restorer = get_u64(&d, "sigaction restorer");
		s->act[i].mask = get_u64(&d, "sigaction mask");
	}
	s->sig_ignored = get_u64(&d, "SigIgn");
	s->sig_caught = get_u64(&d, "SigCgt");
	s->pending = get_siginfos(&d, &s->npending, "shared pending signals");
	s->timer_source = get_u32(&d, "timer source");
	if (!d.why && s->timer_source > CKPT_SIGSRC_TRACEE)
		dec_fail(&d, "timer source out of range");
	for (i = 0; i < 3; i++) {
		s->itimer[i].interval_ns = get_u64(&d, "itimer interval");
		s->itimer[i].value_ns = get_u64(&d, "itimer value");
	}
	n = get_count(&d, CKPT_MAX_TIMERS, 48, "POSIX timers");
	if (!d.why && n) {
		s->timers = calloc(n, sizeof(*s->timers));
		if (!s->timers)
			dec_fail(&d, "out of memory");
		else
			s->ntimers = n;
	}
	for (i = 0; i < s->ntimers; i++) {
		struct ckpt_posix_timer *pt = &s->timers[i];

		pt->id = get_i32(&d, "timer id");
		pt->clock = get_i32(&d, "timer clock");
		pt->signo = get_i32(&d, "timer signal");
		pt->notify = get_i32(&d, "timer notify");
		pt->notify_tid = get_i32(&d, "timer thread");
		pt->overrun = get_i32(&d, "timer overrun");
		pt->sigval = get_u64(&d, "timer value");
		pt->interval_ns = get_u64(&d, "timer interval");
		pt->value_ns = get_u64(&d, "timer expiry");
		if (!d.why && (pt->id < 0 || pt->signo < 0 || pt->signo > CKPT_NSIG))
			dec_failf(&d, "POSIX timer %lu: id or %s out of range", i, "signal");
	}
	if (dec_end(&d, why, "SIGNALS")) {
		free(s->pending);
		free(s->timers);
		memset(s, 0, sizeof(*s));
		return -EINVAL;
	}
	return 0;
}

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

/* An eventfd's, timerfd's or signalfd's record (ckpt_anon), checked (file index i). */
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

int ckpt_decode_fds(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	n = get_count(&d, CKPT_MAX_FDS, 12, "fds");
	if (!d.why && n != p->nfds)
		dec_failf(&d, "FDS section has %lu fds, the %s", n,
			  "process record says otherwise");
	p->fds = dec_calloc(&d, n, sizeof(*p->fds));
	for (i = 0; i < n && !d.why; i++) {
		struct ckpt_fd *f = &p->fds[i];

		f->fd = get_i32(&d, "fd");
		f->fd_flags = get_u32(&d, "fd flags");
		f->file = get_u32(&d, "fd file");
		if (d.why)
			break;
		if (f->fd < 0)
			dec_failf(&d, "fd entry %lu has a %s", i, "negative number");
		else if (i && f->fd <= p->fds[i - 1].fd)
			dec_failf(&d, "fd %lu is out of order or %s", (unsigned long)f->fd,
				  "duplicated");
		else if (f->fd_flags & ~(uint32_t)(CKPT_FDF_CLOEXEC | CKPT_FDF_STDIO))
			dec_failf(&d, "fd %lu has unknown %s", (unsigned long)f->fd, "fd flags");
		else if ((f->fd_flags & CKPT_FDF_STDIO) && f->fd > 2)
			dec_failf(&d, "fd %lu is marked %s", (unsigned long)f->fd,
				  "a standard stream but is not 0, 1 or 2");
		else if (f->file >= p->nfiles)
			dec_failf(&d, "fd %lu points at a %s", (unsigned long)f->fd,
				  "file that does not exist");
	}
	return dec_end(&d, why, "FDS");
}

int ckpt_decode_vmas(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	n = get_count(&d, CKPT_MAX_VMAS, 72, "vmas");
	if (!d.why && n != p->nvmas)
		dec_failf(&d, "VMAS section has %lu vmas, the %s", n,
			  "process record says otherwise");
	p->vmas = dec_calloc(&d, n, sizeof(*p->vmas));
	for (i = 0; i < n && !d.why; i++) {
		struct ckpt_vma *v = &p->vmas[i];

		v->start = get_u64(&d, "vma start");
		v->end = get_u64(&d, "vma end");
		v->prot = get_u32(&d, "vma protection");
		v->flags = get_u32(&d, "vma flags");
		v->kind = get_u32(&d, "vma kind");
		v->pgoff = get_u64(&d, "vma offset");
		v->dev = get_u64(&d, "vma device");
		v->ino = get_u64(&d, "vma inode");
		v->shm_id = get_u64(&d, "shared object id");
		v->owner_pid = get_i32(&d, "shared object owner");
		v->npages_stored = get_u32(&d, "vma pages stored");
		v->path = get_str(&d, "vma path");
		if (d.why)
			break;
		if (v->start >= v->end || (v->start | v->end) % CKPT_PAGE_SIZE)
			dec_failf(&d, "vma %lu: bad %s", i, "range");
		else if (i && v->start < p->vmas[i - 1].end)
			dec_failf(&d, "vma %lu overlaps or is %s", i, "out of order");
		else if (v->end > (1ull << 57) && v->kind != CKPT_VMA_VSYSCALL)
			dec_failf(&d, "vma %lu: %s above the user address space", i, "end");
		else if (v->prot & ~7u)
			dec_failf(&d, "vma %lu: unknown %s bits", i, "protection");
		else if (v->flags & ~0xffu)
			dec_failf(&d, "vma %lu: unknown %s", i, "flags");
		else if (v->kind == 0 || v->kind >= CKPT_VMA__MAX)
			dec_failf(&d, "vma %lu: unknown %s", i, "kind");
		else if (v->pgoff % CKPT_PAGE_SIZE)
			dec_failf(&d, "vma %lu: %s not page aligned", i, "file offset");
		else if (v->npages_stored > (v->end - v->start) / CKPT_PAGE_SIZE)
			dec_failf(&d, "vma %lu: more pages stored than %s", i, "it has");
	}
	return dec_end(&d, why, "VMAS");
}

int ckpt_decode_pagemap(const uint8_t *buf, size_t len, struct ckpt_proc *p, const char **why)
{
	struct dec d;
	uint32_t i, n;

	dec_init(&d, buf, len);
	n = get_count(&d, CKPT_MAX_RUNS, 16, "page runs");
	if (!d.why && n != p->nruns)
		dec_failf(&d, "PAGEMAP section has %lu runs, the %s", n,
			  "process record says otherwise");
	p->runs = dec_calloc(&d, n, sizeof(*p->runs));
	for (i = 0; i < n && !d.why; i++) {
		p->runs[i].vaddr = get_u64(&d, "run address");
		p->runs[i].npages = get_u32(&d, "run length");
		p->runs[i].vma = get_u32(&d, "run vma");
	}
	return dec_end(&d, why, "PAGEMAP");
}

int ckpt_decode_filedata_hdr(const uint8_t *buf, size_t len, uint32_t *file_id, uint64_t *dlen,
			     const char **why)
{
	struct dec d;

	dec_init(&d, buf, len);
	*file_id = get_u32(&d, "file data id");
	*dlen = get_u64(&d, "file data length");
	return dec_end(&d, why, "FILEDATA header");
}
