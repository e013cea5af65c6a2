/*
 * The victim/spy test of the infection library (tracer/infect.*) and the parasite commands.
 *
 * The spy (this file) starts build/tests/progs/victim[.static], reads the state the victim
 * says it holds, seizes every thread with the tracer's ptrace options, interrupts them,
 * infects, runs every parasite command and checks the results against the victim's own
 * account, moves fds both ways, cures and detaches; the victim then checks itself (registers,
 * interrupted syscalls, memory map, fd table, code bytes, state) and prints PASS.
 *
 * Cases: dynamic and static victim, a multi-threaded victim with a non-main thread infected
 * while in nanosleep, a victim under a seccomp filter returning RET_TRACE for the injected
 * syscalls, and a victim killed mid-infection (between commands, and while a command is
 * blocked in the target). Each runs as root and as the user nobody (an
 * unprivileged tracer of its own child), in a forked child with a time bound.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "image.h"
#include "log.h"
#include "tracer/infect.h"

#define SEIZE_OPTS                                                                                 \
	(PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |      \
	 PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD)

enum { V_STATIC = 1, V_THREADS = 2, V_SECCOMP = 4, V_KILL = 8, V_KILL_IN_CMD = 16 };

struct expect {
	int pid, target;
	int sigs[3];
	unsigned long long act_handler[3], act_flags[3], act_mask[3];
	int it_interval[3], it_value[3];
	int timer_id, timer_interval, timer_value;
	int umask;
	unsigned long personality;
	char name[32];
	int nnp;
	unsigned long long ss_sp, ss_size, tidaddr, sigmask;
	unsigned long long buf_addr, buf_len;
	unsigned seed;
};

struct victim {
	pid_t pid;
	int in_fd;
	FILE *out;
	struct expect e;
};

static int failed;

static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "spy: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	failed = 1;
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			complain(__VA_ARGS__);                                                     \
	} while (0)

static unsigned char pattern_byte(unsigned seed, size_t i)
{
	return (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static void victim_path(char *dst, size_t n, int is_static)
{
	char exe[PATH_MAX - 32];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	ck_assert_int_gt(l, 0);
	exe[l] = 0;
	slash = strrchr(exe, '/'); /* .../build/tests/unit/check_infect */
	*slash = 0;
	slash = strrchr(exe, '/');
	*slash = 0;
	snprintf(dst, n, "%s/progs/victim%s", exe, is_static ? ".static" : "");
}

static void parse_line(struct expect *e, const char *line)
{
	int sig, i;
	unsigned long long h, f, m;

	if (sscanf(line, "pid %d", &e->pid) == 1)
		return;
	if (sscanf(line, "target %d", &e->target) == 1)
		return;
	if (sscanf(line, "sigact %d %llx %llx %llx", &sig, &h, &f, &m) == 4) {
		for (i = 0; i < 3; i++)
			if (!e->sigs[i]) {
				e->sigs[i] = sig;
				e->act_handler[i] = h;
				e->act_flags[i] = f;
				e->act_mask[i] = m;
				break;
			}
		return;
	}
	if (sscanf(line, "itimer %d", &i) == 1 && i >= 0 && i < 3) {
		sscanf(line, "itimer %*d %d %d", &e->it_interval[i], &e->it_value[i]);
		return;
	}
	if (sscanf(line, "timer %d %d %d", &e->timer_id, &e->timer_interval, &e->timer_value) == 3)
		return;
	if (sscanf(line, "umask %o", &e->umask) == 1)
		return;
	if (sscanf(line, "personality %lx", &e->personality) == 1)
		return;
	if (sscanf(line, "name %31s", e->name) == 1)
		return;
	if (sscanf(line, "nnp %d", &e->nnp) == 1)
		return;
	if (sscanf(line, "altstack %llx %llu", &e->ss_sp, &e->ss_size) == 2)
		return;
	if (sscanf(line, "tidaddr %llx", &e->tidaddr) == 1)
		return;
	if (sscanf(line, "sigmask %llx", &e->sigmask) == 1)
		return;
	sscanf(line, "buf %llx %llu %u", &e->buf_addr, &e->buf_len, &e->seed);
}

