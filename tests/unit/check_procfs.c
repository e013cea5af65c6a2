/*
 * Unit tests of the /proc reader (common/procfs.c): the parsers on texts made to be awkward (a
 * comm holding spaces and parentheses, negative stat fields, map lines without a path or with
 * spaces in it, smaps key lines that start with hex digits), and the readers on this process
 * itself (its threads, maps, fds, a zombie child), and -ESRCH for a process that is gone.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"

/* ---- parsers --------------------------------------------------------------------------- */

START_TEST(test_path)
{
	char buf[96];

	procfs_path(buf, sizeof(buf), 0, 0, "stat");
	ck_assert_str_eq(buf, "/proc/self/stat");
	procfs_path(buf, sizeof(buf), 12, 34, "comm");
	ck_assert_str_eq(buf, "/proc/12/task/34/comm");
	procfs_path(buf, sizeof(buf), 12, 0, "");
	ck_assert_str_eq(buf, "/proc/12");
}
END_TEST

/* A stat line of 52 fields whose comm is "a b) (c)", field n holding 10 n except tty_nr (7),
 * tpgid (8) and nice (19), which are negative. */
static void make_stat(char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "1234 (a b) (c)) S");

	for (int f = 4; f <= PROCFS_STAT_MAX; f++) {
		long v = f == 7 ? -5 : f == 8 ? -1 : f == 19 ? -2 : 10L * f;

		len += (size_t)snprintf(buf + len, n - len, " %ld", v);
	}
	snprintf(buf + len, n - len, "\n");
}

START_TEST(test_parse_stat)
{
	struct procfs_stat st;
	char buf[1024];

	make_stat(buf, sizeof(buf));
	ck_assert_int_eq(procfs_parse_stat(buf, &st), 0);
	ck_assert_int_eq(st.nfields, PROCFS_STAT_MAX);
	ck_assert_int_eq(st.f[3], 'S');
	ck_assert_uint_eq(st.f[4], 40);
	ck_assert_uint_eq(st.f[6], 60);
	ck_assert_int_eq((int64_t)st.f[7], -5);
	ck_assert_int_eq((int64_t)st.f[8], -1);
	ck_assert_int_eq((int64_t)st.f[19], -2);
	ck_assert_uint_eq(st.f[22], 220);
	ck_assert_uint_eq(st.f[52], 520);

	/* an older kernel's shorter line: nfields says how far it went */
	ck_assert_int_eq(procfs_parse_stat("1 (init) R 0 1 1 0 -1 4194560", &st), 0);
	ck_assert_int_eq(st.nfields, 9);
	ck_assert_int_eq(st.f[3], 'R');
	ck_assert_int_eq((int64_t)st.f[8], -1);
	ck_assert_uint_eq(st.f[22], 0);

	ck_assert_int_eq(procfs_parse_stat("1 init R 0 1", &st), -EPROTO);
	ck_assert_int_eq(procfs_parse_stat("1 (init)", &st), -EPROTO);
	ck_assert_int_eq(procfs_parse_stat("1 (init) R 0 x", &st), -EPROTO);
}
END_TEST

static const char status_text[] = "Name:\tcat\n"
				  "Umask:\t0022\n"
				  "State:\tS (sleeping)\n"
				  "Tgid:\t42\n"
				  "Ngid:\t0\n"
				  "Pid:\t43\n"
				  "PPid:\t1\n"
				  "Uid:\t1000\t1001\t1002\t1003\n"
				  "Groups:\t4 24 27 \n"
				  "NSpid:\t43\t7\n"
				  "SigBlk:\t0000000000010000\n"
				  "CapEff:\t000001ffffffffff\n"
				  "Seccomp:\t2\n";

