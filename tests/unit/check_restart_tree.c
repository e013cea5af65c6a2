/*
 * Unit tests of restart/prepare_tree.c on fake process lists: the saved tree (pids, parents,
 * sessions, groups) is rebuilt and each created process checks its own ids, in our PID
 * namespace (root), in a new one, and in a new user+PID namespace as the user nobody; plans
 * that fork/setsid/setpgid cannot produce are refused with a reason; a taken pid fails
 * cleanly with nothing left behind.
 */
#include <check.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "restart/prepare_tree.h"

/* Stage values the processes announce. */
#define IDS_OK 7

static struct tree g_tree;
/* The restart's own session and group, as the restored processes will see them. */
static pid_t g_ext_sid, g_ext_pgid;

static int is_saved_pid(pid_t pid)
{
	int i;

	for (i = 0; i < g_tree.n; i++)
		if (g_tree.procs[i].pid == pid)
			return 1;
	return 0;
}

/* In each created process: are pid, ppid, session and group what was saved? */
static int check_ids(int idx, void *arg)
{
	struct tree *t = arg;
	const struct tree_proc *p = &t->procs[idx];
	char why[200];
	pid_t want_ppid = p->parent >= 0 ? p->ppid : (t->mode == TREE_NEWNS ? 1 : -1);
	pid_t want_sid = p->sid, want_pgid = p->pgid;

	/* Ids outside the saved set come out as the restart's own (the replacement session). */
	if (!is_saved_pid(p->sid))
		want_sid = g_ext_sid;
	if (!is_saved_pid(p->pgid))
		want_pgid = g_ext_pgid;
	if (getpid() != p->pid || (want_ppid > 0 && getppid() != want_ppid) ||
	    getsid(0) != want_sid || getpgrp() != want_pgid) {
		snprintf(why, sizeof(why),
			 "pid %d/%d ppid %d/%d sid %d/%d pgid %d/%d (got/want)", getpid(), p->pid,
			 getppid(), want_ppid, getsid(0), want_sid, getpgrp(), want_pgid);
		prepare_tree_announce(t, idx, -EINVAL, why);
		return 0;
	}
	prepare_tree_announce(t, idx, IDS_OK, NULL);
	/* Outlive our children, or they would see another parent when they look. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

/* Free ids here, from high to low, so the host-mode test can have them. */
static pid_t free_id(pid_t below)
{
	char path[32];
	pid_t p;

	for (p = below - 1; p > 300; p--) {
		snprintf(path, sizeof(path), "/proc/%d", p);
		if (access(path, F_OK) != 0)
			return p;
	}
	return -1;
}

/*
 * A shell-like tree: A leads a session; B and C form a pipeline group led by B (C is B's
 * sibling, a child of A); D is C's child in C's group; E, a child of A forked before A's
 * setsid, stays in the outside session.
 */
static struct tree_proc g_procs[5];

static void make_shell_tree(pid_t base)
{
	pid_t a = free_id(base), b = free_id(a), c = free_id(b), d = free_id(c), e = free_id(d);

	memset(g_procs, 0, sizeof(g_procs));
	g_procs[0] = (struct tree_proc){ .pid = a, .ppid = 99999, .pgid = a, .sid = a,
					 .is_main = 1 };
	g_procs[1] = (struct tree_proc){ .pid = b, .ppid = a, .pgid = b, .sid = a };
	g_procs[2] = (struct tree_proc){ .pid = c, .ppid = a, .pgid = b, .sid = a };
	g_procs[3] = (struct tree_proc){ .pid = d, .ppid = c, .pgid = b, .sid = a };
	g_procs[4] = (struct tree_proc){ .pid = e, .ppid = a, .pgid = 4242, .sid = 4242 };
	memset(&g_tree, 0, sizeof(g_tree));
	g_tree.procs = g_procs;
	g_tree.n = 5;
	g_tree.run = check_ids;
	g_tree.arg = &g_tree;
}

/* Create, release, and collect every IDS_OK and the main's exit. Returns failures. */
static int run_tree(void)
{
	char why[256];
	int ok = 0, idx, err, r, bad = 0, main_done = 0;

	r = prepare_tree_plan(&g_tree, why, sizeof(why));
	ck_assert_msg(r == 0, "plan: %s", why);
	/* Outside a new PID namespace's view, our session and group read as 0. */
	g_ext_sid = g_tree.mode == TREE_NEWNS ? 0 : getsid(0);
	g_ext_pgid = g_tree.mode == TREE_NEWNS ? 0 : getpgrp();
	ck_assert_int_eq(g_tree.procs[4].early, 1);
	r = prepare_tree_create(&g_tree);
	ck_assert_int_eq(r, 0);
	for (idx = 0; idx < g_tree.n; idx++)
		ck_assert_int_gt(g_tree.procs[idx].real_pid, 0);
	if (g_tree.mode == TREE_HOST)
		for (idx = 0; idx < g_tree.n; idx++)
			ck_assert_int_eq(g_tree.procs[idx].real_pid, g_tree.procs[idx].pid);
	prepare_tree_release(&g_tree, -1);
	while (ok + bad < g_tree.n || !main_done) {
		r = prepare_tree_wait_report(&g_tree, 10000, &idx, &err);
		ck_assert_int_gt(r, 0);
		if (r == 2)
			main_done = 1;
		else if (r == 3)
			continue;
		else if (err == IDS_OK)
			ok++;
		else
			bad++;
	}
	ck_assert_int_eq(WIFEXITED(g_tree.main_status), 1);
	prepare_tree_abort(&g_tree);
	prepare_tree_free(&g_tree);
	return bad;
}

START_TEST(test_host_mode)
{
	char why[256];

	if (geteuid() != 0)
		return; /* covered by the namespace tests */
	make_shell_tree(30000);
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), 0);
	ck_assert_int_eq(prepare_tree_pick_mode(&g_tree, 0, why, sizeof(why)), 0);
	ck_assert_int_eq(g_tree.mode, TREE_HOST);
	ck_assert_int_eq(run_tree(), 0);
}
END_TEST

