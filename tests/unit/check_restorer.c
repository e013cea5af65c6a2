/*
 * Unit tests of the restorer's libc side: the rt_sigframe builder (arch/x86_64/sigframe.h),
 * the vdso proxy patch computation (restart/vdso.c) and prepare_restore()'s validation, which
 * must refuse bad descriptions with -errno and leave the caller intact. The jump itself is
 * covered by tests/integration/t_restorer_selfrestore.sh.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86_64/sigframe.h"
#include "log.h"
#include "restart/prepare_restore.h"
#include "restart/vdso.h"

START_TEST(test_sigframe_layout)
{
	/* the kernel's layout: sigcontext 256 bytes, uc_mcontext at 40, uc_sigmask at 296 */
	ck_assert_uint_eq(sizeof(struct x86_sigcontext), 256);
	ck_assert_uint_eq(offsetof(struct x86_ucontext, uc_mcontext), 40);
	ck_assert_uint_eq(offsetof(struct x86_ucontext, uc_sigmask), 296);
	ck_assert_uint_eq(offsetof(struct x86_rt_sigframe, uc), 8);
	ck_assert_uint_eq(sizeof(struct x86_regs), 27 * 8);
}
END_TEST

START_TEST(test_sigframe_build)
{
	static unsigned char buf[16384] __attribute__((aligned(64)));
	unsigned char xs[1024];
	struct x86_regs r;
	struct x86_ucontext *uc;
	struct x86_fpx_sw_bytes sw;
	uint64_t rsp, bv = 0xff, hdr_rest;
	uint32_t magic2;

	memset(&r, 0, sizeof(r));
	r.rip = 0x401000;
	r.rsp = 0x7ffc0000;
	r.rax = 42;
	r.r15 = 0x1515;
	r.eflags = 0x246;
	memset(xs, 0xab, sizeof(xs));
	memcpy(xs + X86_XSTATE_BV_OFF, &bv, 8);
	rsp = sigframe_build(buf + 8, sizeof(buf) - 8, &r, xs, sizeof(xs), 0x7, 4096, 0x1234,
			     0x5000, 0, 0x2000);
	ck_assert_uint_ne(rsp, 0);
	uc = (struct x86_ucontext *)(uintptr_t)rsp;
	ck_assert_uint_eq(uc->uc_mcontext.rip, 0x401000);
	ck_assert_uint_eq(uc->uc_mcontext.rsp, 0x7ffc0000);
	ck_assert_uint_eq(uc->uc_mcontext.rax, 42);
	ck_assert_uint_eq(uc->uc_mcontext.r15, 0x1515);
	ck_assert_uint_eq(uc->uc_mcontext.cs, X86_USER_CS);
	ck_assert_uint_eq(uc->uc_sigmask, 0x1234);
	ck_assert_uint_eq(uc->uc_stack.ss_sp, 0x5000);
	ck_assert_uint_eq(uc->uc_stack.ss_size, 0x2000);
	ck_assert(uc->uc_flags & X86_UC_FP_XSTATE);
	/* the XSAVE image: 64-byte aligned, magics in place, XSTATE_BV limited to xfeatures */
	ck_assert_uint_eq(uc->uc_mcontext.fpstate & 63, 0);
	memcpy(&sw, (void *)(uintptr_t)(uc->uc_mcontext.fpstate + X86_SW_RESERVED_OFF), sizeof(sw));
	ck_assert_uint_eq(sw.magic1, X86_FP_XSTATE_MAGIC1);
	ck_assert_uint_eq(sw.xstate_size, sizeof(xs));
	ck_assert_uint_eq(sw.extended_size, sizeof(xs) + 4);
	ck_assert_uint_eq(sw.xfeatures, 0x7);
	memcpy(&magic2, (void *)(uintptr_t)(uc->uc_mcontext.fpstate + sizeof(xs)), 4);
	ck_assert_uint_eq(magic2, X86_FP_XSTATE_MAGIC2);
	memcpy(&bv, (void *)(uintptr_t)(uc->uc_mcontext.fpstate + X86_XSTATE_BV_OFF), 8);
	ck_assert_uint_eq(bv, 0x7);
	memcpy(&hdr_rest, (void *)(uintptr_t)(uc->uc_mcontext.fpstate + X86_XCOMP_BV_OFF), 8);
	ck_assert_uint_eq(hdr_rest, 0);
	/* the frame must lie inside the buffer */
	ck_assert(rsp - 8 + sizeof(struct x86_rt_sigframe) <= (uint64_t)(uintptr_t)(buf + sizeof(buf)));
	/* too little room: refused */
	ck_assert_uint_eq(sigframe_build(buf, 256, &r, xs, sizeof(xs), 0x7, 4096, 0, 0, 0, 0), 0);
}
END_TEST

