/*
 * Unit tests of the tracer's core: the seccomp filter (the generator checked against a small
 * classic-BPF interpreter for many trap lists, and the tracer's own filter installed in a
 * child with no tracer, where a trapped syscall fails with ENOSYS without running and an
 * allowed one runs), the hook table, the event loop's jobs, the process table and its slots,
 * adoption, and the constant names printed in logs.
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

#include <linux/audit.h>
#include <linux/seccomp.h>

#include "api_abi.h"
#include "procfs.h"
#include "tracer/core.h"
#include "tracer/filter.h"
#include "tracer/hooks.h"
#include "tracer/loop.h"
#include "tracer/names.h"
#include "tracer/tracer.h"

/* Runs in the filtered child: returns the number of wrong answers, naming each on stderr. */
static int check_filter_answers(void)
{
	/*
	 * clone (flags -1) and clone3 (no argument) would fail with EINVAL if they ran; fork (57)
	 * and vfork (58) lie between clone (56) and execve (59) in the filter's one range test,
	 * and are not called here: run untrapped, they would really fork.
	 */
	static const long trapped[] = { SYS_socket,   SYS_connect, SYS_accept,
					SYS_bind,     SYS_listen,  SYS_socketpair,
					SYS_clone,    SYS_execve,  SYS_accept4,
					SYS_execveat, SYS_clone3,  DMTCP_API_SYSCALL };
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

static struct tracer *test_tracer(void)
{
	struct tracer_config cfg;
	struct tracer *tr;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.coord_host, sizeof(cfg.coord_host), "127.0.0.1");
	cfg.coord_port = 1; /* nobody listens there */
	cfg.interval = -1;
	ck_assert_int_eq(tracer_create(&cfg, &tr), 0);
	return tr;
}

/* The filter the tracer builds from its modules' traps, in a child without a tracer. */
START_TEST(test_filter_decisions)
{
	struct tracer *tr = test_tracer();
	int st;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int r = tracer_install_filter(tr);

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
	tracer_destroy(tr);
}
END_TEST

/* Classic BPF as the generator uses it: loads of seccomp_data, K jumps, returns. */
static uint32_t run_bpf(const struct sock_filter *f, unsigned len, uint32_t arch, uint32_t nr)
{
	uint32_t a = 0;
	unsigned pc = 0;

	while (pc < len) {
		const struct sock_filter *i = &f[pc++];

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			a = i->k == offsetof(struct seccomp_data, arch) ? arch :
			    i->k == offsetof(struct seccomp_data, nr)	? nr :
									  0xdeadbeef;
			break;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			pc += a > i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += a & i->k ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			return 0xbad;
		}
	}
	return 0xfa11; /* fell off the end */
}

static void check_generated(const long *nrs, int n)
{
	const uint32_t trace = SECCOMP_RET_TRACE | FILTER_DATA_NATIVE;
	const uint32_t foreign = SECCOMP_RET_TRACE | FILTER_DATA_FOREIGN;
	const struct sock_filter *f;
	struct filter *flt;
	unsigned len;
	uint32_t nr;
	int i, in;

	ck_assert_int_eq(filter_build(nrs, n, &flt), 0);
	f = filter_insns(flt, &len);
	for (nr = 0; nr < 1200; nr++) {
		for (in = 0, i = 0; i < n; i++)
			in |= nrs[i] == (long)nr;
		ck_assert_msg(run_bpf(f, len, AUDIT_ARCH_X86_64, nr) ==
				      (in ? trace : SECCOMP_RET_ALLOW),
			      "nr %u with %d trapped: %#x", nr, n,
			      run_bpf(f, len, AUDIT_ARCH_X86_64, nr));
	}
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(run_bpf(f, len, AUDIT_ARCH_X86_64, (uint32_t)nrs[i]), trace);
		ck_assert_uint_eq(run_bpf(f, len, AUDIT_ARCH_X86_64, (uint32_t)nrs[i] + 1),
				  i + 1 < n && nrs[i + 1] == nrs[i] + 1 ? trace : SECCOMP_RET_ALLOW);
	}
	ck_assert_uint_eq(run_bpf(f, len, AUDIT_ARCH_X86_64, 0x40000000 | 1), foreign);
	ck_assert_uint_eq(run_bpf(f, len, AUDIT_ARCH_X86_64, 0xffffffffu), foreign);
	ck_assert_uint_eq(run_bpf(f, len, AUDIT_ARCH_I386, 41), foreign);
	ck_assert_uint_eq(run_bpf(f, len, AUDIT_ARCH_I386, 0), foreign);
	filter_free(flt);
}

