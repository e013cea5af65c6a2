/*
 * What the coordinator tells about itself: the status fields of a COMMAND_REPLY, the
 * DMTCP-style status text ("NUM_PEERS=n", "RUNNING=yes|no", ... which scripts parse; the
 * running checkpoint's CKPT_PROGRESS, WAITING and LAST_ERROR only when there is something to
 * say), the process list with each process's last image, and the --status-file rewritten
 * after every state change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"
#include "log.h"

static struct peer_line peer_of(const struct conn *c)
{
	return (struct peer_line){ .id = c->id,
				   .pid = c->pid,
				   .prog = c->prog,
				   .host = c->host,
				   .state = c->state,
				   .uniquepid = c->uniquepid,
				   .image = c->last_image,
				   .image_size = c->last_image_size,
				   .image_time = c->last_image_time };
}

void coord_peer_line(const struct conn *c, char *buf, size_t n)
{
	struct peer_line pl = peer_of(c);

	peer_line_format(buf, n, &pl);
}

void coord_put_status(const struct coord *co, struct proto_msg *m)
{
	char line[PATH_MAX + 1024];
	struct ckpt_progress p;

	proto_put_u64(m, F_NUM_PEERS, (uint64_t)coord_num_peers(co));
	proto_put_u64(m, F_RUNNING, coord_all_running(co) ? 1 : 0);
	proto_put_u64(m, F_INTERVAL, (uint64_t)co->interval);
	proto_put_str(m, F_COMPID, co->compid);
	proto_put_str(m, F_CKPTDIR, co->o.ckptdir);
	proto_put_str(m, F_HOST, co->host);
	proto_put_u64(m, F_PORT, (uint64_t)co->port);
	proto_put_str(m, F_COORD_STATE, coord_state_name(co->state));
	proto_put_u64(m, F_CKPT_COUNT, co->ckpt_count);
	proto_put_str(m, F_LAST_CKPT, co->last_script);
	if (coord_progress_get(co, &p))
		ckpt_progress_put(m, &p);
	if (coord_waiting_line(co, line, sizeof(line)))
		proto_put_str(m, F_WAITING, line);
	if (co->last_error[0])
		proto_put_str(m, F_LAST_ERROR, co->last_error);
	for (const struct conn *c = co->conns; c; c = c->next) {
		struct peer_line pl;

		if (c->role != ROLE_PEER || c->dead)
			continue;
		pl = peer_of(c);
		peer_line_format(line, sizeof(line), &pl);
		proto_put_str(m, F_PEER, line);
	}
}

/* The lines that say why a checkpoint waits or failed, when there is something to say. */
static void print_reasons(const struct coord *co, FILE *f)
{
	char line[1024];

	if (coord_waiting_line(co, line, sizeof(line)))
		fprintf(f, "WAITING=%s\n", line);
	if (co->last_error[0])
		fprintf(f, "LAST_ERROR=%s\n", co->last_error);
}

void coord_print_status(const struct coord *co, FILE *f)
{
	struct ckpt_progress p;
	char line[256];

	fprintf(f, "Status...\n");
	fprintf(f, "Host: %s\n", co->host);
	fprintf(f, "Port: %d\n", co->port);
	fprintf(f, "Checkpoint Interval: %s", co->interval ? "" : "disabled (checkpoint manually)");
	if (co->interval)
		fprintf(f, "%ld", co->interval);
	fprintf(f, "\n");
	fprintf(f, "Exit on last client: %d\n", co->o.exit_on_last ? 1 : 0);
	fprintf(f, "Kill after checkpoint: %d\n", co->o.kill_after_ckpt ? 1 : 0);
	fprintf(f, "Computation Id: %s\n", co->compid[0] ? co->compid : "-");
	fprintf(f, "Checkpoint Dir: %s\n", co->o.ckptdir);
	fprintf(f, "NUM_PEERS=%d\n", coord_num_peers(co));
	fprintf(f, "RUNNING=%s\n", coord_all_running(co) ? "yes" : "no");
	fprintf(f, "COORD_STATE=%s\n", coord_state_name(co->state));
	fprintf(f, "CKPT_COUNT=%llu\n", (unsigned long long)co->ckpt_count);
	fprintf(f, "LAST_CKPT=%s\n", co->last_script);
	if (coord_progress_get(co, &p))
		fprintf(f, "CKPT_PROGRESS=%s\n", fmt_ckpt_status(line, sizeof(line), &p));
	print_reasons(co, f);
	fflush(f);
}

void coord_print_list(const struct coord *co, FILE *f, bool reasons)
{
	char line[PATH_MAX + 128];

	fprintf(f, "Client List:\n");
	fprintf(f, "#, PROG[virtPID:realPID]@HOST, STATE, UNIQUEPID, LAST IMAGE\n");
	for (const struct conn *c = co->conns; c; c = c->next) {
		struct peer_line pl;

		if (c->role != ROLE_PEER || c->dead)
			continue;
		pl = peer_of(c);
		fprintf(f, "%s\n", fmt_peer_text(line, sizeof(line), &pl));
	}
	if (reasons)
		print_reasons(co, f);
	fflush(f);
}

void coord_write_status_file(const struct coord *co)
{
	char tmp[PATH_MAX + 16];
	FILE *f;

	if (!co->o.status_file)
		return;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", co->o.status_file) >= sizeof(tmp))
		return;
	f = fopen(tmp, "we");
	if (!f) {
		pr_warn("cannot write status file %s: %s", tmp, strerror(errno));
		return;
	}
	coord_print_status(co, f);
	coord_print_list(co, f, false);
	/* ferror(): a write that failed while printing (a full disk) is not seen by fclose() */
	if (ferror(f) + fclose(f) || rename(tmp, co->o.status_file)) {
		pr_warn("cannot write status file %s: %s", co->o.status_file, strerror(errno));
		unlink(tmp);
	}
}

void coord_state_changed(struct coord *co)
{
	coord_write_status_file(co);
}
