/*
 * Dump policy: what is collected from a suspended process and how it is written into its
 * image (tracer/dump_*.c). The mechanism lives elsewhere: collect_*.c looks at the process,
 * common/image.h writes the container, tracer/infect.h runs the parasite.
 */
#ifndef DMTCP_TRACER_DUMP_H
#define DMTCP_TRACER_DUMP_H

#include <stdint.h>
#include <sys/types.h>

#include "ckpt_state.h"
#include "collect.h"

struct image_writer;

/* Hooks into the tree-wide tables of the caller (NULL: each process on its own). */
struct dump_tree {
	collect_shm_owner_fn shm_owner;
	collect_fd_share_fn fd_share;
	void *arg;
	int use_parasite; /* read dispositions, timers, altstacks... from inside (default 1) */
};

/*
 * Collect everything about process pid, whose threads tids[] are all held in ptrace-stops,
 * into p (initialised by the caller with ckpt_proc_init, freed with ckpt_proc_free).
 */
int dump_collect(pid_t pid, const pid_t *tids, uint32_t ntids, const struct dump_tree *tree,
		 struct ckpt_proc *p);

/*
 * Exact signal dispositions, itimers, POSIX timer values, per-thread sigaltstack and clear-tid
 * address, umask and personality, read by the parasite (dump_parasite.c). When some of it
 * cannot be read the /proc-level data already in p stays, a warning says what is missing, and
 * 0 is returned; nonzero means the process died (-ESRCH) or could not be cured.
 */
int dump_parasite_state(pid_t pid, const pid_t *tids, uint32_t ntids, struct ckpt_proc *p);

/* The page data of p's runs into one PAGES section (dump_mem.c): written by the parasite
 * when dump_pages_direct() can, else read from the process (process_vm_readv in large
 * batches, /proc/PID/mem for what it cannot read) and written by the tracer. */
int dump_pages(struct image_writer *w, pid_t pid, const struct ckpt_proc *p);

/*
 * The page data of p written by the parasite straight from the process into the image file,
 * with chunk checksums computed in the blob (dump_pages.c), into the open PAGES section of w.
 * Only with compression off. Returns DUMP_DIRECT_UNAVAILABLE, having written nothing, when the
 * path cannot be used (the caller copies the pages instead), else 0 or -errno (the writer is
 * then poisoned).
 */
#define DUMP_DIRECT_UNAVAILABLE 1
int dump_pages_direct(struct image_writer *w, pid_t pid, const struct ckpt_proc *p);

/*
 * Writes the complete image of p under its temporary name in dir: the records, FILEDATA,
 * PAGES; finishes (fsync). *wp is the writer for image_commit()/image_discard(); on failure
 * it has been discarded already and *wp is NULL. compress: 1, 0, or -1 for DMTCP_GZIP.
 */
int dump_image(pid_t pid, const struct ckpt_proc *p, const char *dir, const char *final_name,
	       const char *prog, const char *uniquepid, const char *compid, int compress,
	       struct image_writer **wp);

/* "ckpt_<prog>_<uniquepid>.dmtcp" into buf; '/' in prog becomes '_'. */
int dump_image_name(char *buf, size_t len, const char *prog, const char *uniquepid);

#endif
