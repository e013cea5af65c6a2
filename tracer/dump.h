/*
 * Dump policy: how what was collected from a suspended process (collect.h) is written into its
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

/*
 * Told now and then, from the tracer's thread, how many page bytes of the image are written
 * so far (NULL: nobody asks), so that a person waiting for a large checkpoint sees it move.
 */
struct dump_progress {
	void (*fn)(void *arg, uint64_t page_bytes);
	void *arg;
};

/* The page data of p's runs into one PAGES section (dump_pages.c): written by the parasite
 * when dump_pages_direct() can, else read from the process (process_vm_readv in large
 * batches, /proc/PID/mem for what it cannot read) and written by the tracer. */
int dump_pages(struct image_writer *w, pid_t pid, const struct ckpt_proc *p,
	       const struct dump_progress *progress);

/*
 * The page data of p written by the parasite straight from the process into the image file,
 * with chunk checksums computed in the blob (dump_pages_direct.c), into the open PAGES section
 * of w: with compression off, or on for memory that looks incompressible. Returns
 * DUMP_DIRECT_UNAVAILABLE, having written nothing, when the path cannot be used (the caller
 * copies the pages instead), else 0 or -errno (the writer is then poisoned).
 */
#define DUMP_DIRECT_UNAVAILABLE 1
int dump_pages_direct(struct image_writer *w, pid_t pid, const struct ckpt_proc *p,
		      const struct dump_progress *progress);

/* What an image is called, where it goes, and what its header says. */
struct dump_image_opts {
	const char *dir, *final_name;
	const char *prog, *uniquepid, *compid;
	uint64_t ckpt_id;   /* the checkpoint (image.h; 0: unknown) */
	int compress;	     /* 1, 0, or -1 for DMTCP_GZIP */
	int nofilter;	     /* the process carries no filter of ours (IMAGE_F_NOFILTER) */
	const struct dump_progress *progress; /* NULL: none */
};

/*
 * Writes the complete image of p under its temporary name in o->dir: the records, FILEDATA,
 * PAGES; finishes (fsync). *wp is the writer for image_commit()/image_discard(); on failure
 * it has been discarded already and *wp is NULL.
 */
int dump_image(pid_t pid, const struct ckpt_proc *p, const struct dump_image_opts *o,
	       struct image_writer **wp);

/* "ckpt_<prog>_<uniquepid>.dmtcp" into buf; '/' in prog becomes '_'. */
int dump_image_name(char *buf, size_t len, const char *prog, const char *uniquepid);

#endif
