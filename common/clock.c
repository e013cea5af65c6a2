/*
 * The monotonic clock (see clock.h).
 */
#include "clock.h"

#include <time.h>

long mono_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

long mono_now_ms(void)
{
	return mono_now_us() / 1000;
}
