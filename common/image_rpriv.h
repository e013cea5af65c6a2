/*
 * The image reader's private state, shared by image_read.c (open and validate) and
 * image_read_pages.c (sections and page data). See image_read.c.
 */
#ifndef DMTCP_IMAGE_RPRIV_H
#define DMTCP_IMAGE_RPRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "image_fmt.h"

/* Below this many bytes of page data a section is checked or read on one thread. */
#define PAR_MIN_BYTES (4u << 20)

struct rsec {
	struct image_section pub;
	const uint8_t *payload;
	struct image_run *runs;
	uint64_t *run_off;	/* raw offset of each run in the section's page stream */
	struct image_chunk_disk *chunks;
	uint64_t *chunk_raw;	/* raw offset of each chunk */
	uint64_t *chunk_pos;	/* offset of each chunk's stored bytes in the payload */
	uint32_t max_raw;	/* raw bytes of the largest chunk: the size of a bounce buffer */
};

struct image_reader {
	char *path;
	int fd;
	const uint8_t *map;
	uint64_t size;
	struct image_info info;
	uint32_t chunk_size;
	struct rsec *secs;
	uint32_t nsec;
	int nthreads;
	_Atomic uint64_t *progress; /* image_count_read() */
};

struct par {
	int (*fn)(struct par *p, uint32_t item, void **scratch);
	uint32_t n;
	atomic_uint next;
	atomic_uint first_bad; /* lowest failing item, n if none */
	int err;	       /* error of first_bad */
	pthread_mutex_t mu;
	void *ctx;
};

/* Records "<path>: <message>" for image_last_error() and logs it once; returns err. */
int rd_bad(const char *path, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Runs fn on items 0..n-1 on up to nthreads threads (the caller being one). Items are taken in
 * order, so the reported failure is the lowest failing item: returns its error, *bad_item set.
 */
int rd_par_for(int nthreads, uint32_t n, void *ctx,
	       int (*fn)(struct par *p, uint32_t item, void **scratch), uint32_t *bad_item);

#endif
