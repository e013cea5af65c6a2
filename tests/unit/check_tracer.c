/*
 * Unit tests of the tracer's pure parts: the seccomp filter's decisions (installed in a child
 * with no tracer, where a trapped syscall fails with ENOSYS without running and an allowed one
 * runs), the process table, and the constant names printed in logs.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracer/tracer_int.h"

/* Runs in the filtered child: returns the number of wrong answers, naming each on stderr. */
static int check_filter_answers(void)
{
	/*
	 * clone (flags -1) and clone3 (no argument) would fail with EINVAL if they ran; fork (57)
	 * and vfork (58) lie between clone (56) and execve (59) in the filter's one range test,
	 * and are not called here: run untrapped, they would really fork.
	 */
	static const long trapped[] = { SYS_socket,	SYS_connect, SYS_accept,
					SYS_bind,	SYS_listen,  SYS_socketpair,
					SYS_clone,	SYS_execve,  SYS_accept4,
					SYS_execveat, SYS_clone3 };
	/* The neighbours of the trapped numbers, called with a bad fd: EBADF means they ran. */
	static const long allowed_badfd[] = { SYS_sendfile, SYS_sendto,	 SYS_recvfrom,
					      SYS_sendmsg,  SYS_recvmsg, SYS_shutdown,
					      SYS_getsockname, SYS_getpeername, SYS_setsockopt,
					      SYS_getsockopt };
	unsigned i;
	int bad = 0;
	long r;

	for (i = 0; i < sizeof(trapped) / sizeof(trapped[0]); i++) {
		/* Never executed: arguments do not matter. */
		r = syscall(trapped[i], -1L, 0L, 0L, 0L, 0L, 0L);
		if (r != -1 || errno != ENOSYS) {
			fprintf(stderr, "%s: not trapped (r=%ld errno=%d)\n",
				name_syscall(trapped[i]), r, errno);
			bad++;
		}
	}
	for (i = 0; i < sizeof(allowed_badfd) / sizeof(allowed_badfd[0]); i++) {
		r = syscall(allowed_badfd[i], -1L, 0L, 0L, 0L, 0L, 0L);
		if (r != -1 || errno != EBADF) {
			fprintf(stderr, "syscall %ld: not allowed through (r=%ld errno=%d)\n",
				allowed_badfd[i], r, errno);
			bad++;
		}
	}
	if (syscall(SYS_getppid) <= 0 || syscall(SYS_gettid) <= 0) {
		fprintf(stderr, "getppid/gettid blocked\n");
		bad++;
	}
	/* pidfd_open (434) and close_range (436) sit on either side of clone3 (435). */
	if (syscall(434, -1L, 0L) != -1 || errno != EINVAL) {
		fprintf(stderr, "pidfd_open: errno %d\n", errno);
		bad++;
	}
	if (syscall(436, 100000L, 100001L, 0L) != 0) {
		fprintf(stderr, "close_range: errno %d\n", errno);
		bad++;
	}
	return bad;
}

START_TEST(test_filter_decisions)
{
	struct tracer_features feat;
	int st;
	pid_t pid;

	ck_assert_int_eq(probe_features(&feat), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int r = filter_install(&feat);

		if (r < 0) {
			fprintf(stderr, "filter_install: %s\n", strerror(-r));
			_exit(100);
		}
		_exit(check_filter_answers());
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "filtered child died: status %#x", st);
	ck_assert_msg(WEXITSTATUS(st) == 0, "%d wrong filter decisions (see stderr)",
		      WEXITSTATUS(st));
}
END_TEST

