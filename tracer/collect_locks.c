/*
 * The file locks held through a file (fdinfo's "lock:" lines), recorded on its struct
 * ckpt_file: POSIX record locks (fcntl F_SETLK), OFD locks (F_OFD_SETLK) and flock locks.
 *
 * The kernel lists under /proc/PID/fdinfo/N only the locks taken through that open file
 * description whose owner is the process's fd table (POSIX) or the description itself (OFD,
 * flock, lease): a POSIX lock of another process on the same inode, even one taken through a
 * description the two share since a fork, shows in that process's fdinfo, not here. So each
 * POSIX lock is recorded once, on the holder's file, and each OFD or flock lock on the
 * description, in every image that shares it (taking it twice at restart is harmless: the
 * second is the same owner's). The line reads
 *	lock:	1: POSIX  ADVISORY  WRITE 1234 fe:00:5678 0 EOF
 * with the kind, ADVISORY (mandatory locks are gone since Linux 5.15), the type, the pid
 * (-1 for OFD locks), the inode, and the first and last byte or EOF.
 *
 * A lease (F_SETLEASE) or a delegation, a lock of a kind this file does not know, and a lock
 * on a file the restart does not reopen by path (pipes, devices, sockets) fail the checkpoint
 * with the reason in why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "log.h"
#include "procfs.h"

static const struct {
	const char *name;
	uint32_t kind;
} lock_kinds[] = {
	{"POSIX", CKPT_LOCK_POSIX},
	{"OFDLCK", CKPT_LOCK_OFD},
	{"FLOCK", CKPT_LOCK_FLOCK},
};

/* One "lock:" line (after its "N: ") into l; 0, or a static reason it cannot be saved. */
static const char *parse_lock(char *s, struct ckpt_lock *l, long *pid)
{
	char kind[16], mode[16], type[16], start[24], end[24];
	unsigned i;

	if (sscanf(s, "%15s %15s %15s %ld %*s %23s %23s", kind, mode, type, pid, start, end) != 6)
		return "a lock line that cannot be read";
	memset(l, 0, sizeof(*l));
	for (i = 0; i < sizeof(lock_kinds) / sizeof(lock_kinds[0]); i++)
		if (!strcmp(kind, lock_kinds[i].name))
			l->kind = lock_kinds[i].kind;
	if (!strcmp(kind, "LEASE"))
		return "a lease (F_SETLEASE)";
	if (!strcmp(kind, "DELEG"))
		return "an NFS delegation";
	if (!l->kind)
		return "a lock of an unknown kind";
	if (strcmp(mode, "ADVISORY"))
		return "a mandatory lock";
	if (!strcmp(type, "READ"))
		l->type = CKPT_LOCK_READ;
	else if (!strcmp(type, "WRITE"))
		l->type = CKPT_LOCK_WRITE;
	else
		return "a lock of an unknown type";
	l->start = strtoull(start, NULL, 10);
	if (!strcmp(end, "EOF"))
		l->flags = CKPT_LKF_TO_EOF;
	else
		l->end = strtoull(end, NULL, 10);
	if (l->kind == CKPT_LOCK_FLOCK && (l->start || !(l->flags & CKPT_LKF_TO_EOF)))
		return "a flock lock on part of a file";
	return NULL;
}

int collect_locks(pid_t pid, int32_t self_pid, int fd, struct ckpt_file *f, char *why,
		  size_t whylen)
{
	char name[32], *buf = NULL, *s, *line;
	struct ckpt_lock l;
	const char *bad = NULL;
	int rc;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	rc = procfs_read(pid, 0, name, &buf, NULL);
	if (rc)
		return rc == -ENOENT ? -ESRCH : rc;
	for (s = buf; s && *s && !bad; s = line) {
		long lpid = 0;
		char *p;

		line = strchr(s, '\n');
		if (line)
			*line++ = 0;
		if (strncmp(s, "lock:", 5))
			continue;
		p = strchr(s + 5, ':'); /* past the lock's number */
		if (!p) {
			bad = "a lock line that cannot be read";
			break;
		}
		if ((bad = parse_lock(p + 1, &l, &lpid)))
			break;
		if (f->type != CKPT_FILE_REG && f->type != CKPT_FILE_DIR) {
			bad = "a lock on a file the restart cannot reopen by its path";
			break;
		}
		if (l.kind == CKPT_LOCK_POSIX) {
			if (lpid != pid) {
				/* a process sharing the fd table (CLONE_FILES without threads) */
				pr_warn("pid %d: fd %d (%s): a POSIX lock of pid %ld, which shares "
					"its fd table, is not saved",
					pid, fd, f->path, lpid);
				continue;
			}
			l.pid = self_pid;
		}
		if (f->nlocks >= CKPT_MAX_FILE_LOCKS) {
			bad = "more locks than an image holds";
			break;
		}
		{
			struct ckpt_lock *nl = realloc(f->locks, (f->nlocks + 1) * sizeof(*nl));

			if (!nl) {
				free(buf);
				return -ENOMEM;
			}
			f->locks = nl;
		}
		f->locks[f->nlocks++] = l;
	}
	free(buf);
	if (bad)
		return collect_sock_fail(why, whylen, -EOPNOTSUPP,
					 "fd %d (%s) holds %s, which cannot be checkpointed", fd,
					 f->path, bad);
	return 0;
}