START_TEST(test_newns_mode)
{
	char why[256];

	/* pid 2 and 3 are surely taken here; in the new namespace they are free. */
	make_shell_tree(30000);
	g_procs[0].pid = 2;
	g_procs[0].pgid = g_procs[0].sid = 2;
	g_procs[1].ppid = g_procs[2].ppid = g_procs[4].ppid = 2;
	g_procs[1].sid = g_procs[2].sid = g_procs[3].sid = 2;
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), 0);
	ck_assert_int_eq(prepare_tree_pick_mode(&g_tree, 0, why, sizeof(why)), 0);
	ck_assert_int_eq(g_tree.mode, TREE_NEWNS);
	ck_assert_int_eq(run_tree(), 0);
}
END_TEST

START_TEST(test_unprivileged_newns)
{
	struct passwd *pw = getpwnam("nobody");
	int st;
	pid_t c;

	if (geteuid() != 0 || !pw)
		return;
	c = fork();
	if (c == 0) {
		char why[256];

		if (setgroups(0, NULL) || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid))
			_exit(3);
		/* The uid change made us undumpable, which would hide our children's /proc
		 * files from us; a real unprivileged user is dumpable after exec. */
		prctl(PR_SET_DUMPABLE, 1);
		make_shell_tree(30000);
		if (prepare_tree_plan(&g_tree, why, sizeof(why)) ||
		    prepare_tree_pick_mode(&g_tree, 0, why, sizeof(why)) ||
		    g_tree.mode != TREE_NEWNS)
			_exit(4);
		_exit(run_tree() ? 5 : 0);
	}
	ck_assert_int_gt(c, 0);
	ck_assert_int_eq(waitpid(c, &st, 0), c);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
}
END_TEST

START_TEST(test_bad_plans)
{
	char why[256];

	make_shell_tree(30000);
	/* D in a group whose leader lives in another session. */
	g_procs[3].pgid = g_procs[4].pid;
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "another session"));

	make_shell_tree(30000);
	g_procs[2].pid = g_procs[1].pid;
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "two images"));

	make_shell_tree(30000);
	g_procs[1].pgid = 4243; /* a group with no leader while A's group is ours */
	g_procs[2].pgid = g_procs[3].pgid = 4243;
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "no leader"));

	make_shell_tree(30000);
	g_procs[0].pid = 1;
	g_procs[1].ppid = g_procs[2].ppid = g_procs[4].ppid = 1;
	g_procs[0].pgid = g_procs[0].sid = 1;
	g_procs[1].sid = g_procs[2].sid = g_procs[3].sid = 1;
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), 0);
	ck_assert_int_eq(prepare_tree_pick_mode(&g_tree, 1, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "pid 1"));

	make_shell_tree(30000);
	g_procs[3].pid = 1 << 30;
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "pid_max"));
}
END_TEST

/* A pid taken between the check and the clone: creation fails, nothing is left over. */
START_TEST(test_taken_pid_cleanup)
{
	char why[256];
	int i;

	if (geteuid() != 0)
		return;
	make_shell_tree(30000);
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), 0);
	g_tree.mode = TREE_HOST;
	g_procs[3].pid = getpid(); /* surely taken */
	ck_assert_int_eq(prepare_tree_plan(&g_tree, why, sizeof(why)), 0);
	ck_assert_int_lt(prepare_tree_create(&g_tree), 0);
	for (i = 0; i < 5; i++) {
		char path[32];

		if (i == 3)
			continue;
		/* The other ids are free again once the failed attempt is undone. */
		snprintf(path, sizeof(path), "/proc/%d", g_procs[i].pid);
		ck_assert_msg(access(path, F_OK) != 0, "pid %d left behind", g_procs[i].pid);
	}
}
END_TEST

static Suite *tree_suite(void)
{
	Suite *s = suite_create("prepare_tree");
	TCase *tc = tcase_create("tree");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_bad_plans);
	tcase_add_test(tc, test_host_mode);
	tcase_add_test(tc, test_newns_mode);
	tcase_add_test(tc, test_unprivileged_newns);
	tcase_add_test(tc, test_taken_pid_cleanup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tree_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
