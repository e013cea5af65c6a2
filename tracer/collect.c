/*
 * Collecting a whole process: the collectors of collect_*.c called in a fixed order.
 *
 * Order matters: registers are taken before anything runs in the process (infection restores
 * them exactly, but the saved copy must be the program's own); the parasite runs next and is
 * cured before memory and fds are looked at, so that its memfd area and its fds are never
 * part of the image.
 */
#include "collect.h"

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
	return collect_mem(pid, p, tree ? tree->shm_owner : NULL, tree ? tree->arg : NULL);
}
