/*
 * Unit tests of the checkpoint content model: every section encoded and decoded back equal;
 * each kind of corruption (truncation, trailing bytes, counts over the limit or disagreeing
 * with the process record, bad enums, misordered vmas, runs outside their vma, fds pointing
 * nowhere) rejected with a reason; and the collectors + image writer + ckpt_load on a real
 * ptrace-stopped child, the written pages read back equal to the child's memory.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt_state.h"
#include "image.h"
#include "procfs.h"
#include "tracer/collect.h"
#include "tracer/dump.h"

static void sample(struct ckpt_proc *p)
{
	uint32_t i;

	ckpt_proc_init(p);
	p->pid = 100;
	p->ppid = 1;
	p->pgid = 100;
	p->sid = 90;
	p->ns_levels = 2;
	p->ns_pid[0] = 100;
	p->ns_pid[1] = 1;
	strcpy(p->comm, "prog");
	p->uniquepid = strdup("ab-100-1");
	p->exe = strdup("/bin/prog");
	p->cwd = strdup("/tmp");
	p->root = strdup("/");
	p->cmdline = malloc(7);
	memcpy(p->cmdline, "prog\0a", 7);
	p->cmdline_len = 7;
	p->umask = 022;
	p->personality = 0;
	p->mm.start_brk = 0x1000;
	p->mm.brk = 0x3000;
	p->creds.ngroups = 2;
	p->creds.groups = calloc(2, 4);
	p->creds.groups[1] = 27;
	for (i = 0; i < CKPT_NRLIMITS; i++)
		p->rlim[i].cur = p->rlim[i].max = ~0ull;
	p->rlim[7].cur = 1024;
	p->nzombies = 1;
	p->zombies = calloc(1, sizeof(*p->zombies));
	p->zombies[0].pid = 101;
	p->zombies[0].exit_code = 7 << 8;

	p->nthreads = 1;
	p->threads = calloc(1, sizeof(*p->threads));
	p->threads[0].tid = 100;
	p->threads[0].regs.rip = 0x401000;
	p->threads[0].sysfix = CKPT_SYSFIX_RESTART;
	p->threads[0].xsave_size = 1024;
	p->threads[0].xsave = calloc(1, 1024);
	p->threads[0].xsave[600] = 0x5a;
	p->threads[0].npending = 1;
	p->threads[0].pending = calloc(1, sizeof(struct ckpt_siginfo));
	p->threads[0].pending[0].raw[0] = 10; /* SIGUSR1 */

	p->sig = calloc(1, sizeof(*p->sig));
	p->sig->act_source = CKPT_SIGSRC_TRACEE;
	p->sig->act[9].handler = 0x401234;
	p->sig->ntimers = 1;
	p->sig->timers = calloc(1, sizeof(*p->sig->timers));
	p->sig->timers[0].signo = 14;
	p->sig->timers[0].value_ns = 5;

	p->nfiles = 7;
	p->files = calloc(7, sizeof(*p->files));
	p->files[0].id = 0;
	p->files[0].type = CKPT_FILE_REG;
	p->files[0].path = strdup("/memfd:x");
	p->files[0].pos = 77;
	p->files[0].flags = CKPT_FF_DELETED | CKPT_FF_MEMFD;
	p->files[0].mfd_flags = 0x2; /* MFD_ALLOW_SEALING */
	p->files[0].seals = 0xe;     /* F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE */
	p->files[0].nlocks = 3;
	p->files[0].locks = calloc(3, sizeof(*p->files[0].locks));
	p->files[0].locks[0] = (struct ckpt_lock){ CKPT_LOCK_POSIX, CKPT_LOCK_WRITE, 0, 42, 0, 9 };
	p->files[0].locks[1] = (struct ckpt_lock){ CKPT_LOCK_OFD, CKPT_LOCK_READ, CKPT_LKF_TO_EOF,
						   0, 100, 0 };
	p->files[0].locks[2] = (struct ckpt_lock){ CKPT_LOCK_FLOCK, CKPT_LOCK_WRITE,
						   CKPT_LKF_TO_EOF, 0, 0, 0 };
	p->files[1].id = 1;
	p->files[1].type = CKPT_FILE_TTY;
	p->files[1].flags = CKPT_FF_TERMIOS;
	p->files[1].tio.ws_col = 80;
	p->files[1].path = strdup("/dev/pts/0");
	p->files[2].id = 2;
	p->files[2].type = CKPT_FILE_SOCKET;
	p->files[2].sock_type = SOCK_SEQPACKET;
	p->files[2].path = strdup("socket:[4242]");
	p->files[2].flags = CKPT_FF_HAS_DATA;
	p->files[2].data_len = 7;
	p->files[2].sock = calloc(1, sizeof(*p->files[2].sock));
	p->files[2].sock->family = AF_UNIX;
	p->files[2].sock->type = SOCK_SEQPACKET;
	p->files[2].sock->state = CKPT_SOCK_CONNECTED;
	p->files[2].sock->ino = 4242;
	p->files[2].sock->peer_ino = 4243;
	p->files[2].sock->shutdown = 2;
	p->files[2].sock->addr_len = 9;
	memcpy(p->files[2].sock->addr, "\1\0/tmp/s", 9);
	p->files[2].sock->rcvtimeo_us = 1500000;
	p->files[2].sock->nmsgs = 2;
	p->files[2].sock->msg_len = calloc(2, sizeof(uint32_t));
	p->files[2].sock->msg_len[0] = 3;
	p->files[2].sock->msg_len[1] = 4;
	p->files[3].id = 3;
	p->files[3].type = CKPT_FILE_ANON;
	p->files[3].path = strdup("anon_inode:[timerfd]");
	p->files[3].anon = calloc(1, sizeof(*p->files[3].anon));
	p->files[3].anon->kind = CKPT_ANON_TIMERFD;
	p->files[3].anon->clock = 0;
	p->files[3].anon->flags = CKPT_AF_ABSTIME | CKPT_AF_CANCEL;
	p->files[3].anon->value_ns = 1700000000123456789ull;
	p->files[3].anon->interval_ns = 10000000;
	p->files[3].anon->count = 2;
	p->files[4].id = 4;
	p->files[4].type = CKPT_FILE_ANON;
	p->files[4].path = strdup("anon_inode:[eventpoll]");
	p->files[4].anon = calloc(1, sizeof(*p->files[4].anon));
	p->files[4].anon->kind = CKPT_ANON_EPOLL;
	p->files[4].anon->nitems = 1;
	p->files[4].anon->items = calloc(1, sizeof(*p->files[4].anon->items));
	p->files[4].anon->items[0] = (struct ckpt_epoll_item){ 5, 0x19, 0xabcdef0123ull };
	p->files[5].id = 5;
	p->files[5].type = CKPT_FILE_ANON;
	p->files[5].path = strdup("anon_inode:[pidfd]");
	p->files[5].anon = calloc(1, sizeof(*p->files[5].anon));
	p->files[5].anon->kind = CKPT_ANON_PIDFD;
	p->files[5].anon->pid = 4242;
	p->files[6].id = 6;
	p->files[6].type = CKPT_FILE_ANON;
	p->files[6].path = strdup("anon_inode:inotify");
	p->files[6].anon = calloc(1, sizeof(*p->files[6].anon));
	p->files[6].anon->kind = CKPT_ANON_INOTIFY;
	p->files[6].anon->count = 48;
	p->files[6].anon->nwatches = 2;
	p->files[6].anon->watches = calloc(2, sizeof(*p->files[6].anon->watches));
	p->files[6].anon->watches[0] = (struct ckpt_inotify_watch){ 1, 0x300, 0xfe00, 19,
								    strdup("/etc") };
	p->files[6].anon->watches[1] = (struct ckpt_inotify_watch){ 4, 0x84000002, 0xfe00, 77,
								    strdup("/tmp/w") };
	p->nfds = 3;
	p->fds = calloc(3, sizeof(*p->fds));
	p->fds[0] = (struct ckpt_fd){ 0, 0, 1 };
	p->fds[1] = (struct ckpt_fd){ 1, 0, 1 };
	p->fds[2] = (struct ckpt_fd){ 5, 1, 0 };

	p->nvmas = 2;
	p->vmas = calloc(2, sizeof(*p->vmas));
	p->vmas[0] = (struct ckpt_vma){ .start = 0x10000, .end = 0x20000, .prot = 3,
					 .kind = CKPT_VMA_ANON, .npages_stored = 3 };
	p->vmas[0].path = strdup("");
	p->vmas[1] = (struct ckpt_vma){ .start = 0x7f0000, .end = 0x7f2000, .prot = 5,
					 .kind = CKPT_VMA_VDSO };
	p->vmas[1].path = strdup("[vdso]");
	p->nruns = 2;
	p->runs = calloc(2, sizeof(*p->runs));
	p->runs[0] = (struct ckpt_pagerun){ 0x10000, 2, 0 };
	p->runs[1] = (struct ckpt_pagerun){ 0x15000, 1, 0 };
	p->pages_stored = 3;
}