START_TEST(test_status_fields)
{
	int32_t v[8];
	const char *s;

	s = procfs_status_field(status_text, "Name");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(strncmp(s, "cat\n", 4), 0);
	ck_assert_uint_eq(strtoul(procfs_status_field(status_text, "Umask"), NULL, 8), 022);
	/* keys are whole: "Pid" is not "PPid" and "id" is nothing */
	ck_assert_int_eq(procfs_status_ints(status_text, "Pid", v, 8), 1);
	ck_assert_int_eq(v[0], 43);
	ck_assert_int_eq(procfs_status_ints(status_text, "PPid", v, 8), 1);
	ck_assert_int_eq(v[0], 1);
	ck_assert_ptr_null(procfs_status_field(status_text, "id"));
	ck_assert_ptr_null(procfs_status_field(status_text, "Gid"));
	/* the last line has no newline after it */
	ck_assert_int_eq(procfs_status_ints(status_text, "Seccomp", v, 8), 1);
	ck_assert_int_eq(v[0], 2);

	ck_assert_int_eq(procfs_status_ints(status_text, "Uid", v, 8), 4);
	ck_assert_int_eq(v[0], 1000);
	ck_assert_int_eq(v[3], 1003);
	ck_assert_int_eq(procfs_status_ints(status_text, "Uid", v, 2), 2);
	ck_assert_int_eq(procfs_status_ints(status_text, "Groups", v, 8), 3);
	ck_assert_int_eq(v[2], 27);
	ck_assert_int_eq(procfs_status_ints(status_text, "NSpid", v, 8), 2);
	ck_assert_int_eq(v[1], 7);
	ck_assert_int_eq(procfs_status_ints(status_text, "Nope", v, 8), 0);

	ck_assert_uint_eq(procfs_status_hex(status_text, "SigBlk"), 0x10000);
	ck_assert_uint_eq(procfs_status_hex(status_text, "CapEff"), 0x1ffffffffffull);
	ck_assert_uint_eq(procfs_status_hex(status_text, "SigIgn"), 0);
}
END_TEST

START_TEST(test_map_lines)
{
	struct procfs_map m;
	char line[256];

	strcpy(line, "00400000-0040b000 r-xp 00001000 08:01 1234    /usr/bin/cat\n");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 1);
	ck_assert_uint_eq(m.start, 0x400000);
	ck_assert_uint_eq(m.end, 0x40b000);
	ck_assert_str_eq(m.perms, "r-xp");
	ck_assert_uint_eq(m.offset, 0x1000);
	ck_assert_uint_eq(m.dev_major, 8);
	ck_assert_uint_eq(m.dev_minor, 1);
	ck_assert_uint_eq(m.inode, 1234);
	ck_assert_str_eq(m.path, "/usr/bin/cat");

	/* no path, with and without the blank the kernel may leave after the inode */
	strcpy(line, "7ffd10000000-7ffd10021000 rw-p 00000000 00:00 0 \n");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 1);
	ck_assert_str_eq(m.path, "");
	ck_assert_uint_eq(m.end, 0x7ffd10021000ull);
	strcpy(line, "7ffd10000000-7ffd10021000 ---s 00000000 00:00 0");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 1);
	ck_assert_str_eq(m.path, "");
	ck_assert_str_eq(m.perms, "---s");

	/* a path with spaces, inner runs of them kept */
	strcpy(line, "7f0000000000-7f0000001000 rw-s 00000000 fd:02 99                 "
		     "/tmp/a b  c (deleted)\n");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 1);
	ck_assert_str_eq(m.path, "/tmp/a b  c (deleted)");
	ck_assert_uint_eq(m.dev_major, 0xfd);
	ck_assert_uint_eq(m.dev_minor, 2);

	/* smaps' key lines, some of them starting with hex digits */
	strcpy(line, "Size:                  4 kB\n");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 0);
	strcpy(line, "Anonymous:             0 kB\n");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 0);
	strcpy(line, "AnonHugePages:         0 kB");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 0);
	strcpy(line, "FilePmdMapped:         0 kB");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 0);
	strcpy(line, "VmFlags: rd wr mr mw me ac sd");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 0);
	strcpy(line, "00400000-0040b000 r-xpq 00000000 08:01 1234 /x");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 0);
	strcpy(line, "");
	ck_assert_int_eq(procfs_parse_map_line(line, &m), 0);
}
END_TEST

/* ---- this process ---------------------------------------------------------------------- */

