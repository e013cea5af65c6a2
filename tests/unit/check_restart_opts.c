/*
 * Unit tests of restart/restart_opts.c: dmtcp_restart's and mtcp_restart's options parse the
 * way DMTCP's do (-h is the coordinator host, --join alias, last mode wins, -r DIR), --show
 * [--json] IMG... in any order, and bad command lines are refused with a reason.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "restart/restart_opts.h"

static int parse(struct restart_opts *o, const char *line)
{
	static char buf[1024];
	static char *argv[64];
	char *s;
	int argc = 0;

	snprintf(buf, sizeof(buf), "dmtcp_restart %s", line);
	for (s = strtok(buf, " "); s && argc < 63; s = strtok(NULL, " "))
		argv[argc++] = s;
	argv[argc] = NULL;
	return restart_parse_opts(argc, argv, o);
}

START_TEST(test_dmtcp_like)
{
	struct restart_opts o;

	unsetenv("DMTCP_COORD_HOST");
	unsetenv("DMTCP_COORD_PORT");
	ck_assert_int_eq(parse(&o, "-h node7 -p 7000 --join -i 30 -c /ck a.dmtcp b.dmtcp"), 0);
	ck_assert_str_eq(o.coord.host, "node7");
	ck_assert_int_eq(o.coord.port, 7000);
	ck_assert_int_eq(o.coord.mode, COORD_JOIN);
	ck_assert_int_eq(o.coord.interval, 30);
	ck_assert_str_eq(o.coord.ckptdir, "/ck");
	ck_assert_int_eq(o.nimages, 2);
	ck_assert_str_eq(o.images[1], "b.dmtcp");

	ck_assert_int_eq(parse(&o, "--coord-host x --coord-port 0 --port-file /tmp/pf "
				   "--new-coordinator --no-strict-checking -q -q one.dmtcp"), 0);
	ck_assert_int_eq(o.coord.port, 0);
	ck_assert_str_eq(o.coord.port_file, "/tmp/pf");
	ck_assert_int_eq(o.coord.mode, COORD_NEW);
	ck_assert_int_eq(o.no_strict, 1);
	ck_assert_int_eq(o.quiet, 2);

	ck_assert_int_eq(parse(&o, "--new-coordinator --any-coordinator -r /dir"), 0);
	ck_assert_int_eq(o.coord.mode, COORD_ANY);
	ck_assert_str_eq(o.restartdir, "/dir");
	ck_assert_int_eq(o.nimages, 0);

	ck_assert_int_eq(parse(&o, "--help"), 0);
	ck_assert_int_eq(o.action, RESTART_HELP);
	ck_assert_int_eq(parse(&o, "--version"), 0);
	ck_assert_int_eq(o.action, RESTART_VERSION);
	ck_assert_int_eq(parse(&o, "--show a.dmtcp b.dmtcp"), 0);
	ck_assert_int_eq(o.action, RESTART_SHOW);
	ck_assert_str_eq(o.show, "a.dmtcp");
	ck_assert_int_eq(o.nimages, 1);
	ck_assert_int_eq(o.json, 0);
}
END_TEST

/* --json goes with --show, before or after it or its images; the images are the same. */
START_TEST(test_show_json)
{
	static const char *const lines[] = {
		"--show --json a.dmtcp b.dmtcp", "--json --show a.dmtcp b.dmtcp",
		"--show a.dmtcp --json b.dmtcp", "--show a.dmtcp b.dmtcp --json",
		"--show=a.dmtcp --json b.dmtcp", "a.dmtcp --show --json b.dmtcp",
	};
	struct restart_opts o;
	unsigned i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ck_assert_msg(parse(&o, lines[i]) == 0, "%s: %s", lines[i], o.err);
		ck_assert_int_eq(o.action, RESTART_SHOW);
		ck_assert_int_eq(o.json, 1);
		ck_assert_str_eq(o.show, "a.dmtcp");
		ck_assert_int_eq(o.nimages, 1);
		ck_assert_str_eq(o.images[0], "b.dmtcp");
	}
	/* Another option right after --show is an option too. */
	ck_assert_int_eq(parse(&o, "--show -q a.dmtcp"), 0);
	ck_assert_str_eq(o.show, "a.dmtcp");
	ck_assert_int_eq(o.nimages, 0);
	ck_assert_int_eq(o.quiet, 1);
	ck_assert_int_eq(o.json, 0);

	ck_assert_int_eq(parse(&o, "--json a.dmtcp"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "--json goes with --show"));
	ck_assert_int_eq(parse(&o, "--json -r /dir"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "--json goes with --show"));
	ck_assert_int_eq(parse(&o, "--show --json"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "no checkpoint image"));
	ck_assert_int_eq(parse(&o, "--json --show"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "needs an argument"));
}
END_TEST

START_TEST(test_refused)
{
	struct restart_opts o;

	ck_assert_int_eq(parse(&o, ""), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "no checkpoint image"));
	ck_assert_int_eq(parse(&o, "-p 70000 a.dmtcp"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "--coord-port"));
	ck_assert_int_eq(parse(&o, "-i -5 a.dmtcp"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "--interval"));
	ck_assert_int_eq(parse(&o, "--bogus a.dmtcp"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "--bogus"));
	ck_assert_int_eq(parse(&o, "-r /d a.dmtcp"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "either"));
	ck_assert_int_eq(parse(&o, "a.dmtcp -p"), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "needs an argument"));
}
END_TEST

START_TEST(test_mtcp)
{
	struct restart_opts o;
	char a0[] = "mtcp_restart", ns[] = "--no-strict-checking", q[] = "-q", x[] = "x.dmtcp",
	     y[] = "y.dmtcp", nope[] = "--nope";
	char *ok[] = { a0, ns, q, x, NULL };
	char *two[] = { a0, x, y, NULL };
	char *none[] = { a0, NULL };
	char *bad[] = { a0, nope, x, NULL };

	ck_assert_int_eq(mtcp_parse_opts(4, ok, &o), 0);
	ck_assert_int_eq(o.no_strict, 1);
	ck_assert_str_eq(o.images[0], "x.dmtcp");
	ck_assert_int_eq(mtcp_parse_opts(3, two, &o), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "exactly one"));
	ck_assert_int_eq(mtcp_parse_opts(1, none, &o), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "no checkpoint image"));
	ck_assert_int_eq(mtcp_parse_opts(3, bad, &o), -22);
	ck_assert_ptr_nonnull(strstr(o.err, "--nope"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("restart_opts");
	TCase *tc = tcase_create("opts");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_dmtcp_like);
	tcase_add_test(tc, test_show_json);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_mtcp);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