/* Encode every section of p, decode into q. */
static int roundtrip(const struct ckpt_proc *p, struct ckpt_proc *q, const char **why)
{
	struct ckpt_buf b = { 0 };
	int rc;

	ckpt_encode_proc(p, &b);
	rc = ckpt_decode_proc(b.p, b.len, q, why);
	ckpt_buf_free(&b);
	if (rc)
		return rc;
	/* The thread array is the caller's to allocate (ckpt_decode_proc keeps the count). */
	q->threads = calloc(q->nthreads, sizeof(*q->threads));
	ck_assert_ptr_nonnull(q->threads);
	ckpt_encode_thread(&p->threads[0], &b);
	rc = ckpt_decode_thread(b.p, b.len, &q->threads[0], why);
	ckpt_buf_free(&b);
	if (rc)
		return rc;
	q->sig = calloc(1, sizeof(*q->sig));
	ckpt_encode_signals(p->sig, &b);
	rc = ckpt_decode_signals(b.p, b.len, q->sig, why);
	ckpt_buf_free(&b);
	if (rc)
		return rc;
	ckpt_encode_files(p, &b);
	rc = ckpt_decode_files(b.p, b.len, q, why);
	ckpt_buf_free(&b);
	if (rc)
		return rc;
	ckpt_encode_fds(p, &b);
	rc = ckpt_decode_fds(b.p, b.len, q, why);
	ckpt_buf_free(&b);
	if (rc)
		return rc;
	ckpt_encode_vmas(p, &b);
	rc = ckpt_decode_vmas(b.p, b.len, q, why);
	ckpt_buf_free(&b);
	if (rc)
		return rc;
	ckpt_encode_pagemap(p, &b);
	rc = ckpt_decode_pagemap(b.p, b.len, q, why);
	ckpt_buf_free(&b);
	if (rc)
		return rc;
	return ckpt_validate_proc(q, why);
}