static int start_victim(struct victim *v, int mode)
{
	char path[PATH_MAX], line[512];
	int in[2], out[2];
	const char *argv[4] = {"victim", NULL, NULL, NULL};
	int n = 1;

	victim_path(path, sizeof(path), mode & V_STATIC);
	if (mode & V_THREADS)
		argv[n++] = "threads";
	if (mode & V_SECCOMP)
		argv[n++] = "seccomp";
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -1;
	v->pid = fork();
	if (v->pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(in[0], 0);
		dup2(out[1], 1);
		/* Not the test's stderr: its file offset moves whenever anyone logs, and the
		 * victim compares its fd table (offsets included) before and after. */
		if (null >= 0)
			dup2(null, 2);
		/* Nor Check's own result file, whose offset moves as other tests report. */
		syscall(SYS_close_range, 3, ~0U, 0);
		execv(path, (char **)argv);
		fprintf(stderr, "spy: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	v->in_fd = in[1];
	v->out = fdopen(out[0], "r");
	memset(&v->e, 0, sizeof(v->e));
	while (fgets(line, sizeof(line), v->out)) {
		if (!strncmp(line, "READY", 5))
			return 0;
		if (!strncmp(line, "FAIL", 4)) {
			complain("victim: %s", line);
			return -1;
		}
		parse_line(&v->e, line);
	}
	complain("victim %s ended before READY", path);
	return -1;
}

/* Explicit readiness: the target thread is inside syscall nr (/proc/.../syscall). */
static int wait_in_syscall(pid_t pid, pid_t tid, int nr)
{
	char path[96], buf[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	for (i = 0; i < 20000; i++) {
		FILE *f = fopen(path, "re");
		int cur = -2;

		if (f) {
			/* "running" while the thread runs: atoi would read it as 0 (read). */
			if (fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9')
				cur = atoi(buf);
			fclose(f);
		}
		if (cur == nr)
			return 0;
		usleep(1000);
	}
	complain("tid %d never entered syscall %d", tid, nr);
	return -1;
}

static int list_threads(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	/* The victim's threads all exist before READY, so the task directory is stable. */
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (n < max && (de = readdir(d)))
		if (de->d_name[0] != '.')
			tids[n++] = atoi(de->d_name);
	closedir(d);
	return n;
}

static int seize_all(pid_t pid, pid_t *tids, int n)
{
	int i, st;

	for (i = 0; i < n; i++) {
		if (ptrace(PTRACE_SEIZE, tids[i], NULL, (void *)(long)SEIZE_OPTS) ||
		    ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL)) {
			complain("cannot seize tid %d of %d: %s", tids[i], pid, strerror(errno));
			return -1;
		}
		if (waitpid(tids[i], &st, __WALL) != tids[i] || !WIFSTOPPED(st) ||
		    (st >> 16) != PTRACE_EVENT_STOP) {
			complain("tid %d: unexpected wait status %#x", tids[i], st);
			return -1;
		}
	}
	return 0;
}

static void check_misc(struct infect_ctx *ctx, const struct victim *v)
{
	struct parasite_misc_args *m = &infect_args(ctx)->u.misc;
	int r = infect_run(ctx, PARASITE_GET_MISC);

	CHECK(r == 0, "GET_MISC returned %d", r);
	CHECK(m->pid == v->e.pid, "GET_MISC pid %d, expected %d", m->pid, v->e.pid);
	CHECK(m->tid == v->e.target, "GET_MISC tid %d, expected %d", m->tid, v->e.target);
	CHECK(m->ppid == getpid(), "GET_MISC ppid %d, expected %d", m->ppid, getpid());
	CHECK(m->umask == v->e.umask, "GET_MISC umask %o, expected %o", m->umask, v->e.umask);
	CHECK((unsigned long)m->personality == v->e.personality, "personality %#llx, expected %#lx",
	      (unsigned long long)m->personality, v->e.personality);
	CHECK(m->err_name == 0 && !strcmp(m->name, v->e.name), "name '%s', expected '%s'", m->name,
	      v->e.name);
	CHECK(m->no_new_privs == v->e.nnp, "no_new_privs %d, expected %d", m->no_new_privs,
	      v->e.nnp);
	CHECK(m->dumpable == 1, "dumpable %d", m->dumpable);
	CHECK(m->pdeathsig == 0 && m->child_subreaper == 0, "pdeathsig %d subreaper %d",
	      m->pdeathsig, m->child_subreaper);
}

static void check_sigactions(struct infect_ctx *ctx, const struct victim *v)
{
	struct parasite_sigactions_args *s = &infect_args(ctx)->u.sigacts;
	int r = infect_run(ctx, PARASITE_GET_SIGACTIONS), i;

	CHECK(r == 0, "GET_SIGACTIONS returned %d", r);
	for (i = 0; i < PARASITE_NSIG; i++)
		CHECK(s->err[i] == 0, "rt_sigaction(%d) failed: %d", i + 1, s->err[i]);
	for (i = 0; i < 3; i++) {
		const struct parasite_ksigaction *k = &s->act[v->e.sigs[i] - 1];

		CHECK(v->e.sigs[i] > 0, "victim did not report its sigactions");
		CHECK(k->handler == v->e.act_handler[i] && k->flags == v->e.act_flags[i] &&
			      k->mask == v->e.act_mask[i],
		      "signal %d: handler %#llx flags %#llx mask %#llx, expected %#llx %#llx %#llx",
		      v->e.sigs[i], (unsigned long long)k->handler, (unsigned long long)k->flags,
		      (unsigned long long)k->mask, v->e.act_handler[i], v->e.act_flags[i],
		      v->e.act_mask[i]);
	}
}

static void check_itimers(struct infect_ctx *ctx, const struct victim *v)
{
	struct parasite_itimers_args *t = &infect_args(ctx)->u.itimers;
	int r = infect_run(ctx, PARASITE_GET_ITIMERS), i;

	CHECK(r == 0, "GET_ITIMERS returned %d", r);
	for (i = 0; i < 3; i++) {
		const struct parasite_itimerval *it = &t->it[i];

		CHECK(t->err[i] == 0, "getitimer(%d): %d", i, t->err[i]);
		CHECK(it->interval_sec == v->e.it_interval[i] && it->interval_usec == 0,
		      "itimer %d interval %lld.%06lld, expected %d", i, (long long)it->interval_sec,
		      (long long)it->interval_usec, v->e.it_interval[i]);
		CHECK(it->value_sec <= v->e.it_value[i] && it->value_sec > v->e.it_value[i] - 100,
		      "itimer %d value %lld, expected just under %d", i, (long long)it->value_sec,
		      v->e.it_value[i]);
	}
}

static void check_posix_timers(struct infect_ctx *ctx, const struct victim *v)
{
	struct parasite_posix_timers_args *t = &infect_args(ctx)->u.timers;
	char path[64], line[128];
	FILE *f;
	int r, id, found = -1;
	uint32_t i;

	/* The ids come from /proc/PID/timers, as a dumper would get them. */
	snprintf(path, sizeof(path), "/proc/%d/timers", v->pid);
	f = fopen(path, "re");
	CHECK(f != NULL, "cannot open %s: %s", path, strerror(errno));
	if (!f)
		return;
	t->nr = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "ID: %d", &id) == 1 && t->nr < PARASITE_MAX_TIMERS)
			t->t[t->nr++].id = id;
	fclose(f);
	r = infect_run(ctx, PARASITE_GET_POSIX_TIMERS);
	CHECK(r == 0, "GET_POSIX_TIMERS returned %d", r);
	for (i = 0; i < t->nr; i++)
		if (t->t[i].id == v->e.timer_id)
			found = (int)i;
	CHECK(found >= 0, "timer %d not listed in %s", v->e.timer_id, path);
	if (found < 0)
		return;
	CHECK(t->t[found].err == 0 && t->t[found].overrun == 0, "timer_gettime err %d overrun %d",
	      t->t[found].err, t->t[found].overrun);
	CHECK(t->t[found].interval_sec == v->e.timer_interval && t->t[found].interval_nsec == 0,
	      "timer interval %lld, expected %d", (long long)t->t[found].interval_sec,
	      v->e.timer_interval);
	CHECK(t->t[found].value_sec < v->e.timer_value &&
		      t->t[found].value_sec > v->e.timer_value - 100,
	      "timer value %lld, expected just under %d", (long long)t->t[found].value_sec,
	      v->e.timer_value);
}

static void check_thread_state(struct infect_ctx *ctx, const struct victim *v, int threads)
{
	struct parasite_thread_state_args *t = &infect_args(ctx)->u.thread;
	int r = infect_run_thread(ctx, v->e.target, PARASITE_GET_THREAD_STATE);

	CHECK(r == 0, "GET_THREAD_STATE returned %d", r);
	CHECK(t->tid == v->e.target, "GET_THREAD_STATE ran in %d, expected %d", t->tid,
	      v->e.target);
	CHECK(t->err_altstack == 0 && t->ss_sp == v->e.ss_sp && t->ss_size == v->e.ss_size &&
		      t->ss_flags == 0,
	      "sigaltstack %#llx/%llu/%d, expected %#llx/%llu", (unsigned long long)t->ss_sp,
	      (unsigned long long)t->ss_size, t->ss_flags, v->e.ss_sp, v->e.ss_size);
	CHECK(t->err_tid_addr == 0 && t->clear_tid_addr == v->e.tidaddr,
	      "clear-tid %#llx (err %d), expected %#llx", (unsigned long long)t->clear_tid_addr,
	      t->err_tid_addr, v->e.tidaddr);
	CHECK(t->err_sigmask == 0 && t->sigmask == v->e.sigmask, "sigmask %#llx, expected %#llx",
	      (unsigned long long)t->sigmask, v->e.sigmask);
	if (threads) {
		/* The same command in another thread (the main one) of the same process. */
		r = infect_run_thread(ctx, v->pid, PARASITE_GET_THREAD_STATE);
		CHECK(r == 0 && t->tid == v->pid, "GET_THREAD_STATE in main: %d, tid %d", r,
		      t->tid);
		CHECK(t->ss_size == 0 || t->ss_flags != 0, "main thread has the worker's altstack");
	}
}

static int compare_pattern(const struct victim *v, const unsigned char *got, uint64_t off,
			   size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != pattern_byte(v->e.seed, off + i)) {
			complain("%s: byte %zu is %#x, expected %#x", what, i, got[i],
				 pattern_byte(v->e.seed, off + i));
			return -1;
		}
	return 0;
}

