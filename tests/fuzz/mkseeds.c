/*
 * mkseeds OUTDIR: writes the generated seed corpora of the fuzz targets, built at build time
 * with the project's own writers so that the seeds follow the formats as they change:
 *
 *   OUTDIR/image/   real images (image writer + ckpt_write_records): two processes that
 *                   dmtcp_restart's loader accepts (zlib and raw chunks, runs straddling
 *                   chunks, two threads, FILEDATA, zombies, timers, namespaces) and two
 *                   container-only ones (unknown section types, empty records, pages; the
 *                   largest chunk size over a few KiB of pages); a few KiB each, also in
 *                   OUTDIR/image_raw/ for the "image_raw" target.
 *   OUTDIR/ckpt/    the content records of those images, one per file, as the "ckpt"
 *                   target takes them (a byte for the section type, then the body).
 *   OUTDIR/proto/   protocol streams (proto_msg_*): every message type with its fields, one
 *                   or several messages per file, and an unknown tag that must be skipped.
 *   OUTDIR/procfs/  /proc texts: stat with a comm full of ") ", maps, status, fdinfo.
 *   OUTDIR/coordkey/ coordinator key files: a good one and near misses.
 *
 * The output is the same at every run: the images' creation time and host are fixed (their
 * checksums are then recomputed with fuzz_image_fix_crcs()). Reproducers of fixed bugs are
 * checked in, in tests/fuzz/corpus/<target>/, unless they are images a writer can make.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt_state.h"
#include "coordauth.h"
#include "image.h"
#include "image_fmt.h"
#include "proto.h"

#define PS 4096u

static const char *outdir;

static void die_errno(const char *what)
{
	fprintf(stderr, "mkseeds: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put_file(const char *sub, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, sub);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die_errno(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	f = fopen(path, "w");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f))
		die_errno(path);
}

/* ---- images ---------------------------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die_errno("strdup");
	return d;
}

static void *zalloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p)
		die_errno("calloc");
	return p;
}

/* A process of one or two threads whose every part the loader checks and accepts. */
static void sample_proc(struct ckpt_proc *p, int two_threads)
{
	ckpt_proc_init(p);
	p->pid = 4242;
	p->ppid = 1;
	p->pgid = 4242;
	p->sid = 4200;
	p->ns_levels = two_threads ? 2 : 1;
	p->ns_pid[0] = 4242;
	p->ns_pgid[0] = 4242;
	p->ns_sid[0] = 4200;
	if (two_threads) {
		p->ns_pid[1] = 4242;
		p->ns_pgid[1] = 4242;
		p->ns_sid[1] = 4200;
	}
	strcpy(p->comm, "seedprog");
	p->uniquepid = xstrdup("c0ffee-4242-1234");
	p->exe = xstrdup("/usr/bin/seedprog");
	p->cwd = xstrdup("/tmp");
	p->root = xstrdup("/");
	p->cmdline_len = 12;
	p->cmdline = zalloc(p->cmdline_len);
	memcpy(p->cmdline, "seedprog\0-v", 12);
	p->environ_len = 10;
	p->environ = zalloc(p->environ_len);
	memcpy(p->environ, "HOME=/root", 10);
	p->umask = 022;
	p->personality = 0;
	p->start_time = 987654;
	p->mm.start_code = 0x400000;
	p->mm.end_code = 0x401000;
	p->mm.start_brk = 0x20000;
	p->mm.brk = 0x21000;
	p->mm.arg_start = 0x7ffd000;
	p->mm.arg_end = 0x7ffd100;
	p->creds.ngroups = 2;
	p->creds.groups = zalloc(2 * sizeof(uint32_t));
	p->creds.groups[1] = 27;
	p->creds.cap_bnd = 0x1ffffffffffull;
	for (int i = 0; i < CKPT_NRLIMITS; i++)
		p->rlim[i].cur = p->rlim[i].max = ~0ull;
	p->rlim[7].cur = 1024;
	p->rlim[7].max = 4096;
	if (two_threads) {
		p->nzombies = 1;
		p->zombies = zalloc(sizeof(*p->zombies));
		p->zombies[0].pid = 4250;
		p->zombies[0].exit_code = 3 << 8;
	}

	p->nthreads = two_threads ? 2 : 1;
	p->threads = zalloc(p->nthreads * sizeof(*p->threads));
	for (uint32_t i = 0; i < p->nthreads; i++) {
		struct ckpt_thread *t = &p->threads[i];

		t->tid = 4242 + (int32_t)i;
		t->ns_levels = p->ns_levels;
		for (uint32_t l = 0; l < t->ns_levels; l++)
			t->ns_tid[l] = t->tid;
		strcpy(t->comm, i ? "worker" : "seedprog");
		t->regs.rip = 0x400123;
		t->regs.rsp = 0x7ffd0f0;
		t->regs.orig_rax = ~0ull;
		t->regs.cs = 0x33;
		t->regs.ss = 0x2b;
		t->sysfix = i ? CKPT_SYSFIX_RESTART : CKPT_SYSFIX_NONE;
		t->sigmask = 1ull << 9;
		t->ss_flags = 2; /* SS_DISABLE */
		t->have_altstack = 1;
		t->have_clear_tid = 1;
		t->clear_tid = 0x7ffd200;
		if (i) {
			t->xsave_size = 1024;
			t->xsave = zalloc(t->xsave_size);
			t->xsave[512] = 3;
			t->rseq_addr = 0x7ffd300;
			t->rseq_len = 32;
			t->rseq_sig = 0x53053053;
			t->npending = 1;
			t->pending = zalloc(sizeof(*t->pending));
			t->pending[0].raw[0] = 10; /* SIGUSR1 */
		}
	}

	p->sig = zalloc(sizeof(*p->sig));
	p->sig->act_source = CKPT_SIGSRC_TRACEE;
	p->sig->act[1].handler = 1; /* SIGINT ignored */
	p->sig->act[9].handler = 0x400200;
	p->sig->act[9].flags = 0x04000000;
	p->sig->sig_ignored = 1ull << 1;
	p->sig->sig_caught = 1ull << 9;
	p->sig->timer_source = CKPT_SIGSRC_TRACEE;
	p->sig->itimer[0].interval_ns = 1000000;
	p->sig->itimer[0].value_ns = 500000;
	if (two_threads) {
		p->sig->ntimers = 2;
		p->sig->timers = zalloc(2 * sizeof(*p->sig->timers));
		p->sig->timers[0].signo = 14;
		p->sig->timers[0].value_ns = 7;
		p->sig->timers[1].id = 1;
		p->sig->timers[1].signo = 34;
		p->sig->timers[1].notify = 4;
		p->sig->timers[1].notify_tid = 4243;
		p->sig->npending = 1;
		p->sig->pending = zalloc(sizeof(*p->sig->pending));
		p->sig->pending[0].raw[0] = 12; /* SIGUSR2 */
	}

	/* Files the loader finds on any machine, a terminal, a pipe, a sealed memfd (a deleted
	 * file with its contents), and sockets:
	 * a UDP socket with two datagrams queued (their senders), a TCP listener with a
	 * connection waiting and options, a unix socketpair end with seqpacket boundaries and a
	 * message carrying fds and credentials; and anonymous inodes: a semaphore eventfd, an
	 * absolute periodic timerfd with unread ticks, a signalfd, an epoll set watching the pipe
	 * and the eventfd, a pidfd, an inotify instance with two watches (wds 1 and 3). The
	 * deleted file holds a POSIX, an OFD and a flock lock, the directory a shared flock
	 * lock. */
	p->nfiles = 14;
	p->files = zalloc(p->nfiles * sizeof(*p->files));
	p->files[0] = (struct ckpt_file){ .type = CKPT_FILE_CHR, .oflags = 02, .mode = 020666 };
	p->files[0].path = xstrdup("/dev/null");
	p->files[1] = (struct ckpt_file){ .id = 1, .type = CKPT_FILE_TTY, .oflags = 02,
					  .flags = CKPT_FF_TERMIOS };
	p->files[1].tio.ws_row = 24;
	p->files[1].tio.ws_col = 80;
	p->files[1].path = xstrdup("/dev/pts/0");
	p->files[2] = (struct ckpt_file){ .id = 2, .type = CKPT_FILE_DIR, .mode = 040755 };
	p->files[2].path = xstrdup("/");
	p->files[3] = (struct ckpt_file){ .id = 3, .type = CKPT_FILE_PIPE, .pipe_end = 0,
					  .flags = CKPT_FF_HAS_DATA, .data_len = 5,
					  .share_key = 0x10000003 };
	p->files[3].path = xstrdup("pipe:[1234]");
	p->files[4] = (struct ckpt_file){ .id = 4, .type = CKPT_FILE_REG, .oflags = 01,
					  .flags = CKPT_FF_DELETED | CKPT_FF_HAS_DATA |
						   CKPT_FF_MEMFD,
					  .data_len = 11, .pos = 11, .size = 11,
					  .mfd_flags = 0x2, .seals = 0x6 };
	p->files[4].path = xstrdup("/memfd:seed-memfd");
	/* one lock of each kind on it, and a shared flock lock on the directory */
	p->files[4].nlocks = 3;
	p->files[4].locks = zalloc(3 * sizeof(*p->files[4].locks));
	p->files[4].locks[0] = (struct ckpt_lock){ .kind = CKPT_LOCK_POSIX, .type = CKPT_LOCK_WRITE,
						   .pid = 4242, .start = 0, .end = 9 };
	p->files[4].locks[1] = (struct ckpt_lock){ .kind = CKPT_LOCK_OFD, .type = CKPT_LOCK_WRITE,
						   .flags = CKPT_LKF_TO_EOF, .start = 20 };
	p->files[4].locks[2] = (struct ckpt_lock){ .kind = CKPT_LOCK_FLOCK,
						   .type = CKPT_LOCK_WRITE,
						   .flags = CKPT_LKF_TO_EOF };
	p->files[2].nlocks = 1;
	p->files[2].locks = zalloc(sizeof(*p->files[2].locks));
	p->files[2].locks[0] = (struct ckpt_lock){ .kind = CKPT_LOCK_FLOCK, .type = CKPT_LOCK_READ,
						   .flags = CKPT_LKF_TO_EOF };
	{
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5353),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		struct ckpt_sock *k;

		p->files[5] = (struct ckpt_file){ .id = 5, .type = CKPT_FILE_SOCKET, .oflags = 02,
						  .flags = CKPT_FF_HAS_DATA, .data_len = 7,
						  .sock_type = SOCK_DGRAM, .ino = 9001 };
		p->files[5].path = xstrdup("socket:[9001]");
		k = p->files[5].sock = zalloc(sizeof(*k));
		*k = (struct ckpt_sock){ .family = AF_INET, .type = SOCK_DGRAM, .protocol = 17,
					 .state = CKPT_SOCK_UNCONNECTED, .ino = 9001,
					 .addr_len = sizeof(a), .nmsgs = 2, .peek_off = -1 };
		memcpy(k->addr, &a, sizeof(a));
		k->msg_len = zalloc(2 * sizeof(*k->msg_len));
		k->msg_len[0] = 3;
		k->msg_len[1] = 4;
		k->msg_from = zalloc(2 * sizeof(*k->msg_from));
		a.sin_port = htons(40000);
		for (int m = 0; m < 2; m++) {
			k->msg_from[m].len = sizeof(a);
			memcpy(k->msg_from[m].addr, &a, sizeof(a));
		}
		p->files[6] = (struct ckpt_file){ .id = 6, .type = CKPT_FILE_SOCKET, .oflags = 02,
						  .sock_type = SOCK_STREAM, .ino = 9002 };
		p->files[6].path = xstrdup("socket:[9002]");
		k = p->files[6].sock = zalloc(sizeof(*k));
		a.sin_port = htons(8080);
		*k = (struct ckpt_sock){ .family = AF_INET, .type = SOCK_STREAM, .protocol = 6,
					 .state = CKPT_SOCK_LISTENING, .ino = 9002, .backlog = 16,
					 .addr_len = sizeof(a), .npending = 1, .nopts = 2,
					 .peek_off = -1 };
		memcpy(k->addr, &a, sizeof(a));
		k->pending = zalloc(sizeof(*k->pending));
		k->pending[0] = 9003;
		k->opts[0] = (struct ckpt_sockopt){ SOL_SOCKET, SO_REUSEADDR, 1 };
		k->opts[1] = (struct ckpt_sockopt){ SOL_SOCKET, SO_LINGER, -1 };
		p->files[7] = (struct ckpt_file){ .id = 7, .type = CKPT_FILE_SOCKET, .oflags = 02,
						  .flags = CKPT_FF_HAS_DATA, .data_len = 6,
						  .sock_type = SOCK_SEQPACKET, .ino = 9004 };
		p->files[7].path = xstrdup("socket:[9004]");
		k = p->files[7].sock = zalloc(sizeof(*k));
		*k = (struct ckpt_sock){ .family = AF_UNIX, .type = SOCK_SEQPACKET,
					 .state = CKPT_SOCK_CONNECTED, .ino = 9004, .peer_ino = 9005,
					 .shutdown = 2, .nmsgs = 2, .peek_off = -1 };
		k->msg_len = zalloc(2 * sizeof(*k->msg_len));
		k->msg_len[0] = 2;
		k->msg_len[1] = 4;
		/* its second message carries the pipe and /dev/null, with credentials */
		k->nscm = 1;
		k->scm = zalloc(sizeof(*k->scm));
		k->scm[0] = (struct ckpt_sock_scm){ .off = 2, .len = 4, .msg = 1,
						    .flags = CKPT_SCM_CREDS, .pid = 1234,
						    .uid = 1000, .gid = 1000, .nfiles = 2 };
		k->scm[0].files = zalloc(2 * sizeof(*k->scm[0].files));
		k->scm[0].files[0] = 3;
		k->scm[0].files[1] = 0;
	}
	p->files[8] = (struct ckpt_file){ .id = 8, .type = CKPT_FILE_ANON, .oflags = 04002 };
	p->files[8].path = xstrdup("anon_inode:[eventfd]");
	p->files[8].anon = zalloc(sizeof(*p->files[8].anon));
	*p->files[8].anon = (struct ckpt_anon){ .kind = CKPT_ANON_EVENTFD,
						.flags = CKPT_AF_SEMAPHORE, .count = 5 };
	p->files[9] = (struct ckpt_file){ .id = 9, .type = CKPT_FILE_ANON, .oflags = 02 };
	p->files[9].path = xstrdup("anon_inode:[timerfd]");
	p->files[9].anon = zalloc(sizeof(*p->files[9].anon));
	*p->files[9].anon = (struct ckpt_anon){ .kind = CKPT_ANON_TIMERFD, .clock = 0,
						.flags = CKPT_AF_ABSTIME | CKPT_AF_CANCEL,
						.count = 3, .value_ns = 1800000000000000000ull,
						.interval_ns = 10000000 };
	p->files[10] = (struct ckpt_file){ .id = 10, .type = CKPT_FILE_ANON, .oflags = 04002 };
	p->files[10].path = xstrdup("anon_inode:[signalfd]");
	p->files[10].anon = zalloc(sizeof(*p->files[10].anon));
	*p->files[10].anon = (struct ckpt_anon){ .kind = CKPT_ANON_SIGNALFD, .sigmask = 0x200 };
	p->files[11] = (struct ckpt_file){ .id = 11, .type = CKPT_FILE_ANON, .oflags = 02 };
	p->files[11].path = xstrdup("anon_inode:[eventpoll]");
	p->files[11].anon = zalloc(sizeof(*p->files[11].anon));
	*p->files[11].anon = (struct ckpt_anon){ .kind = CKPT_ANON_EPOLL, .nitems = 2 };
	p->files[11].anon->items = zalloc(2 * sizeof(*p->files[11].anon->items));
	p->files[11].anon->items[0] = (struct ckpt_epoll_item){ 3, 0x19, 0x1234 };
	p->files[11].anon->items[1] = (struct ckpt_epoll_item){ 11, 0x80000019, 7 };
	p->files[12] = (struct ckpt_file){ .id = 12, .type = CKPT_FILE_ANON, .oflags = 04002 };
	p->files[12].path = xstrdup("anon_inode:[pidfd]");
	p->files[12].anon = zalloc(sizeof(*p->files[12].anon));
	*p->files[12].anon = (struct ckpt_anon){ .kind = CKPT_ANON_PIDFD, .pid = 4321 };
	p->files[13] = (struct ckpt_file){ .id = 13, .type = CKPT_FILE_ANON, .oflags = 04000 };
	p->files[13].path = xstrdup("anon_inode:inotify");
	p->files[13].anon = zalloc(sizeof(*p->files[13].anon));
	*p->files[13].anon = (struct ckpt_anon){ .kind = CKPT_ANON_INOTIFY, .count = 32,
						 .nwatches = 2 };
	p->files[13].anon->watches = zalloc(2 * sizeof(*p->files[13].anon->watches));
	p->files[13].anon->watches[0] =
		(struct ckpt_inotify_watch){ 1, 0x300, 0x801, 2, xstrdup("/") };
	p->files[13].anon->watches[1] =
		(struct ckpt_inotify_watch){ 3, 0x84000002, 0x801, 77, xstrdup("/tmp/x") };
	p->nfds = 14;
	p->fds = zalloc(p->nfds * sizeof(*p->fds));
	p->fds[0] = (struct ckpt_fd){ 0, 0, 1 };
	p->fds[1] = (struct ckpt_fd){ 1, 0, 1 };
	p->fds[2] = (struct ckpt_fd){ 2, 0, 0 };
	p->fds[3] = (struct ckpt_fd){ 3, 1, 3 };
	p->fds[4] = (struct ckpt_fd){ 7, 1, 4 };
	p->fds[5] = (struct ckpt_fd){ 8, 1, 5 };
	p->fds[6] = (struct ckpt_fd){ 9, 1, 6 };
	p->fds[7] = (struct ckpt_fd){ 10, 1, 7 };
	p->fds[8] = (struct ckpt_fd){ 11, 1, 8 };
	p->fds[9] = (struct ckpt_fd){ 12, 0, 9 };
	p->fds[10] = (struct ckpt_fd){ 13, 1, 10 };
	p->fds[11] = (struct ckpt_fd){ 14, 1, 11 };
	p->fds[12] = (struct ckpt_fd){ 15, 1, 12 };
	p->fds[13] = (struct ckpt_fd){ 16, 0, 13 };

	/* Memory: data, heap, a deleted mapped file, stack, vdso; runs in three of them. */
	p->nvmas = 5;
	p->vmas = zalloc(p->nvmas * sizeof(*p->vmas));
	p->vmas[0] = (struct ckpt_vma){ .start = 0x10000, .end = 0x18000, .prot = 3,
					.kind = CKPT_VMA_ANON, .npages_stored = 3 };
	p->vmas[0].path = xstrdup("");
	p->vmas[1] = (struct ckpt_vma){ .start = 0x20000, .end = 0x21000, .prot = 3,
					.kind = CKPT_VMA_HEAP, .npages_stored = 1 };
	p->vmas[1].path = xstrdup("[heap]");
	p->vmas[2] = (struct ckpt_vma){ .start = 0x30000, .end = 0x32000, .prot = 1,
					.kind = CKPT_VMA_FILE_PRIV, .flags = CKPT_VMA_F_DELETED,
					.pgoff = 0x1000, .dev = 0x801, .ino = 77 };
	p->vmas[2].path = xstrdup("/tmp/seed-mapped");
	p->vmas[3] = (struct ckpt_vma){ .start = 0x7ffc000, .end = 0x7ffe000, .prot = 3,
					.kind = CKPT_VMA_STACK, .flags = CKPT_VMA_F_GROWSDOWN,
					.npages_stored = 1 };
	p->vmas[3].path = xstrdup("[stack]");
	p->vmas[4] = (struct ckpt_vma){ .start = 0x8000000, .end = 0x8002000, .prot = 5,
					.kind = CKPT_VMA_VDSO };
	p->vmas[4].path = xstrdup("[vdso]");
	p->nruns = 4;
	p->runs = zalloc(p->nruns * sizeof(*p->runs));
	p->runs[0] = (struct ckpt_pagerun){ 0x10000, 2, 0 };
	p->runs[1] = (struct ckpt_pagerun){ 0x15000, 1, 0 };
	p->runs[2] = (struct ckpt_pagerun){ 0x20000, 1, 1 };
	p->runs[3] = (struct ckpt_pagerun){ 0x7ffd000, 1, 3 };
	p->pages_stored = 5;
}

