/*
 * The checkpoint image container: one file per process.
 *
 * This layer knows nothing of processes, threads or fds. It stores typed sections and keeps
 * them safe: a header readable on its own, RECORD sections (opaque bytes the caller writes, with
 * a checksum) and PAGE sections (runs of memory pages, split into independently compressed,
 * checksummed chunks), and a footer that indexes the sections and carries a whole-file checksum.
 * The byte layout is specified in docs/image-format.md.
 *
 * Writing (streaming, crash-safe):
 *
 *	struct image_opts o = IMAGE_OPTS_INIT;		(compression from DMTCP_GZIP, default on)
 *	o.prog = "a.out"; o.uniquepid = ...; o.compid = ...;
 *	image_create(dir, "ckpt_a.out_x.dmtcp", &o, &w);	(writes ".ckpt_a.out_x.dmtcp.tmp.<pid>")
 *	image_add_record(w, MY_SEC_PROCESS, &rec, sizeof(rec));
 *	image_begin_section(w, MY_SEC_FDS); image_append(w, ...); ...; image_end_section(w);
 *	image_begin_pages(w, MY_SEC_PAGES);
 *	image_add_pages(w, vaddr, buf, len);		(or image_add_pages_fd(w, vaddr, fd, len))
 *	image_end_section(w);
 *	image_finish(w);	(footer, fsync: the CHECKPOINT barrier)
 *	image_set_nprocs(w, n);	(the size of the set, once known: the COMMIT barrier)
 *	image_commit(w);	(rename over the final name, fsync the dir: the COMMIT barrier)
 *	image_discard(w);	(always last: frees; removes the temp file unless committed)
 *
 * Every function returns 0 or -errno and logs one line naming the file on failure. After the
 * first failure the writer is poisoned: later calls return the same error, image_commit()
 * refuses, and image_discard() removes the temporary file. The final name is touched only by
 * the rename in image_commit(), so an older image of the same name stays intact until it is
 * atomically replaced. A write beyond RLIMIT_FSIZE fails with -EFBIG only if SIGXFSZ is
 * ignored or handled (its default action kills the process); the tracer should ignore it.
 *
 * With compression on, page data is copied into chunk buffers and compressed by a pool of
 * worker threads (one per online CPU) while the caller keeps producing; chunks that do not
 * shrink are stored raw (judged in microseconds; such chunks of the caller's memory are written
 * straight from it). With compression off there is no pool: image_add_pages() writes whole
 * chunks straight from the caller's buffer (one copy, into the page cache), with at most one
 * helper thread checksumming ahead on large calls. image_add_pages_fd() costs one more copy
 * (read into a chunk buffer), as the data must pass through memory to be checksummed. Helper
 * threads block all signals, so process signals keep reaching the caller's thread.
 *
 * Reading: image_open() maps the file and validates everything (header, footer index, every
 * section and chunk checksum, sizes against the file size) before it returns 0, so a restart
 * can reject a damaged image before its point of no return. Then sections can be looked up
 * by type, record bytes read in place, and page runs decompressed (in parallel across chunks)
 * straight into caller-provided memory.
 */
#ifndef DMTCP_IMAGE_H
#define DMTCP_IMAGE_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define IMAGE_VERSION	     1
#define IMAGE_DEFAULT_CHUNK  (1u << 20) /* bytes of page data per compressed chunk */
#define IMAGE_MAX_CHUNK	     (64u << 20)
#define IMAGE_STR_LEN	     64		/* prog, uniquepid, compid (NUL included) */
#define IMAGE_HOST_LEN	     128	/* hostname (NUL included) */

/* What a section holds. The section *type* (a u32) is the content's business. */
enum image_kind {
	IMAGE_KIND_RECORD = 1, /* opaque bytes */
	IMAGE_KIND_PAGES = 2,  /* page runs in compressed chunks */
};

/* How one chunk of a page section is stored. */
enum image_comp {
	IMAGE_COMP_NONE = 0,
	IMAGE_COMP_ZLIB = 1,
};

