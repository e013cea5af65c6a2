#!/bin/bash
# Blocking calls cut short by checkpoints, after a resume and after a restart: rs_block has a
# thread waiting in each of poll (with and without a timeout), ppoll, select, read, write into
# a full pipe, recv, sigsuspend, waitpid (for a child waiting in read), epoll_wait,
# pthread_cond_wait, pthread_cond_timedwait, an hour's nanosleep and an absolute
# clock_nanosleep, and threads looping on short nanosleeps (with and without a remainder) and
# poll timeouts. Each of three cycles checkpoints twice, the process running on after the
# first (so the second finds calls the kernel resumed through restart_syscall), then kills and
# restarts it. At the end the program releases the waits and checks that every call returned
# its normal result: no EINTR, no early return, sigsuspend's mask back, the hour-long sleeps
# still asleep.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_NPROCS=2 RS_RESUME_FIRST=1 rs_cycles "$(prog rs_block)" 400
grep '^ok waits' "$T/$(basename "$(prog rs_block)").out"
