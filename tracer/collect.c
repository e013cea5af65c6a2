/*
 * Collecting a whole process: the collectors of collect_*.c called in a fixed order.
 *
 * Order matters: registers are taken before anything runs in the process (infection restores
 * them exactly, but the saved copy must be the program's own); the parasite runs next and is
 * cured before memory and fds are looked at, so that its memfd area and its fds are never
 * part of the image.
 */
#include "collect.h"
#include "procfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * A System V shared memory segment is saved as shared memory but would come back as another
 * kind of shared memory, not a segment that shmctl or another process's shmat reach by its
 * id or key: refused until segments are made again (the mapping's path is "/SYSV<key>", its
 * inode the shmid).
 */
static int refuse_sysv_shm(const struct ckpt_proc *p, const struct collect_tree *tree)
{
	for (uint32_t i = 0; i < p->nvmas; i++) {
		const struct ckpt_vma *v = &p->vmas[i];

		if (!v->path || strncmp(v->path, "/SYSV", 5))
			continue;
		return collect_sock_fail(tree ? tree->why : NULL, tree ? tree->whylen : 0,
					 -EOPNOTSUPP,
					 "a System V shared memory segment (key 0x%.8s, shmid %llu) is "
					 "attached at %#llx, which cannot be checkpointed yet",
					 v->path + 5, (unsigned long long)v->ino,
					 (unsigned long long)v->start);
	}
	return 0;
}

/*
 * A sandbox the program built for itself (seccomp strict mode, or filters of its own on top of
 * those it was given) would be lifted by a restart that cannot install it again: refused.
 */
static int refuse_own_seccomp(pid_t pid, const struct ckpt_proc *p,
			      const struct collect_tree *tree)
{
	int32_t n = 0;
	char *st;

	if (!tree || tree->seccomp_expected < 0 || !p->creds.seccomp_mode)
		return 0;
	if (p->creds.seccomp_mode == 1)
		return collect_sock_fail(tree->why, tree->whylen, -EOPNOTSUPP,
					 "it runs in seccomp strict mode, which cannot be "
					 "checkpointed");
	if (procfs_read(pid, 0, "status", &st, NULL) < 0)
		return 0;
	if (procfs_status_ints(st, "Seccomp_filters", &n, 1) != 1)
		n = -1; /* a kernel before 5.9 does not count them */
	free(st);
	if (n > tree->seccomp_expected)
		return collect_sock_fail(tree->why, tree->whylen, -EOPNOTSUPP,
					 "it installed %d seccomp filter%s of its own, which "
					 "cannot be checkpointed yet (a restart without %s would "
					 "lift its sandbox)",
					 n - tree->seccomp_expected,
					 n - tree->seccomp_expected == 1 ? "" : "s",
					 n - tree->seccomp_expected == 1 ? "it" : "them");
	return 0;
}

int collect_process(pid_t pid, const pid_t *tids, uint32_t ntids, const struct collect_tree *tree,
		    struct ckpt_proc *p)
{
	int rc;

	if ((rc = collect_proc(pid, p)))
		return rc;
	if ((rc = refuse_own_seccomp(pid, p, tree)))
		return rc;
	if ((rc = collect_threads(pid, tids, ntids, tree, p)))
		return rc;
	if ((rc = collect_signals(pid, tids[0], &p->sig)))
		return rc;
	if (!tree || tree->use_parasite) {
		rc = collect_parasite_state(pid, tids, ntids, p);
		if (rc)
			return rc;
	}
	if ((rc = collect_fds(pid, p, tree)))
		return rc;
	if ((rc = collect_mem(pid, p, tree ? tree->shm_owner : NULL, tree ? tree->arg : NULL)))
		return rc;
	return refuse_sysv_shm(p, tree);
}