START_TEST(test_roundtrip)
{
	struct ckpt_proc p, q;
	const char *why = NULL;

	sample(&p);
	ck_assert_msg(roundtrip(&p, &q, &why) == 0, "roundtrip: %s", why);
	ck_assert_int_eq(q.pid, 100);
	ck_assert_int_eq(q.ns_pid[1], 1);
	ck_assert_str_eq(q.exe, "/bin/prog");
	ck_assert_int_eq(q.cmdline_len, 7);
	ck_assert_int_eq(q.creds.groups[1], 27);
	ck_assert_int_eq(q.rlim[7].cur, 1024);
	ck_assert_int_eq(q.zombies[0].pid, 101);
	ck_assert_int_eq(q.threads[0].regs.rip, 0x401000);
	ck_assert_int_eq(q.threads[0].xsave[600], 0x5a);
	ck_assert_int_eq(q.threads[0].npending, 1);
	ck_assert_int_eq(q.sig->act[9].handler, 0x401234);
	ck_assert_int_eq(q.sig->timers[0].value_ns, 5);
	ck_assert_str_eq(q.files[1].path, "/dev/pts/0");
	ck_assert_int_eq(q.files[1].tio.ws_col, 80);
	ck_assert_int_eq(q.files[0].pos, 77);
	ck_assert_uint_eq(q.files[0].flags, CKPT_FF_DELETED | CKPT_FF_MEMFD);
	ck_assert_uint_eq(q.files[0].mfd_flags, 0x2);
	ck_assert_uint_eq(q.files[0].seals, 0xe);
	ck_assert_str_eq(q.files[0].path, "/memfd:x");
	ck_assert_ptr_null(q.files[0].sock);
	ck_assert_ptr_nonnull(q.files[2].sock);
	ck_assert_int_eq(q.files[2].sock->peer_ino, 4243);
	ck_assert_int_eq(q.files[2].sock->shutdown, 2);
	ck_assert_int_eq(q.files[2].sock->addr_len, 9);
	ck_assert_mem_eq(q.files[2].sock->addr, "\1\0/tmp/s", 9);
	ck_assert_int_eq(q.files[2].sock->rcvtimeo_us, 1500000);
	ck_assert_int_eq(q.files[2].sock->nmsgs, 2);
	ck_assert_int_eq(q.files[2].sock->msg_len[1], 4);
	ck_assert_ptr_null(q.files[2].anon);
	ck_assert_int_eq(q.files[0].nlocks, 3);
	ck_assert_int_eq(q.files[1].nlocks, 0);
	ck_assert_int_eq(q.files[0].locks[0].kind, CKPT_LOCK_POSIX);
	ck_assert_int_eq(q.files[0].locks[0].type, CKPT_LOCK_WRITE);
	ck_assert_int_eq(q.files[0].locks[0].pid, 42);
	ck_assert_uint_eq(q.files[0].locks[0].end, 9);
	ck_assert_int_eq(q.files[0].locks[1].kind, CKPT_LOCK_OFD);
	ck_assert_int_eq(q.files[0].locks[1].type, CKPT_LOCK_READ);
	ck_assert_int_eq(q.files[0].locks[1].flags, CKPT_LKF_TO_EOF);
	ck_assert_uint_eq(q.files[0].locks[1].start, 100);
	ck_assert_int_eq(q.files[0].locks[2].kind, CKPT_LOCK_FLOCK);
	ck_assert_int_eq(q.files[0].locks[2].pid, 0);
	ck_assert_ptr_nonnull(q.files[3].anon);
	ck_assert_int_eq(q.files[3].anon->kind, CKPT_ANON_TIMERFD);
	ck_assert_int_eq(q.files[3].anon->flags, CKPT_AF_ABSTIME | CKPT_AF_CANCEL);
	ck_assert_uint_eq(q.files[3].anon->value_ns, 1700000000123456789ull);
	ck_assert_uint_eq(q.files[3].anon->interval_ns, 10000000);
	ck_assert_uint_eq(q.files[3].anon->count, 2);
	ck_assert_int_eq(q.files[4].anon->nitems, 1);
	ck_assert_int_eq(q.files[4].anon->items[0].tfd, 5);
	ck_assert_uint_eq(q.files[4].anon->items[0].events, 0x19);
	ck_assert_uint_eq(q.files[4].anon->items[0].data, 0xabcdef0123ull);
	ck_assert_int_eq(q.files[5].anon->kind, CKPT_ANON_PIDFD);
	ck_assert_int_eq(q.files[5].anon->pid, 4242);
	ck_assert_int_eq(q.files[6].anon->kind, CKPT_ANON_INOTIFY);
	ck_assert_uint_eq(q.files[6].anon->count, 48);
	ck_assert_int_eq(q.files[6].anon->nwatches, 2);
	ck_assert_int_eq(q.files[6].anon->watches[1].wd, 4);
	ck_assert_uint_eq(q.files[6].anon->watches[1].mask, 0x84000002);
	ck_assert_uint_eq(q.files[6].anon->watches[1].dev, 0xfe00);
	ck_assert_uint_eq(q.files[6].anon->watches[1].ino, 77);
	ck_assert_str_eq(q.files[6].anon->watches[1].path, "/tmp/w");
	ck_assert_str_eq(q.files[6].anon->watches[0].path, "/etc");
	ck_assert_int_eq(q.fds[2].fd, 5);
	ck_assert_int_eq(q.fds[2].fd_flags, 1);
	ck_assert_str_eq(q.vmas[1].path, "[vdso]");
	ck_assert_int_eq(q.runs[1].vaddr, 0x15000);
	ckpt_proc_free(&p);
	ckpt_proc_free(&q);
}
END_TEST