START_TEST(test_vdso_patches_self)
{
	struct vdso_block b;
	struct rp_vdso_patch p[RP_MAX_VDSO_PATCH];
	uint64_t len;
	int n;

	n = collect_vdso_block(&b);
	/* valgrind hides the vdso from /proc/self/maps: nothing to match there */
	if (n == -ENOENT && !getauxval(AT_SYSINFO_EHDR))
		return;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(b.vdso_start, getauxval(AT_SYSINFO_EHDR));
	len = b.vdso_end - b.vdso_start;
	/* the same image "saved" at 0x100000, the current one moved to 0x200000 */
	n = prepare_vdso_patches((void *)b.vdso_start, len, 0x100000, (void *)b.vdso_start, len,
				 0x200000, p, RP_MAX_VDSO_PATCH);
	ck_assert_int_gt(n, 3); /* clock_gettime, gettimeofday, time, getcpu, clock_getres */
	for (int i = 0; i < n; i++) {
		ck_assert_uint_eq(p[i].target - 0x200000, p[i].at - 0x100000);
		if (i)
			ck_assert_uint_ge(p[i].at, p[i - 1].at + 13);
	}
	/* garbage is not an ELF image */
	{
		char junk[4096] = "not an elf";

		ck_assert_int_lt(prepare_vdso_patches(junk, sizeof(junk), 0, (void *)b.vdso_start,
						      len, 0, p, RP_MAX_VDSO_PATCH), 0);
	}
}
END_TEST

static struct restore_thread_desc main_thread(void)
{
	struct restore_thread_desc t;

	memset(&t, 0, sizeof(t));
	t.tid = getpid();
	t.regs.cs = X86_USER_CS;
	t.altstack.ss_flags = SS_DISABLE;
	return t;
}

START_TEST(test_req_rejects)
{
	struct restore_req *req;
	struct restore_vma_desc v;
	struct restore_run run = { 0x1000, 0x1000, NULL };
	struct restore_thread_desc t = main_thread();

	ck_assert_int_eq(restore_req_new(&req), 0);
	memset(&v, 0, sizeof(v));
	v.start = 0x10001000;
	v.end = 0x10001800; /* not page aligned */
	v.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	v.src = RESTORE_SRC_ZERO;
	ck_assert_int_eq(restore_req_add_vma(req, &v), -EINVAL);
	v.end = 0x10003000;
	v.flags = MAP_ANONYMOUS; /* neither private nor shared */
	ck_assert_int_eq(restore_req_add_vma(req, &v), -EINVAL);
	v.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	ck_assert_int_eq(restore_req_add_vma(req, &v), 0);
	/* written pages on an anonymous region */
	ck_assert_int_eq(restore_req_add_run(req, 0, &run), -EINVAL);
	ck_assert_int_eq(restore_req_add_run(req, 5, &run), -EINVAL);
	/* a zero region cannot be staged */
	ck_assert_ptr_null(restore_req_stage_vma(req, 0));
	/* a 32-bit code segment */
	t.regs.cs = 0x23;
	ck_assert_int_eq(restore_req_add_thread(req, &t), -EINVAL);
	t = main_thread();
	t.xsave = &t;
	t.xsave_len = 100; /* shorter than FXSAVE */
	ck_assert_int_eq(restore_req_add_thread(req, &t), -EINVAL);
	ck_assert_int_eq(restore_req_set_sigaction(req, SIGKILL, &(struct rp_sigaction){ 0 }),
			 -EINVAL);
	restore_req_free(req);
}
END_TEST

