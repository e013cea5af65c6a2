/*
 * Taking restored processes under the tracer (dmtcp_restart): like tracer_adopt(), but the
 * process's coordinator HELLO says it is restarted (F_RESTART, the computation id from the
 * image, how many processes the restart brings back, the pid the program sees), so that the
 * coordinator runs the restart barriers instead of treating it as a new computation.
 */
#ifndef DMTCP_TRACER_ADOPT_H
#define DMTCP_TRACER_ADOPT_H

#include <stdint.h>
#include <sys/types.h>

#include "tracer.h"

struct restart_peer {
	pid_t real_pid;	       /* as the tracer sees it */
	pid_t pid, ppid;       /* as the program sees them (saved) */
	const char *prog;
	const char *uniquepid; /* from the image: stable across restarts */
	const char *compid;    /* from the image */
	uint64_t num_expected; /* processes in this restart */
};

/*
 * Seize every thread of rp->real_pid, hold it suspended (it runs again at the coordinator's
 * resume barrier), and open its peer connection with a restart HELLO. Returns 0 or -errno.
 */
int tracer_adopt_restarted(struct tracer *tr, const struct restart_peer *rp);

#endif