/* A mutation of the sample that the decoder or the validation must reject. */
static void expect_reject(void (*mut)(struct ckpt_proc *), const char *needle)
{
	struct ckpt_proc p, q;
	const char *why = NULL;
	int rc;

	sample(&p);
	mut(&p);
	rc = roundtrip(&p, &q, &why);
	ck_assert_msg(rc == -EINVAL, "mutation for '%s' accepted", needle);
	ck_assert_msg(why && strstr(why, needle), "reason '%s' lacks '%s'", why ? why : "(none)",
		      needle);
	ckpt_proc_free(&p);
	ckpt_proc_free(&q);
}

static void m_vma_order(struct ckpt_proc *p) { p->vmas[1].start = 0x8000; p->vmas[1].end = 0x9000; }
static void m_vma_range(struct ckpt_proc *p) { p->vmas[0].end = p->vmas[0].start; }
static void m_vma_kind(struct ckpt_proc *p) { p->vmas[0].kind = 99; }
static void m_run_outside(struct ckpt_proc *p) { p->runs[1].vaddr = 0x1f000; p->runs[1].npages = 4; }
static void m_run_order(struct ckpt_proc *p) { p->runs[1].vaddr = 0x10000; }
static void m_run_count(struct ckpt_proc *p) { p->vmas[0].npages_stored = 2; }
static void m_fd_order(struct ckpt_proc *p) { p->fds[1].fd = 0; }
static void m_fd_file(struct ckpt_proc *p) { p->fds[0].file = 9; }
static void m_sysfix(struct ckpt_proc *p) { p->threads[0].sysfix = 7; }
static void m_xsave(struct ckpt_proc *p) { p->threads[0].xsave_size = 100; }
static void m_signo(struct ckpt_proc *p) { p->threads[0].pending[0].raw[0] = 99; }
static void m_umask(struct ckpt_proc *p) { p->umask = 01000; }
static void m_rlimit(struct ckpt_proc *p) { p->rlim[3].cur = 5; p->rlim[3].max = 4; }
static void m_filetype(struct ckpt_proc *p) { p->files[1].type = 0; }
static void m_termios(struct ckpt_proc *p) { p->files[0].flags = CKPT_FF_TERMIOS; }
static void m_memfd_seals(struct ckpt_proc *p) { p->files[0].seals = 0x40; }
static void m_memfd_flags(struct ckpt_proc *p) { p->files[0].mfd_flags = 0x1; }
static void m_memfd_path(struct ckpt_proc *p) { p->files[0].path[1] = 'x'; }
static void m_memfd_live(struct ckpt_proc *p) { p->files[0].flags = CKPT_FF_MEMFD; }
static void m_pages(struct ckpt_proc *p) { p->pages_stored = 4; }
static void m_sock_msgs(struct ckpt_proc *p) { p->files[2].sock->msg_len[0] = 9; }
static void m_sock_state(struct ckpt_proc *p) { p->files[2].sock->state = 9; }
static void m_sock_type(struct ckpt_proc *p) { p->files[2].sock_type = SOCK_DGRAM; }
static void m_sock_family(struct ckpt_proc *p) { p->files[2].sock->family = 99; }
static void m_sock_pending(struct ckpt_proc *p)
{
	p->files[2].sock->npending = 1;
	p->files[2].sock->pending = calloc(1, sizeof(uint64_t));
}