START_TEST(test_prepare_refuses)
{
	struct restore_req *req;
	struct restore_vma_desc v;
	struct restore_thread_desc t = main_thread();
	int idx, fd;
	char *p;

	/* no thread */
	ck_assert_int_eq(restore_req_new(&req), 0);
	ck_assert_int_eq(prepare_restore(req), -EINVAL);
	restore_req_free(req);

	/* overlapping regions */
	ck_assert_int_eq(restore_req_new(&req), 0);
	memset(&v, 0, sizeof(v));
	v.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	v.src = RESTORE_SRC_ZERO;
	v.start = 0x20000000;
	v.end = 0x20004000;
	ck_assert_int_ge(restore_req_add_vma(req, &v), 0);
	v.start = 0x20002000;
	v.end = 0x20006000;
	ck_assert_int_ge(restore_req_add_vma(req, &v), 0);
	ck_assert_int_eq(restore_req_add_thread(req, &t), 0);
	ck_assert_int_eq(prepare_restore(req), -EINVAL);
	restore_req_free(req);

	/* a staged region without its staging memory, then a closed fd */
	ck_assert_int_eq(restore_req_new(&req), 0);
	v.start = 0x30000000;
	v.end = 0x30004000;
	v.src = RESTORE_SRC_STAGED;
	idx = restore_req_add_vma(req, &v);
	ck_assert_int_ge(idx, 0);
	ck_assert_int_eq(restore_req_add_thread(req, &t), 0);
	ck_assert_int_eq(prepare_restore(req), -EINVAL);
	p = restore_req_stage_vma(req, idx);
	ck_assert_ptr_nonnull(p);
	/* staging keeps clear of the saved region */
	ck_assert((uint64_t)(uintptr_t)p + 0x4000 <= 0x30000000 || (uint64_t)(uintptr_t)p >= 0x30004000);
	fd = open("/dev/null", O_RDONLY);
	close(fd);
	memset(&v, 0, sizeof(v));
	v.start = 0x31000000;
	v.end = 0x31001000;
	v.flags = MAP_PRIVATE;
	v.src = RESTORE_SRC_FILE;
	v.fd = fd;
	ck_assert_int_ge(restore_req_add_vma(req, &v), 0);
	ck_assert_int_eq(prepare_restore(req), -EBADF);
	/* the caller is intact: its memory, its staging */
	memset(p, 0x5a, 0x4000);
	restore_req_free(req);

	/* an O_PATH fd, and a shared writable mapping of a read-only fd: refused */
	ck_assert_int_eq(restore_req_new(&req), 0);
	ck_assert_int_eq(restore_req_add_thread(req, &t), 0);
	fd = open("/dev/null", O_PATH);
	memset(&v, 0, sizeof(v));
	v.start = 0x32000000;
	v.end = 0x32001000;
	v.flags = MAP_PRIVATE;
	v.prot = PROT_READ;
	v.src = RESTORE_SRC_FILE;
	v.fd = fd;
	ck_assert_int_ge(restore_req_add_vma(req, &v), 0);
	ck_assert_int_eq(prepare_restore(req), -EACCES);
	restore_req_free(req);
	close(fd);
	ck_assert_int_eq(restore_req_new(&req), 0);
	ck_assert_int_eq(restore_req_add_thread(req, &t), 0);
	fd = open("/dev/zero", O_RDONLY);
	v.flags = MAP_SHARED;
	v.prot = PROT_READ | PROT_WRITE;
	v.fd = fd;
	ck_assert_int_ge(restore_req_add_vma(req, &v), 0);
	ck_assert_int_eq(prepare_restore(req), -EACCES);
	close(fd);
	restore_req_free(req);

	/* a bad DMTCP_RESTORE_VDSO is named and refused */
	ck_assert_int_eq(restore_req_new(&req), 0);
	ck_assert_int_eq(restore_req_add_thread(req, &t), 0);
	setenv("DMTCP_RESTORE_VDSO", "sideways", 1);
	ck_assert_int_eq(prepare_restore(req), -EINVAL);
	unsetenv("DMTCP_RESTORE_VDSO");
	restore_req_free(req);
}
END_TEST

/* A request with the main thread and a sparse 1 TiB MAP_NORESERVE region at 0x400000000000. */
static struct restore_req *sparse_req(int *idx)
{
	struct restore_thread_desc t = main_thread();
	struct restore_vma_desc v;
	struct restore_req *req;

	ck_assert_int_eq(restore_req_new(&req), 0);
	ck_assert_int_eq(restore_req_add_thread(req, &t), 0);
	memset(&v, 0, sizeof(v));
	v.start = 0x400000000000ULL;
	v.end = v.start + (1ULL << 40);
	v.prot = PROT_READ | PROT_WRITE;
	v.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	v.src = RESTORE_SRC_SPARSE;
	*idx = restore_req_add_vma(req, &v);
	ck_assert_int_ge(*idx, 0);
	return req;
}