static void check_dump_pages(struct infect_ctx *ctx, const struct victim *v)
{
	struct parasite_dump_pages_args *d = &infect_args(ctx)->u.dump;
	char tmpl[] = "/tmp/infect-dump.XXXXXX";
	unsigned char got[8192];
	int file = mkstemp(tmpl), p[2], rfile = -1, rpipe = -1, r;
	ssize_t n;

	CHECK(file >= 0, "mkstemp: %s", strerror(errno));
	if (file < 0)
		return;
	unlink(tmpl);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);

	/* PWRITE: pages 0 and 2 of the victim's buffer at file offset 4096. */
	r = infect_give_fd(ctx, file, &rfile);
	CHECK(r == 0 && rfile >= 0, "infect_give_fd(file): %d", r);
	memset(d, 0, sizeof(*d));
	d->fd = rfile;
	d->mode = PARASITE_DUMP_PWRITE;
	d->file_off = 4096;
	d->nr_runs = 2;
	d->runs[0].addr = v->e.buf_addr;
	d->runs[0].len = 4096;
	d->runs[1].addr = v->e.buf_addr + 8192;
	d->runs[1].len = 4096;
	r = infect_run(ctx, PARASITE_DUMP_PAGES);
	CHECK(r == 0 && d->bytes_done == 8192 && d->runs_done == 2,
	      "DUMP_PAGES pwrite: %d, %llu bytes, %u runs", r, (unsigned long long)d->bytes_done,
	      d->runs_done);
	n = pread(file, got, sizeof(got), 4096);
	CHECK(n == 8192, "image file holds %zd bytes at 4096", n);
	compare_pattern(v, got, 0, 4096, "pwrite run 0");
	compare_pattern(v, got + 4096, 8192, 4096, "pwrite run 1");

	/* PWRITE with chunk checksums from the blob: 12 KiB in two runs, chunks of 4 KiB cross
	 * the run boundary; then 8 KiB chunks, the last one short. */
	if (__builtin_cpu_supports("sse4.2")) {
		static const uint32_t chunks[2] = { 4096, 8192 };
		unsigned char want[12288];

		for (size_t i = 0; i < sizeof(want); i++)
			want[i] = pattern_byte(v->e.seed, i);
		for (int c = 0; c < 2; c++) {
			uint32_t k, nk = (12288 + chunks[c] - 1) / chunks[c];

			d->mode = PARASITE_DUMP_PWRITE;
			d->file_off = 65536;
			d->nr_runs = 2;
			d->runs[0].addr = v->e.buf_addr;
			d->runs[0].len = 6144;
			d->runs[1].addr = v->e.buf_addr + 6144;
			d->runs[1].len = 6144;
			d->flags = PARASITE_DUMP_F_CRC32C;
			d->crc_chunk = chunks[c];
			r = infect_run(ctx, PARASITE_DUMP_PAGES);
			CHECK(r == 0 && d->bytes_done == 12288 && d->nr_crcs == nk,
			      "DUMP_PAGES crc %u: %d, %llu bytes, %u crcs", chunks[c], r,
			      (unsigned long long)d->bytes_done, d->nr_crcs);
			for (k = 0; r == 0 && k < nk; k++) {
				size_t len = 12288 - k * chunks[c];

				len = len < chunks[c] ? len : chunks[c];
				CHECK(d->crcs[k] == crc32c(0, want + k * chunks[c], len),
				      "chunk %u of %u bytes: crc %#x, expected %#x", k, chunks[c],
				      d->crcs[k], crc32c(0, want + k * chunks[c], len));
			}
			n = pread(file, got, sizeof(got), 65536);
			CHECK(n == 8192, "image file holds %zd bytes at 65536", n);
			compare_pattern(v, got, 0, 8192, "pwrite with crc");
		}
		/* more bytes than PARASITE_MAX_CRCS chunks, or a chunk size that is no multiple of 8 */
		d->crc_chunk = 8;
		r = infect_run(ctx, PARASITE_DUMP_PAGES);
		CHECK(r == -E2BIG, "DUMP_PAGES with too many chunks returned %d", r);
		d->crc_chunk = 4100;
		r = infect_run(ctx, PARASITE_DUMP_PAGES);
		CHECK(r == -EINVAL, "DUMP_PAGES with a chunk of 4100 returned %d", r);
		d->flags = 0x80;
		r = infect_run(ctx, PARASITE_DUMP_PAGES);
		CHECK(r == -EINVAL, "DUMP_PAGES with unknown flags returned %d", r);
		d->flags = 0;
		d->crc_chunk = 0;
	}

	/* VMSPLICE then WRITE into a pipe the spy drains before the victim runs again. */
	r = infect_give_fd(ctx, p[1], &rpipe);
	CHECK(r == 0 && rpipe >= 0, "infect_give_fd(pipe): %d", r);
	d->fd = rpipe;
	d->mode = PARASITE_DUMP_VMSPLICE;
	d->nr_runs = 1;
	d->runs[0].addr = v->e.buf_addr + 4096;
	d->runs[0].len = 4096;
	r = infect_run(ctx, PARASITE_DUMP_PAGES);
	CHECK(r == 0 && d->bytes_done == 4096, "DUMP_PAGES vmsplice: %d, %llu bytes", r,
	      (unsigned long long)d->bytes_done);
	n = read(p[0], got, 4096);
	CHECK(n == 4096, "vmsplice pipe gave %zd bytes", n);
	compare_pattern(v, got, 4096, 4096, "vmsplice run");
	d->mode = PARASITE_DUMP_WRITE;
	d->runs[0].addr = v->e.buf_addr + 10;
	d->runs[0].len = 100;
	r = infect_run(ctx, PARASITE_DUMP_PAGES);
	CHECK(r == 0 && d->bytes_done == 100, "DUMP_PAGES write: %d", r);
	n = read(p[0], got, 100);
	CHECK(n == 100, "write pipe gave %zd bytes", n);
	compare_pattern(v, got, 10, 100, "write run");

	/* A short write: 12 KiB in two 6 KiB runs into a non-blocking one-page pipe. The first
	 * writev stops after 4 KiB inside run 0, the rest of run 0 gets EAGAIN; the command
	 * reports the error and exactly how far it got. */
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fcntl(p[1], F_SETFL, O_NONBLOCK); /* shared with the target's fd: same description */
	d->mode = PARASITE_DUMP_WRITE;
	d->nr_runs = 2;
	d->runs[0].addr = v->e.buf_addr;
	d->runs[0].len = 6144;
	d->runs[1].addr = v->e.buf_addr + 6144;
	d->runs[1].len = 6144;
	r = infect_run(ctx, PARASITE_DUMP_PAGES);
	CHECK(r == -EAGAIN && d->bytes_done == 4096 && d->runs_done == 0,
	      "short DUMP_PAGES write: %d, %llu bytes, %u runs", r,
	      (unsigned long long)d->bytes_done, d->runs_done);
	n = read(p[0], got, sizeof(got));
	CHECK(n == 4096, "short write pipe gave %zd bytes", n);
	compare_pattern(v, got, 0, 4096, "short write");

	/* Bad input is refused, not acted on. */
	d->mode = 99;
	r = infect_run(ctx, PARASITE_DUMP_PAGES);
	CHECK(r == -EINVAL, "DUMP_PAGES with a bad mode returned %d", r);

	if (rfile >= 0)
		CHECK(infect_remote_close(ctx, rfile) == 0, "remote close of the file fd");
	if (rpipe >= 0)
		CHECK(infect_remote_close(ctx, rpipe) == 0, "remote close of the pipe fd");
	close(file);
	close(p[0]);
	close(p[1]);
}