static void m_anon_kind(struct ckpt_proc *p) { p->files[3].anon->kind = 9; }
static void m_anon_flags(struct ckpt_proc *p) { p->files[3].anon->flags |= CKPT_AF_SEMAPHORE; }
static void m_anon_clock(struct ckpt_proc *p) { p->files[3].anon->clock = 3; }
static void m_anon_cancel(struct ckpt_proc *p) { p->files[3].anon->clock = 1; }
static void m_anon_mask(struct ckpt_proc *p) { p->files[3].anon->sigmask = 1; }
static void m_anon_sigfd(struct ckpt_proc *p)
{
	*p->files[3].anon = (struct ckpt_anon){ .kind = CKPT_ANON_SIGNALFD };
}
static void m_anon_time(struct ckpt_proc *p) { p->files[3].anon->interval_ns = ~0ull; }
static void m_epoll_fd(struct ckpt_proc *p) { p->files[4].anon->items[0].tfd = 6; }
static void m_epoll_neg(struct ckpt_proc *p) { p->files[4].anon->items[0].tfd = -1; }
static void m_epoll_count(struct ckpt_proc *p) { p->files[4].anon->count = 1; }
static void m_epoll_on_timer(struct ckpt_proc *p)
{
	struct ckpt_anon *t = p->files[3].anon, *e = p->files[4].anon;

	t->nitems = e->nitems;
	t->items = e->items;
	e->nitems = 0;
	e->items = NULL;
}

