/*
 * Unit tests of common/ckpt_show_json.c (dmtcp_restart --show --json) on hand-made images: a
 * valid one gives its content with the values it was written with, awkward bytes in its
 * strings escaped; an image whose content is bad (its container is fine) and a missing file
 * give "valid": false with the logged reason. Each document is also given to python3's json
 * module when python3 is there.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt_show.h"
#include "ckpt_state.h"
#include "image.h"
#include "json.h"

static char dir[64];

/* A small consistent process, with a cmdline and an environment that are not plain text. */
static void make_proc(struct ckpt_proc *p)
{
	static const char args[] = "prog\0q\"b\\s\xff\n";
	static const char env[] = "A=1\0CTL=\x01\x7f";
	uint32_t i;

	ckpt_proc_init(p);
	p->pid = 4321;
	p->ppid = 1;
	p->pgid = 4321;
	p->sid = 4321;
	p->ns_levels = 1;
	p->ns_pid[0] = 4321;
	p->ns_pgid[0] = 4321;
	p->ns_sid[0] = 4321;
	strcpy(p->comm, "prog");
	p->uniquepid = strdup("h-4321-1");
	p->exe = strdup("/bin/prog");
	p->cwd = strdup("/tmp/a \"dir\"");
	p->root = strdup("/");
	p->cmdline_len = sizeof(args);
	p->cmdline = malloc(sizeof(args));
	memcpy(p->cmdline, args, sizeof(args));
	p->environ_len = sizeof(env);
	p->environ = malloc(sizeof(env));
	memcpy(p->environ, env, sizeof(env));
	p->umask = 022;
	for (i = 0; i < CKPT_NRLIMITS; i++)
		p->rlim[i].cur = p->rlim[i].max = UINT64_MAX;
	p->rlim[7].cur = 1024; /* RLIMIT_NOFILE */

	p->nthreads = 1;
	p->threads = calloc(1, sizeof(*p->threads));
	p->threads[0].tid = 4321;
	p->threads[0].ns_levels = 1;
	p->threads[0].ns_tid[0] = 4321;
	strcpy(p->threads[0].comm, "prog");
	p->threads[0].regs.rip = 0xffffffffff600000ull; /* above 2^53: must stay exact */
	p->threads[0].sigmask = 1ull << 9;		 /* SIGUSR1 */

	p->sig = calloc(1, sizeof(*p->sig));
	p->sig->act_source = CKPT_SIGSRC_TRACEE;
	p->sig->act[1].handler = 1; /* SIGINT ignored */

	p->nfiles = 1;
	p->files = calloc(1, sizeof(*p->files));
	p->files[0].type = CKPT_FILE_REG;
	p->files[0].pos = 12;
	p->files[0].path = strdup("/tmp/out\tfile");
	p->nfds = 2;
	p->fds = calloc(2, sizeof(*p->fds));
	p->fds[0] = (struct ckpt_fd){ .fd = 1, .file = 0 };
	p->fds[1] = (struct ckpt_fd){ .fd = 2, .file = 0, .fd_flags = 1 };

	p->nvmas = 1;
	p->vmas = calloc(1, sizeof(*p->vmas));
	p->vmas[0] = (struct ckpt_vma){ .start = 0x400000, .end = 0x402000, .prot = 3,
					 .kind = CKPT_VMA_ANON, .npages_stored = 1,
					 .flags = CKPT_VMA_F_LOCKED };
	p->vmas[0].path = strdup("");
	p->nruns = 1;
	p->runs = calloc(1, sizeof(*p->runs));
	p->runs[0] = (struct ckpt_pagerun){ .vaddr = 0x401000, .npages = 1, .vma = 0 };
	p->pages_stored = 1;
}

/* Writes p's image as NAME in dir, its page at 'at' (the PAGEMAP says 0x401000). */
static void write_image(const char *name, uint64_t at, char *path, size_t len)
{
	static uint8_t page[4096];
	struct image_opts o = IMAGE_OPTS_INIT;
	struct image_writer *w;
	struct ckpt_proc p;

	make_proc(&p);
	o.compress = 0;
	o.prog = "prog";
	ck_assert_int_eq(image_create(dir, name, &o, &w), 0);
	ck_assert_int_eq(ckpt_write_records(w, &p), 0);
	ck_assert_int_eq(image_begin_pages(w, CKPT_SEC_PAGES), 0);
	ck_assert_int_eq(image_add_pages(w, at, page, sizeof(page)), 0);
	ck_assert_int_eq(image_end_section(w), 0);
	ck_assert_int_eq(image_finish(w), 0);
	ck_assert_int_eq(image_commit(w), 0);
	image_discard(w);
	ckpt_proc_free(&p);
	snprintf(path, len, "%s/%s", dir, name);
}

/* The document for one image (an array of one object); *rc is ckpt_show_json's. */
static char *render(const char *path, int *rc)
{
	struct json_writer jw;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	json_init(&jw, f, JSON_PRETTY);
	json_array_begin(&jw, NULL);
	*rc = ckpt_show_json(&jw, path, IMAGE_SHOW_RUNS);
	json_array_end(&jw);
	ck_assert_int_eq(json_finish(&jw), 0);
	fclose(f);
	return buf;
}

/*
 * Runs CHECK, python3 statements on d (the document parsed by json.load), on doc; skipped
 * without python3.
 */
