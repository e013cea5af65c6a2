/*
 * libdmtcp: the dmtcp.h API on top of the tracer's virtual system call (common/api_abi.h).
 *
 * The system call is issued with inline assembly rather than syscall(3) so that the library
 * does not depend on libc's errno convention for a number the kernel does not know, and works
 * the same in static and dynamic programs.
 */
#include <errno.h>
#include <time.h>

#include "dmtcp.h"
#include "api_abi.h"

static long api_call(long op, long arg)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"((long)DMTCP_API_SYSCALL), "D"(op), "S"(arg)
			 : "rcx", "r11", "memory");
	return r;
}

static long api_status(struct dmtcp_api_status *st)
{
	return api_call(DMTCP_OP_STATUS, (long)st);
}

int dmtcp_is_enabled(void)
{
	return api_call(DMTCP_OP_IS_ENABLED, 0) == 1;
}

int dmtcp_get_local_status(int *num_checkpoints, int *num_failed)
{
	struct dmtcp_api_status st;
	long r = api_status(&st);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	if (num_checkpoints)
		*num_checkpoints = (int)st.ckpts_done;
	if (num_failed)
		*num_failed = (int)st.ckpts_failed;
	return 0;
}

int dmtcp_checkpoint(void)
{
	struct dmtcp_api_status before, now;
	/*
	 * The checkpoint happens while this thread sleeps below: a sleep is resumed
	 * transparently after a checkpoint, and it is where a restarted process comes back.
	 */
	const struct timespec tick = { 0, 2 * 1000 * 1000 };
	long r;

	if (!dmtcp_is_enabled())
		return DMTCP_NOT_PRESENT;
	r = api_status(&before);
	if (r == 0)
		r = api_call(DMTCP_OP_CHECKPOINT, 0);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	for (;;) {
		nanosleep(&tick, NULL);
		r = api_status(&now);
		if (r < 0) {
			/* -ENOSYS: the filter stays but no tracer answers any more */
			errno = r == -ENOSYS ? ENOTCONN : (int)-r;
			return -1;
		}
		if (now.incarnation != before.incarnation)
			return DMTCP_AFTER_RESTART;
		if (now.ckpts_done != before.ckpts_done)
			return DMTCP_AFTER_CHECKPOINT;
		if (now.ckpts_failed != before.ckpts_failed) {
			errno = EAGAIN;
			return -1;
		}
	}
}
