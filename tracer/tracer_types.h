/*
 * The plain data types of the tracer's public API (tracer.h), apart so that the modules inside
 * tracer/ can use them without including the API itself: the configuration at tracer_create()
 * (where the coordinator is, where images go and how; read through tracer_cfg()), a restored
 * process at tracer_adopt_restarted(), a named barrier's handler.
 */
#ifndef DMTCP_TRACER_TYPES_H
#define DMTCP_TRACER_TYPES_H

#include <stdint.h>
#include <sys/types.h>

/* A file the command that started the computation (dmtcp_launch, dmtcp_restart) had at one of
 * fds 0-2, as st_dev and st_ino: a program's fd N that still holds it follows the restart
 * command's fd N at the next restart (docs/dmtcp_restart.1, STANDARD STREAMS). */
struct stdio_ident {
	uint64_t dev, ino;
	int valid; /* 0: that fd was closed */
};

struct tracer_config {
	char coord_host[256]; /* where every peer connection goes */
	int coord_port;
	const char *ckptdir;  /* --ckptdir: overrides the coordinator's, NULL for that one */
	long interval;	      /* -i: sent in the first HELLO; -1 when not given */
	int gzip;	      /* compress images (DMTCP_GZIP) */
	int timings;	      /* log suspend/resume timings (DMTCP_TRACER_TIMINGS=1) */
	struct stdio_ident stdio[3]; /* tracer_config_note_stdio() */
};

/* A restored process as dmtcp_restart hands it over. */
struct restart_peer {
	pid_t real_pid;	       /* as the tracer sees it */
	pid_t pid, ppid;       /* as the program sees them (saved) */
	const char *prog;
	const char *uniquepid; /* from the image: stable across restarts */
	const char *compid;    /* from the image */
	uint64_t ckpt_id;      /* from the image: the checkpoint it belongs to (0 unknown) */
	uint64_t num_expected; /* processes in this restart */
	int nofilter;	       /* its image says IMAGE_F_NOFILTER: no filter was installed, and
				  it is seized as an attached process is (no EXITKILL) */
};

/* A named barrier's handler (tracer_on_barrier): 0 or -errno, reported to the coordinator. */
typedef int (*tracer_barrier_fn)(pid_t pid, void *arg);

#endif