static void python_check(const char *doc, const char *check)
{
	char path[128], cmd[256];
	FILE *f;
	int st;

	if (system("command -v python3 >/dev/null 2>&1"))
		return;
	snprintf(path, sizeof(path), "%s/doc.json", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(doc, f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "python3 - '%s'", path);
	f = popen(cmd, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "import json, sys\nd = json.load(open(sys.argv[1], encoding='utf-8'))\n%s",
		check);
	st = pclose(f);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		/* python3 said what failed; Check messages are too short for the document. */
		fprintf(stderr, "--- the document:\n%s", doc);
		ck_abort_msg("python3 check failed");
	}
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_show_json.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_valid)
{
	char path[256], *doc;
	int rc;

	write_image("good.dmtcp", 0x401000, path, sizeof(path));
	doc = render(path, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(doc, "\"valid\": true"));
	ck_assert_ptr_null(strstr(doc, "\"error\""));
	ck_assert_ptr_nonnull(strstr(doc, "\"pid\": 4321"));
	/* The strings' awkward bytes, escaped. */
	ck_assert_ptr_nonnull(strstr(doc, "\"q\\\"b\\\\s\\u00ff\\n\""));
	ck_assert_ptr_nonnull(strstr(doc, "\"CTL=\\u0001\\u007f\""));
	ck_assert_ptr_nonnull(strstr(doc, "\"/tmp/a \\\"dir\\\"\""));
	ck_assert_ptr_nonnull(strstr(doc, "\"rip\": \"0xffffffffff600000\""));
	python_check(doc,
		     "o = d[0]; p = o['process']\n"
		     "assert len(d) == 1 and o['valid'] is True, o\n"
		     "assert p['pid'] == 4321 and p['comm'] == 'prog', p\n"
		     "assert p['cmdline'] == ['prog', 'q\"b\\\\s\\u00ff\\n'], p['cmdline']\n"
		     "assert p['environ'] == ['A=1', 'CTL=\\x01\\x7f'], p['environ']\n"
		     "assert p['cwd'] == '/tmp/a \"dir\"'\n"
		     "assert p['umask'] == 0o22 and p['personality'] is None\n"
		     "r = p['rlimits']['RLIMIT_NOFILE']\n"
		     "assert r == {'cur': 1024, 'max': 'unlimited'}, r\n"
		     "t = o['threads']; assert len(t) == 1 and t[0]['tid'] == 4321\n"
		     "assert int(t[0]['regs']['rip'], 16) == 0xffffffffff600000\n"
		     "assert t[0]['sigmask']['signals'] == ['SIGUSR1']\n"
		     "a = o['signals']['actions']\n"
		     "assert a == [{'signal': 'SIGINT', 'signo': 2, 'handler': 'SIG_IGN',"
		     " 'flags': '0x0', 'restorer': '0x0', 'mask': '0x0'}], a\n"
		     "f = o['fds']; assert [x['fd'] for x in f] == [1, 2]\n"
		     "assert f[0]['path'] == '/tmp/out\\tfile' and f[0]['pos'] == 12\n"
		     "assert f[1]['cloexec'] is True and f[0]['cloexec'] is False\n"
		     "v = o['vmas']; assert len(v) == 1 and v[0]['start'] == '0x400000'\n"
		     "assert v[0]['prot'] == 'rw-p' and v[0]['flags'] == ['locked'], v\n"
		     "assert o['page_runs'] == [{'start': '0x401000', 'pages': 1, 'vma': 0}]\n"
		     "c = o['container']; assert c['checksums']['verified'] is True\n"
		     "assert c['program'] == 'prog' and c['sections'][0]['name'] == 'PROC'\n"
		     "pg = [s for s in c['sections'] if s['kind'] == 'pages']\n"
		     "assert pg[0]['runs'] == [{'start': '0x401000', 'end': '0x402000',"
		     " 'pages': 1}], pg\n");
	free(doc);
}
END_TEST

/* The container is sound, the content is not: the reason is the logged one. */
START_TEST(test_bad_content)
{
	char path[256], *doc;
	int rc;

	write_image("bad.dmtcp", 0x400000, path, sizeof(path));
	doc = render(path, &rc);
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_ptr_nonnull(strstr(doc, "\"valid\": false"));
	ck_assert_ptr_nonnull(strstr(doc, "bad.dmtcp: PAGES runs are not at the addresses"));
	ck_assert_ptr_nonnull(strstr(doc, "\"verified\": true"));
	ck_assert_ptr_null(strstr(doc, "\"process\""));
	python_check(doc, "o = d[0]\n"
			  "assert o['valid'] is False and 'PAGEMAP' in o['error'], o\n"
			  "assert o['container']['checksums']['verified'] is True\n"
			  "assert 'threads' not in o\n");
	free(doc);
}
END_TEST

START_TEST(test_missing)
{
	char path[256], *doc;
	int rc;

	snprintf(path, sizeof(path), "%s/none.dmtcp", dir);
	doc = render(path, &rc);
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_ptr_nonnull(strstr(doc, "\"valid\": false"));
	ck_assert_ptr_nonnull(strstr(doc, "none.dmtcp: cannot open: No such file"));
	ck_assert_ptr_null(strstr(doc, "\"container\""));
	python_check(doc, "assert d[0]['valid'] is False and 'cannot open' in d[0]['error']\n");
	free(doc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ckpt_show_json");
	TCase *tc = tcase_create("show_json");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_bad_content);
	tcase_add_test(tc, test_missing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
