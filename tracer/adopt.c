/*
 * tracer_adopt_restarted() (see adopt.h): the restart's way into the tracer's process table.
 */
#include "tracer/adopt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordclient.h"
#include "log.h"
#include "proto.h"
#include "tracer/tracer_int.h"

#define ADOPT_CONNECT_TIMEOUT_MS 5000

static int open_restart_peer(struct tracee_proc *p, const struct restart_peer *rp)
{
	struct tracer *tr = p->tracer;
	struct proto_msg m;
	int fd, r;

	fd = coord_tcp_connect(tr->cfg.coord_host, tr->cfg.coord_port, ADOPT_CONNECT_TIMEOUT_MS);
	if (fd < 0) {
		pr_err("pid %d: cannot connect to the coordinator at %s:%d: %s", rp->pid,
		       tr->cfg.coord_host, tr->cfg.coord_port, strerror(-fd));
		return fd;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	proto_conn_init(&p->conn, fd);
	p->conn_open = 1;

	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "peer");
	proto_put_str(&m, F_PROG, p->prog);
	proto_put_u64(&m, F_PID, (uint64_t)rp->pid);
	if (rp->real_pid != rp->pid)
		proto_put_u64(&m, F_REAL_PID, (uint64_t)rp->real_pid);
	proto_put_u64(&m, F_PPID, (uint64_t)rp->ppid);
	proto_put_str(&m, F_UNIQUEPID, ptable_uniquepid(p));
	proto_put_str(&m, F_HOST, tr->hostname);
	proto_put_str(&m, F_STATE, "RESTARTING");
	proto_put_str(&m, F_COMPID, rp->compid);
	proto_put_u64(&m, F_RESTART, 1);
	proto_put_u64(&m, F_NUM_EXPECTED, rp->num_expected);
	proto_put_u64(&m, F_VIRT_PID, (uint64_t)rp->pid);
	if (tr->cfg.interval >= 0)
		proto_put_u64(&m, F_INTERVAL, (uint64_t)tr->cfg.interval);
	r = proto_finish(&m);
	if (!r)
		r = proto_conn_queue(&p->conn, &m);
	proto_msg_free(&m);
	if (!r && proto_conn_flush(&p->conn) < 0)
		r = -ECONNRESET;
	if (r) {
		pr_err("pid %d: cannot say hello to the coordinator: %s", rp->pid, strerror(-r));
		peer_close(p);
	}
	return r;
}

int tracer_adopt_restarted(struct tracer *tr, const struct restart_peer *rp)
{
	struct tracee_proc *p;
	int r;

	p = ptable_add_proc(tr, rp->real_pid, rp->ppid, rp->prog);
	if (!p)
		return -ENOMEM;
	if (rp->uniquepid && rp->uniquepid[0])
		snprintf(p->uniquepid, sizeof(p->uniquepid), "%s", rp->uniquepid);
	r = seize_all_threads(p);
	if (r < 0) {
		ptable_del_proc(tr, p);
		return r;
	}
	/* Held until the coordinator's resume barrier: the program must not run before. */
	suspend_begin(p);
	/*
	 * Wait for the interrupt stop here, so the process is SUSPENDED before the first
	 * restart barrier can arrive (the "refill" step refuses a process still suspending).
	 * Only its main thread exists yet; events of other tracees stay queued for the loop.
	 */
	while ((p = ptable_proc(tr, rp->real_pid)) && p->phase == PP_SUSPENDING) {
		int st;
		pid_t w = waitpid(rp->real_pid, &st, __WALL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		events_handle(tr, w, st);
	}
	if (!p) {
		pr_err("pid %d: ended while being taken under the tracer", rp->pid);
		return -ESRCH;
	}
	r = open_restart_peer(p, rp);
	if (r < 0) {
		ptable_del_proc(tr, p);
		return r;
	}
	return 0;
}
