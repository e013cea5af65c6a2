/*
 * The on-disk layout of the checkpoint image, private to image_*.c.
 *
 * docs/image-format.md is the specification; these structs are its exact transcription. All
 * integers are little-endian (the only architecture built is x86_64, so they are read in
 * place; the static asserts pin every size and offset). The file is:
 *
 *	header (512 bytes)
 *	section 0: section header (32) | payload (length)
 *	section 1: ...
 *	footer: index entry (32) x nsections | footer tail (32)
 *
 * with no gaps: section 0 starts at 512, each next one where the previous payload ends, and
 * the footer where the last section ends.
 */
#ifndef DMTCP_IMAGE_FMT_H
#define DMTCP_IMAGE_FMT_H

#include <stdint.h>

#include "image.h"

#define IMAGE_MAGIC	    "DMTCPIMG" /* 8 bytes, no NUL */
#define IMAGE_HDR_SIZE	    512u
#define IMAGE_SEC_MAGIC	    0x54434553u /* "SECT" */
#define IMAGE_PIDX_MAGIC    0x58444950u /* "PIDX": page-section index tail */
#define IMAGE_FOOT_MAGIC    0x544f4f46u /* "FOOT" */
#define IMAGE_EM_X86_64	    62u

struct image_hdr {
	char magic[8];		/* IMAGE_MAGIC */
	uint32_t version;	/* IMAGE_VERSION */
	uint32_t hdr_size;	/* IMAGE_HDR_SIZE */
	uint32_t arch;		/* ELF e_machine of the checkpointed process */
	uint32_t flags;		/* IMAGE_F_* */
	uint32_t page_size;
	uint32_t chunk_size;	/* nominal raw bytes per page chunk */
	uint64_t ctime_ns;
	uint64_t file_size;	/* 0 until the writer finished */
	uint64_t footer_off;	/* 0 until the writer finished */
	uint32_t nsections;
	uint32_t reserved0;
	char prog[IMAGE_STR_LEN];	/* NUL-terminated, NUL-padded */
	char uniquepid[IMAGE_STR_LEN];
	char compid[IMAGE_STR_LEN];
	char hostname[IMAGE_HOST_LEN];
	uint64_t ckpt_id;	/* the checkpoint it belongs to, unique (the coordinator's epoch and
				   generation); 0 unknown */
	uint32_t nprocs;	/* processes (images) in that checkpoint; 0 unknown */
	uint8_t reserved[112];	/* zero */
	uint32_t hdr_crc;	/* CRC-32C of bytes 0..507 */
};
_Static_assert(sizeof(struct image_hdr) == IMAGE_HDR_SIZE, "image header size");
_Static_assert(__builtin_offsetof(struct image_hdr, prog) == 64, "image header layout");
_Static_assert(__builtin_offsetof(struct image_hdr, hostname) == 256, "image header layout");
_Static_assert(__builtin_offsetof(struct image_hdr, ckpt_id) == 384, "image header layout");

struct image_sec_hdr {
	uint32_t magic;		/* IMAGE_SEC_MAGIC */
	uint32_t type;
	uint32_t kind;		/* enum image_kind */
	uint32_t index;		/* 0, 1, ... in file order */
	uint64_t length;	/* payload bytes after this header */
	uint32_t crc;		/* CRC-32C of the payload */
	uint32_t hdr_crc;	/* CRC-32C of bytes 0..27 of this header */
};
_Static_assert(sizeof(struct image_sec_hdr) == 32, "section header size");

/* Page section payload: chunk data | runs | chunk descriptors | pidx tail. */
struct image_run_disk {
	uint64_t vaddr;
	uint64_t npages;
};
_Static_assert(sizeof(struct image_run_disk) == 16, "run size");
_Static_assert(sizeof(struct image_run_disk) == sizeof(struct image_run), "run mirrors");