static void check_fds_and_syscalls(struct infect_ctx *ctx, const struct victim *v)
{
	uint64_t a[6] = {0};
	struct stat mine, theirs;
	long ret = 0;
	int lfd = -1, r;

	/* The victim's stdin is the read end of our pipe: the same inode must come back. */
	r = infect_take_fd(ctx, 0, &lfd);
	CHECK(r == 0, "infect_take_fd(0): %d", r);
	if (lfd >= 0) {
		fstat(lfd, &theirs);
		fstat(v->in_fd, &mine);
		CHECK(mine.st_ino == theirs.st_ino, "taken fd is not the victim's stdin pipe");
		close(lfd);
	}
	r = infect_getfd(v->pid, 0, &lfd);
	CHECK(r == 0, "infect_getfd(0): %d", r);
	if (r == 0)
		close(lfd);
	r = infect_remote_syscall(ctx, __NR_gettid, a, &ret);
	CHECK(r == 0 && ret == v->e.target, "remote gettid: %d, %ld", r, ret);
	{
		/* The library logs the bad command; keep the expected line out of the output. */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		log_set_fd(null);
		r = infect_run(ctx, PARASITE_CMD__COUNT);
		log_set_fd(2);
		close(null);
	}
	CHECK(r == -EINVAL, "unknown command returned %d", r);
}