/* The generator against an interpreter: empty, the tracer's own list, edge cases, random. */
START_TEST(test_filter_generator)
{
	static const long own[] = { 41, 42, 43, 49, 50, 53, 56, 57, 58, 59, 288, 322, 435, 0x4d54 };
	static const long edges[] = { 0, 1, 2, 1000 };
	static const long bad[] = { 5, 5 };
	long nrs[64];
	struct filter *flt;
	unsigned seed = 12345;
	int round, n, i;

	check_generated(NULL, 0);
	check_generated(own, sizeof(own) / sizeof(own[0]));
	check_generated(edges, 4);
	check_generated(edges + 3, 1);
	for (round = 0; round < 200; round++) {
		long v = 0;

		n = (int)(rand_r(&seed) % 40) + 1;
		for (i = 0; i < n; i++) {
			v += 1 + (rand_r(&seed) % 3 == 0 ? 0 : rand_r(&seed) % 30);
			nrs[i] = v;
		}
		check_generated(nrs, n);
	}
	ck_assert_int_eq(filter_build(bad, 2, &flt), -EINVAL);
	nrs[0] = 0x40000000;
	ck_assert_int_eq(filter_build(nrs, 1, &flt), -EINVAL);
}
END_TEST

/* Hook table: subscribers in order, traps' resume and the trapped list, steps' failure rule. */
static int ev_calls[4];
static void count_ev(struct tracer *tr, const struct tracer_ev *ev, void *arg)
{
	(void)tr;
	(void)ev;
	ev_calls[(intptr_t)arg] = ev_calls[0]++;
}
static enum resume_how want_exit(struct tracee_thread *t, const struct syscall_stop *s, void *a)
{
	(void)t;
	(void)s;
	return a ? RESUME_SYSCALL : RESUME_CONT;
}
static int step_calls;
static int step_ret(struct tracer *tr, struct tracee_proc *p, struct ckpt_step *st, void *a)
{
	(void)tr;
	(void)p;
	(void)st;
	step_calls++;
	return (int)(intptr_t)a;
}

START_TEST(test_hooks)
{
	struct tracer *tr = calloc(1, sizeof(*tr));
	struct syscall_stop s = { .nr = 7 };
	struct tracer_ev ev = { .type = TEV_EXEC };
	long nrs[8];

	ck_assert_ptr_nonnull(tr);
	ev_calls[0] = 1;
	ck_assert_int_eq(hooks_on(tr, TEV_EXEC, count_ev, (void *)1), 0);
	ck_assert_int_eq(hooks_on(tr, TEV_EXEC, count_ev, (void *)2), 0);
	hooks_fire(tr, &ev);
	ck_assert_int_eq(ev_calls[1], 1);
	ck_assert_int_eq(ev_calls[2], 2);

	ck_assert_int_eq(hooks_trap(tr, 9, NULL, NULL, NULL), 0);
	ck_assert_int_eq(hooks_trap(tr, 7, want_exit, NULL, NULL), 0);
	ck_assert_int_eq(hooks_run_entry(tr, NULL, &s), RESUME_CONT);
	ck_assert_int_eq(hooks_trap(tr, 7, want_exit, NULL, (void *)1), 0);
	ck_assert_int_eq(hooks_run_entry(tr, NULL, &s), RESUME_SYSCALL);
	s.nr = 8;
	ck_assert_int_eq(hooks_run_entry(tr, NULL, &s), RESUME_CONT);
	ck_assert_int_eq(hooks_trapped(tr, nrs, 8), 2);
	ck_assert_int_eq(nrs[0], 7);
	ck_assert_int_eq(nrs[1], 9);

	/* checkpoint stops at the first failure; abort runs every subscriber */
	ck_assert_int_eq(hooks_on_step(tr, STEP_CHECKPOINT, step_ret, (void *)-5), 0);
	ck_assert_int_eq(hooks_on_step(tr, STEP_CHECKPOINT, step_ret, (void *)0), 0);
	ck_assert_int_eq(hooks_on_step(tr, STEP_ABORT, step_ret, (void *)-7), 0);
	ck_assert_int_eq(hooks_on_step(tr, STEP_ABORT, step_ret, (void *)0), 0);
	step_calls = 0;
	ck_assert_int_eq(hooks_run_step(tr, STEP_CHECKPOINT, NULL, NULL), -5);
	ck_assert_int_eq(step_calls, 1);
	step_calls = 0;
	ck_assert_int_eq(hooks_run_step(tr, STEP_ABORT, NULL, NULL), -7);
	ck_assert_int_eq(step_calls, 2);
	ck_assert_int_eq(hooks_run_step(tr, STEP_DRAIN, NULL, NULL), 0);
	ck_assert_str_eq(hooks_step_name(STEP_COMMIT), "commit");
	free(tr);
}
END_TEST

