/*
 * The dmtcp.h API's virtual syscall (see sysapi.h).
 */
#include "sysapi.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "api_abi.h"
#include "barriers.h"
#include "core.h"
#include "log.h"
#include "peer.h"
#include "remote.h"
#include "thread.h"

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
static long api_status(struct tracee_proc *p, raddr_t addr)
{
	struct dmtcp_api_status st = { .incarnation = incarnation() };
	uint64_t done, failed;

	barriers_counts(p, &done, &failed);
	st.ckpts_done = done;
	st.ckpts_failed = failed;
	/* -EFAULT for a short write: the area is not all writable */
	return remote_write(p->pid, addr, &st, sizeof(st));
}

static enum resume_how api_call(struct tracee_thread *t, const struct syscall_stop *s, void *arg)
{
	struct tracee_proc *p = t->proc;
	long ret;
	int r;

	(void)arg;
	switch ((long)s->args[0]) {
	case DMTCP_OP_IS_ENABLED:
		ret = p->nocheckpoint ? 0 : 1;
		break;
	case DMTCP_OP_CHECKPOINT:
		/* A newborn not announced yet: announce it now, then ask. */
		peer_announce_all(p->tracer);
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
		ret = api_status(p, raddr(s->args[1]));
		break;
	default:
		ret = -EINVAL;
		break;
	}
	pr_debug("pid %d: dmtcp api op %lld -> %ld", p->pid, (long long)s->args[0], ret);
	r = thread_skip_syscall(t, ret);
	if (r < 0 && r != -ESRCH)
		pr_warn("tid %d: cannot answer the dmtcp api call: %s", t->tid, strerror(-r));
	return RESUME_CONT;
}

int sysapi_init(struct tracer *tr)
{
	return hooks_trap(tr, DMTCP_API_SYSCALL, api_call, NULL, NULL);
}
