/*
 * The image writer's private state, shared by image_write.c (file, sections, footer, commit)
 * and image_write_pages.c (page sections and the compression pool). See image_write.c.
 */
#ifndef DMTCP_IMAGE_WPRIV_H
#define DMTCP_IMAGE_WPRIV_H

#include <pthread.h>

#include "image_fmt.h"

#define WBUF_CAP (256u << 10)

enum slot_state { SLOT_FREE = 0, SLOT_QUEUED, SLOT_BUSY, SLOT_DONE };

struct wslot {
	uint8_t *in;
	uint8_t *out;
	size_t out_cap;
	uint32_t in_len;
	enum slot_state state;
	uint64_t seq;
	struct image_chunk_out res;
};

struct wworker;

struct image_writer {
	int fd;
	int err;
	int finished;
	int committed;
	int created; /* the temporary file exists and is ours to remove */
	int dirfd;	    /* the image directory, so that a chdir cannot redirect us */
	char *dir;
	char *tmp_path;	    /* dir/tmp_name, for messages and callers */
	char *final_path;
	char *tmp_name;	    /* names relative to dirfd */
	char *final_name;

	struct image_hdr hdr;
	uint32_t page_size;
	uint32_t chunk_size;
	int compress;
	int level;
	int nthreads;
	int no_fsync;

	uint64_t off;	    /* logical end of file, buffered bytes included */
	uint32_t rest_crc;  /* CRC-32C of [IMAGE_HDR_SIZE, off) of closed sections */
	uint8_t *wbuf;
	size_t wbuf_len;

	struct image_index_ent *index;
	uint32_t nsec;
	uint32_t index_cap;

	/* the open section */
	int sec_open;
	uint32_t sec_kind;
	uint32_t sec_type;
	uint64_t sec_off;   /* of its header */
	uint64_t sec_len;   /* payload bytes so far */
	uint32_t sec_crc;   /* payload CRC so far */

	/* the open page section */
	struct image_run_disk *runs;
	uint32_t nruns;
	uint32_t runs_cap;
	struct image_chunk_disk *chunks;
	uint32_t nchunks;
	uint32_t chunks_cap;
	uint64_t data_len;
	uint64_t raw_len;
	uint8_t *stage;	    /* partial chunk when compression is off */
	uint32_t stage_len;
	uint64_t resv_len;  /* bytes reserved by image_reserve_pages(), not yet completed */
	uint64_t resv_off;  /* where they start in the file */
	int pages_sealed;   /* a short chunk was completed: no more page data in this section */

	uint64_t total_raw;

	/* compression pool */
	int nthr;	    /* threads started */
	struct wslot *slots;
	int nslots;
	uint64_t fill_seq;  /* the slot being filled */
	uint64_t write_seq; /* the next slot to write */
	pthread_mutex_t mu;
	pthread_cond_t cv_work;
	pthread_cond_t cv_done;
	int stop;
	struct wworker *workers;
};

/* A compression thread and the zlib stream it owns. */
struct wworker {
	pthread_t thr;
	struct image_writer *w;
	struct image_zctx z;
};

/* image_write.c */
int wr_fail(struct image_writer *w, int err, const char *what);
int wr_write_at(struct image_writer *w, const void *buf, size_t len, uint64_t off);
int wr_flush_wbuf(struct image_writer *w);
int wr_emit(struct image_writer *w, const void *buf, size_t len);
int wr_check_state(struct image_writer *w, int want_open, const char *op);
int wr_begin(struct image_writer *w, uint32_t type, uint32_t kind);
int wr_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem);
/* image_write_pages.c */
int wr_end_pages(struct image_writer *w);
void wr_pool_stop(struct image_writer *w);

#endif