static void m_lock_kind(struct ckpt_proc *p) { p->files[0].locks[0].kind = 9; }
static void m_lock_type(struct ckpt_proc *p) { p->files[0].locks[0].type = 0; }
static void m_lock_flags(struct ckpt_proc *p) { p->files[0].locks[0].flags = 2; }
static void m_lock_range(struct ckpt_proc *p) { p->files[0].locks[0].start = 10; }
static void m_lock_eof_end(struct ckpt_proc *p) { p->files[0].locks[1].end = 200; }
static void m_lock_nopid(struct ckpt_proc *p) { p->files[0].locks[0].pid = 0; }
static void m_lock_pid(struct ckpt_proc *p) { p->files[0].locks[1].pid = 7; }
static void m_lock_flock_part(struct ckpt_proc *p) { p->files[0].locks[2].start = 1; }
static void m_lock_on_tty(struct ckpt_proc *p)
{
	p->files[1].nlocks = 1;
	p->files[1].locks = calloc(1, sizeof(*p->files[1].locks));
	p->files[1].locks[0] = p->files[0].locks[2];
}

START_TEST(test_reject_mutations)
{
	expect_reject(m_lock_kind, "lock kind");
	expect_reject(m_lock_type, "lock type");
	expect_reject(m_lock_flags, "lock flags");
	expect_reject(m_lock_range, "out of order");
	expect_reject(m_lock_eof_end, "with an end");
	expect_reject(m_lock_nopid, "lock holder");
	expect_reject(m_lock_pid, "lock holder");
	expect_reject(m_lock_flock_part, "part of a file");
	expect_reject(m_lock_on_tty, "neither regular");
	expect_reject(m_anon_kind, "anonymous inode kind");
	expect_reject(m_anon_flags, "flags unknown");
	expect_reject(m_anon_clock, "clock");
	expect_reject(m_anon_cancel, "cancel-on-set");
	expect_reject(m_anon_mask, "signal mask");
	expect_reject(m_anon_sigfd, "empty mask");
	expect_reject(m_anon_time, "out of range");
	expect_reject(m_epoll_fd, "does not have");
	expect_reject(m_epoll_neg, "negative fd");
	expect_reject(m_epoll_count, "epoll set");
	expect_reject(m_epoll_on_timer, "watched fds");
	expect_reject(m_vma_order, "out of order");
	expect_reject(m_memfd_seals, "memfd seals");
	expect_reject(m_memfd_flags, "memfd flags");
	expect_reject(m_memfd_path, "not a deleted /memfd:");
	expect_reject(m_memfd_live, "not a deleted /memfd:");
	expect_reject(m_vma_range, "bad range");
	expect_reject(m_vma_kind, "unknown kind");
	expect_reject(m_run_outside, "outside its vma");
	expect_reject(m_run_order, "overlaps");
	expect_reject(m_run_count, "pages stored");
	expect_reject(m_fd_order, "out of order");
	expect_reject(m_fd_file, "does not exist");
	expect_reject(m_sysfix, "fix-up");
	expect_reject(m_xsave, "xsave");
	expect_reject(m_signo, "signal number");
	expect_reject(m_umask, "umask");
	expect_reject(m_rlimit, "soft limit");
	expect_reject(m_filetype, "unknown type");
	expect_reject(m_termios, "termios");
	expect_reject(m_pages, "pages in runs");
	expect_reject(m_sock_msgs, "do not add up");
	expect_reject(m_sock_state, "socket state");
	expect_reject(m_sock_type, "differs from the file");
	expect_reject(m_sock_family, "socket family");
	expect_reject(m_sock_pending, "not listening");
}
END_TEST

/* Every truncation of every section, and one trailing byte, are rejected. */
START_TEST(test_reject_truncation)
{
	struct ckpt_proc p, q;
	struct ckpt_buf b = { 0 };
	const char *why;
	size_t n;

	sample(&p);
	ckpt_encode_proc(&p, &b);
	for (n = 0; n < b.len; n++) {
		why = NULL;
		ck_assert_msg(ckpt_decode_proc(b.p, n, &q, &why) == -EINVAL, "PROC cut at %zu", n);
		ck_assert_ptr_nonnull(why);
		ckpt_proc_free(&q);
	}
	b.p = realloc(b.p, b.len + 1);
	b.p[b.len] = 0;
	ck_assert_int_eq(ckpt_decode_proc(b.p, b.len + 1, &q, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "trailing"));
	ckpt_proc_free(&q);
	ckpt_buf_free(&b);

	ckpt_encode_thread(&p.threads[0], &b);
	for (n = 0; n < b.len; n++) {
		struct ckpt_thread t;

		ck_assert_int_eq(ckpt_decode_thread(b.p, n, &t, &why), -EINVAL);
	}
	ckpt_buf_free(&b);

	/* VMAS with a count larger than the bytes: rejected before allocating */
	q.nvmas = 0xffff;
	ckpt_encode_vmas(&p, &b);
	memcpy(b.p, &q.nvmas, 4);
	why = NULL;
	ck_assert_int_eq(ckpt_decode_vmas(b.p, b.len, &q, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "do not fit"));
	ckpt_buf_free(&b);
	ckpt_proc_free(&p);
}
END_TEST

