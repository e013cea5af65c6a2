/*
 * Collecting the threads of a suspended process: registers (with the restart-syscall fix-up
 * applied to the saved copy only), the xsave area sized by the kernel, fs/gs base, signal
 * mask, the thread's pending signal queue with full siginfo, rseq registration and robust
 * futex list. Every thread must be held in a ptrace-stop by the caller.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "collect.h"
#include "log.h"
#include "procfs.h"
#include "regs.h"

/* Debian 12's headers predate these. */
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

struct rseq_config {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

struct peeksiginfo_args {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

_Static_assert(sizeof(struct ckpt_regs) == sizeof(arch_regs_t),
	       "ckpt_regs must mirror the kernel's register set");

/* The whole thread queue (or the shared one), in batches. */
static int peek_siginfos(pid_t tid, uint32_t flags, struct ckpt_siginfo **sip, uint32_t *np)
{
	struct ckpt_siginfo *si = NULL, *nsi;
	uint32_t n = 0, cap = 0;

	*sip = NULL;
	*np = 0;
	for (;;) {
		struct peeksiginfo_args a = { .off = n, .flags = flags, .nr = 32 };
		long got;

		if (n + 32 > cap) {
			cap = cap ? cap * 2 : 32;
			nsi = realloc(si, cap * sizeof(*si));
			if (!nsi) {
				free(si);
				return -ENOMEM;
			}
			si = nsi;
		}
		got = ptrace(PTRACE_PEEKSIGINFO, tid, &a, si + n);
		if (got < 0) {
			int err = -errno;

			free(si);
			return err;
		}
		n += (uint32_t)got;
		if (got < 32 || n >= CKPT_MAX_SIGINFO)
			break;
	}
	if (n == 0) {
		free(si);
		si = NULL;
	}
	*sip = si;
	*np = n;
	return 0;
}

int collect_shared_pending(pid_t tid, struct ckpt_siginfo **sip, uint32_t *np)
{
	return peek_siginfos(tid, 1 /* PTRACE_PEEKSIGINFO_SHARED */, sip, np);
}

static void collect_thread_names(pid_t pid, pid_t tid, struct ckpt_thread *t)
{
	char *buf;
	int n;

	procfs_comm(pid, tid, t->comm, sizeof(t->comm));
	if (procfs_read(pid, tid, "status", &buf, NULL))
		return;
	n = procfs_status_ints(buf, "NSpid", t->ns_tid, CKPT_MAX_NS_LEVELS);
	t->ns_levels = n;
	free(buf);
}

int collect_thread(pid_t pid, pid_t tid, const struct sysrestart_memo *memo,
		   struct ckpt_thread *t)
{
	arch_regs_t regs;
	struct iovec iov = { &regs, sizeof(regs) };
	struct rseq_config rc;
	uint8_t *xbuf;
	long rlen = 0;
	uint64_t rhead = 0;
	int err;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov)) {
		err = -errno;
		if (err != -ESRCH)
			pr_err("tid %d: PTRACE_GETREGSET NT_PRSTATUS: %s", tid, strerror(-err));
		return err;
	}
	/* The saved copy carries on as the live thread will (sysrestart.c); the live one is
	 * left as it is. */
	t->stopped_ret = (uint64_t)regs_ret(&regs);
	t->sysfix = sysrestart_fix_saved(&regs, memo, sysrestart_signal_pending(pid, tid));
	memcpy(&t->regs, &regs, sizeof(regs));

	/* The xsave area's size depends on the CPU's features (AVX-512 here): give the kernel
	 * the largest area we accept and keep the length it reports back. */
	xbuf = malloc(CKPT_MAX_XSAVE);
	if (!xbuf)
		return -ENOMEM;
	iov.iov_base = xbuf;
	iov.iov_len = CKPT_MAX_XSAVE;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) == 0 &&
	    iov.iov_len >= 576) {
		t->xsave = realloc(xbuf, iov.iov_len);
		if (!t->xsave)
			t->xsave = xbuf;
		t->xsave_size = (uint32_t)iov.iov_len;
	} else {
		err = -errno;
		free(xbuf);
		if (err == -ESRCH)
			return err;
		pr_err("tid %d: PTRACE_GETREGSET NT_X86_XSTATE: %s", tid, strerror(-err));
		return err;
	}

	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(t->sigmask), &t->sigmask)) {
		err = -errno;
		if (err != -ESRCH)
			pr_err("tid %d: PTRACE_GETSIGMASK: %s", tid, strerror(-err));
		return err;
	}
	err = peek_siginfos(tid, 0, &t->pending, &t->npending);
	if (err) {
		if (err != -ESRCH)
			pr_err("tid %d: PTRACE_PEEKSIGINFO: %s", tid, strerror(-err));
		return err;
	}
	memset(&rc, 0, sizeof(rc));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, (void *)sizeof(rc), &rc) > 0 &&
	    rc.rseq_abi_pointer) {
		t->rseq_addr = rc.rseq_abi_pointer;
		t->rseq_len = rc.rseq_abi_size;
		t->rseq_sig = rc.signature;
		t->rseq_flags = rc.flags;
	}
	if (syscall(SYS_get_robust_list, tid, &rhead, &rlen) == 0) {
		t->robust_head = rhead;
		t->robust_len = (uint64_t)rlen;
	}
	/* sigaltstack and the clear-tid address are only readable from inside the thread (the
	 * parasite); until it reports them they stay marked unknown. */
	t->ss_flags = 2; /* SS_DISABLE */
	collect_thread_names(pid, tid, t);
	return 0;
}

int collect_threads(pid_t pid, const pid_t *tids, uint32_t ntids, const struct collect_tree *tree,
		    struct ckpt_proc *p)
{
	uint32_t i;
	int rc;

	if (ntids == 0 || ntids > CKPT_MAX_THREADS)
		return -EINVAL;
	p->threads = calloc(ntids, sizeof(*p->threads));
	if (!p->threads)
		return -ENOMEM;
	p->nthreads = ntids;
	for (i = 0; i < ntids; i++) {
		const struct sysrestart_memo *memo =
			tree && tree->sys_memo ? tree->sys_memo(tree->arg, tids[i]) : NULL;

		rc = collect_thread(pid, tids[i], memo, &p->threads[i]);
		if (rc)
			return rc;
	}
	return 0;
}