/* Page contents: text (compresses), noise (does not), zeros. */
static void fill_page(uint8_t *pg, int kind, uint64_t *rs)
{
	if (kind == 0) {
		for (unsigned i = 0; i < PS; i++)
			pg[i] = (uint8_t)("line of seed text\n"[i % 18]);
	} else if (kind == 1) {
		for (unsigned i = 0; i < PS; i += 8) {
			uint64_t v = fuzz_rand(rs);

			memcpy(pg + i, &v, 8);
		}
	} else {
		memset(pg, 0, PS);
	}
}

/* Reads back what the writer committed, fixes time and checksums, stores it as a seed. */
static void store_image(const char *dir, const char *name)
{
	struct image_hdr h;
	char path[4096];
	struct stat st;
	uint8_t *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed.dmtcp", dir);
	f = fopen(path, "r");
	if (!f || fstat(fileno(f), &st) < 0)
		die_errno(path);
	buf = zalloc((size_t)st.st_size);
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		die_errno(path);
	fclose(f);
	unlink(path);
	memcpy(&h, buf, sizeof(h));
	h.ctime_ns = 1700000000ull * 1000000000ull;
	memcpy(buf, &h, sizeof(h));
	fuzz_image_fix_crcs(buf, (size_t)st.st_size);
	put_file("image", name, buf, (size_t)st.st_size);
	put_file("image_raw", name, buf, (size_t)st.st_size);
	free(buf);
}

