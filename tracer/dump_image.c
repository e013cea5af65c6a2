/*
 * Dump policy for one process: collect its state in a fixed order and write its image.
 *
 * Order matters: the parasite runs first and is cured before memory and fds are looked at,
 * so that its memfd area and its fds are never part of the image; registers are taken before
 * anything runs in the process (infection restores them exactly, but the saved copy must be
 * the program's own).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "image.h"
#include "log.h"

int dump_collect(pid_t pid, const pid_t *tids, uint32_t ntids, const struct dump_tree *tree,
		 struct ckpt_proc *p)
{
	int rc;

	if ((rc = collect_proc(pid, p)))
		return rc;
	if ((rc = collect_threads(pid, tids, ntids, p)))
		return rc;
	if ((rc = collect_signals(pid, tids[0], &p->sig)))
		return rc;
	if (!tree || tree->use_parasite) {
		rc = dump_parasite_state(pid, tids, ntids, p);
		if (rc)
			return rc;
	}
	if ((rc = collect_fds(pid, p, tree ? tree->fd_share : NULL, tree ? tree->arg : NULL)))
		return rc;
	return collect_mem(pid, p, tree ? tree->shm_owner : NULL, tree ? tree->arg : NULL);
}

int dump_image_name(char *buf, size_t len, const char *prog, const char *uniquepid)
{
	char clean[256];
	size_t i;
	int n;

	snprintf(clean, sizeof(clean), "%s", prog && *prog ? prog : "unknown");
	for (i = 0; clean[i]; i++)
		if (clean[i] == '/')
			clean[i] = '_';
	n = snprintf(buf, len, "ckpt_%s_%s.dmtcp", clean, uniquepid);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int dump_image(pid_t pid, const struct ckpt_proc *p, const char *dir, const char *final_name,
	       const char *prog, const char *uniquepid, const char *compid, int compress,
	       struct image_writer **wp)
{
	struct image_opts o = IMAGE_OPTS_INIT;
	struct image_writer *w;
	uint32_t i;
	int rc;

	*wp = NULL;
	o.compress = compress;
	o.prog = prog;
	o.uniquepid = uniquepid;
	o.compid = compid;
	rc = image_create(dir, final_name, &o, &w);
	if (rc)
		return rc;
	rc = ckpt_write_records(w, p);
	for (i = 0; i < p->nfiles && !rc; i++) {
		const struct ckpt_file *f = &p->files[i];

		if (f->flags & CKPT_FF_HAS_DATA)
			rc = ckpt_write_filedata(w, f->id, f->data, f->data_len);
	}
	if (!rc)
		rc = dump_pages(w, pid, p);
	if (!rc)
		rc = image_finish(w);
	if (rc) {
		image_discard(w);
		return rc;
	}
	*wp = w;
	return 0;
}