/*
 * A process record may declare up to CKPT_MAX_THREADS threads in 4 bytes: decoding it must
 * not allocate for them (65536 threads are 32 MB); the loader sizes the array by the THREAD
 * sections the image really holds. Found by the "ckpt" fuzz target with a malloc limit.
 */
START_TEST(test_thread_count_allocates_nothing)
{
	struct ckpt_proc p, q;
	struct ckpt_buf b = { 0 };
	const char *why = NULL;

	sample(&p);
	p.nthreads = CKPT_MAX_THREADS;
	ckpt_encode_proc(&p, &b);
	p.nthreads = 1;
	ck_assert_int_eq(ckpt_decode_proc(b.p, b.len, &q, &why), 0);
	ck_assert_uint_eq(q.nthreads, CKPT_MAX_THREADS);
	ck_assert_ptr_null(q.threads);
	ck_assert_int_eq(ckpt_validate_proc(&q, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "THREAD"));
	ckpt_proc_free(&q);
	ckpt_buf_free(&b);
	ckpt_proc_free(&p);
}
END_TEST

/* A hand-made image whose PAGES data sit at the PAGEMAP addresses loads; one whose data sit
 * elsewhere (same byte count) is rejected. */
static int load_with_pages(const uint64_t *addr, const uint32_t *npages, int n)
{
	char dir[] = "/tmp/check_ckpt_pg.XXXXXX", path[128];
	struct image_opts o = IMAGE_OPTS_INIT;
	struct image_writer *w;
	struct ckpt_proc p, q;
	static uint8_t pg[3 * 4096];
	int i, rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	sample(&p);
	o.compress = 0;
	ck_assert_int_eq(image_create(dir, "x.dmtcp", &o, &w), 0);
	ck_assert_int_eq(ckpt_write_records(w, &p), 0);
	ck_assert_int_eq(ckpt_write_filedata(w, 2, (const uint8_t *)"abcdefg", 7), 0);
	ck_assert_int_eq(image_begin_pages(w, CKPT_SEC_PAGES), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(image_add_pages(w, addr[i], pg, npages[i] * 4096), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	snprintf(path, sizeof(path), "%s/x.dmtcp", dir);
	rc = ckpt_load(path, &q, NULL);
	if (!rc)
		ckpt_proc_free(&q);
	unlink(path);
	rmdir(dir);
	ckpt_proc_free(&p);
	return rc;
}

START_TEST(test_pages_at_pagemap_addresses)
{
	const uint64_t good[] = { 0x10000, 0x15000 }, bad[] = { 0x10000, 0x16000 };
	const uint32_t np[] = { 2, 1 };
	const uint64_t merged[] = { 0x10000 };
	const uint32_t np3[] = { 3 };

	ck_assert_int_eq(load_with_pages(good, np, 2), 0);
	ck_assert_int_eq(load_with_pages(bad, np, 2), -EINVAL);
	ck_assert_int_eq(load_with_pages(merged, np3, 1), -EINVAL);
}
END_TEST

/* ---- live: a ptrace-stopped child through collect, dump_image and ckpt_load -------------- */

START_TEST(test_live_collect_dump_load)
{
	char dir[] = "/tmp/check_ckpt.XXXXXX", name[64];
	struct ckpt_proc p, q;
	struct image_writer *w;
	struct image_reader *r;
	const struct image_section *s;
	pid_t pid;
	int st, sync_pipe[2], i;
	uint32_t v, found = 0;
	uint8_t *area, *back;
	char c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* the area exists before fork: same address in the child */
	area = mmap(NULL, 256 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(area, MAP_FAILED);
	ck_assert_int_eq(pipe(sync_pipe), 0);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
		for (i = 0; i < 256; i += 17)
			memset(area + ((size_t)i << 12), 'a' + i % 26, 4096);
		if (write(sync_pipe[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	ck_assert_int_eq(read(sync_pipe[0], &c, 1), 1);
	/* Wait (bounded) until the child sleeps inside pause(): /proc/PID/syscall names it. */
	for (i = 0; i < 5000; i++) {
		char *buf = NULL;

		if (procfs_read(pid, 0, "syscall", &buf, NULL) == 0 && atoi(buf) == 34 /* pause */) {
			free(buf);
			break;
		}
		free(buf);
		usleep(1000);
	}
	ck_assert_int_lt(i, 5000);
	ck_assert_int_eq(ptrace(PTRACE_SEIZE, pid, 0, 0), 0);
	ck_assert_int_eq(ptrace(PTRACE_INTERRUPT, pid, 0, 0), 0);
	ck_assert_int_eq(waitpid(pid, &st, __WALL), pid);

	{
		struct collect_tree ct = { .use_parasite = 0 };

		ckpt_proc_init(&p);
		p.uniquepid = strdup("test");
		ck_assert_int_eq(collect_process(pid, &pid, 1, &ct, &p), 0);
	}
	ck_assert_int_eq(p.pid, pid);
	ck_assert_int_eq(p.nthreads, 1);
	ck_assert_int_eq(p.threads[0].sysfix, CKPT_SYSFIX_RESTART); /* stopped in pause() */
	ck_assert_uint_ge(p.threads[0].xsave_size, 576);
	/* pages 0, 17, ... 255 of the area were written: exactly 16 stored inside it (the
	 * kernel may have merged the area with a neighbour, so count by address) */
	for (v = 0; v < p.nruns; v++) {
		uint64_t a = p.runs[v].vaddr, e = a + (uint64_t)p.runs[v].npages * 4096;
		uint64_t lo = (uint64_t)(uintptr_t)area, hi = lo + (256 << 12);

		if (e > lo && a < hi)
			found += (uint32_t)(((e < hi ? e : hi) - (a > lo ? a : lo)) / 4096);
	}
	ck_assert_int_eq(found, 16);

	ck_assert_int_eq(dump_image_name(name, sizeof(name), "a/b", "u-1"), 0);
	ck_assert_str_eq(name, "ckpt_a_b_u-1.dmtcp");
	{
		struct dump_image_opts o = { .dir = dir, .final_name = name, .prog = "t",
					      .uniquepid = "u-1", .compid = "c", .compress = 1 };

		ck_assert_int_eq(dump_image(pid, &p, &o, &w), 0);
	}
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	kill(pid, SIGKILL);
	waitpid(pid, &st, __WALL);

	{
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		ck_assert_int_eq(ckpt_load(path, &q, &r), 0);
		ck_assert_int_eq(q.pages_stored, p.pages_stored);
		s = image_find_section(r, CKPT_SEC_PAGES, NULL);
		ck_assert_ptr_nonnull(s);
		/* read the runs of the area back and compare with what the child wrote */
		back = malloc(4096);
		for (v = 0; v < s->nruns; v++) {
			uint8_t *buf;
			uint64_t k;

			if (s->runs[v].vaddr < (uint64_t)(uintptr_t)area ||
			    s->runs[v].vaddr >= (uint64_t)(uintptr_t)area + (256 << 12))
				continue;
			buf = malloc(s->runs[v].npages * 4096);
			ck_assert_int_eq(image_read_run(r, s, v, buf), 0);
			for (k = 0; k < s->runs[v].npages; k++) {
				size_t pg = (s->runs[v].vaddr - (uint64_t)(uintptr_t)area) / 4096 + k;

				if (pg >= 256)
					break; /* the container merged a run of the next vma */
				memset(back, 'a' + (int)(pg % 26), 4096);
				ck_assert_msg(pg % 17 == 0, "untouched page %zu stored", pg);
				ck_assert_int_eq(memcmp(buf + k * 4096, back, 4096), 0);
			}
			free(buf);
		}
		free(back);
		image_close(r);
		ckpt_proc_free(&q);
		unlink(path);
	}
	rmdir(dir);
	ckpt_proc_free(&p);
	munmap(area, 256 << 12);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ckpt_state");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_reject_mutations);
	tcase_add_test(tc, test_reject_truncation);
	tcase_add_test(tc, test_thread_count_allocates_nothing);
	tcase_add_test(tc, test_pages_at_pagemap_addresses);
	suite_add_tcase(s, tc);
	tc = tcase_create("live");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_live_collect_dump_load);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
