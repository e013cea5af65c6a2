/*
 * Following the program's processes at their syscalls (see follow.h).
 */
#include "follow.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "core.h"
#include "log.h"
#include "remote.h"
#include "thread.h"

/* The name of the program an exec is about to run (events.c names the process with it). */
static enum resume_how note_exec(struct tracee_thread *t, const struct syscall_stop *s, void *arg)
{
	struct tracee_proc *p = t->proc;
	raddr_t path = raddr(s->nr == SYS_execveat ? s->args[1] : s->args[0]);
	char buf[PATH_MAX];
	const char *base;

	(void)arg;
	if (remote_read_str(t->tid, path, buf, sizeof(buf)) < 0) {
		p->exec_prog[0] = '\0';
	} else {
		base = strrchr(buf, '/');
		base = base ? base + 1 : buf;
		/* execveat(fd, "", AT_EMPTY_PATH): no name; /proc/PID/comm tells after exec */
		snprintf(p->exec_prog, sizeof(p->exec_prog), "%.*s", (int)sizeof(p->exec_prog) - 1,
			 base);
	}
	p->exec_pending = 1;
	return RESUME_CONT;
}

/*
 * clone/clone3 with CLONE_UNTRACED would make a task the ptrace options do not follow: a
 * process or thread outside every checkpoint, whose trapped calls then fail with ENOSYS (a
 * SECCOMP_RET_TRACE with no tracer). The flag is meant for kernel threads; a program that
 * passes it cannot tell the difference, so it is taken off before the kernel reads it. For
 * clone the flags are a register; for clone3 the first field of the program's clone_args
 * (one read per pthread_create, a write only when the flag is there).
 */
static enum resume_how keep_traced(struct tracee_thread *t, const struct syscall_stop *s,
				   void *arg)
{
	raddr_t ca = raddr(s->args[0]);
	uint64_t flags;
	int r;

	(void)arg;
	if (s->nr == SYS_clone) {
		if (!(s->args[0] & CLONE_UNTRACED))
			return RESUME_CONT;
		r = thread_set_syscall_arg(t, 0, s->args[0] & ~(uint64_t)CLONE_UNTRACED);
		if (r < 0)
			pr_warn("tid %d: cannot clear CLONE_UNTRACED: %s", t->tid, strerror(-r));
		else
			pr_debug("tid %d: clone: CLONE_UNTRACED cleared", t->tid);
		return RESUME_CONT;
	}
	/* clone3: a bad pointer or size fails the call on its own (EFAULT/EINVAL) */
	if (s->args[1] < sizeof(flags) || remote_read(t->tid, ca, &flags, sizeof(flags)) < 0 ||
	    !(flags & CLONE_UNTRACED))
		return RESUME_CONT;
	flags &= ~(uint64_t)CLONE_UNTRACED;
	if (remote_write(t->tid, ca, &flags, sizeof(flags)) < 0)
		pr_warn("tid %d: cannot clear CLONE_UNTRACED in clone_args", t->tid);
	else
		pr_debug("tid %d: clone3: CLONE_UNTRACED cleared", t->tid);
	return RESUME_CONT;
}

int follow_init(struct tracer *tr)
{
	int r;

	r = hooks_trap(tr, SYS_execve, note_exec, NULL, NULL);
	if (!r)
		r = hooks_trap(tr, SYS_execveat, note_exec, NULL, NULL);
	if (!r)
		r = hooks_trap(tr, SYS_clone, keep_traced, NULL, NULL);
	if (!r)
		r = hooks_trap(tr, SYS_clone3, keep_traced, NULL, NULL);
	/*
	 * fork and vfork are trapped with nothing to do at their stop yet: PTRACE_O_TRACEFORK/
	 * VFORK report the new task with its own event stop, where it is adopted; the seccomp
	 * stop is where the tracer can act before a task exists (docs/architecture.md).
	 */
	if (!r)
		r = hooks_trap(tr, SYS_fork, NULL, NULL, NULL);
	if (!r)
		r = hooks_trap(tr, SYS_vfork, NULL, NULL, NULL);
	return r;
}