/* Every content record of a stored image, as a seed of the "ckpt" target: the section type
 * (as CKPT_SEC_PROC + byte) and the body. */
static void split_records(const char *name)
{
	struct image_reader *r;
	char path[4096];

	snprintf(path, sizeof(path), "%s/image/%s", outdir, name);
	if (image_open(path, &r))
		exit(1); /* the reader said why */
	for (uint32_t i = 0; i < image_nsections(r); i++) {
		const struct image_section *s = image_get_section(r, i);
		const char *sec = ckpt_sec_name(s->type);
		const uint8_t *d;
		uint8_t *seed;
		size_t len;

		if (!sec || !(d = image_record_data(r, s, &len)))
			continue;
		seed = zalloc(len + 1);
		seed[0] = (uint8_t)(s->type - CKPT_SEC_PROC);
		memcpy(seed + 1, d, len);
		snprintf(path, sizeof(path), "%s.%u.%s", name, i, sec);
		put_file("ckpt", path, seed, len + 1);
		free(seed);
	}
	image_close(r);
}

static struct image_writer *begin_image(const char *dir, int compress, uint32_t chunk)
{
	struct image_opts o = IMAGE_OPTS_INIT;
	struct image_writer *w;

	o.compress = compress;
	o.chunk_size = chunk;
	o.threads = 1;
	o.no_fsync = 1;
	o.prog = "seedprog";
	o.uniquepid = "c0ffee-4242-1234";
	o.compid = "c0ffee-99-abcdef";
	o.hostname = "seedhost";
	if (image_create(dir, "seed.dmtcp", &o, &w))
		exit(1); /* the writer said why */
	return w;
}

