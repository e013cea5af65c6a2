/*
 * dmtcp_restart: restart a computation from its images.
 *
 *   dmtcp_restart [opts] IMG... | -r DIR      bring every process back and trace it
 *   dmtcp_restart --show [--json] IMG...     validate and describe images
 *
 * Sequence, with the point of no return as late as possible:
 *   1. load and validate every image; plan the tree; pick where the pids can be had;
 *      recreate the shared kernel objects (files, pipes, shared memory) -- all undoable;
 *   2. find or start the coordinator (as dmtcp_launch does) and become a tracer;
 *   3. create the processes with their pids, sessions and groups; each stages its memory,
 *      puts its fds in place, installs the seccomp filter and waits at its gate;
 *   4. seize each one and open its peer connection with a restart HELLO; only then let it
 *      through the gate: it is held in a ptrace stop until the coordinator's resume barrier
 *      (after "restart" and "refill"), and then jumps into the restorer;
 *   5. run the tracer's event loop like dmtcp_launch's, so dmtcp_command -c checkpoints the
 *      restarted computation again.
 * A failure in 1-4 kills whatever was created and exits with DMTCP_FAIL_RC.
 *
 * As with dmtcp_launch, the command and the tracer are two processes: the tracer (our child)
 * does all of the above and stays as long as any restored process lives, while the command
 * returns as soon as the main program ends, with its status (its fatal signal re-raised),
 * and forwards SIGTERM/SIGHUP to it meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ckpt_show.h"
#include "coordclient.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "progress.h"
#include "report.h"
#include "units.h"
#include "restart/restart_opts.h"
#include "restart/restart_proc.h"
#include "tracer/tracer.h"

/* How often the restart's progress line may change while the processes stage memory. */
#define PROGRESS_SLICE_MS 200

struct restart_state {
	struct restart_ctx *c;
	int main_status; /* -1 while the main process runs */
};

/*
 * --show --json: one document, an array with an object for each image, bad ones included
 * (their error is logged as with the text form); the exit status is the text form's.
 */
static int show_images_json(const struct restart_opts *o)
{
	struct json_writer jw;
	int i, rc, bad = 0;

	json_init(&jw, stdout, JSON_PRETTY);
	json_array_begin(&jw, NULL);
	if (ckpt_show_json(&jw, o->show, IMAGE_SHOW_RUNS))
		bad++;
	for (i = 0; i < o->nimages; i++)
		if (ckpt_show_json(&jw, o->images[i], IMAGE_SHOW_RUNS))
			bad++;
	json_array_end(&jw);
	rc = json_finish(&jw);
	if (rc) {
		pr_err("cannot write the JSON document to stdout: %s", strerror(-rc));
		return fail_rc();
	}
	return bad ? fail_rc() : 0;
}

static int show_images(const struct restart_opts *o)
{
	int i, bad = 0;

	if (o->json)
		return show_images_json(o);
	if (ckpt_show(stdout, o->show, IMAGE_SHOW_RUNS))
		bad++;
	for (i = 0; i < o->nimages; i++) {
		putchar('\n');
		if (ckpt_show(stdout, o->images[i], IMAGE_SHOW_RUNS))
			bad++;
	}
	fflush(stdout);
	return bad ? fail_rc() : 0;
}

/* The command's end of the report pipe, in the tracer. */
static int g_report_fd = -1;

static void on_main_exit(int wstatus, void *arg)
{
	struct restart_state *st = arg;

	st->main_status = wstatus;
	report_send(g_report_fd, LREP_EXIT, wstatus);
	if (g_report_fd >= 0)
		close(g_report_fd);
	g_report_fd = -1;
}

/*
 * The command's side: the tracer reports the main program's pid, then its end, which ends the
 * command the same way (report_wait). A tracer that stops without reporting the end
 * failed, or the main program never ran: its own exit code is ours.
 */