START_TEST(test_self)
{
	char name[16], comm[64], exe[4096], path[4096];
	struct procfs_stat st;
	unsigned long long start;
	pid_t tgid, ppid;
	ssize_t n;

	/* a comm that would fool a parser counting blanks or stopping at the first ')' */
	ck_assert_int_eq(prctl(PR_SET_NAME, "x) (y z", 0, 0, 0), 0);
	ck_assert_int_eq(procfs_comm(0, 0, comm, sizeof(comm)), 0);
	ck_assert_str_eq(comm, "x) (y z");
	ck_assert_int_eq(procfs_comm(getpid(), getpid(), comm, sizeof(comm)), 0);
	ck_assert_str_eq(comm, "x) (y z");
	ck_assert_int_eq(procfs_stat(0, 0, &st), 0);
	ck_assert_int_ge(st.nfields, 22);
	ck_assert_int_eq(st.f[3], 'R');
	ck_assert_int_eq((pid_t)st.f[4], getppid());
	ck_assert_int_eq(procfs_task_state(getpid(), 0), 'R');
	ck_assert_int_eq(procfs_start_time(getpid(), &start), 0);
	ck_assert_uint_eq(start, st.f[22]);
	ck_assert_int_eq(procfs_status_ids(getpid(), &tgid, &ppid), 0);
	ck_assert_int_eq(tgid, getpid());
	ck_assert_int_eq(ppid, getppid());
	snprintf(name, sizeof(name), "check_procfs");
	prctl(PR_SET_NAME, name, 0, 0, 0);

	ck_assert_int_eq(procfs_readlink(0, 0, "exe", exe, sizeof(exe)), 0);
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	ck_assert_int_gt(n, 0);
	path[n] = '\0';
	ck_assert_str_eq(exe, path);
	ck_assert_int_eq(procfs_readlink(0, 0, "exe", exe, 4), 0);
	ck_assert_int_eq(strlen(exe), 3); /* cut, terminated */
}
END_TEST