static void end_image(struct image_writer *w, const char *dir, const char *name)
{
	if (image_finish(w) || image_commit(w))
		exit(1);
	image_discard(w);
	store_image(dir, name);
}

static void proc_image(const char *dir, const char *name, int two_threads, int compress,
		       uint32_t chunk)
{
	static const int kinds[] = { 0, 0, 1, 2, 0 }; /* one per page of the runs */
	struct image_writer *w = begin_image(dir, compress, chunk);
	uint64_t rs = 0x5eedull + (uint64_t)two_threads;
	struct ckpt_proc p;
	uint8_t *pg = zalloc(2 * PS);
	int k = 0;

	sample_proc(&p, two_threads);
	if (ckpt_write_records(w, &p) || ckpt_write_filedata(w, 3, "hello", 5) ||
	    ckpt_write_filedata(w, 4, "gone but ok", 11) ||
	    ckpt_write_filedata(w, 5, (const uint8_t *)"abcdefg", 7) ||
	    ckpt_write_filedata(w, 7, (const uint8_t *)"hiworl", 6) ||
	    image_begin_pages(w, CKPT_SEC_PAGES))
		exit(1);
	for (uint32_t r = 0; r < p.nruns; r++) {
		for (uint32_t i = 0; i < p.runs[r].npages; i++)
			fill_page(pg + (size_t)i * PS, kinds[k++], &rs);
		if (image_add_pages(w, p.runs[r].vaddr, pg, (size_t)p.runs[r].npages * PS))
			exit(1);
	}
	if (image_end_section(w))
		exit(1);
	end_image(w, dir, name);
	split_records(name);
	ckpt_proc_free(&p);
	free(pg);
}