START_TEST(test_ptable)
{
	struct tracer tr;
	struct tracee_proc *p, *q;
	struct tracee_thread *t;
	int i;

	memset(&tr, 0, sizeof(tr));
	p = ptable_add_proc(&tr, getpid(), getppid(), "self");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(ptable_add_thread(&tr, p, getpid(), TS_RUNNING));
	/* tids colliding in the hash */
	for (i = 1; i <= 5; i++)
		ck_assert_ptr_nonnull(ptable_add_thread(&tr, p, getpid() + i * TRACER_TID_HASH,
							TS_NEW));
	ck_assert_int_eq(p->nthreads, 6);
	ck_assert_ptr_eq(ptable_proc(&tr, getpid()), p);
	t = ptable_thread(&tr, getpid() + 3 * TRACER_TID_HASH);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_eq(t->proc, p);
	/* a thread id is not a process */
	ck_assert_ptr_null(ptable_proc(&tr, getpid() + 3 * TRACER_TID_HASH));
	ptable_del_thread(&tr, t);
	ck_assert_ptr_null(ptable_thread(&tr, getpid() + 3 * TRACER_TID_HASH));
	ck_assert_ptr_nonnull(ptable_thread(&tr, getpid() + 4 * TRACER_TID_HASH));
	ck_assert_int_eq(p->nthreads, 5);
	/* the unique pid names this host, pid and start time: read when first asked */
	ck_assert_str_eq(p->uniquepid, "");
	{
		char want[32];

		snprintf(want, sizeof(want), "-%d-", (int)getpid());
		ck_assert_msg(strstr(ptable_uniquepid(p), want) != NULL, "uniquepid '%s'",
			      p->uniquepid);
		ck_assert_msg(strlen(p->uniquepid) > strlen(want) + 1, "no start time: '%s'",
			      p->uniquepid);
	}
	q = ptable_add_proc(&tr, getppid(), 1, "parent");
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_nonnull(ptable_add_thread(&tr, q, getppid(), TS_RUNNING));
	ck_assert_int_eq(tr.nprocs, 2);
	ptable_del_proc(&tr, p);
	ck_assert_int_eq(tr.nprocs, 1);
	ck_assert_ptr_null(ptable_thread(&tr, getpid()));
	ck_assert_ptr_eq(ptable_first(&tr), q);
	ptable_del_proc(&tr, q);
	ck_assert_ptr_null(ptable_first(&tr));
}
END_TEST

static void *pause_forever(void *a)
{
	for (;;)
		pause();
	return a;
}

/* tracer_adopt(): every thread of a running process is seized and tabled; the tracer's loop
 * ends when the process dies. No coordinator answers here: the peer is simply missing. */
START_TEST(test_adopt)
{
	struct tracer_config cfg;
	struct tracer *tr;
	struct tracee_proc *p;
	struct tracee_thread *t;
	char path[64];
	int pfd[2], i, n = 0;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pthread_t th;

		for (i = 0; i < 3; i++)
			pthread_create(&th, NULL, pause_forever, NULL);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		pause_forever(NULL);
	}
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.coord_host, sizeof(cfg.coord_host), "127.0.0.1");
	cfg.coord_port = 1; /* nobody listens there */
	cfg.interval = -1;
	ck_assert_int_eq(tracer_create(&cfg, &tr), 0);
	ck_assert_int_eq(tracer_adopt(tr, pid, -1, 0), 0);
	p = ptable_proc(tr, pid);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->nthreads, 4);
	for (t = p->threads; t; t = t->next) {
		ck_assert_int_eq(t->state, TS_RUNNING);
		n++;
	}
	ck_assert_int_eq(n, 4);
	/* really traced by us: /proc shows our pid as TracerPid */
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	{
		char buf[4096], *s;
		FILE *f = fopen(path, "r");
		size_t len;

		ck_assert_ptr_nonnull(f);
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		s = strstr(buf, "TracerPid:");
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(atoi(s + 10), getpid());
	}
	ck_assert_int_eq(tracer_adopt(tr, getpid(), -1, 0) < 0, 1); /* cannot trace itself */
	kill(pid, SIGKILL);
	ck_assert_int_eq(tracer_run(tr), 0);
	ck_assert_ptr_null(ptable_first(tr));
	tracer_destroy(tr);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(name_signal(SIGSEGV), "SIGSEGV");
	ck_assert_str_eq(name_signal(SIGRTMIN + 2), "SIGRTMIN+2");
	ck_assert_str_eq(name_ptrace_event(PTRACE_EVENT_SECCOMP), "PTRACE_EVENT_SECCOMP");
	ck_assert_str_eq(name_ptrace_event(99), "PTRACE_EVENT_?");
	ck_assert_str_eq(name_syscall(SYS_accept4), "accept4");
	ck_assert_str_eq(name_syscall(0x4d54), "dmtcp_api");
}
END_TEST

static Suite *tracer_suite(void)
{
	Suite *s = suite_create("tracer");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_filter_decisions);
	tcase_add_test(tc, test_ptable);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_adopt);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tracer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
