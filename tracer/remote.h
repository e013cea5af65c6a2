/*
 * Addresses in a tracee, and reading and writing its memory from the tracer.
 *
 * A tracee address has its own type (after rr's remote_ptr) so that it is never dereferenced
 * in the tracer by mistake and never confused with a length or a local pointer: the compiler
 * refuses to pass a raddr_t where a pointer or an integer is wanted. Only raddr() makes one,
 * only .v reads one.
 */
#ifndef DMTCP_TRACER_REMOTE_H
#define DMTCP_TRACER_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct {
	uint64_t v;
} raddr_t;

static inline raddr_t raddr(uint64_t v)
{
	return (raddr_t){ v };
}

static inline raddr_t raddr_add(raddr_t a, uint64_t off)
{
	return (raddr_t){ a.v + off };
}

static inline int raddr_is_null(raddr_t a)
{
	return a.v == 0;
}

/* The remote side of process_vm_readv/writev: where a tracee address becomes a pointer, one
 * that only the kernel dereferences. */
static inline struct iovec remote_iov(raddr_t a, size_t len)
{
	return (struct iovec){ (void *)(uintptr_t)a.v, len };
}

/* process_vm_readv/writev of exactly len bytes: 0, or -errno (-EFAULT for a short one). */
int remote_read(pid_t pid, raddr_t addr, void *buf, size_t len);
int remote_write(pid_t pid, raddr_t addr, const void *buf, size_t len);
/* A NUL-terminated string of at most len - 1 bytes; -ENAMETOOLONG when longer. */
int remote_read_str(pid_t pid, raddr_t addr, char *buf, size_t len);

#endif