/* Sections the content layer does not know, an empty record, pages across chunks. */
static void container_image(const char *dir)
{
	struct image_writer *w = begin_image(dir, 1, 2 * PS);
	uint8_t *pg = zalloc(3 * PS);
	uint64_t rs = 77;

	fill_page(pg, 0, &rs);
	fill_page(pg + PS, 1, &rs);
	fill_page(pg + 2 * PS, 0, &rs);
	if (image_add_record(w, 1, "a record", 8) || image_add_record(w, 999, "", 0) ||
	    image_begin_pages(w, 2) || image_add_pages(w, 0x100000, pg, PS) ||
	    image_add_pages(w, 0x300000, pg + PS, 2 * PS) ||
	    image_add_pages(w, 0x301000 + 2 * PS, pg, PS) || image_end_section(w) ||
	    image_add_record(w, 3, "after the pages", 15))
		exit(1);
	end_image(w, dir, "container-unknown-sections");
	free(pg);
}

/*
 * The largest chunk size the format allows over a few KiB of pages: one short zlib chunk
 * that straddles two runs, so that reading it needs a bounce buffer, which must be sized by
 * the chunk, not by the header's 64 MiB.
 */
static void big_chunk_image(const char *dir)
{
	struct image_writer *w = begin_image(dir, 1, IMAGE_MAX_CHUNK);
	uint8_t *pg = zalloc(PS);
	uint64_t rs = 78;

	fill_page(pg, 0, &rs);
	if (image_begin_pages(w, 2) || image_add_pages(w, 0x100000, pg, PS) ||
	    image_add_pages(w, 0x200000, pg, PS) || image_end_section(w))
		exit(1);
	end_image(w, dir, "container-64MiB-chunks");
	free(pg);
}