/* Header flags. */
#define IMAGE_F_COMPRESS 0x1u /* the writer was asked to compress (chunks may still be raw) */
#define IMAGE_F_NOFILTER 0x2u /* the process ran without our seccomp filter (taken by
				 dmtcp_launch --attach): restarted without one, it may run on
				 untraced (dmtcp_command --detach, or its tracer's death) */

struct image_opts {
	int compress;	     /* 1: zlib chunks; 0: raw; -1: from DMTCP_GZIP (unset: 1) */
	int level;	     /* zlib level 1..9; 0: default (1, the fast one) */
	int threads;	     /* compression workers; 0: online CPUs */
	uint32_t chunk_size; /* page-data bytes per chunk, a multiple of the page size; 0: 1 MiB */
	int no_fsync;	     /* skip fsync of file and directory (benchmarks of the bare path) */
	const char *prog;    /* identifying strings stored in the header; NULL: empty */
	const char *uniquepid;
	const char *compid;
	const char *hostname; /* NULL: gethostname() */
	uint64_t ckpt_id;     /* the checkpoint the image belongs to, unique (0: unknown) */
	uint32_t nprocs;      /* images in that checkpoint (0: unknown; image_set_nprocs()) */
	uint32_t flags;	      /* IMAGE_F_NOFILTER, or 0 (IMAGE_F_COMPRESS follows compress) */
};
#define IMAGE_OPTS_INIT { .compress = -1 }

struct image_writer;

/*
 * Opens "<dir>/.<final_name>.tmp.<pid>" (O_EXCL, mode 0600) and writes the header.
 * final_name must be a plain file name (no '/'). dir NULL means ".".
 */
int image_create(const char *dir, const char *final_name, const struct image_opts *opts,
		 struct image_writer **wp);

/* A record section: begin, append any number of times, end. */
int image_begin_section(struct image_writer *w, uint32_t type);
int image_append(struct image_writer *w, const void *buf, size_t len);
/* begin + append + end in one call. */
int image_add_record(struct image_writer *w, uint32_t type, const void *buf, size_t len);

/*
 * A page section: begin, add runs, end. vaddr must be page aligned and len a multiple of the
 * page size; a run that starts where the previous one ended is merged with it. The data of all
 * runs forms one stream, cut into chunks regardless of run boundaries.
 * image_add_pages() does not keep buf after it returns.
 * image_add_pages_fd() reads exactly len bytes from fd (a pipe, socket or file at its current
 * offset); EOF before len is -EIO.
 */
int image_begin_pages(struct image_writer *w, uint32_t type);
int image_add_pages(struct image_writer *w, uint64_t vaddr, const void *buf, size_t len);
int image_add_pages_fd(struct image_writer *w, uint64_t vaddr, int fd, size_t len);

/*
 * Raw page data that someone else writes into the file, e.g. the parasite straight from the
 * target's memory: one copy instead of a read into the caller and a write. With compression
 * on, the reserved chunks are stored raw (what an incompressible chunk becomes anyway), after
 * every chunk queued before them.
 *
 * image_reserve_pages() adds the run [vaddr, vaddr + len) like image_add_pages() and reserves
 * its len bytes: *fd and *off say where they go (pwrite only: the fd's offset must not move;
 * the fd stays the writer's). Reservations made one after the other are contiguous. The first
 * one after image_begin_pages() or image_complete_pages() must start a chunk, i.e. nothing may
 * be left staged by image_add_pages() (a total that is not a multiple of the chunk size).
 * image_complete_pages() then indexes every byte reserved since: ncrcs must be
 * ceil(bytes / chunk size) and crcs[i] the CRC-32C of chunk i (image_writer_chunk_size());
 * crcs NULL: the container reads the bytes back to checksum them (pread, one more copy). A
 * short last chunk ends the section's page data: only image_end_section() may follow.
 * Reserved bytes never completed make image_end_section() fail. image_fail_pages() is how the
 * caller reports that its writing failed: it poisons the writer, so image_discard() removes
 * the file, and returns err.
 */
int image_reserve_pages(struct image_writer *w, uint64_t vaddr, size_t len, int *fd,
			uint64_t *off);
int image_complete_pages(struct image_writer *w, const uint32_t *crcs, uint32_t ncrcs);
int image_fail_pages(struct image_writer *w, int err, const char *what);
uint32_t image_writer_chunk_size(const struct image_writer *w);
/* Whether the writer compresses (reserved chunks are then stored raw among compressed ones). */
int image_writer_compresses(const struct image_writer *w);

/* Ends the open section of either kind. */
int image_end_section(struct image_writer *w);

/* Writes the footer, patches the header, fsyncs the temporary file. */
int image_finish(struct image_writer *w);
/*
 * Between image_finish() and image_commit(): record that the checkpoint has n images in all
 * (known only once every process has written its own), rewriting the header and footer
 * checksums and fsyncing again.
 */
int image_set_nprocs(struct image_writer *w, uint32_t nprocs);
/* Renames the finished temporary file to its final name and fsyncs the directory. */
int image_commit(struct image_writer *w);
/* Frees the writer; removes the temporary file unless image_commit() succeeded. */
void image_discard(struct image_writer *w);

const char *image_writer_tmp_path(const struct image_writer *w);
const char *image_writer_final_path(const struct image_writer *w);
/* Bytes written so far (the file size once finished), raw page bytes added. */
uint64_t image_writer_size(const struct image_writer *w);
uint64_t image_writer_raw_pages(const struct image_writer *w);

/* ---- reading ---------------------------------------------------------------------------- */

struct image_info {
	uint32_t version;
	uint32_t arch;	     /* ELF e_machine: EM_X86_64 = 62 */
	uint32_t flags;	     /* IMAGE_F_* */
	uint32_t page_size;
	uint64_t ctime_ns;   /* creation time, ns since the epoch (CLOCK_REALTIME) */
	uint64_t file_size;
	uint32_t nsections;
	char prog[IMAGE_STR_LEN];
	char uniquepid[IMAGE_STR_LEN];
	char compid[IMAGE_STR_LEN];
	char hostname[IMAGE_HOST_LEN];
	uint64_t ckpt_id;    /* the checkpoint it belongs to, unique; 0 unknown */
	uint32_t nprocs;     /* images in that checkpoint, 0 unknown */
};

struct image_run {
	uint64_t vaddr;
	uint64_t npages;
};

struct image_section {
	uint32_t index; /* position in the file, 0.. */
	uint32_t type;
	uint32_t kind;	/* enum image_kind */
	uint32_t crc;	/* CRC-32C of the payload */
	uint64_t offset; /* of the section header in the file */
	uint64_t length; /* payload bytes */
	/* page sections only */
	uint32_t nruns;
	uint32_t nchunks;
	const struct image_run *runs;
	uint64_t raw_bytes;    /* page data, uncompressed */
	uint64_t stored_bytes; /* page data as stored */
	uint32_t zlib_chunks;  /* chunks stored compressed (the rest are raw) */
};

struct image_reader;

/* Opens and fully validates an image; on failure logs what is wrong and returns -errno. */
int image_open(const char *path, struct image_reader **rp);
void image_close(struct image_reader *r);
/*
 * Add the page bytes image_read_pages()/image_read_run() put in place to *counter as each
 * chunk lands (from the reading threads), so that another process sharing the counter can
 * show the progress. NULL: stop counting.
 */
void image_count_read(struct image_reader *r, _Atomic uint64_t *counter);

/* Reads and checks only the header (magic, version, checksum, architecture). */
int image_peek(const char *path, struct image_info *info);

const struct image_info *image_get_info(const struct image_reader *r);
const char *image_path(const struct image_reader *r);
uint32_t image_nsections(const struct image_reader *r);
const struct image_section *image_get_section(const struct image_reader *r, uint32_t index);
/* The next section of this type after 'prev' (NULL: the first); NULL when none is left. */
const struct image_section *image_find_section(const struct image_reader *r, uint32_t type,
					       const struct image_section *prev);

/* A record section's payload, in place (valid until image_close). NULL for a page section. */
const void *image_record_data(const struct image_reader *r, const struct image_section *s,
			      size_t *len);

/* Decompresses run 'run' of page section s into dest (npages * page_size bytes). */
int image_read_run(struct image_reader *r, const struct image_section *s, uint32_t run,
		   void *dest);
/*
 * Decompresses every run of page section s, in parallel across chunks: dest_fn is called once
 * per run, in order, before any data moves, and returns where that run's bytes go (NULL: skip
 * this run).
 */
typedef void *(*image_dest_fn)(void *arg, const struct image_section *s, uint32_t run);
int image_read_pages(struct image_reader *r, const struct image_section *s, image_dest_fn fn,
		     void *arg);

/* ---- inspection ------------------------------------------------------------------------- */

/* Content-aware printing on top of image_show(); any member may be NULL. */
struct image_show_hooks {
	const char *(*type_name)(uint32_t type, void *arg);
	void (*print_record)(FILE *f, const struct image_section *s, const void *data,
			     size_t len, void *arg);
	void *arg;
};
#define IMAGE_SHOW_RUNS	  0x1u /* list every page run */
#define IMAGE_SHOW_CHUNKS 0x2u /* list every chunk */

/*
 * Prints the header, each section (type, size, checksum), page runs and chunk statistics, and
 * the validation result. Returns 0 if the image is valid, else the image_open() error.
 */
int image_show(FILE *f, const char *path, const struct image_show_hooks *hooks, unsigned flags);

/*
 * The same facts as JSON (common/json.h): the member "container" of the object jw is writing,
 * with the header in and, when r is not NULL (image_open() succeeded, so every checksum was
 * verified), the sections, page statistics and checksum counts; r NULL says "verified": false.
 * hooks->type_name names the sections. The members are listed in docs/dmtcp_restart.1.
 */
struct json_writer;
void image_show_json(struct json_writer *jw, const struct image_info *in,
		     const struct image_reader *r, const struct image_show_hooks *hooks,
		     unsigned flags);

/* ---- helpers ---------------------------------------------------------------------------- */

/* CRC-32C (Castagnoli), as iSCSI/ext4: crc32c(0, NULL, 0) == 0, chainable. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The CRC of A||B from crc(A), crc(B) and len(B). */
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

/*
 * The message of the last image_open()/image_peek()/read failure in this thread ("<path>: what
 * is wrong"), e.g. for F_REASON; "" if none.
 */
const char *image_last_error(void);

/* "x86_64", "aarch64", ... or "machine-<n>". */
const char *image_arch_name(uint32_t arch);
/* Whether DMTCP_GZIP asks for compression (unset, empty or non-"0": yes). */
int image_gzip_from_env(void);

#endif