static void __attribute__((noreturn)) wait_for_main(pid_t tracer, int rfd, const sigset_t *fwd)
{
	struct launch_report rep;
	int st;

	if (report_wait(rfd, fwd, &rep))
		die("the tracer sent an unknown report (%d)", rep.kind);
	while (waitpid(tracer, &st, 0) < 0) {
		if (errno != EINTR)
			die("cannot wait for the tracer (pid %d): %s", tracer, strerror(errno));
	}
	if (WIFEXITED(st))
		exit(WEXITSTATUS(st));
	die("the tracer (pid %d) was killed by signal %d", tracer, WTERMSIG(st));
}

/*
 * The restart barriers the tracer does not know. "restart": every process is connected and,
 * with us, every shared kernel object was rebuilt before the processes were created, so there
 * is nothing left to do but say so.
 */
static int on_restart_barrier(pid_t pid, void *arg)
{
	(void)pid;
	(void)arg;
	return 0;
}

/*
 * A computation killed a moment ago (dmtcp_command -k, then its restart script) may still
 * have its peers at the coordinator until its tracer has seen its processes die, and the
 * coordinator refuses to restart a computation that is running. So before anything is
 * created, ask the coordinator's status on our connection, as dmtcp_command -s does, until
 * no process of this computation is left (bounded). Another computation running there is an
 * error at once.
 */
#define IDLE_WAIT_MS 10000
static int wait_for_idle_coordinator(int fd, const char *compid, const struct coord_opts *co)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };
	struct proto_msg m;
	struct proto_in in;
	const char *why = "?", *cur;
	uint64_t npeers = 0, st = 1;
	int r, waited = 0;

	proto_msg_init(&m, MSG_HELLO);
	proto_put_str(&m, F_ROLE, "client");
	r = coord_hello(fd, co->host, co->port, &m);
	proto_msg_free(&m);
	if (r == -EACCES)
		return r; /* coord_hello said why */
	for (;;) {
		if (r)
			break;
		proto_msg_init(&m, MSG_COMMAND);
		proto_put_str(&m, F_CMD, "s");
		r = proto_send(fd, &m);
		proto_msg_free(&m);
		if (r)
			break;
		r = proto_recv(fd, &in, 5000, &why);
		if (r)
			break;
		if (in.type != MSG_COMMAND_REPLY || proto_get_u64(&in, F_STATUS, &st) || st ||
		    proto_get_u64(&in, F_NUM_PEERS, &npeers)) {
			pr_err("the coordinator at %s:%d did not answer a status request",
			       co->host, co->port);
			proto_in_free(&in);
			return -EPROTO;
		}
		cur = proto_get_str(&in, F_COMPID);
		if (npeers == 0) {
			proto_in_free(&in);
			if (waited)
				pr_info("the previous run of computation %s has left the coordinator",
					compid);
			return 0;
		}
		if (!cur || strcmp(cur, compid)) {
			pr_err("the coordinator at %s:%d runs computation %s (%llu processes); it "
			       "cannot also restart %s: use another port (-p) or a new coordinator",
			       co->host, co->port, cur ? cur : "?", (unsigned long long)npeers,
			       compid);
			proto_in_free(&in);
			return -EBUSY;
		}
		proto_in_free(&in);
		if (waited >= IDLE_WAIT_MS) {
			pr_err("computation %s still has %llu processes at the coordinator at %s:%d "
			       "after %d s: kill it first (dmtcp_command -k)",
			       compid, (unsigned long long)npeers, co->host, co->port,
			       IDLE_WAIT_MS / 1000);
			return -EBUSY;
		}
		if (!waited)
			pr_info("waiting for the running processes of computation %s to leave the "
				"coordinator", compid);
		nanosleep(&tick, NULL);
		waited += 20;
	}
	pr_err("cannot ask the coordinator at %s:%d for its status: %s", co->host, co->port,
	       r == -EPROTO ? why : strerror(-r));
	return r;
}

/*
 * In each restored process, before its gate (restart_ctx.before_gate): the same seccomp filter
 * dmtcp_launch gives a program, no_new_privs first.
 */
static int install_filter(pid_t pid, void *arg)
{
	int r = tracer_install_filter(arg);

	if (r < 0)
		pr_err("pid %d: cannot install the seccomp filter: %s", pid, strerror(-r));
	return r;
}

/* The program name as the launch knew it (comm is cut at 15 characters). */
static const char *prog_of(const struct restart_img *im)
{
	if (im->info.prog[0])
		return im->info.prog;
	return im->proc.comm[0] ? im->proc.comm : "?";
}