static void images(void)
{
	char dir[] = "/tmp/mkseeds.XXXXXX";

	if (!mkdtemp(dir))
		die_errno("mkdtemp");
	proc_image(dir, "proc-zlib-chunks", 0, 1, 2 * PS);
	proc_image(dir, "proc-raw-two-threads", 1, 0, PS);
	container_image(dir);
	big_chunk_image(dir);
	rmdir(dir);
}

/* ---- protocol streams ------------------------------------------------------------------------ */

struct stream {
	uint8_t buf[8192];
	size_t len;
};

static void add_msg(struct stream *s, struct proto_msg *m)
{
	if (proto_finish(m) || s->len + m->len > sizeof(s->buf)) {
		fprintf(stderr, "mkseeds: cannot build a message of type %u\n", m->type);
		exit(1);
	}
	memcpy(s->buf + s->len, m->buf, m->len);
	s->len += m->len;
	proto_msg_free(m);
}

static void put_stream(const char *name, struct stream *s)
{
	put_file("proto", name, s->buf, s->len);
	s->len = 0;
}

static void protos(void)
{
	struct stream s = { .len = 0 };
	struct proto_msg m;

	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "peer");
	proto_put_str(&m, F_PROG, "seedprog");
	proto_put_u64(&m, F_PID, 4242);
	proto_put_u64(&m, F_PPID, 1);
	proto_put_str(&m, F_UNIQUEPID, "c0ffee-4242-1234");
	proto_put_str(&m, F_HOST, "seedhost");
	proto_put_str(&m, F_STATE, "RUNNING");
	proto_put_u64(&m, F_INTERVAL, 60);
	add_msg(&s, &m);
	put_stream("hello-peer", &s);

	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "peer");
	proto_put_str(&m, F_PROG, "seedprog");
	proto_put_u64(&m, F_PID, 4242);
	proto_put_u64(&m, F_PPID, 1);
	proto_put_str(&m, F_UNIQUEPID, "c0ffee-4242-1234");
	proto_put_str(&m, F_HOST, "seedhost");
	proto_put_str(&m, F_STATE, "RESTARTING");
	proto_put_u64(&m, F_RESTART, 1);
	proto_put_str(&m, F_COMPID, "c0ffee-99-abcdef");
	proto_put_u64(&m, F_NUM_EXPECTED, 3);
	proto_put_u64(&m, F_VIRT_PID, 4242);
	proto_put_u64(&m, F_REAL_PID, 9001);
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_PEER_UPDATE);
	proto_put_str(&m, F_STATE, "STOPPED");
	add_msg(&s, &m);
	put_stream("hello-restart-update", &s);

	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "client");
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_COMMAND);
	proto_put_str(&m, F_CMD, "i");
	proto_put_u64(&m, F_ARG, 30);
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_COMMAND);
	proto_put_str(&m, F_CMD, "bc");
	add_msg(&s, &m);
	put_stream("client-commands", &s);

	proto_msg_init(&m, MSG_WELCOME);
	proto_put_u64(&m, F_PEER_ID, 1);
	proto_put_str(&m, F_COMPID, "c0ffee-99-abcdef");
	proto_put_str(&m, F_CKPTDIR, "/tmp/ckpt");
	proto_put_u64(&m, F_INTERVAL, 0);
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_BARRIER);
	proto_put_str(&m, F_BARRIER, BARRIER_SUSPEND);
	proto_put_u64(&m, F_GENERATION, 1);
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_BARRIER);
	proto_put_str(&m, F_BARRIER, BARRIER_CHECKPOINT);
	proto_put_u64(&m, F_GENERATION, 1);
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_KV_REPLY);
	proto_put_str(&m, F_KEY, "sock:1234");
	proto_put_u64(&m, F_STATUS, (uint64_t)-110);
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_KILL);
	add_msg(&s, &m);
	put_stream("coordinator-to-peer", &s);

	proto_msg_init(&m, MSG_REFUSE);
	proto_put_str(&m, F_REASON, "computation A is running here; cannot restart B");
	add_msg(&s, &m);
	put_stream("refuse", &s);

	proto_msg_init(&m, MSG_BARRIER_DONE);
	proto_put_str(&m, F_BARRIER, BARRIER_CHECKPOINT);
	proto_put_u64(&m, F_GENERATION, 2);
	proto_put_u64(&m, F_STATUS, 0);
	proto_put_str(&m, F_IMAGE, "/tmp/ckpt/ckpt_seedprog_c0ffee-4242-1234.dmtcp");
	proto_put_u64(&m, F_IMAGE_SIZE, 123456);
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_BARRIER_DONE);
	proto_put_str(&m, F_BARRIER, BARRIER_COMMIT);
	proto_put_u64(&m, F_GENERATION, 2);
	proto_put_u64(&m, F_STATUS, (uint64_t)-5);
	proto_put_str(&m, F_REASON, "cannot rename");
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_CKPT_PROGRESS);
	proto_put_u64(&m, F_GENERATION, 2);
	proto_put_u64(&m, F_BYTES, 1 << 20);
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_CKPT_REQUEST);
	add_msg(&s, &m);
	put_stream("peer-to-coordinator", &s);

	proto_msg_init(&m, MSG_KV_PUT);
	proto_put_str(&m, F_KEY, "sock:1234");
	proto_put_str(&m, F_VALUE, "127.0.0.1:40000");
	add_msg(&s, &m);
	proto_msg_init(&m, MSG_KV_GET);
	proto_put_str(&m, F_KEY, "sock:1234");
	proto_put_u64(&m, F_TIMEOUT_MS, 5000);
	add_msg(&s, &m);
	put_stream("kv", &s);

	proto_msg_init(&m, MSG_COMMAND_REPLY);
	proto_put_u64(&m, F_STATUS, 0);
	proto_put_u64(&m, F_NUM_PEERS, 3);
	proto_put_u64(&m, F_RUNNING, 1);
	proto_put_u64(&m, F_INTERVAL, 0);
	proto_put_str(&m, F_COMPID, "c0ffee-99-abcdef");
	proto_put_str(&m, F_CKPTDIR, "/tmp/ckpt");
	proto_put_str(&m, F_HOST, "seedhost");
	proto_put_u64(&m, F_PORT, 7779);
	proto_put_str(&m, F_COORD_STATE, "RUNNING");
	proto_put_u64(&m, F_CKPT_COUNT, 4);
	proto_put_str(&m, F_LAST_CKPT, "/tmp/ckpt/dmtcp_restart_script.sh");
	proto_put_u64(&m, F_CKPT_DONE, 1);
	proto_put_u64(&m, F_CKPT_TOTAL, 3);
	proto_put_u64(&m, F_CKPT_BYTES, 4096);
	proto_put_u64(&m, F_CKPT_ELAPSED_MS, 12);
	proto_put_str(&m, F_WAITING, "2 of 3 processes at checkpoint");
	proto_put_str(&m, F_LAST_ERROR, "");
	proto_put_str(&m, F_PEER, "1\tseedprog\t4242\tseedhost\tRUNNING\tc0ffee-4242-1234");
	proto_put_str(&m, F_PEER, "2\tworker\t4243\tseedhost\tRUNNING\tc0ffee-4243-1234");
	proto_put_str(&m, F_PEER, "3\tsh\t4244\tseedhost\tSTOPPED\tc0ffee-4244-1234");
	add_msg(&s, &m);
	put_stream("command-reply-status", &s);

	/* A later protocol's field: skipped by this reader. */
	proto_msg_init(&m, MSG_COMMAND);
	proto_put_strn(&m, 999, "future", 6);
	proto_put_u64(&m, 1000, 7);
	proto_put_str(&m, F_CMD, "s");
	add_msg(&s, &m);
	put_stream("unknown-tags", &s);
}