struct image_chunk_disk {
	uint32_t raw_len;	/* bytes of page data it holds */
	uint32_t stored_len;	/* bytes it takes in the file */
	uint32_t comp;		/* enum image_comp */
	uint32_t crc;		/* CRC-32C of the stored bytes */
};
_Static_assert(sizeof(struct image_chunk_disk) == 16, "chunk descriptor size");

struct image_pidx {
	uint32_t magic;		/* IMAGE_PIDX_MAGIC */
	uint32_t nruns;
	uint32_t nchunks;
	uint32_t chunk_size;	/* raw bytes of every chunk but the last */
	uint64_t data_len;	/* sum of stored_len */
	uint64_t raw_len;	/* sum of raw_len = sum of npages * page_size */
};
_Static_assert(sizeof(struct image_pidx) == 32, "page index tail size");

struct image_index_ent {
	uint32_t type;
	uint32_t kind;
	uint64_t offset;	/* of the section header */
	uint64_t length;	/* payload bytes */
	uint32_t crc;		/* payload CRC-32C, as in the section header */
	uint32_t reserved;	/* zero */
};
_Static_assert(sizeof(struct image_index_ent) == 32, "index entry size");

struct image_foot {
	uint32_t magic;		/* IMAGE_FOOT_MAGIC */
	uint32_t nsections;
	uint64_t footer_off;	/* where the index entries start (= header's footer_off) */
	uint32_t index_crc;	/* CRC-32C of the index entries */
	uint32_t file_crc;	/* CRC-32C of every byte of the file before this tail */
	uint32_t reserved;	/* zero */
	uint32_t foot_crc;	/* CRC-32C of bytes 0..27 of this tail */
};
_Static_assert(sizeof(struct image_foot) == 32, "footer tail size");

/* Largest counts a reader accepts, so that no size computation can overflow. */
#define IMAGE_MAX_SECTIONS (1u << 20)
#define IMAGE_MAX_RUNS	   (1u << 28)
/*
 * Deflate's best case is a 258-byte match in two bits, so a zlib stream never inflates to
 * more than 1032 times its size: a chunk that claims more is damaged, and is refused before
 * any buffer is sized by its claim.
 */
#define IMAGE_ZLIB_MAX_RATIO 1032u

/* image_compress.c: the chunk codec shared by writer and reader. */
struct image_chunk_out {
	uint32_t comp;		/* enum image_comp */
	uint32_t stored_len;
	uint32_t crc;		/* of the stored bytes */
	const void *data;	/* the input or the output buffer */
};
/* One deflate stream, reused chunk after chunk by one thread. */
struct image_zctx {
	void *zs;		/* z_stream *, kept opaque so users need not include zlib.h */
	int level;
};
int image_zctx_init(struct image_zctx *z, int level);
void image_zctx_free(struct image_zctx *z);
/* Bytes of output buffer image_compress_chunk() needs for a chunk of raw_len bytes. */
size_t image_compress_bound(uint32_t raw_len);
/*
 * Compresses in[0..len) into out if that pays, after a quick trial on samples; fills *res
 * (res->data points to in when stored raw, else to out). z NULL: store raw.
 */
void image_compress_chunk(struct image_zctx *z, const void *in, uint32_t len, void *out,
			  size_t out_cap, struct image_chunk_out *res);
/* Cheap test (byte histogram of samples): 1 if the chunk is surely not worth deflating. */
int image_chunk_incompressible(const void *buf, uint32_t len);
/* Inflates exactly raw_len bytes of a zlib chunk into dst: 0, or -EINVAL with *why set. */
int image_inflate_chunk(const void *src, uint32_t stored_len, void *dst, uint32_t raw_len,
			const char **why);

/* image_read.c: the chunk table of a validated page section (for image_show). */
const struct image_chunk_disk *image_section_chunks(const struct image_reader *r,
						    const struct image_section *s);

/* Online CPUs, at least 1, at most 64. */
int image_ncpus(void);

#endif
