/*
 * Rebuilding the saved process tree with the original PIDs (see prepare_tree.h).
 *
 * Shape of what we create:
 *
 *   restart (caller) ── reaper ── root processes ── their children ...
 *
 * The reaper is ours. In TREE_NEWNS it is created with clone3(CLONE_NEWPID [|CLONE_NEWUSER])
 * so it is pid 1 of a fresh namespace where every saved pid is free, and it mounts a /proc of
 * that namespace in a private mount namespace so /proc/<getpid()> means what the program
 * expects. In TREE_HOST it is a plain child marked as child subreaper. Either way it reaps
 * orphans, tells the restart when the main process ended, and exits when nothing is left.
 * The caller itself never changes namespace: it stays where the coordinator and the user are.
 *
 * Every process is made with clone3(set_tid = {saved pid}) by its saved parent. Sessions and
 * groups are then rebuilt in the only order fork/setsid/setpgid allow:
 *
 *   1. fork the "early" children: those that stay in the session we were born in;
 *   2. setsid() if we are a session leader (this also makes us a group leader);
 *   3. fork the other children (they inherit our new session);
 *   4. join our process group: a leader creates it (setpgid(0, 0)) and flags it ready in the
 *      shared slots; a member waits for its leader's flag, then setpgid(0, pgid).
 *
 * Step 4 comes after every fork, so a member waiting for its leader never holds back the
 * creation of anyone, and no order of the waits can deadlock.
 *
 * Each process reports over a datagram socket whose receiving end has SO_PASSCRED: the kernel
 * attaches the sender's credentials and translates its pid into our namespace, which is how
 * we learn every process's real pid without reading any /proc.
 */
#include "restart/prepare_tree.h"
#include "restart/prepare_tree_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"

#define EXT_ID (-1) /* a session or group that lies outside the saved processes */

int tree_find_pid(const struct tree *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->procs[i].pid == pid)
			return i;
	return -1;
}

/* The session a process must end up in: its own pid, another saved leader's, or EXT_ID. */
static pid_t norm_sid(const struct tree *t, pid_t sid)
{
	int i = tree_find_pid(t, sid);

	return (i >= 0 && t->procs[i].sid == sid) ? sid : EXT_ID;
}

static pid_t norm_pgid(const struct tree *t, pid_t pgid)
{
	return tree_find_pid(t, pgid) >= 0 ? pgid : EXT_ID;
}

/* Session and group a process is born in (before any setsid/setpgid of its own). */
static void birth_ids(const struct tree *t, int i, pid_t *sid, pid_t *pgid)
{
	const struct tree_proc *p = &t->procs[i], *pp;

	if (p->parent < 0) {
		*sid = EXT_ID;
		*pgid = EXT_ID;
		return;
	}
	pp = &t->procs[p->parent];
	if (p->early) {
		birth_ids(t, p->parent, sid, pgid);
		return;
	}
	*sid = norm_sid(t, pp->sid);
	*pgid = norm_pgid(t, pp->pgid);
}

static long read_pid_max(void)
{
	long v = 32768;
	char *buf;

	if (!procfs_read_file("/proc/sys/kernel/pid_max", &buf, NULL)) {
		if (buf[0])
			v = strtol(buf, NULL, 10);
		free(buf);
	}
	return v;
}

