/*
 * The one monotonic clock of the libc-side code: timeouts, deadlines, delays and the
 * durations the logs print. CLOCK_MONOTONIC, never the wall clock: a change of the system
 * time must not fire a timeout or stretch a grace period.
 */
#ifndef DMTCP_CLOCK_H
#define DMTCP_CLOCK_H

/* Microseconds and milliseconds since an arbitrary fixed point (boot). */
long mono_now_us(void);
long mono_now_ms(void);

#endif