/*
 * Resume every thread with PTRACE_CONT, as the tracer does (PTRACE_DETACH would wake the
 * thread with a pending-signal kick that hides a missing restart fix-up), wake the victim,
 * and stay its tracer until it exits: signals are delivered, other stops continued.
 * Returns the victim's wait status.
 */
static int resume_and_reap(const struct victim *v, pid_t *tids, int n)
{
	int i, st = 0;

	for (i = 0; i < n; i++)
		if (ptrace(PTRACE_CONT, tids[i], NULL, NULL))
			complain("PTRACE_CONT %d: %s", tids[i], strerror(errno));
	if (write(v->in_fd, "g", 1) != 1)
		complain("cannot wake the victim");
	for (;;) {
		pid_t w = waitpid(-1, &st, __WALL);

		if (w < 0) {
			complain("waitpid: %s", strerror(errno));
			return -1;
		}
		if (w == v->pid && (WIFEXITED(st) || WIFSIGNALED(st)))
			return st;
		if (WIFSTOPPED(st)) {
			int sig = (st >> 16) ? 0 : WSTOPSIG(st);

			ptrace(PTRACE_CONT, w, NULL, (void *)(long)sig);
		}
	}
}

struct killer {
	pid_t pid, tid;
};

/* Kill the victim once the parasite is blocked writing into a full pipe. */
static void *kill_when_blocked(void *arg)
{
	const struct killer *k = arg;

	/* DUMP_WRITE uses writev. Kill even if it never shows (the wait complained), so the
	 * spy's infect_run cannot hang. */
	wait_in_syscall(k->pid, k->tid, __NR_writev);
	kill(k->pid, SIGKILL);
	return NULL;
}

