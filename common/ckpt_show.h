/*
 * Content-aware inspection of a process image (common/ckpt_show.c), for
 * `dmtcp_restart --show IMG`.
 */
#ifndef DMTCP_CKPT_SHOW_H
#define DMTCP_CKPT_SHOW_H

#include <stdio.h>

struct image_show_hooks;

/* The printers for our section types, to pass to image_show(). */
const struct image_show_hooks *ckpt_show_hooks(void);

/*
 * image_show() with our printers (header, sections, checksums, the content of each section),
 * then a full content validation (ckpt_load); the last line is "content: valid (...)" or
 * "content: INVALID (...)". flags: IMAGE_SHOW_*. Returns 0 if the image is valid, else the
 * error (the reason was printed/logged).
 */
int ckpt_show(FILE *f, const char *path, unsigned flags);

/*
 * The same as JSON (common/ckpt_show_json.c): one object, an element of the array jw is
 * writing, with "path", "valid", "error" (when not valid: the message also logged), the
 * container and, for a valid image, its content; the document is described in
 * docs/dmtcp_restart.1. Returns 0 if the image is valid, else the error.
 */
struct json_writer;
int ckpt_show_json(struct json_writer *jw, const char *path, unsigned flags);

#endif
