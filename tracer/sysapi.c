/*
 * Serving the dmtcp.h API's virtual syscall (common/api_abi.h) at its seccomp stop: the call
 * is skipped (orig_rax = -1) and rax carries the answer.
 */
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "api_abi.h"
#include "log.h"
#include "tracer_int.h"

/*
 * This tracer's incarnation: random, so that a restarted program (served by another tracer,
 * the one dmtcp_restart becomes) sees a different number than before its checkpoint.
 */
static uint64_t incarnation(void)
{
	static uint64_t inc;

	while (!inc) {
		if (getrandom(&inc, sizeof(inc), 0) != sizeof(inc)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			inc = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
		}
	}
	return inc;
}

/* DMTCP_OP_STATUS: write a struct dmtcp_api_status at the address the program gave. */
static long api_status(struct tracee_proc *p, uint64_t addr)
{
	struct dmtcp_api_status st = {
		.incarnation = incarnation(),
		.ckpts_done = p->ckpts_done,
		.ckpts_failed = p->ckpts_failed,
	};
	struct iovec local = { &st, sizeof(st) };
	struct iovec remote = { (void *)(uintptr_t)addr, sizeof(st) };
	ssize_t n;

	n = process_vm_writev(p->pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)sizeof(st))
		return 0;
	return n < 0 ? -errno : -EFAULT; /* a short write: the area is not all writable */
}

void sysapi_handle(struct tracee_thread *t, struct user_regs_struct *r)
{
	struct tracee_proc *p = t->proc;
	long ret;

	switch ((long)r->rdi) {
	case DMTCP_OP_IS_ENABLED:
		ret = p->nocheckpoint ? 0 : 1;
		break;
	case DMTCP_OP_CHECKPOINT:
		/* A newborn not announced yet: announce it now, then ask. */
		if (p->hello_pending)
			events_open_new_peers(p->tracer, 1);
		ret = p->nocheckpoint ? -EPERM : peer_ckpt_request(p);
		break;
	case DMTCP_OP_NOCHECKPOINT:
		/*
		 * A seccomp filter cannot be taken off, and a SECCOMP_RET_TRACE without a tracer
		 * fails the call with ENOSYS: so the process stays attached only to have its
		 * trapped calls let through, but leaves the computation (no peer, no suspend),
		 * and so do its children.
		 */
		p->nocheckpoint = 1;
		peer_close(p);
		ret = 0;
		break;
	case DMTCP_OP_STATUS:
		ret = api_status(p, r->rsi);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	pr_debug("pid %d: dmtcp api op %lld -> %ld", p->pid, (long long)r->rdi, ret);
	r->orig_rax = (unsigned long long)-1; /* skip the call... */
	r->rax = (unsigned long long)ret;     /* ...and return this */
	if (ptrace(PTRACE_SETREGS, t->tid, 0, r) < 0 && errno != ESRCH)
		pr_warn("tid %d: cannot answer the dmtcp api call: %s", t->tid, strerror(errno));
}
