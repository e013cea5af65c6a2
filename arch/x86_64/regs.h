/*
 * x86_64 register accessors for libc-side ptrace code (tracer, infection, dump, restart), so
 * that code outside arch/ never names a register: which register holds the syscall number,
 * the arguments, the result, the instruction and stack pointers, and how a thread stopped
 * inside a syscall will restart.
 */
#ifndef DMTCP_ARCH_REGS_H
#define DMTCP_ARCH_REGS_H

#include <stdint.h>
#include <sys/user.h>

typedef struct user_regs_struct arch_regs_t;

/* The instruction that enters the kernel (0f 05) and a breakpoint (cc). */
#define ARCH_SYSCALL_INSN     "\x0f\x05"
#define ARCH_SYSCALL_INSN_LEN 2
#define ARCH_TRAP_INSN	      "\xcc"
#define ARCH_TRAP_INSN_LEN    1

/* eflags bits that must be clear before we run our own code in a thread. */
#define ARCH_EFLAGS_TF 0x100UL /* single step */
#define ARCH_EFLAGS_DF 0x400UL /* string direction: the ABI wants it clear at a call */

/* Kernel-internal restart codes, as a thread stopped in a syscall shows them in rax. */
#define ARCH_ERESTARTSYS	   512
#define ARCH_ERESTARTNOINTR	   513
#define ARCH_ERESTARTNOHAND	   514
#define ARCH_ERESTART_RESTARTBLOCK 516

static inline uint64_t regs_ip(const arch_regs_t *r)
{
	return r->rip;
}
static inline void regs_set_ip(arch_regs_t *r, uint64_t v)
{
	r->rip = v;
}
static inline uint64_t regs_sp(const arch_regs_t *r)
{
	return r->rsp;
}
static inline void regs_set_sp(arch_regs_t *r, uint64_t v)
{
	r->rsp = v;
}
static inline long regs_ret(const arch_regs_t *r)
{
	return (long)r->rax;
}

/* The syscall the thread is in (orig_rax), or -1 when it is not in one. */
static inline long regs_syscall_nr(const arch_regs_t *r)
{
	return (long)r->orig_rax;
}

/* Argument i (0..5) of a syscall, in the syscall convention (r10, not rcx, for the 4th). */
static inline uint64_t regs_syscall_arg(const arch_regs_t *r, int i)
{
	switch (i) {
	case 0:
		return r->rdi;
	case 1:
		return r->rsi;
	case 2:
		return r->rdx;
	case 3:
		return r->r10;
	case 4:
		return r->r8;
	default:
		return r->r9;
	}
}

/*
 * Make the thread execute syscall nr with args at its current ip (which must point at a
 * syscall instruction) when it resumes. orig_rax = -1 tells the kernel's signal-exit code
 * that the thread is not inside a syscall, so it applies no restart fix-up (rip -= 2) to
 * the registers we set.
 */
static inline void regs_setup_syscall(arch_regs_t *r, long nr, const uint64_t a[6])
{
	r->rax = (uint64_t)nr;
	r->orig_rax = (uint64_t)-1;
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
}

/* Make the thread call a function at ip with one argument and the stack at sp. */
static inline void regs_setup_call(arch_regs_t *r, uint64_t ip, uint64_t sp, uint64_t arg0)
{
	r->rip = ip;
	r->rsp = sp;
	r->rdi = arg0;
	r->rax = 0;
	r->orig_rax = (uint64_t)-1;
	r->eflags &= ~(ARCH_EFLAGS_TF | ARCH_EFLAGS_DF);
}

static inline void regs_set_syscall_arg(arch_regs_t *r, int i, uint64_t v)
{
	switch (i) {
	case 0:
		r->rdi = v;
		break;
	case 1:
		r->rsi = v;
		break;
	case 2:
		r->rdx = v;
		break;
	case 3:
		r->r10 = v;
		break;
	case 4:
		r->r8 = v;
		break;
	default:
		r->r9 = v;
		break;
	}
}

/*
 * Make a thread stopped after a syscall returned issue it again when it resumes: back over
 * the syscall instruction, the number back in the result register. What the kernel itself
 * does for -ERESTARTSYS on the way out of signal handling.
 */
static inline void regs_rewind_syscall(arch_regs_t *r)
{
	r->rip -= ARCH_SYSCALL_INSN_LEN;
	r->rax = r->orig_rax;
}

/* Like regs_rewind_syscall, issuing syscall nr instead (the call a restart_syscall stood for);
 * the arguments stay as they are. */
static inline void regs_rewind_syscall_as(arch_regs_t *r, long nr)
{
	r->orig_rax = (uint64_t)nr;
	regs_rewind_syscall(r);
}

/* At a syscall-entry (seccomp) stop: do not run the call; it returns ret instead. */
static inline void regs_skip_syscall(arch_regs_t *r, long ret)
{
	r->orig_rax = (uint64_t)-1;
	r->rax = (uint64_t)ret;
}

/* Make a stopped syscall return ret (e.g. -EINTR instead of a restart code). */
static inline void regs_set_ret(arch_regs_t *r, long ret)
{
	r->rax = (uint64_t)ret;
}

/* 1 when a thread stopped with these registers will re-execute its syscall on resume
 * (absent a signal handler): it was in a syscall that returned a restart code. */
static inline int regs_syscall_will_restart(const arch_regs_t *r)
{
	long ret = (long)r->rax;

	return (long)r->orig_rax >= 0 &&
	       (ret == -ARCH_ERESTARTSYS || ret == -ARCH_ERESTARTNOINTR ||
		ret == -ARCH_ERESTARTNOHAND || ret == -ARCH_ERESTART_RESTARTBLOCK);
}

#endif
