/*
 * Level 2 of the freestanding syscall layer: sys_foo() returning the result or -errno.
 * Header-only; used by the parasite and restorer blobs, which must not see libc.
 * Only kernel UAPI headers (asm/unistd.h and friends) may be included here.
 *
 * Add wrappers as blobs need them, in syscall-number order within each group.
 */
#ifndef DMTCP_NOLIBC_SYS_H
#define DMTCP_NOLIBC_SYS_H

#include <asm/unistd.h>
#include <stddef.h>
#include <stdint.h>

#include "syscall-raw.h"

#define SYS_ERR(r) ((unsigned long)(r) >= (unsigned long)-4095)

/* files */
static inline long sys_read(int fd, void *buf, size_t n)
{
	return raw_syscall3(__NR_read, fd, (long)buf, (long)n);
}
static inline long sys_write(int fd, const void *buf, size_t n)
{
	return raw_syscall3(__NR_write, fd, (long)buf, (long)n);
}
static inline long sys_close(int fd)
{
	return raw_syscall1(__NR_close, fd);
}
static inline long sys_openat(int dirfd, const char *path, int flags, int mode)
{
	return raw_syscall4(__NR_openat, dirfd, (long)path, flags, mode);
}
static inline long sys_lseek(int fd, long off, int whence)
{
	return raw_syscall3(__NR_lseek, fd, off, whence);
}
static inline long sys_pread(int fd, void *buf, size_t n, long off)
{
	return raw_syscall4(__NR_pread64, fd, (long)buf, (long)n, off);
}
static inline long sys_pwrite(int fd, const void *buf, size_t n, long off)
{
	return raw_syscall4(__NR_pwrite64, fd, (long)buf, (long)n, off);
}
static inline long sys_writev(int fd, const void *iov, unsigned long nr)
{
	return raw_syscall3(__NR_writev, fd, (long)iov, (long)nr);
}
/* x86_64: the offset goes whole in pos_l; pos_h is 0. */
static inline long sys_pwritev(int fd, const void *iov, unsigned long nr, long off)
{
	return raw_syscall5(__NR_pwritev, fd, (long)iov, (long)nr, off, 0);
}
static inline long sys_dup2(int old, int new)
{
	return raw_syscall3(__NR_dup3, old, new, 0);
}
static inline long sys_fcntl(int fd, int cmd, long arg)
{
	return raw_syscall3(__NR_fcntl, fd, cmd, arg);
}
static inline long sys_vmsplice(int fd, const void *iov, unsigned long nr, unsigned int flags)
{
	return raw_syscall4(__NR_vmsplice, fd, (long)iov, (long)nr, flags);
}

/* memory */
static inline long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	return raw_syscall6(__NR_mmap, (long)addr, (long)len, prot, flags, fd, off);
}
static inline long sys_munmap(void *addr, size_t len)
{
	return raw_syscall2(__NR_munmap, (long)addr, (long)len);
}
static inline long sys_mprotect(void *addr, size_t len, int prot)
{
	return raw_syscall3(__NR_mprotect, (long)addr, (long)len, prot);
}
static inline long sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	return raw_syscall5(__NR_mremap, (long)old, (long)old_len, (long)new_len, flags,
			    (long)new_addr);
}
static inline long sys_madvise(void *addr, size_t len, int advice)
{
	return raw_syscall3(__NR_madvise, (long)addr, (long)len, advice);
}
static inline long sys_brk(void *addr)
{
	return raw_syscall1(__NR_brk, (long)addr);
}

/* signals */
static inline long sys_rt_sigaction(int sig, const void *act, void *old, size_t sigsetsize)
{
	return raw_syscall4(__NR_rt_sigaction, sig, (long)act, (long)old, (long)sigsetsize);
}
static inline long sys_rt_sigprocmask(int how, const void *set, void *old, size_t sigsetsize)
{
	return raw_syscall4(__NR_rt_sigprocmask, how, (long)set, (long)old, (long)sigsetsize);
}
static inline long sys_sigaltstack(const void *ss, void *old)
{
	return raw_syscall2(__NR_sigaltstack, (long)ss, (long)old);
}
static inline long sys_getitimer(int which, void *val)
{
	return raw_syscall2(__NR_getitimer, which, (long)val);
}
static inline long sys_setitimer(int which, const void *val, void *old)
{
	return raw_syscall3(__NR_setitimer, which, (long)val, (long)old);
}
static inline long sys_timer_gettime(int timer_id, void *cur)
{
	return raw_syscall2(__NR_timer_gettime, timer_id, (long)cur);
}
static inline long sys_timer_getoverrun(int timer_id)
{
	return raw_syscall1(__NR_timer_getoverrun, timer_id);
}

/* processes and threads */
static inline long sys_getpid(void)
{
	return raw_syscall0(__NR_getpid);
}
static inline long sys_gettid(void)
{
	return raw_syscall0(__NR_gettid);
}
static inline long sys_getppid(void)
{
	return raw_syscall0(__NR_getppid);
}
static inline long sys_umask(int mask)
{
	return raw_syscall1(__NR_umask, mask);
}
static inline long sys_personality(unsigned long persona)
{
	return raw_syscall1(__NR_personality, (long)persona);
}
static inline long sys_exit(int code)
{
	return raw_syscall1(__NR_exit, code);
}
static inline long sys_exit_group(int code)
{
	return raw_syscall1(__NR_exit_group, code);
}
static inline long sys_kill(int pid, int sig)
{
	return raw_syscall2(__NR_kill, pid, sig);
}
static inline long sys_tgkill(int tgid, int tid, int sig)
{
	return raw_syscall3(__NR_tgkill, tgid, tid, sig);
}
static inline long sys_prctl(int op, long a2, long a3, long a4, long a5)
{
	return raw_syscall5(__NR_prctl, op, a2, a3, a4, a5);
}
static inline long sys_arch_prctl(int code, unsigned long addr)
{
	return raw_syscall2(__NR_arch_prctl, code, (long)addr);
}
static inline long sys_set_tid_address(int *tidptr)
{
	return raw_syscall1(__NR_set_tid_address, (long)tidptr);
}
static inline long sys_set_robust_list(void *head, size_t len)
{
	return raw_syscall2(__NR_set_robust_list, (long)head, (long)len);
}
static inline long sys_futex(int *uaddr, int op, int val, const void *ts, int *uaddr2, int val3)
{
	return raw_syscall6(__NR_futex, (long)uaddr, op, val, (long)ts, (long)uaddr2, val3);
}
static inline long sys_nanosleep(const void *req, void *rem)
{
	return raw_syscall2(__NR_nanosleep, (long)req, (long)rem);
}
static inline long sys_rseq(void *rseq, uint32_t len, int flags, uint32_t sig)
{
	return raw_syscall4(__NR_rseq, (long)rseq, len, flags, sig);
}

/* freestanding string helpers the compiler may also emit calls to */
static inline void *nl_memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}
static inline void *nl_memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;

	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}
static inline size_t nl_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

#endif