static int destroyed;
static void proc_gone(struct tracee_proc *p, void *data)
{
	(void)p;
	destroyed += (int)(intptr_t)data;
}
static void thread_gone(struct tracee_thread *t, void *data)
{
	(void)t;
	destroyed += (int)(intptr_t)data;
}

START_TEST(test_ptable)
{
	struct tracer tr;
	struct tracee_proc *p, *q;
	struct tracee_thread *t;
	int i, ps, ts;

	memset(&tr, 0, sizeof(tr));
	ps = ptable_proc_slot_new(&tr, proc_gone);
	ts = ptable_thread_slot_new(&tr, thread_gone);
	ck_assert_int_ge(ps, 0);
	ck_assert_int_ge(ts, 0);
	p = ptable_add_proc(&tr, getpid(), getppid(), "self");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(ptable_add_thread(&tr, p, getpid(), TS_RUNNING));
	/* tids colliding in the hash */
	for (i = 1; i <= 5; i++)
		ck_assert_ptr_nonnull(ptable_add_thread(&tr, p, getpid() + i * TRACER_TID_HASH,
							TS_NEW));
	ck_assert_int_eq(p->nthreads, 6);
	/* slots: the owners' destroy functions run when a thread or the process goes */
	p->slot[ps] = (void *)100;
	p->threads->slot[ts] = (void *)1;
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
	ck_assert_int_eq(ptable_count(&tr), 2);
	destroyed = 0;
	ptable_del_proc(&tr, p);
	ck_assert_int_eq(destroyed, 101);
	ck_assert_int_eq(ptable_count(&tr), 1);
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
	tr = test_tracer();
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

/* Sleeps in a child of its own (a grandchild of the test), with 2 threads. */
static void attach_victim(int ready_fd)
{
	pthread_t th;
	pid_t kid;

	pthread_create(&th, NULL, pause_forever, NULL);
	kid = fork();
	if (kid == 0) {
		if (write(ready_fd, "r", 1) != 1)
			_exit(1);
		pause_forever(NULL);
	}
	pause_forever(NULL);
}

/*
 * tracer_attach(): a process, its threads and its child are taken, held once and let go
 * running; each carries no filter of ours (nofilter) and runs on after the tracer lets go
 * of it. Refusals: a thread id, our own process, a pid that does not exist.
 */
START_TEST(test_attach)
{
	struct tracer *tr;
	struct tracee_proc *p, *c;
	struct tracee_thread *t;
	int pfd[2], n;
	pid_t pid, tid = 0, bad;
	char c1;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		attach_victim(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c1, 1), 1);
	tr = test_tracer();
	n = tracer_attach(tr, &pid, 1, -1);
	ck_assert_int_eq(n, 2);
	p = ptable_proc(tr, pid);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->nthreads, 2);
	ck_assert_int_eq(p->attached, 1);
	ck_assert_int_eq(p->nofilter, 1);
	ck_assert_int_eq(p->phase, PP_RUNNING);
	for (t = p->threads; t; t = t->next) {
		ck_assert_int_eq(t->state, TS_RUNNING);
		if (t->tid != pid)
			tid = t->tid;
	}
	for (c = ptable_first(tr); c && c == p; c = c->next)
		;
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->ppid, pid);
	ck_assert_int_eq(c->nofilter, 1);
	ck_assert_int_eq(c->phase, PP_RUNNING);
	ck_assert_int_eq(procfs_tracer_pid(pid), getpid());
	ck_assert_int_eq(procfs_tracer_pid(c->pid), getpid());
	/* refused, and nothing is added to the table */
	ck_assert_int_eq(tracer_attach(tr, &tid, 1, -1), -EINVAL);
	bad = getpid();
	ck_assert_int_lt(tracer_attach(tr, &bad, 1, -1), 0);
	bad = 0x3ffffff0;
	ck_assert_int_eq(tracer_attach(tr, &bad, 1, -1), -ESRCH);
	ck_assert_int_eq(ptable_count(tr), 2);
	kill(c->pid, SIGKILL);
	kill(pid, SIGKILL);
	ck_assert_int_eq(tracer_run(tr), 0);
	ck_assert_ptr_null(ptable_first(tr));
	tracer_destroy(tr);
	waitpid(pid, NULL, 0);
}
END_TEST

