/*
 * Collecting signal state that the kernel shows from outside: the ignored/caught masks of
 * /proc/PID/status, the shared pending queue (PTRACE_PEEKSIGINFO_SHARED through a held
 * thread) and the POSIX timers listed in /proc/PID/timers. Handler addresses, SA_* flags,
 * itimer and timer values can only be read from inside the process; until the parasite
 * supplies them act_source/timer_source say CKPT_SIGSRC_PROC so that nobody mistakes the
 * partial data for exact data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "log.h"
#include "procfs.h"

/* Parses the "ID: n / signal: s/... / notify: how/pid.n / ClockID: c" blocks of
 * /proc/PID/timers. */
static int parse_timers(const char *buf, struct ckpt_signals *s)
{
	const char *l = buf;
	uint32_t cap = 0;

	while ((l = strstr(l, "ID: "))) {
		struct ckpt_posix_timer *pt, *nt;
		const char *sig, *notify, *clk;

		if (s->ntimers == cap) {
			cap = cap ? cap * 2 : 4;
			nt = realloc(s->timers, cap * sizeof(*nt));
			if (!nt)
				return -ENOMEM;
			s->timers = nt;
		}
		pt = &s->timers[s->ntimers];
		memset(pt, 0, sizeof(*pt));
		pt->id = (int32_t)strtol(l + 4, NULL, 10);
		sig = strstr(l, "signal: ");
		notify = strstr(l, "notify: ");
		clk = strstr(l, "ClockID: ");
		if (!sig || !notify || !clk)
			return -EIO;
		pt->signo = (int32_t)strtol(sig + 8, NULL, 10);
		pt->sigval = strtoull(strchr(sig, '/') ? strchr(sig, '/') + 1 : sig, NULL, 16);
		notify += 8;
		/* "signal", "thread", "none"; "/pid.N" or "/tid.N" after it */
		if (!strncmp(notify, "none", 4))
			pt->notify = 1; /* SIGEV_NONE */
		else if (!strncmp(notify, "thread", 6))
			pt->notify = 2; /* SIGEV_THREAD: glibc's helper thread, seen as a signal */
		else
			pt->notify = 0; /* SIGEV_SIGNAL */
		if (strstr(notify, "/tid.") && strstr(notify, "/tid.") < clk) {
			pt->notify = 4; /* SIGEV_THREAD_ID */
			pt->notify_tid = (int32_t)strtol(strstr(notify, "/tid.") + 5, NULL, 10);
		}
		pt->clock = (int32_t)strtol(clk + 9, NULL, 10);
		s->ntimers++;
		l = clk + 9; /* past "ClockID: ", which itself contains "ID: " */
	}
	return 0;
}

int collect_signals(pid_t pid, pid_t any_tid, struct ckpt_signals **sp)
{
	struct ckpt_signals *s;
	char path[64], *buf;
	int rc, i;

	*sp = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*sp = s;
	rc = procfs_read(pid, 0, "status", &buf, NULL);
	if (rc)
		return rc;
	s->sig_ignored = procfs_status_hex(buf, "SigIgn");
	s->sig_caught = procfs_status_hex(buf, "SigCgt");
	free(buf);
	s->act_source = CKPT_SIGSRC_PROC;
	for (i = 0; i < CKPT_NSIG; i++) {
		if (s->sig_ignored & (1ull << i))
			s->act[i].handler = 1; /* SIG_IGN */
	}

	rc = collect_shared_pending(any_tid, &s->pending, &s->npending);
	if (rc) {
		if (rc != -ESRCH)
			pr_err("pid %d: PTRACE_PEEKSIGINFO_SHARED: %s", pid, strerror(-rc));
		return rc;
	}

	/* Read by path: a missing file here is a kernel without CONFIG_POSIX_TIMERS or
	 * CHECKPOINT_RESTORE, not a process that is gone. */
	procfs_path(path, sizeof(path), pid, 0, "timers");
	rc = procfs_read_file(path, &buf, NULL);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	rc = parse_timers(buf, s);
	free(buf);
	if (rc) {
		pr_err("pid %d: cannot parse /proc/%d/timers", pid, pid);
		return rc;
	}
	s->timer_source = CKPT_SIGSRC_PROC;
	return 0;
}