/* The victim dies while a parasite command runs: the run reports -ESRCH, cure too. */
static void check_killed_in_command(struct infect_ctx *ctx, const struct victim *v)
{
	struct parasite_dump_pages_args *d = &infect_args(ctx)->u.dump;
	struct killer k = {v->pid, v->e.target};
	pthread_t th;
	int p[2], rpipe = -1, r;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	/* One page of pipe: the 12 KiB write blocks until someone reads, and no one will. */
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	r = infect_give_fd(ctx, p[1], &rpipe);
	CHECK(r == 0, "infect_give_fd(pipe): %d", r);
	memset(d, 0, sizeof(*d));
	d->fd = rpipe;
	d->mode = PARASITE_DUMP_WRITE;
	d->nr_runs = 1;
	d->runs[0].addr = v->e.buf_addr;
	d->runs[0].len = v->e.buf_len;
	ck_assert_int_eq(pthread_create(&th, NULL, kill_when_blocked, &k), 0);
	r = infect_run(ctx, PARASITE_DUMP_PAGES);
	pthread_join(th, NULL);
	CHECK(r == -ESRCH, "command interrupted by SIGKILL returned %d, expected -ESRCH", r);
	r = infect_cure(ctx);
	CHECK(r == -ESRCH, "cure after SIGKILL returned %d, expected -ESRCH", r);
	close(p[0]);
	close(p[1]);
}

