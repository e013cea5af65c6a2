/*
 * Unit tests of the launch/restart side's logging (common/log.c): levels by name, the
 * environment (DMTCP_LOG_LEVEL, DMTCP_QUIET, DMTCP_DEBUG, DMTCP_LOG_FILE) and -q, the log
 * file, nothing at LOG_NONE, and each distinct warning printed once.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

static void clear_env(void)
{
	unsetenv("DMTCP_LOG_LEVEL");
	unsetenv("DMTCP_QUIET");
	unsetenv("DMTCP_DEBUG");
	unsetenv("DMTCP_LOG_FILE");
}

/* What was logged to fd since it was made (a memfd), NUL-terminated, in buf. */
static const char *logged(int fd, char *buf, size_t n)
{
	ssize_t r = pread(fd, buf, n - 1, 0);

	buf[r > 0 ? r : 0] = '\0';
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int c = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		c++;
	return c;
}

START_TEST(test_levels_by_name)
{
	enum log_level l;

	ck_assert_int_eq(log_parse_level("warn", &l), 0);
	ck_assert_int_eq(l, LOG_WARN);
	ck_assert_int_eq(log_parse_level("WARNING", &l), 0);
	ck_assert_int_eq(l, LOG_WARN);
	ck_assert_int_eq(log_parse_level("debug", &l), 0);
	ck_assert_int_eq(l, LOG_DEBUG);
	ck_assert_int_eq(log_parse_level("none", &l), 0);
	ck_assert_int_eq(l, LOG_NONE);
	ck_assert_int_eq(log_parse_level("loud", &l), -EINVAL);
	ck_assert_int_eq(log_parse_level(NULL, &l), -EINVAL);
	ck_assert_str_eq(log_level_name(LOG_INFO), "info");
}
END_TEST

START_TEST(test_env_and_quiet)
{
	struct log_opts o;

	clear_env();
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), 0);
	ck_assert_int_eq(o.level, LOG_WARN);
	ck_assert_ptr_null(o.file);
	log_opts_quieter(&o);
	ck_assert_int_eq(o.level, LOG_ERROR);
	log_opts_quieter(&o);
	ck_assert_int_eq(o.level, LOG_NONE);
	log_opts_quieter(&o);
	ck_assert_int_eq(o.level, LOG_NONE);

	setenv("DMTCP_LOG_LEVEL", "info", 1);
	setenv("DMTCP_LOG_FILE", "/tmp/x.log", 1);
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), 0);
	ck_assert_int_eq(o.level, LOG_INFO);
	ck_assert_str_eq(o.file, "/tmp/x.log");
	setenv("DMTCP_QUIET", "1", 1);
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), 0);
	ck_assert_int_eq(o.level, LOG_ERROR);
	setenv("DMTCP_QUIET", "2", 1);
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), 0);
	ck_assert_int_eq(o.level, LOG_NONE);
	setenv("DMTCP_QUIET", "3", 1);
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), -EINVAL);
	ck_assert_msg(strstr(o.err, "DMTCP_QUIET") != NULL, "%s", o.err);
	setenv("DMTCP_QUIET", "0", 1);
	setenv("DMTCP_DEBUG", "1", 1);
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), 0);
	ck_assert_int_eq(o.level, LOG_DEBUG);
	unsetenv("DMTCP_DEBUG");
	setenv("DMTCP_LOG_LEVEL", "chatty", 1);
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), -EINVAL);
	ck_assert_msg(strstr(o.err, "chatty") != NULL, "%s", o.err);

	/* the command-line options */
	clear_env();
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), 0);
	ck_assert_int_eq(log_opt_apply(&o, LOG_OPT_LEVEL, "debug"), 1);
	ck_assert_int_eq(o.level, LOG_DEBUG);
	ck_assert_int_eq(log_opt_apply(&o, LOG_OPT_FILE, "/tmp/y.log"), 1);
	ck_assert_str_eq(o.file, "/tmp/y.log");
	ck_assert_int_eq(log_opt_apply(&o, LOG_OPT_LEVEL, "x"), -EINVAL);
	ck_assert_int_eq(log_opt_apply(&o, 'q', NULL), 0);
	clear_env();
}
END_TEST

START_TEST(test_output)
{
	char buf[4096];
	int fd = memfd_create("log", 0);
	struct log_opts o;

	ck_assert_int_ge(fd, 0);
	clear_env();
	log_set_fd(fd);
	ck_assert_int_eq(log_opts_from_env(&o, LOG_WARN), 0);
	ck_assert_int_eq(log_opts_apply(&o), 0);
	pr_info("an info line");
	pr_warn("the same warning %d", 7);
	pr_warn("the same warning %d", 7);
	pr_warn("another warning");
	pr_err("an error");
	pr_err("an error");
	logged(fd, buf, sizeof(buf));
	ck_assert_int_eq(count(buf, "an info line"), 0);
	ck_assert_int_eq(count(buf, "the same warning 7"), 1);
	ck_assert_int_eq(count(buf, "another warning"), 1);
	ck_assert_int_eq(count(buf, "an error"), 2); /* errors are never folded */

	log_set_level(LOG_NONE);
	pr_err("silenced error");
	logged(fd, buf, sizeof(buf));
	ck_assert_int_eq(count(buf, "silenced error"), 0);

	/* the log file: appended, lines whole */
	{
		char path[] = "/tmp/check_log.XXXXXX";
		int tfd = mkstemp(path);
		FILE *f;

		ck_assert_int_ge(tfd, 0);
		close(tfd);
		o.level = LOG_INFO;
		o.file = path;
		ck_assert_int_eq(log_opts_apply(&o), 0);
		pr_info("into the file");
		f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
		fclose(f);
		ck_assert_msg(strstr(buf, "into the file\n") != NULL, "%s", buf);
		unlink(path);
		o.file = "/nonexistent-dir/x.log";
		ck_assert_int_lt(log_opts_apply(&o), 0);
		ck_assert_msg(strstr(o.err, "/nonexistent-dir/x.log") != NULL, "%s", o.err);
	}
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_levels_by_name);
	tcase_add_test(tc, test_env_and_quiet);
	tcase_add_test(tc, test_output);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
