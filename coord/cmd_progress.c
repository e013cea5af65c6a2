/*
 * The progress line of dmtcp_command -bc / -kc (see cmd_progress.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cmd_progress.h"
#include "coordclient.h"
#include "progress.h"
#include "status_fmt.h"

#define FIRST_MS	  1000 /* a checkpoint shorter than this shows nothing */
#define REFRESH_MS	  250
#define STATUS_TIMEOUT_MS 1000 /* per status question: the line must never hold the wait up */

struct watch {
	const char *host;
	int port;
	struct progress_line line; /* on the terminal */
	int sfd;		   /* the second connection, -1 until needed */
	bool off;		   /* the second connection failed: no more lines */
};

static int send_status_command(int fd)
{
	struct proto_msg m;
	int ret;

	proto_msg_init(&m, MSG_COMMAND);
	proto_put_str(&m, F_CMD, "s");
	ret = proto_send(fd, &m);
	proto_msg_free(&m);
	return ret;
}

static int open_status_conn(const char *host, int port)
{
	struct proto_msg m;
	int fd, ret;

	fd = coord_tcp_connect(host, port, STATUS_TIMEOUT_MS);
	if (fd < 0)
		return fd;
	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "client");
	ret = coord_hello(fd, host, port, &m);
	proto_msg_free(&m);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* Ask the status; true with *p when a checkpoint is running. */
static bool ask_progress(struct watch *w, struct ckpt_progress *p)
{
	struct proto_in in;
	const char *why;
	bool running;

	if (w->sfd < 0) {
		w->sfd = open_status_conn(w->host, w->port);
		if (w->sfd < 0)
			goto off;
	}
	if (send_status_command(w->sfd) || proto_recv(w->sfd, &in, STATUS_TIMEOUT_MS, &why))
		goto off;
	running = in.type == MSG_COMMAND_REPLY && ckpt_progress_get(&in, p);
	proto_in_free(&in);
	return running;
off:
	if (w->sfd >= 0)
		close(w->sfd);
	w->sfd = -1;
	w->off = true;
	return false;
}

static void draw(struct watch *w)
{
	struct ckpt_progress p;
	char line[256];

	if (!ask_progress(w, &p))
		return;
	fmt_ckpt_line(line, sizeof(line), &p);
	progress_show(&w->line, "%s", line);
}

int cmd_progress_wait(int fd, const char *host, int port, int tty_fd)
{
	struct watch w = { .host = host, .port = port, .sfd = -1 };
	long next = mono_now_ms() + FIRST_MS;
	int ret;

	/* (progress_show() itself waits for the first second and redraws at most so often) */
	progress_begin(&w.line, tty_fd);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int tmo = -1, r;

		if (tty_fd >= 0 && !w.off) {
			long left = next - mono_now_ms();

			tmo = left > 0 ? (int)left : 0;
		}
		r = poll(&pf, 1, tmo);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r > 0) {
			ret = 0;
			break;
		}
		draw(&w);
		next = mono_now_ms() + REFRESH_MS;
	}
	progress_end(&w.line);
	if (w.sfd >= 0)
		close(w.sfd);
	return ret;
}