static int scenario(int mode)
{
	struct infect_ctx *ctx = NULL;
	struct victim v;
	pid_t tids[16];
	char line[512];
	uint64_t a[6] = {0};
	long ret = 0;
	int n, r, st, passed = 0;

	if (start_victim(&v, mode))
		return 1;
	if (wait_in_syscall(v.pid, v.e.target, (mode & V_THREADS) ? __NR_nanosleep : __NR_read))
		return 1;
	n = list_threads(v.pid, tids, 16);
	if (n != ((mode & V_THREADS) ? 2 : 1)) {
		complain("victim has %d threads", n);
		return 1;
	}
	if (seize_all(v.pid, tids, n))
		return 1;
	{
		/* The point is to infect a thread interrupted inside a syscall: make sure it is. */
		struct user_regs_struct regs;
		long want = (mode & V_THREADS) ? __NR_nanosleep : __NR_read;

		if (ptrace(PTRACE_GETREGS, v.e.target, NULL, &regs) ||
		    (long)regs.orig_rax != want) {
			complain("target was not stopped inside syscall %ld (orig_rax %lld)", want,
				 (long long)regs.orig_rax);
			return 1;
		}
	}

	/* Without the blob first: a plain remote syscall in the stopped thread. */
	r = infect_syscall(v.e.target, __NR_getpid, a, &ret);
	CHECK(r == 0 && ret == v.pid, "infect_syscall(getpid): %d, %ld", r, ret);

	if (!(mode & V_THREADS))
		/* Pending when the parasite runs: must be taken and queued again, not lost. */
		syscall(SYS_tgkill, v.pid, v.e.target, SIGUSR1);

	r = infect_start(v.pid, v.e.target, &ctx);
	CHECK(r == 0, "infect_start: %d", r);
	if (r)
		return 1;

	if (mode & (V_KILL | V_KILL_IN_CMD)) {
		if (mode & V_KILL_IN_CMD) {
			check_killed_in_command(ctx, &v);
		} else {
			kill(v.pid, SIGKILL);
			r = infect_run(ctx, PARASITE_GET_MISC);
			CHECK(r == -ESRCH, "run after SIGKILL returned %d, expected -ESRCH", r);
			r = infect_cure(ctx);
			CHECK(r == -ESRCH, "cure after SIGKILL returned %d, expected -ESRCH", r);
		}
		r = infect_syscall(v.e.target, __NR_getpid, a, &ret);
		CHECK(r == -ESRCH, "infect_syscall on a dead thread returned %d", r);
		CHECK(waitpid(v.pid, &st, 0) == v.pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		      "victim status %#x", st);
		return failed;
	}

	check_misc(ctx, &v);
	check_sigactions(ctx, &v);
	check_itimers(ctx, &v);
	check_posix_timers(ctx, &v);
	check_thread_state(ctx, &v, mode & V_THREADS);
	check_dump_pages(ctx, &v);
	check_fds_and_syscalls(ctx, &v);
	r = infect_cure(ctx);
	CHECK(r == 0, "infect_cure: %d", r);
	st = resume_and_reap(&v, tids, n);
	while (fgets(line, sizeof(line), v.out)) {
		if (!strncmp(line, "PASS", 4))
			passed = 1;
		else
			complain("victim: %s", line);
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "victim exit status %#x", st);
	CHECK(passed, "victim did not print PASS");
	fclose(v.out);
	close(v.in_fd);
	return failed;
}

