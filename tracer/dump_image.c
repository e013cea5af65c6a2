/*
 * Dump policy for one process: its image written from what collect_process() found, the
 * records, the contents of its deleted files and its pages, and the image's name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.h"
#include "image.h"
#include "log.h"

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

/*
 * A deleted file's contents, streamed from the target's file into a FILEDATA section in
 * 1 MiB pieces (pread: the program's shared offset does not move).
 */
static int dump_deleted_file(struct image_writer *w, pid_t pid, const struct ckpt_proc *p,
			     const struct ckpt_file *f)
{
	struct ckpt_buf hdr = { 0 };
	uint64_t off = 0;
	uint32_t i;
	char *buf;
	int fd = -1, lfd, rc;
	ssize_t n;

	for (i = 0; i < p->nfds && fd < 0; i++)
		if (p->fds[i].file == f->id)
			fd = p->fds[i].fd;
	if (fd < 0)
		return -ENOENT;
	lfd = collect_open_fd_data(pid, fd);
	if (lfd < 0) {
		if (lfd != -ESRCH)
			pr_err("pid %d: fd %d (%s, deleted): cannot open it to save its contents: %s",
			       pid, fd, f->path, strerror(-lfd));
		return lfd;
	}
	buf = malloc(1u << 20);
	rc = buf ? ckpt_encode_filedata_hdr(f->id, f->data_len, &hdr) : -ENOMEM;
	if (!rc)
		rc = image_begin_section(w, CKPT_SEC_FILEDATA);
	if (!rc)
		rc = image_append(w, hdr.p, hdr.len);
	while (!rc && off < f->data_len) {
		size_t want = f->data_len - off < (1u << 20) ? (size_t)(f->data_len - off) : 1u << 20;

		n = pread(lfd, buf, want, (off_t)off);
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			pr_err("pid %d: fd %d (%s, deleted): %s at offset %llu", pid, fd, f->path,
			       n < 0 ? strerror(errno) : "file shrank during the checkpoint",
			       (unsigned long long)off);
			break;
		}
		rc = image_append(w, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (!rc)
		rc = image_end_section(w);
	ckpt_buf_free(&hdr);
	free(buf);
	close(lfd);
	return rc;
}

int dump_image(pid_t pid, const struct ckpt_proc *p, const struct dump_image_opts *d,
	       struct image_writer **wp)
{
	struct image_opts o = IMAGE_OPTS_INIT;
	struct image_writer *w;
	uint32_t i;
	int rc;

	*wp = NULL;
	o.compress = d->compress;
	o.prog = d->prog;
	o.uniquepid = d->uniquepid;
	o.compid = d->compid;
	o.ckpt_id = d->ckpt_id;
	o.flags = d->nofilter ? IMAGE_F_NOFILTER : 0;
	rc = image_create(d->dir, d->final_name, &o, &w);
	if (rc)
		return rc;
	rc = ckpt_write_records(w, p);
	for (i = 0; i < p->nfiles && !rc; i++) {
		const struct ckpt_file *f = &p->files[i];

		if (!(f->flags & CKPT_FF_HAS_DATA))
			continue;
		if (f->data || f->data_len == 0)
			rc = ckpt_write_filedata(w, f->id, f->data, f->data_len);
		else
			rc = dump_deleted_file(w, pid, p, f);
	}
	if (!rc)
		rc = dump_pages(w, pid, p, d->progress);
	if (!rc)
		rc = image_finish(w);
	if (rc) {
		image_discard(w);
		return rc;
	}
	*wp = w;
	return 0;
}
