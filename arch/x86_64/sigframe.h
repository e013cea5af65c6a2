/*
 * x86_64 rt_sigreturn frame: the kernel's struct rt_sigframe / ucontext / sigcontext layout,
 * and a builder that turns saved registers + an XSAVE image + a signal mask + a sigaltstack
 * into a frame that rt_sigreturn resumes from.
 *
 * Freestanding (stdint only), so that libc-side code and blobs can both include it. The
 * structs are written out here instead of taken from <asm/sigcontext.h>/<sys/ucontext.h>,
 * whose libc and kernel versions clash when both are included.
 *
 * What rt_sigreturn does with the frame (arch/x86/kernel/signal_64.c): it reads the frame at
 * rsp - 8 (the handler's `ret' would have popped pretcode), so rsp must point at uc; it restores
 * the general registers, eflags (masked), cs/ss, the signal mask (uc_sigmask), the sigaltstack
 * (uc_stack) and, when uc_mcontext.fpstate is not 0, the FPU state from it. fs/gs bases are
 * NOT in the frame: set them with arch_prctl first. orig_rax becomes -1, so no syscall restart
 * happens on the way out.
 */
#ifndef DMTCP_ARCH_SIGFRAME_H
#define DMTCP_ARCH_SIGFRAME_H

#include <stddef.h>
#include <stdint.h>

/* Same layout as <sys/user.h> struct user_regs_struct (PTRACE_GETREGS). */
struct x86_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;
};

struct x86_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* address of the FXSAVE/XSAVE image, 64-byte aligned; 0: none */
	uint64_t reserved1[8];
};

struct x86_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

struct x86_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct x86_stack uc_stack;
	struct x86_sigcontext uc_mcontext;
	uint64_t uc_sigmask; /* the kernel's 64-bit sigset */
};

struct x86_rt_sigframe {
	uint64_t pretcode;
	struct x86_ucontext uc;
	uint8_t info[128]; /* siginfo: not read by rt_sigreturn, kept for the layout */
};

/* uc_flags */
#define X86_UC_FP_XSTATE         0x1
#define X86_UC_SIGCONTEXT_SS     0x2
#define X86_UC_STRICT_RESTORE_SS 0x4

/* The software-reserved bytes of the FXSAVE area (offset 464) that announce an XSAVE frame. */
#define X86_FP_XSTATE_MAGIC1 0x46505853U
#define X86_FP_XSTATE_MAGIC2 0x46505845U
#define X86_FXSAVE_SIZE      512
#define X86_XSAVE_HDR_SIZE   64
#define X86_XSAVE_MIN_SIZE   (X86_FXSAVE_SIZE + X86_XSAVE_HDR_SIZE)
#define X86_SW_RESERVED_OFF  464
#define X86_XSTATE_BV_OFF    512
#define X86_XCOMP_BV_OFF     520
#define X86_USER_CS          0x33
#define X86_USER_DS          0x2b

struct x86_fpx_sw_bytes {
	uint32_t magic1;
	uint32_t extended_size; /* xstate_size + 4 (MAGIC2) */
	uint64_t xfeatures;     /* features present in the image; the kernel restores these */
	uint32_t xstate_size;   /* bytes of the XSAVE image */
	uint32_t padding[7];
};

/* Room sigframe_build() needs for an XSAVE image of xsave_len bytes. */
static inline size_t sigframe_room(size_t xsave_len)
{
	return 64 + ((xsave_len + 4 + 63) & ~(size_t)63) + sizeof(struct x86_rt_sigframe) + 64;
}

static inline void sigframe_copy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
}

/*
 * Build a frame in buf (room bytes, at its final address). xsave: a standard-format (not
 * compacted) XSAVE image as PTRACE_GETREGSET NT_X86_XSTATE returns it, or NULL to let the
 * kernel reset the FPU. xfeatures: the features to restore (the saved XSTATE_BV limited to
 * what this CPU's XCR0 enables); max_size: this kernel's user xstate size (CPUID 0xD.0 EBX), the
 * most rt_sigreturn accepts. Returns the rsp for rt_sigreturn, or 0 if room is too small.
 */
