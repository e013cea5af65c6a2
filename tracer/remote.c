/*
 * Reading and writing a tracee's memory from the tracer (see remote.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "remote.h"

int remote_read(pid_t pid, raddr_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = remote_iov(addr, len);
	ssize_t n;

	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EFAULT;
	return 0;
}

int remote_write(pid_t pid, raddr_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len };
	struct iovec remote = remote_iov(addr, len);
	ssize_t n;

	n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EFAULT;
	return 0;
}

/*
 * A NUL-terminated string of at most len-1 bytes. Read page by page: the string may end just
 * before an unmapped page, and process_vm_readv fails on the whole range then.
 */
int remote_read_str(pid_t pid, raddr_t addr, char *buf, size_t len)
{
	size_t got = 0;

	if (!len)
		return -EINVAL;
	while (got < len - 1) {
		raddr_t a = raddr_add(addr, got);
		size_t chunk = 4096 - (a.v & 4095);
		struct iovec local, remote;
		ssize_t n;
		char *nul;

		if (chunk > len - 1 - got)
			chunk = len - 1 - got;
		local = (struct iovec){ buf + got, chunk };
		remote = remote_iov(a, chunk);
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return n < 0 ? -errno : -EFAULT;
		nul = memchr(buf + got, '\0', (size_t)n);
		if (nul)
			return 0;
		got += (size_t)n;
	}
	buf[len - 1] = '\0';
	return -ENAMETOOLONG;
}