START_TEST(test_self_sigs)
{
	struct procfs_sigs s;
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	raise(SIGUSR2);
	ck_assert_int_eq(procfs_status_sigs(0, syscall(SYS_gettid), &s), 0);
	ck_assert_uint_eq(s.blk & (1ull << (SIGUSR2 - 1)), 1ull << (SIGUSR2 - 1));
	ck_assert_uint_eq((s.pnd | s.shdpnd) & (1ull << (SIGUSR2 - 1)), 1ull << (SIGUSR2 - 1));
	/* take it back before unblocking */
	ck_assert_int_eq(sigwaitinfo(&set, NULL), SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
END_TEST

struct map_find {
	uint64_t addr, prev_end;
	int found, ordered, seen;
	char perms[5];
};

static int find_map(const struct procfs_map *m, void *arg)
{
	struct map_find *f = arg;

	f->seen++;
	if (m->start < f->prev_end)
		f->ordered = 0;
	f->prev_end = m->end;
	if (f->addr >= m->start && f->addr < m->end) {
		f->found = 1;
		memcpy(f->perms, m->perms, 5);
	}
	return 0;
}

static int stop_at_two(const struct procfs_map *m, void *arg)
{
	(void)m;
	return ++*(int *)arg == 2 ? -EINTR : 0;
}

START_TEST(test_self_maps)
{
	struct map_find f = { .ordered = 1 };
	void *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int calls = 0;

	ck_assert_ptr_ne(page, MAP_FAILED);
	f.addr = (uint64_t)(uintptr_t)page;
	ck_assert_int_eq(procfs_each_map(0, find_map, &f), 0);
	ck_assert_int_eq(f.found, 1);
	ck_assert_int_eq(f.ordered, 1);
	ck_assert_int_gt(f.seen, 5);
	ck_assert_str_eq(f.perms, "r--p");
	ck_assert_int_eq(procfs_each_map(getpid(), stop_at_two, &calls), -EINTR);
	ck_assert_int_eq(calls, 2);
	munmap(page, 4096);
}
END_TEST

#define NTHREADS 3

struct sleeper {
	pthread_t th;
	pid_t tid;
	int pipe_rd;
	pthread_barrier_t *ready;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	char c;

	s->tid = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(s->ready);
	if (read(s->pipe_rd, &c, 1) < 0)
		return NULL;
	return NULL;
}

static int count_task(pid_t tid, void *arg)
{
	(void)tid;
	return ++*(int *)arg == 2 ? -EINTR : 0;
}

static int has(const pid_t *v, uint32_t n, pid_t x)
{
	for (uint32_t i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

START_TEST(test_self_tasks)
{
	struct sleeper s[NTHREADS];
	pthread_barrier_t ready;
	int pp[2], calls = 0, i;
	pid_t *tids;
	uint32_t n;

	ck_assert_int_eq(pipe(pp), 0);
	pthread_barrier_init(&ready, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++) {
		s[i].pipe_rd = pp[0];
		s[i].ready = &ready;
		ck_assert_int_eq(pthread_create(&s[i].th, NULL, sleeper_main, &s[i]), 0);
	}
	pthread_barrier_wait(&ready);

	ck_assert_int_eq(procfs_list_tasks(0, &tids, &n), 0);
	ck_assert_uint_eq(n, NTHREADS + 1);
	ck_assert(has(tids, n, getpid()));
	for (i = 0; i < NTHREADS; i++)
		ck_assert(has(tids, n, s[i].tid));
	free(tids);
	ck_assert_int_eq(procfs_list_tasks(getpid(), &tids, &n), 0);
	ck_assert_uint_eq(n, NTHREADS + 1);
	free(tids);
	/* the callback stops the walk and its result comes back */
	ck_assert_int_eq(procfs_each_task(getpid(), count_task, &calls), -EINTR);
	ck_assert_int_eq(calls, 2);

	/* a thread's own files, and its ids through /proc/TID */
	{
		pid_t tgid, ppid;
		int state;

		ck_assert_int_eq(procfs_status_ids(s[0].tid, &tgid, &ppid), 0);
		ck_assert_int_eq(tgid, getpid());
		state = procfs_task_state(getpid(), s[0].tid);
		ck_assert(state == 'S' || state == 'R');
	}

	close(pp[1]);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(s[i].th, NULL);
	close(pp[0]);
	pthread_barrier_destroy(&ready);
}
END_TEST

START_TEST(test_self_fds)
{
	struct procfs_fdinfo fi;
	char link[64], want[64], tmpl[] = "/tmp/check_procfs.XXXXXX";
	struct stat st;
	int sv[2], pp[2], fd, *fds;
	uint32_t n, i;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(pipe(pp), 0);
	ck_assert_int_eq(fstat(sv[1], &st), 0);
	ck_assert_uint_eq(procfs_fd_socket_ino(getpid(), sv[1]), st.st_ino);
	ck_assert_uint_eq(procfs_fd_socket_ino(0, sv[0]) != 0, 1);
	ck_assert_uint_ne(procfs_fd_socket_ino(0, sv[0]), st.st_ino);
	ck_assert_uint_eq(procfs_fd_socket_ino(0, pp[0]), 0);
	ck_assert_uint_eq(procfs_fd_socket_ino(0, 4000), 0);
	ck_assert_int_eq(fstat(pp[0], &st), 0);
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
	ck_assert_int_eq(procfs_fd_link(0, pp[0], link, sizeof(link)), 0);
	ck_assert_str_eq(link, want);

	ck_assert_int_eq(procfs_list_fds(0, &fds, &n), 0);
	for (i = 1; i < n; i++)
		ck_assert_int_lt(fds[i - 1], fds[i]);
	ck_assert(has(fds, n, sv[0]) && has(fds, n, sv[1]) && has(fds, n, pp[0]));
	free(fds);

	fd = mkostemp(tmpl, O_APPEND | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	unlink(tmpl);
	ck_assert_int_eq(write(fd, "hello", 5), 5);
	ck_assert_int_eq(procfs_fdinfo(getpid(), fd, &fi), 0);
	ck_assert_uint_eq(fi.pos, 5);
	ck_assert_uint_eq(fi.flags & O_APPEND, O_APPEND);
	ck_assert_uint_eq(fi.flags & O_CLOEXEC, O_CLOEXEC);
	ck_assert_uint_eq(fi.flags & O_ACCMODE, O_RDWR);
	ck_assert_uint_gt(fi.mnt_id, 0);
	ck_assert_int_eq(procfs_fdinfo(0, pp[1], &fi), 0);
	ck_assert_uint_eq(fi.flags & O_CLOEXEC, 0);
	ck_assert_uint_eq(fi.flags & O_ACCMODE, O_WRONLY);

	/* a handle, with O_CLOEXEC whatever the caller asked */
	{
		int mfd = procfs_open(0, 0, "pagemap", O_RDONLY);

		ck_assert_int_ge(mfd, 0);
		ck_assert_int_eq(fcntl(mfd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		close(mfd);
	}
	close(fd);
	close(sv[0]);
	close(sv[1]);
	close(pp[0]);
	close(pp[1]);
}
END_TEST

/* A child that has exited and is not reaped: listed among our children, state Z, its exit
 * status in stat field 52. Reaped, it is gone: every reader says -ESRCH. */
START_TEST(test_zombie_then_gone)
{
	struct procfs_stat st;
	struct procfs_sigs sigs;
	struct procfs_fdinfo fi;
	unsigned long long ticks;
	char buf[64], *text;
	pid_t child, *kids, tgid, ppid;
	uint32_t n;
	int state = 0, i, *fds, wst;

	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(3);
	for (i = 0; i < 5000 && state != 'Z'; i++) {
		state = procfs_task_state(child, 0);
		if (state != 'Z')
			usleep(1000);
	}
	ck_assert_int_eq(state, 'Z');
	ck_assert_int_eq(procfs_list_children(0, 0, &kids, &n), 0);
	ck_assert(has(kids, n, child));
	free(kids);
	ck_assert_int_eq(procfs_list_children(getpid(), getpid(), &kids, &n), 0);
	ck_assert(has(kids, n, child));
	free(kids);
	ck_assert_int_eq(procfs_stat(child, 0, &st), 0);
	ck_assert_int_eq(st.nfields, PROCFS_STAT_MAX);
	ck_assert_int_eq((pid_t)st.f[4], getpid());
	ck_assert_uint_eq(st.f[52], 3 << 8);
	ck_assert_int_eq(waitpid(child, &wst, 0), child);

	ck_assert_int_eq(procfs_read(child, 0, "status", &text, NULL), -ESRCH);
	ck_assert_ptr_null(text);
	ck_assert_int_eq(procfs_readlink(child, 0, "cwd", buf, sizeof(buf)), -ESRCH);
	ck_assert_int_eq(procfs_comm(child, 0, buf, sizeof(buf)), -ESRCH);
	ck_assert_int_eq(procfs_comm(child, child, buf, sizeof(buf)), -ESRCH);
	ck_assert_int_eq(procfs_stat(child, 0, &st), -ESRCH);
	ck_assert_int_eq(procfs_task_state(child, 0), -ESRCH);
	ck_assert_int_eq(procfs_start_time(child, &ticks), -ESRCH);
	ck_assert_int_eq(procfs_status_ids(child, &tgid, &ppid), -ESRCH);
	ck_assert_int_eq(procfs_status_sigs(child, 0, &sigs), -ESRCH);
	ck_assert_int_eq(procfs_each_task(child, count_task, &i), -ESRCH);
	ck_assert_int_eq(procfs_list_tasks(child, &kids, &n), -ESRCH);
	ck_assert_int_eq(procfs_list_children(child, 0, &kids, &n), -ESRCH);
	ck_assert_int_eq(procfs_each_map(child, stop_at_two, &i), -ESRCH);
	ck_assert_int_eq(procfs_fd_link(child, 0, buf, sizeof(buf)), -ESRCH);
	ck_assert_uint_eq(procfs_fd_socket_ino(child, 0), 0);
	ck_assert_int_eq(procfs_list_fds(child, &fds, &n), -ESRCH);
	ck_assert_int_eq(procfs_fdinfo(child, 0, &fi), -ESRCH);
	ck_assert_int_eq(procfs_open(child, 0, "mem", O_RDONLY), -ESRCH);
}
END_TEST

static Suite *procfs_suite(void)
{
	Suite *s = suite_create("procfs");
	TCase *tc = tcase_create("parse");
	TCase *tl = tcase_create("live");

	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_parse_stat);
	tcase_add_test(tc, test_status_fields);
	tcase_add_test(tc, test_map_lines);
	suite_add_tcase(s, tc);
	tcase_add_test(tl, test_self);
	tcase_add_test(tl, test_self_sigs);
	tcase_add_test(tl, test_self_maps);
	tcase_add_test(tl, test_self_tasks);
	tcase_add_test(tl, test_self_fds);
	tcase_add_test(tl, test_zombie_then_gone);
	suite_add_tcase(s, tl);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(procfs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
