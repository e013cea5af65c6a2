/*
 * Test hooks: ways for the test suite to make a phase take long on purpose, so that tests can
 * watch an operation in progress without a fixed sleep and without slowing it by real work.
 *
 *   DMTCP_TEST_STEP_DELAY_MS=<step>[#<n>]:<ms>   the step waits ms before it runs: a
 *       checkpoint barrier's step in the tracer ("checkpoint", "commit", ...), once per
 *       process per generation, or "stage", each restored process before it stages its
 *       memory, or "challenge", the coordinator before it answers a HELLO with its CHALLENGE;
 *       with #n only the nth time this program reaches the step (commit#2: the
 *       second checkpoint's commit)
 *
 * Unset, they cost one getenv at start. Never documented for users.
 */
#ifndef DMTCP_TESTHOOK_H
#define DMTCP_TESTHOOK_H

/* Wait the delay DMTCP_TEST_STEP_DELAY_MS gives step, if it names it. */
void testhook_step_delay(const char *step);

#endif
