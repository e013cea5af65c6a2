/*
 * The seccomp filter every launched program carries, and the kernel feature probes.
 *
 * The filter is number-only and short: it traps (SECCOMP_RET_TRACE) the socket family, the
 * fork family (fork, vfork, clone, clone3), exec and the API's virtual syscall, and allows
 * everything else, so an untrapped syscall costs only the kernel's seccomp entry path. New
 * tasks are followed by PTRACE_O_TRACEFORK/VFORK/CLONE, not by this trap: the fork family's
 * seccomp stop is the place where the tracer can act before a task is created (it continues
 * at once today; see docs/architecture.md, "Trapped-syscall cost"). The comparisons are
 * ordered as a small search tree so the common cheap syscalls leave after a few instructions.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api_abi.h"
#include "log.h"
#include "tracer_int.h"

#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#define X32_SYSCALL_BIT 0x40000000

/* The tree below relies on these numbers; a different table needs a different tree. */
_Static_assert(__NR_socket == 41 && __NR_connect == 42 && __NR_accept == 43, "socket nrs");
_Static_assert(__NR_bind == 49 && __NR_listen == 50 && __NR_socketpair == 53, "socket nrs");
_Static_assert(__NR_clone == 56 && __NR_fork == 57 && __NR_vfork == 58 && __NR_execve == 59,
	       "process nrs");
_Static_assert(__NR_accept4 == 288 && __NR_execveat == 322 && __NR_clone3 == 435, "late nrs");
_Static_assert(DMTCP_API_SYSCALL > __NR_clone3 && DMTCP_API_SYSCALL < X32_SYSCALL_BIT, "api nr");

/* Relative jump from instruction 'from' to instruction 'to' (BPF counts from the next one). */
#define J(from, to) ((to) - (from)-1)

enum {
	L_ALLOW = 16,
	L_TRACE = 17,
	L_FOREIGN = 18,
};

static const struct sock_filter filter_code[] = {
	/* 0: A = data->arch */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	/* 1: if (A != AUDIT_ARCH_X86_64) goto foreign  (i386 via int 0x80) */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, J(1, L_FOREIGN)),
	/* 2: A = data->nr */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	/* 3: if (A < 41) goto allow  (read, write, open, mmap, poll, ...) */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __NR_socket, 0, J(3, L_ALLOW)),
	/* 4: if (A > 59) goto 10 */
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, __NR_execve, J(4, 10), 0),
	/* 5: if (A <= 43) goto trace  (socket, connect, accept) */
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, __NR_accept, 0, J(5, L_TRACE)),
	/* 6: if (A < 49) goto allow  (sendto, recvfrom, sendmsg, recvmsg, shutdown) */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __NR_bind, 0, J(6, L_ALLOW)),
	/* 7: if (A <= 50) goto trace  (bind, listen) */
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, __NR_listen, 0, J(7, L_TRACE)),
	/* 8: if (A == 53) goto trace  (socketpair) */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, J(8, L_TRACE), 0),
	/* 9: if (A >= 56) goto trace else goto allow  (56..59: clone, fork, vfork, execve; not
	 *    51, 52, 54, 55: getsockname, getpeername, setsockopt, getsockopt) */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __NR_clone, J(9, L_TRACE), J(9, L_ALLOW)),
	/* 10: if (A < 288) goto allow  (getppid, clock_gettime, futex, ...) */
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __NR_accept4, 0, J(10, L_ALLOW)),
	/* 11: if (A == 288) goto trace  (accept4) */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_accept4, J(11, L_TRACE), 0),
	/* 12: if (A == 322) goto trace  (execveat) */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, J(12, L_TRACE), 0),
	/* 13: if (A == 435) goto trace  (clone3) */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, J(13, L_TRACE), 0),
	/* 14: if (A == DMTCP_API_SYSCALL) goto trace */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DMTCP_API_SYSCALL, J(14, L_TRACE), 0),
	/* 15: if (A & X32_SYSCALL_BIT) goto foreign else goto allow */
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, J(15, L_FOREIGN), J(15, L_ALLOW)),
	/* 16 allow: return ALLOW */
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	/* 17 trace: return TRACE | native */
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | FILTER_DATA_NATIVE),
	/* 18 foreign: return TRACE | foreign (the tracer lets it run: fork-following does not
	 *    depend on the filter, and foreign socket calls are not recorded) */
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE | FILTER_DATA_FOREIGN),
};
_Static_assert(sizeof(filter_code) / sizeof(filter_code[0]) == L_FOREIGN + 1, "labels");

/*
 * Runs in the launched child between fork and exec: no_new_privs first (required to install
 * a filter without CAP_SYS_ADMIN, and what keeps a setuid program from running with the
 * filter and more privilege than its tracer), then the filter. Returns 0 or -errno.
 */
int filter_install(const struct tracer_features *feat)
{
	struct sock_fprog prog = {
		.len = sizeof(filter_code) / sizeof(filter_code[0]),
		.filter = (struct sock_filter *)filter_code,
	};
	unsigned long flags = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Without SPEC_ALLOW the kernel turns the speculative-store-bypass mitigation on for the
	 * whole program on CPUs where it exists, which costs far more than the filter. */
	if (feat->seccomp_spec_allow)
		flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
		return -errno;
	return 0;
}

int probe_features(struct tracer_features *feat)
{
	long r;

	memset(feat, 0, sizeof(*feat));
	/*
	 * The kernel checks the flags before it reads the filter: an unknown flag fails with
	 * EINVAL, a known one gets as far as the NULL filter (EFAULT) or the privilege check
	 * (EACCES). Nothing is installed either way.
	 */
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, NULL);
	feat->seccomp_spec_allow = !(r < 0 && errno == EINVAL);
	if (r == 0) {
		/* cannot happen with a NULL program; never leave a filter on the tracer */
		pr_err("seccomp accepted an empty filter; refusing to go on");
		return -EINVAL;
	}
	r = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(unsigned){ SECCOMP_RET_TRACE });
	if (r < 0 && errno == EOPNOTSUPP) {
		pr_err("this kernel's seccomp has no SECCOMP_RET_TRACE");
		return -EOPNOTSUPP;
	}
	if (r < 0 && errno != EINVAL) {
		/* EINVAL: a kernel older than 4.14 without the query; TRACE exists since 3.5 */
		r = -errno;
		pr_err("seccomp is not available: %s", strerror(-r));
		return (int)r;
	}
	pr_debug("kernel: SECCOMP_FILTER_FLAG_SPEC_ALLOW %s",
		 feat->seccomp_spec_allow ? "supported" : "not supported");
	return 0;
}
