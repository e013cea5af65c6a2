/*
 * Serving the dmtcp.h API's virtual syscall (common/api_abi.h) at its seccomp stop: the call
 * is skipped (orig_rax = -1) and rax carries the answer.
 */
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

#include "api_abi.h"
#include "log.h"
#include "tracer_int.h"

void sysapi_handle(struct tracee_thread *t, struct user_regs_struct *r)
{
	struct tracee_proc *p = t->proc;
	long ret;

	switch ((long)r->rdi) {
	case DMTCP_OP_IS_ENABLED:
		ret = p->nocheckpoint ? 0 : 1;
		break;
	case DMTCP_OP_CHECKPOINT:
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
