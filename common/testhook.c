/*
 * Test hooks (see testhook.h).
 */
#include "testhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static struct {
	int read;
	char step[32];
	long ms;
	long nth;  /* 0: every time; else only the nth time the step is reached */
	long seen; /* times reached */
} delay;

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
	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(delay.step) || *end || ms <= 0 ||
	    ms > 600000) {
		pr_warn("DMTCP_TEST_STEP_DELAY_MS=%s: not <step>[#<n>]:<milliseconds>; ignored", v);
		return;
	}
	snprintf(delay.step, sizeof(delay.step), "%.*s", (int)(colon - v), v);
	hash = strchr(delay.step, '#');
	if (hash) {
		*hash = '\0';
		delay.nth = strtol(hash + 1, &end, 10);
		if (hash == delay.step || *end || delay.nth <= 0) {
			pr_warn("DMTCP_TEST_STEP_DELAY_MS=%s: not <step>[#<n>]:<milliseconds>; "
				"ignored", v);
			return;
		}
	}
	delay.ms = ms;
}

void testhook_step_delay(const char *step)
{
	struct timespec ts;

	if (!delay.read)
		read_delay();
	if (!delay.ms || strcmp(delay.step, step))
		return;
	if (delay.nth && ++delay.seen != delay.nth)
		return;
	ts.tv_sec = delay.ms / 1000;
	ts.tv_nsec = (delay.ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
