/*
 * What the coordinator tells about itself: the status fields of a COMMAND_REPLY, the
 * DMTCP-style status text ("NUM_PEERS=n", "RUNNING=yes|no", ... which scripts parse), the
 * process list, and the --status-file rewritten after every state change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"
#include "log.h"

static void format_peer(const struct conn *c, char *buf, size_t n)
{
	snprintf(buf, n, "%llu\t%s\t%llu\t%s\t%s\t%s", (unsigned long long)c->id, c->prog,
		 (unsigned long long)c->pid, c->host, c->state, c->uniquepid);
}

void coord_put_status(const struct coord *co, struct proto_msg *m)
{
	char line[1024];

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
	for (const struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead)
			continue;
		format_peer(c, line, sizeof(line));
		proto_put_str(m, F_PEER, line);
	}
}

void coord_print_status(const struct coord *co, FILE *f)
{
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
	fflush(f);
}

void coord_print_list(const struct coord *co, FILE *f)
{
	fprintf(f, "Client List:\n");
	fprintf(f, "#, PROG[virtPID:realPID]@HOST, STATE, UNIQUEPID\n");
	for (const struct conn *c = co->conns; c; c = c->next) {
		if (c->role != ROLE_PEER || c->dead)
			continue;
		fprintf(f, "%llu, %s[%llu]@%s, %s, %s\n", (unsigned long long)c->id, c->prog,
			(unsigned long long)c->pid, c->host, c->state, c->uniquepid);
	}
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
	coord_print_list(co, f);
	if (fclose(f) || rename(tmp, co->o.status_file)) {
		pr_warn("cannot write status file %s: %s", co->o.status_file, strerror(errno));
		unlink(tmp);
	}
}

void coord_state_changed(struct coord *co)
{
	coord_write_status_file(co);
}