/* Run a scenario in a child, as nobody when variant is 1 (and we are root), bounded. */
static void run_variant(int mode, int unpriv)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(60);
		log_set_prog("check_infect");
		if (unpriv && getuid() == 0) {
			struct passwd *pw = getpwnam("nobody");

			if (!pw || setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
				fprintf(stderr, "spy: cannot become nobody\n");
				_exit(99);
			}
			/* setuid clears dumpable; an unprivileged tracer needs its children
			 * dumpable, which they are after exec anyway. */
		}
		_exit(scenario(mode));
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "scenario mode %#x %s failed (status %#x), see stderr", mode,
		      unpriv ? "as nobody" : "as root", st);
}

START_TEST(test_infect_dynamic)
{
	run_variant(0, _i);
}
END_TEST

START_TEST(test_infect_static)
{
	run_variant(V_STATIC, _i);
}
END_TEST

START_TEST(test_infect_thread_in_nanosleep)
{
	run_variant(V_THREADS | V_STATIC, _i);
}
END_TEST

START_TEST(test_infect_threads_dynamic)
{
	run_variant(V_THREADS, _i);
}
END_TEST

START_TEST(test_infect_seccomp_trace)
{
	run_variant(V_SECCOMP, _i);
}
END_TEST

START_TEST(test_infect_killed)
{
	run_variant(V_KILL, _i);
}
END_TEST

START_TEST(test_infect_killed_in_command)
{
	run_variant(V_KILL_IN_CMD, _i);
}
END_TEST

static Suite *infect_suite(void)
{
	Suite *s = suite_create("infect");
	TCase *tc = tcase_create("victim-spy");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_infect_dynamic, 0, 2);
	tcase_add_loop_test(tc, test_infect_static, 0, 2);
	tcase_add_loop_test(tc, test_infect_thread_in_nanosleep, 0, 2);
	tcase_add_loop_test(tc, test_infect_threads_dynamic, 0, 2);
	tcase_add_loop_test(tc, test_infect_seccomp_trace, 0, 2);
	tcase_add_loop_test(tc, test_infect_killed, 0, 2);
	tcase_add_loop_test(tc, test_infect_killed_in_command, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(infect_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