static inline uint64_t sigframe_build(void *buf, size_t room, const struct x86_regs *r,
				      const void *xsave, size_t xsave_len, uint64_t xfeatures,
				      size_t max_size, uint64_t sigmask, uint64_t ss_sp,
				      int32_t ss_flags, uint64_t ss_size)
{
	uint64_t base = (uint64_t)(uintptr_t)buf;
	uint64_t fp = (base + 63) & ~(uint64_t)63;
	struct x86_rt_sigframe *f;
	struct x86_sigcontext *sc;
	size_t len = xsave ? xsave_len : 0;

	if (len > max_size)
		len = max_size;
	if (room < sigframe_room(len))
		return 0;
	f = (struct x86_rt_sigframe *)(uintptr_t)(fp + ((len + 4 + 63) & ~(uint64_t)63));
	for (size_t i = 0; i < sizeof(*f); i++)
		((unsigned char *)f)[i] = 0;

	if (xsave && len >= X86_XSAVE_MIN_SIZE) {
		unsigned char *img = (unsigned char *)(uintptr_t)fp;
		struct x86_fpx_sw_bytes sw = { 0 };
		uint64_t bv;
		uint32_t magic2 = X86_FP_XSTATE_MAGIC2;

		sigframe_copy(img, xsave, len);
		/*
		 * XRSTOR faults on bits outside the requested-feature mask in XSTATE_BV and on a
		 * compacted image; the kernel turns that into SIGSEGV on the way out, so clean the
		 * header rather than trust it.
		 */
		sigframe_copy(&bv, img + X86_XSTATE_BV_OFF, 8);
		bv &= xfeatures;
		sigframe_copy(img + X86_XSTATE_BV_OFF, &bv, 8);
		for (int i = 8; i < X86_XSAVE_HDR_SIZE; i++)
			img[X86_XSTATE_BV_OFF + i] = 0;
		/* Without both magics the kernel restores only the legacy FP/SSE part. */
		sw.magic1 = X86_FP_XSTATE_MAGIC1;
		sw.extended_size = (uint32_t)len + 4;
		sw.xfeatures = xfeatures;
		sw.xstate_size = (uint32_t)len;
		sigframe_copy(img + X86_SW_RESERVED_OFF, &sw, sizeof(sw));
		sigframe_copy(img + len, &magic2, 4);
		f->uc.uc_flags |= X86_UC_FP_XSTATE;
		f->uc.uc_mcontext.fpstate = fp;
	} else if (xsave && len >= X86_FXSAVE_SIZE) {
		/* Legacy FXSAVE only: no magic, the kernel restores x87/SSE. */
		unsigned char *img = (unsigned char *)(uintptr_t)fp;

		sigframe_copy(img, xsave, X86_FXSAVE_SIZE);
		for (int i = X86_SW_RESERVED_OFF; i < X86_FXSAVE_SIZE; i++)
			img[i] = 0;
		f->uc.uc_mcontext.fpstate = fp;
	}

	f->uc.uc_flags |= X86_UC_SIGCONTEXT_SS | X86_UC_STRICT_RESTORE_SS;
	f->uc.uc_stack.ss_sp = ss_sp;
	f->uc.uc_stack.ss_flags = ss_flags;
	f->uc.uc_stack.ss_size = ss_size;
	f->uc.uc_sigmask = sigmask;

	sc = &f->uc.uc_mcontext;
	sc->r8 = r->r8;
	sc->r9 = r->r9;
	sc->r10 = r->r10;
	sc->r11 = r->r11;
	sc->r12 = r->r12;
	sc->r13 = r->r13;
	sc->r14 = r->r14;
	sc->r15 = r->r15;
	sc->rdi = r->rdi;
	sc->rsi = r->rsi;
	sc->rbp = r->rbp;
	sc->rbx = r->rbx;
	sc->rdx = r->rdx;
	sc->rax = r->rax;
	sc->rcx = r->rcx;
	sc->rsp = r->rsp;
	sc->rip = r->rip;
	sc->eflags = r->eflags;
	/* 64-bit user segments; a saved 32-bit cs would need another frame type. */
	sc->cs = X86_USER_CS;
	sc->ss = X86_USER_DS;
	sc->fs = (uint16_t)r->fs;
	sc->gs = (uint16_t)r->gs;
	return (uint64_t)(uintptr_t)&f->uc;
}

#endif
