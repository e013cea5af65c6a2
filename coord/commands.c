/*
 * The coordinator's commands, shared by dmtcp_command clients (MSG_COMMAND) and the
 * coordinator's standard input: s l c bc kc i k d q, and where (clients only: its answer comes
 * in parts, where.c). Every reply carries F_STATUS, F_REASON on error, and the status fields.
 */
#include <errno.h>
#include <string.h>

#include "coord.h"
#include "log.h"

#define MAX_INTERVAL_S (100L * 365 * 24 * 3600)

static void reply_error(struct proto_msg *reply, int err, const char *reason)
{
	proto_put_u64(reply, F_STATUS, (uint64_t)(int64_t)err);
	proto_put_str(reply, F_REASON, reason);
}

bool coord_run_command(struct coord *co, const char *cmd, uint64_t arg, bool has_arg,
		       struct proto_msg *reply, struct conn *client)
{
	const char *why = NULL;
	bool deferred = false;
	int ret;

	if (!strcmp(cmd, "s") || !strcmp(cmd, "l")) {
		proto_put_u64(reply, F_STATUS, 0);
	} else if (!strcmp(cmd, "c") || !strcmp(cmd, "bc") || !strcmp(cmd, "kc")) {
		bool kill = !strcmp(cmd, "kc") || co->o.kill_after_ckpt;

		ret = coord_start_ckpt(co, kill, &why);
		if (ret) {
			reply_error(reply, ret, why);
		} else {
			proto_put_u64(reply, F_STATUS, 0);
			/* bc/kc answer when the checkpoint has finished (or aborted). */
			deferred = client && strcmp(cmd, "c") != 0;
			if (deferred)
				client->wait = WAIT_CKPT_DONE;
		}
	} else if (!strcmp(cmd, "where")) {
		ret = client ? coord_where_start(co, client, &why) : -EINVAL;
		if (ret)
			reply_error(reply, ret, client ? why : "'where' is a dmtcp_command command");
		else
			deferred = true;
	} else if (!strcmp(cmd, "i")) {
		if (!has_arg || arg > (uint64_t)MAX_INTERVAL_S) {
			reply_error(reply, -EINVAL, "'i' needs an interval in seconds (0 = none)");
		} else {
			co->interval = (long)arg;
			co->timer_dirty = true;
			pr_info("checkpoint interval set to %ld s%s", co->interval,
				co->interval ? "" : " (interval checkpoints off)");
			proto_put_u64(reply, F_STATUS, 0);
			coord_state_changed(co);
		}
	} else if (!strcmp(cmd, "k")) {
		pr_info("killing the computation (%d processes)", coord_num_peers(co));
		coord_kill_peers(co);
		proto_put_u64(reply, F_STATUS, 0);
	} else if (!strcmp(cmd, "d")) {
		ret = coord_detach_peers(co, &why);
		if (ret < 0) {
			reply_error(reply, ret, why);
		} else {
			pr_info("detaching the computation (%d processes): they run on untraced", ret);
			proto_put_u64(reply, F_STATUS, 0);
		}
	} else if (!strcmp(cmd, "q")) {
		pr_info("killing the computation (%d processes) and quitting", coord_num_peers(co));
		coord_kill_peers(co);
		co->quit = true;
		proto_put_u64(reply, F_STATUS, 0);
	} else {
		char msg[128];

		snprintf(msg, sizeof(msg), "unknown command '%.40s'", cmd);
		reply_error(reply, -EINVAL, msg);
	}
	if (!deferred)
		coord_put_status(co, reply);
	return deferred;
}