int prepare_tree_plan(struct tree *t, char *why, size_t whylen)
{
	long pid_max = read_pid_max();
	int i, j, nmain = 0;
	uint32_t k;

	if (t->n <= 0) {
		snprintf(why, whylen, "no process to restore");
		return -EINVAL;
	}
	for (i = 0; i < t->n; i++) {
		struct tree_proc *p = &t->procs[i];

		if (p->pid <= 0 || p->pid > pid_max) {
			snprintf(why, whylen, "pid %d cannot be had: outside 1..%ld (pid_max)",
				 p->pid, pid_max);
			return -EINVAL;
		}
		for (k = 0; k < p->ntids; k++) {
			if (p->tids[k] <= 0 || p->tids[k] > pid_max || p->tids[k] == p->pid) {
				snprintf(why, whylen, "pid %d: thread id %d cannot be had", p->pid,
					 p->tids[k]);
				return -EINVAL;
			}
		}
		for (j = 0; j < i; j++) {
			const struct tree_proc *q = &t->procs[j];

			if (q->pid == p->pid) {
				snprintf(why, whylen, "pid %d appears in two images", p->pid);
				return -EINVAL;
			}
			for (k = 0; k < q->ntids; k++)
				if (q->tids[k] == p->pid) {
					snprintf(why, whylen, "pid %d is also a thread of pid %d",
						 p->pid, q->pid);
					return -EINVAL;
				}
			for (k = 0; k < p->ntids; k++)
				if (p->tids[k] == q->pid) {
					snprintf(why, whylen, "pid %d is also a thread of pid %d",
						 q->pid, p->pid);
					return -EINVAL;
				}
		}
		p->parent = tree_find_pid(t, p->ppid);
		if (p->parent == i) {
			snprintf(why, whylen, "pid %d is its own parent", p->pid);
			return -EINVAL;
		}
		p->early = 0;
		nmain += p->is_main != 0;
	}
	for (i = 0; i < t->nzombies; i++) {
		const struct tree_zombie *z = &t->zombies[i];

		if (z->parent < 0 || z->parent >= t->n || z->pid <= 0 || z->pid > pid_max ||
		    tree_find_pid(t, z->pid) >= 0) {
			snprintf(why, whylen, "zombie %d cannot be had", z->pid);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (t->zombies[j].pid == z->pid) {
				snprintf(why, whylen, "zombie %d appears twice", z->pid);
				return -EINVAL;
			}
	}
	if (nmain > 1) {
		snprintf(why, whylen, "more than one main process");
		return -EINVAL;
	}
	/* No cycles in the parent links: walking up from anyone must leave the set. */
	for (i = 0; i < t->n; i++) {
		int steps = 0, c = i;

		while (c >= 0 && steps <= t->n) {
			c = t->procs[c].parent;
			steps++;
		}
		if (c >= 0) {
			snprintf(why, whylen, "pid %d: parent links form a cycle", t->procs[i].pid);
			return -EINVAL;
		}
	}
	/* Sessions: a child stays either in the session its parent was born in (forked
	 * before the parent's setsid) or in the parent's final session. */
	for (i = 0; i < t->n; i++) {
		struct tree_proc *p = &t->procs[i];
		pid_t want = norm_sid(t, p->sid), bsid, bpg;

		if (p->sid == p->pid)
			continue; /* setsid() works from anywhere */
		if (p->parent < 0) {
			if (want != EXT_ID) {
				snprintf(why, whylen,
					 "pid %d: in session %d but its parent %d is not restored",
					 p->pid, p->sid, p->ppid);
				return -EINVAL;
			}
			continue;
		}
		if (want == norm_sid(t, t->procs[p->parent].sid))
			continue;
		p->early = 1;
		birth_ids(t, i, &bsid, &bpg);
		if (t->procs[p->parent].sid != t->procs[p->parent].pid || bsid != want) {
			snprintf(why, whylen,
				 "pid %d: session %d cannot be reached from parent %d (session %d)",
				 p->pid, p->sid, p->ppid, t->procs[p->parent].sid);
			return -EINVAL;
		}
	}
	/* Groups: a member of a saved group joins it (same session as its leader); a process
	 * of an outside group must have been born in an outside group. */
	for (i = 0; i < t->n; i++) {
		const struct tree_proc *p = &t->procs[i];
		pid_t g = norm_pgid(t, p->pgid), bsid, bpg;

		if (p->pgid == p->pid || p->sid == p->pid)
			continue;
		if (g == EXT_ID) {
			birth_ids(t, i, &bsid, &bpg);
			if (bpg != EXT_ID) {
				snprintf(why, whylen,
					 "pid %d: process group %d has no leader among the images",
					 p->pid, p->pgid);
				return -EINVAL;
			}
			continue;
		}
		j = tree_find_pid(t, g);
		if (norm_sid(t, t->procs[j].sid) != norm_sid(t, p->sid)) {
			snprintf(why, whylen, "pid %d: group %d belongs to another session", p->pid,
				 p->pgid);
			return -EINVAL;
		}
		if (t->procs[j].pgid != g) {
			snprintf(why, whylen, "pid %d: group %d's leader is in group %d", p->pid, g,
				 t->procs[j].pgid);
			return -EINVAL;
		}
	}
	return 0;
}

static int id_in_use(pid_t id)
{
	char path[32];

	/* /proc/N resolves thread ids too, though it does not list them. */
	procfs_path(path, sizeof(path), id, 0, "");
	return access(path, F_OK) == 0;
}

/* CAP_SYS_ADMIN over our PID namespace: true root of the initial user namespace. */
int tree_may_set_tid_here(void)
{
	unsigned long a, b, c;
	char *map;
	int ok;

	if (geteuid() != 0)
		return 0;
	if (procfs_read(0, 0, "uid_map", &map, NULL))
		return 0;
	/* the first line: the whole uid range mapped to itself */
	ok = sscanf(map, "%lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 && c == 4294967295ul;
	free(map);
	return ok;
}

int prepare_tree_pick_mode(struct tree *t, int force_newns, char *why, size_t whylen)
{
	int i, busy = 0;
	uint32_t k;
	pid_t taken = 0;

	for (i = 0; i < t->nzombies && !busy; i++)
		if (id_in_use(t->zombies[i].pid)) {
			busy = 1;
			taken = t->zombies[i].pid;
		}
	for (i = 0; i < t->n && !busy; i++) {
		if (id_in_use(t->procs[i].pid)) {
			busy = 1;
			taken = t->procs[i].pid;
		}
		for (k = 0; k < t->procs[i].ntids && !busy; k++)
			if (id_in_use(t->procs[i].tids[k])) {
				busy = 1;
				taken = t->procs[i].tids[k];
			}
	}
	if (!force_newns && !busy && tree_may_set_tid_here()) {
		t->mode = TREE_HOST;
		return 0;
	}
	/* In a new namespace everything is free but pid 1, which is the reaper's. */
	for (i = 0; i < t->n; i++) {
		if (t->procs[i].pid == 1) {
			snprintf(why, whylen, "pid 1 cannot be had%s", busy ? "" :
				 " (a new PID namespace is needed and its pid 1 is the reaper)");
			return -EINVAL;
		}
	}
	if (busy)
		pr_info("pid %d is in use here: restoring in a new PID namespace", taken);
	else if (!force_newns)
		pr_info("no privilege to choose pids here: restoring in a new PID namespace");
	t->mode = TREE_NEWNS;
	return 0;
}