/* The main process's real pid (the one whose end ends the command). */
static pid_t main_pid(const struct restart_ctx *c)
{
	int i;

	for (i = 0; i < c->set.n; i++)
		if (c->tree.procs[i].is_main)
			return c->tree.procs[i].real_pid;
	return -1;
}

/* The restart's progress line (a terminal only, after a second): processes and bytes. */
static void show_progress(struct progress_line *pl, const struct restart_ctx *c, int held,
			  uint64_t total)
{
	uint64_t done = c->progress ? atomic_load(&c->progress->bytes_read) : 0;
	char b[32], t[32], rate[32];

	fmt_bytes(b, sizeof(b), done);
	fmt_bytes(t, sizeof(t), total);
	fmt_rate(rate, sizeof(rate), done, (uint64_t)progress_elapsed_ms(pl));
	progress_show(pl, "restart: %d/%d processes, %s of %s read, %s", held, c->set.n, b, t,
		      rate);
}

/* Steps 3 and 4: create, seize, open the gates. Returns 0 or -errno with nothing left. */
static int bring_back(struct restart_ctx *c, struct tracer *tr)
{
	int r, idx, err, held = 0, i;
	uint64_t total = restart_total_bytes(c);
	struct progress_line pl;
	long waited = 0;

	progress_begin(&pl, STDERR_FILENO);
	r = restart_create(c);
	if (r)
		return r;
	prepare_tree_release(&c->tree, -1);
	while (held < c->set.n) {
		/* In slices, to redraw the progress line; the bound is the tree's timeout. */
		r = prepare_tree_wait_report(&c->tree, PROGRESS_SLICE_MS, &idx, &err);
		if (r == 0) {
			waited += PROGRESS_SLICE_MS;
			if (waited < c->tree.timeout_ms) {
				show_progress(&pl, c, held, total);
				continue;
			}
			progress_end(&pl);
			pr_err("timed out waiting for the restored processes to stage their memory");
			r = -ETIMEDOUT;
			goto fail;
		}
		waited = 0;
		if (r == 2) {
			int ws = c->tree.main_status;

			pr_err("pid %d %s %d before its restore completed", c->tree.procs[idx].pid,
			       WIFSIGNALED(ws) ? "was killed by signal" : "exited with status",
			       WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
		}
		if (r < 0 || r == 2 || (r == 1 && err < 0)) {
			r = r < 0 ? r : r == 2 ? -ECHILD : err;
			progress_end(&pl);
			goto fail;
		}
		if (r == 1 && err == RSTAGE_HOLD) {
			const struct restart_img *im = &c->set.img[idx];
			struct restart_peer rp = {
				.real_pid = c->tree.procs[idx].real_pid,
				.pid = c->tree.procs[idx].pid,
				.ppid = c->tree.procs[idx].ppid,
				.prog = prog_of(im),
				.uniquepid = im->info.uniquepid[0] ? im->info.uniquepid
								   : im->proc.uniquepid,
				.compid = c->set.compid,
				.ckpt_id = im->info.ckpt_id,
				.num_expected = (uint64_t)c->set.n,
				.nofilter = !!(im->info.flags & IMAGE_F_NOFILTER),
			};

			r = tracer_adopt_restarted(tr, &rp);
			if (r) {
				progress_end(&pl);
				goto fail;
			}
			if (c->tree.procs[idx].is_main)
				tracer_set_root(tr, rp.real_pid);
			prepare_tree_gate_open(&c->tree, idx);
			held++;
			show_progress(&pl, c, held, total);
		}
	}
	progress_end(&pl);
	return 0;
fail:
	/* Nothing of the program ran yet: kill the lot. */
	for (i = 0; i < c->set.n; i++)
		if (c->tree.procs[i].real_pid > 0)
			kill(c->tree.procs[i].real_pid, SIGKILL);
	prepare_tree_abort(&c->tree);
	return r;
}

int main(int argc, char **argv)
{
	struct restart_opts o;
	struct restart_ctx c;
	struct restart_state st = { .c = &c, .main_status = -1 };
	struct tracer_config cfg;
	struct tracer *tr = NULL;
	char **paths = NULL;
	int npaths = 0, i, r, coord_fd;

	log_set_prog("dmtcp_restart");
	if (restart_parse_opts(argc, argv, &o)) {
		fprintf(stderr, "dmtcp_restart: %s\n", o.err);
		fprintf(stderr, "Try 'dmtcp_restart --help'.\n");
		return fail_rc();
	}
	switch (o.action) {
	case RESTART_HELP:
		restart_usage(stdout, "dmtcp_restart");
		return 0;
	case RESTART_VERSION:
		printf("dmtcp_restart %s\n", DMTCP_VERSION);
		return 0;
	case RESTART_SHOW:
		return show_images(&o);
	case RESTART_RUN:
		break;
	}
	if (log_opts_apply(&o.log)) {
		fprintf(stderr, "%s: %s\n", log_prog(), o.log.err);
		return fail_rc();
	}
	if (o.restartdir) {
		if (restart_list_dir(o.restartdir, &paths, &npaths))
			return fail_rc();
	}
	{
		sigset_t fwd;
		int pfds[2];
		pid_t tracer;

		tracer = report_fork_tracer(pfds, &fwd);
		if (tracer > 0)
			wait_for_main(tracer, pfds[0], &fwd);
		g_report_fd = pfds[1];
		sigprocmask(SIG_UNBLOCK, &fwd, NULL);
	}
	/* Terminal signals are the program's; we only forward nothing and stay. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* An image over RLIMIT_FSIZE fails its checkpoint (EFBIG); it must not kill us and
	 * the program with us (the restored processes get their own dispositions back). */
	signal(SIGXFSZ, SIG_IGN);

	r = restart_prepare(&c, o.restartdir ? paths : o.images, o.restartdir ? npaths : o.nimages,
			    !o.no_strict, o.force_newns);
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	if (r)
		goto fail;

	coord_fd = coord_ensure(&o.coord);
	if (coord_fd < 0) {
		r = coord_fd;
		goto fail;
	}
	r = wait_for_idle_coordinator(coord_fd, c.set.compid, &o.coord);
	if (r) {
		close(coord_fd);
		goto fail;
	}
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.coord_host, sizeof(cfg.coord_host), "%s", o.coord.host);
	cfg.coord_port = o.coord.port;
	cfg.ckptdir = o.coord.ckptdir;
	cfg.interval = o.coord.interval;
	cfg.gzip = image_gzip_from_env();
	tracer_config_note_stdio(&cfg);
	r = tracer_create(&cfg, &tr);
	if (r) {
		close(coord_fd);
		goto fail;
	}
	tracer_on_root_exit(tr, on_main_exit, &st);
	if (tracer_on_barrier(tr, BARRIER_RESTART, on_restart_barrier, NULL) ||
	    tracer_on_barrier(tr, BARRIER_RESTORED, on_restart_barrier, NULL)) {
		close(coord_fd);
		goto fail;
	}
	c.traced = 1;
	c.before_gate = install_filter;
	c.before_gate_arg = tr;
	r = bring_back(&c, tr);
	/* Our probe connection kept a fresh coordinator from leaving; every peer has its own. */
	close(coord_fd);
	if (r)
		goto fail;
	report_send(g_report_fd, LREP_PID, main_pid(&c));
	/* An attached computation outlives its tracer: so must its PID namespace's pid 1. */
	for (i = 0; i < c.set.n; i++)
		if (c.set.img[i].info.flags & IMAGE_F_NOFILTER) {
			prepare_tree_keep_reaper(&c.tree);
			break;
		}
	/* From here on the processes are the program's: the restart only traces. */
	prepare_tree_free(&c.tree);
	prepare_image_shm_free(&c.shm);
	prepare_fds_free(&c.fds);
	restart_set_free(&c.set);
	r = tracer_run(tr);
	tracer_destroy(tr);
	if (r < 0)
		return fail_rc();
	return st.main_status >= 0 ? restart_exit_code(st.main_status) : 0;
fail:
	if (tr)
		tracer_destroy(tr);
	restart_ctx_free(&c);
	return fail_rc();
}