/* ---- /proc texts ----------------------------------------------------------------------------- */

static void procs(void)
{
	static const struct {
		const char *name, *text;
	} t[] = {
		{ "stat", "4242 (a) b) (c) R 1 4242 4200 34816 4242 4194304 105 0 0 0 3 1 0 0 20 "
			  "0 2 0 987654 10485760 300 18446744073709551615 4194304 4198400 "
			  "140737488347136 0 0 0 512 4096 0 0 0 0 17 1 0 0 0 0 0 6295552 6296000 "
			  "131072 140737488349000 140737488349100 140737488349100 140737488351000 "
			  "256\n" },
		{ "maps", "00010000-00018000 rw-p 00000000 00:00 0 \n"
			  "00020000-00021000 rw-p 00000000 00:00 0                                  "
			  "[heap]\n"
			  "00030000-00032000 r--p 00001000 08:01 77                                 "
			  "/tmp/a file with spaces (deleted)\n"
			  "7ffc000-7ffe000 rw-p 00000000 00:00 0                                   "
			  "[stack]\n"
			  "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  "
			  "[vsyscall]\n" },
		{ "status", "Name:\tseedprog\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n"
			    "Ngid:\t0\nPid:\t4242\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
			    "Groups:\t0 27 \nNSpid:\t4242\t1\nNSpgid:\t4242\t1\nNSsid:\t4200\t1\n"
			    "SigQ:\t0/63416\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
			    "SigBlk:\t0000000000000200\nSigIgn:\t0000000000000002\n"
			    "SigCgt:\t0000000000000200\nCapEff:\t000001ffffffffff\n" },
		{ "fdinfo", "pos:\t11\nflags:\t0100002\nmnt_id:\t25\nino:\t1234\n" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		put_file("procfs", t[i].name, t[i].text, strlen(t[i].text));
}

/* Key files (coordauth.h): a good one, and near misses. */
static void keys(void)
{
	static const char hex[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char text[128];

	snprintf(text, sizeof(text), "%s %s\n", COORD_KEY_MAGIC, hex);
	put_file("coordkey", "good", text, strlen(text));
	put_file("coordkey", "no-newline", text, strlen(text) - 1);
	snprintf(text, sizeof(text), "%s %s\n", COORD_KEY_MAGIC, "0123456789ABCDEF");
	put_file("coordkey", "short-upper", text, strlen(text));
	put_file("coordkey", "proof", hex, strlen(hex));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST)
		die_errno(outdir);
	images();
	protos();
	procs();
	keys();
	return 0;
}
