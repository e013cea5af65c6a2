/*
 * Test hooks (see testhook.h).
 */
#include "testhook.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define GATE_POLL_MS 10

static struct {
	int read;
	char step[32];
	long ms;
	long nth;  /* 0: every time; else only the nth time the step is reached */
	long seen; /* times reached */
	char gate[PATH_MAX]; /* "": a plain delay */
} delay;

static void bad_value(const char *v)
{
	pr_warn("DMTCP_TEST_STEP_DELAY_MS=%s: not <step>[#<n>]:<milliseconds>[:<path>]; ignored",
		v);
}

static void read_delay(void)
{
	const char *v = getenv("DMTCP_TEST_STEP_DELAY_MS"), *colon;
	char *end, *hash;
	long ms;

	delay.read = 1;
	if (!v || !*v)
		return;
	colon = strchr(v, ':');
	ms = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(delay.step) ||
	    (*end && *end != ':') || ms <= 0 || ms > 600000) {
		bad_value(v);
		return;
	}
	if (*end == ':') {
		if (end[1] != '/' || strlen(end + 1) >= sizeof(delay.gate) - 16) {
			bad_value(v);
			return;
		}
		snprintf(delay.gate, sizeof(delay.gate), "%s", end + 1);
	}
	snprintf(delay.step, sizeof(delay.step), "%.*s", (int)(colon - v), v);
	hash = strchr(delay.step, '#');
	if (hash) {
		*hash = '\0';
		delay.nth = strtol(hash + 1, &end, 10);
		if (hash == delay.step || *end || delay.nth <= 0) {
			bad_value(v);
			return;
		}
	}
	delay.ms = ms;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Say where we are (<gate>.reached, written whole under a temporary name), then wait for
 * the gate to be opened, bounded by the delay. */
static void hold_at_gate(void)
{
	char reached[PATH_MAX + 16], tmp[PATH_MAX + 48];
	long until = mono_now_ms() + delay.ms;
	int fd, n;

	snprintf(reached, sizeof(reached), "%s.reached", delay.gate);
	snprintf(tmp, sizeof(tmp), "%s.%d", reached, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd >= 0) {
		char line[32];
		int ok;

		n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
		ok = write(fd, line, n) == n;
		if (close(fd) < 0 || !ok || rename(tmp, reached) < 0)
			unlink(tmp);
	} else {
		pr_warn("test hook: cannot create %s: %s", tmp, strerror(errno));
	}
	while (access(delay.gate, F_OK) < 0 && mono_now_ms() < until)
		nap_ms(GATE_POLL_MS);
}

void testhook_step_delay(const char *step)
{
	if (!delay.read)
		read_delay();
	if (!delay.ms || strcmp(delay.step, step))
		return;
	if (delay.nth && ++delay.seen != delay.nth)
		return;
	if (delay.gate[0])
		hold_at_gate();
	else
		nap_ms(delay.ms);
}