/* Jobs run once per submission, in order; a cancelled one does not run. */
static int job_log[8], job_n;
static void log_job(struct tracer *tr, struct loop_job *j);
static struct loop_job jobs[3] = { { log_job, NULL, 0 }, { log_job, NULL, 0 },
				   { log_job, NULL, 0 } };
static void log_job(struct tracer *tr, struct loop_job *j)
{
	(void)tr;
	job_log[job_n++] = (int)(j - jobs);
}
static int ticks;
static int tick_fn(struct tracer *tr, void *arg)
{
	(void)arg;
	/* The table is empty: the loop returns after this turn; queue a job first */
	if (!ticks++)
		loop_submit(tr, &jobs[2]);
	return -1;
}

START_TEST(test_loop_jobs)
{
	struct tracer *tr = calloc(1, sizeof(*tr));

	ck_assert_ptr_nonnull(tr);
	ck_assert_int_eq(loop_init(tr), 0);
	ck_assert_int_eq(loop_add_tick(tr, tick_fn, NULL), 0);
	loop_submit(tr, &jobs[1]);
	loop_submit(tr, &jobs[0]);
	loop_submit(tr, &jobs[1]); /* already queued: runs once */
	loop_submit(tr, &jobs[2]);
	loop_cancel(tr, &jobs[2]);
	ck_assert_int_eq(loop_run(tr), 0);
	ck_assert_int_eq(job_n, 3);
	ck_assert_int_eq(job_log[0], 1);
	ck_assert_int_eq(job_log[1], 0);
	ck_assert_int_eq(job_log[2], 2); /* submitted by the tick */
	ck_assert_int_eq(ticks, 1);
	loop_fini(tr);
	free(tr);
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

/*
 * "core" is pure (valgrind-clean: CK_RUN_CASE=core CK_FORK=no valgrind ...); "kernel" installs
 * the filter in a child and ptraces (not under valgrind, whose own syscalls the filter traps).
 */
static Suite *tracer_suite(void)
{
	Suite *s = suite_create("tracer");
	TCase *core = tcase_create("core");
	TCase *kernel = tcase_create("kernel");

	tcase_add_test(core, test_filter_generator);
	tcase_add_test(core, test_hooks);
	tcase_add_test(core, test_loop_jobs);
	tcase_add_test(core, test_ptable);
	tcase_add_test(core, test_names);
	tcase_add_test(kernel, test_filter_decisions);
	tcase_add_test(kernel, test_adopt);
	tcase_add_test(kernel, test_attach);
	suite_add_tcase(s, core);
	suite_add_tcase(s, kernel);
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
