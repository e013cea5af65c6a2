/*
 * Test hooks: ways for the test suite to make a phase take long on purpose, so that tests can
 * watch an operation in progress, or inject a fault at a named phase, without a fixed sleep
 * and without slowing it by real work.
 *
 *   DMTCP_TEST_STEP_DELAY_MS=<step>[#<n>]:<ms>[:<path>]
 *       the step waits ms before it runs; with #n only the nth time this program reaches
 *       the step (commit#2: the second checkpoint's commit). The steps:
 *         tracer, once per process and barrier: "suspend" (the process is stopped, its
 *           answer not sent yet), "drain", "checkpoint", "commit", "refill" (before the
 *           step), "resume" and "abort" (before the threads are let go), "restart" (a
 *           restart's first barrier), "write" (inside the checkpoint step, the temporary
 *           image written but for its end); in a restart's tracer "refill#1" and
 *           "resume#1" are the restart's own, the processes restored and held;
 *         dmtcp_restart, each restored process: "stage" (before it stages its memory; the
 *           count is per process, and the gate file says which pid reached it as the
 *           process sees it: in a new PID namespace, NSpid's last field);
 *         coordinator: "coord-<barrier>" (every answer to the barrier is in, before it acts
 *           on them: coord-commit holds before the restart script is written), and
 *           "coord-challenge" (before it answers a HELLO with its CHALLENGE).
 *       With a path, the hold is a gate a test opens: on reaching the step it creates
 *       <path>.reached (holding its pid: the test now knows exactly where it is, and may
 *       kill something), then waits until <path> exists, or ms have passed.
 *
 * Unset, they cost one getenv at start. Never documented for users.
 */
#ifndef DMTCP_TESTHOOK_H
#define DMTCP_TESTHOOK_H

/* Hold step as DMTCP_TEST_STEP_DELAY_MS says, if it names it. */
void testhook_step_delay(const char *step);

#endif