START_TEST(test_sparse_refuses)
{
	struct restore_req *req;
	struct restore_vma_desc v;
	struct restore_run run;
	char *stage, *whole;
	int idx, zidx, sidx;

	/* a sparse region is private anonymous memory */
	ck_assert_int_eq(restore_req_new(&req), 0);
	memset(&v, 0, sizeof(v));
	v.start = 0x400000000000ULL;
	v.end = v.start + 0x10000;
	v.flags = MAP_SHARED | MAP_ANONYMOUS;
	v.src = RESTORE_SRC_SPARSE;
	ck_assert_int_eq(restore_req_add_vma(req, &v), -EINVAL);
	v.flags = MAP_PRIVATE;
	ck_assert_int_eq(restore_req_add_vma(req, &v), -EINVAL);
	v.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	idx = restore_req_add_vma(req, &v);
	ck_assert_int_ge(idx, 0);
	/* its runs: whole pages inside it, staged at a page boundary */
	stage = restore_stage_alloc(req, 0x3000, 0);
	ck_assert_ptr_nonnull(stage);
	run = (struct restore_run){ 0xf000, 0x2000, stage };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), -EINVAL);
	run = (struct restore_run){ 0x1000, 0x1000, stage + 8 };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), -EINVAL);
	run = (struct restore_run){ 0x1000, 0x1000, stage };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), 0);
	restore_req_free(req);

	/* staging a 1 TiB sparse region costs its runs: a few pages, not its length */
	req = sparse_req(&idx);
	stage = restore_stage_alloc(req, 0x3000, 0);
	ck_assert_ptr_nonnull(stage);
	ck_assert((uint64_t)(uintptr_t)stage + 0x3000 <= 0x400000000000ULL ||
		  (uint64_t)(uintptr_t)stage >= 0x400000000000ULL + (1ULL << 40));
	run = (struct restore_run){ 0, 0x1000, stage };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), 0);
	run = (struct restore_run){ (1ULL << 39), 0x1000, stage + 0x1000 };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), 0);
	/* the last page, staged over the second run's bytes: the blob would have unmapped them */
	run = (struct restore_run){ (1ULL << 40) - 0x1000, 0x1000, stage + 0x1000 };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), 0);
	ck_assert_int_eq(prepare_restore(req), -EINVAL);
	memset(stage, 0x5a, 0x3000); /* the caller is intact */
	restore_req_free(req);

	/* runs of a region out of order */
	req = sparse_req(&idx);
	stage = restore_stage_alloc(req, 0x2000, 0);
	ck_assert_ptr_nonnull(stage);
	run = (struct restore_run){ 0x5000, 0x1000, stage };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), 0);
	run = (struct restore_run){ 0x2000, 0x1000, stage + 0x1000 };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), 0);
	ck_assert_int_eq(prepare_restore(req), -EINVAL);
	restore_req_free(req);

	/* a run staged inside a staged region's memory */
	req = sparse_req(&idx);
	memset(&v, 0, sizeof(v));
	v.start = 0x500000000000ULL;
	v.end = v.start + 0x4000;
	v.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	v.src = RESTORE_SRC_STAGED;
	sidx = restore_req_add_vma(req, &v);
	ck_assert_int_ge(sidx, 0);
	whole = restore_req_stage_vma(req, sidx);
	ck_assert_ptr_nonnull(whole);
	run = (struct restore_run){ 0x1000, 0x1000, whole + 0x1000 };
	ck_assert_int_eq(restore_req_add_run(req, idx, &run), 0);
	ck_assert_int_eq(prepare_restore(req), -EINVAL);
	restore_req_free(req);

	/* page runs go on sparse regions and private file mappings, not on zero ones */
	req = sparse_req(&idx);
	v.src = RESTORE_SRC_ZERO;
	zidx = restore_req_add_vma(req, &v);
	ck_assert_int_ge(zidx, 0);
	stage = restore_stage_alloc(req, 0x1000, 0);
	ck_assert_ptr_nonnull(stage);
	run = (struct restore_run){ 0, 0x1000, stage };
	ck_assert_int_eq(restore_req_add_run(req, zidx, &run), -EINVAL);
	restore_req_free(req);
}
END_TEST

static Suite *restorer_suite(void)
{
	Suite *s = suite_create("restorer");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sigframe_layout);
	tcase_add_test(tc, test_sigframe_build);
	tcase_add_test(tc, test_vdso_patches_self);
	tcase_add_test(tc, test_req_rejects);
	tcase_add_test(tc, test_prepare_refuses);
	tcase_add_test(tc, test_sparse_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(restorer_suite());
	int failed;

	log_set_prog("check_restorer");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
