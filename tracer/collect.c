/*
 * Collecting a whole process: the collectors of collect_*.c called in a fixed order.
 *
 * Order matters: registers are taken before anything runs in the process (infection restores
 * them exactly, but the saved copy must be the program's own); the parasite runs next and is
 * cured before memory and fds are looked at, so that its memfd area and its fds are never
 * part of the image.
 */
#include "collect.h"

#include <errno.h>
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

int collect_process(pid_t pid, const pid_t *tids, uint32_t ntids, const struct collect_tree *tree,
		    struct ckpt_proc *p)
{
	int rc;

	if ((rc = collect_proc(pid, p)))
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
