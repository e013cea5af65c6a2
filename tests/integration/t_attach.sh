#!/bin/bash
# dmtcp_launch --attach: programs started without dmtcp are taken under control while they
# run, then checkpointed, killed and restarted three times, each checking its own state: many
# threads (TLS, registers, a shared mutex), a process tree (every descendant comes along), and
# a program blocked in every kind of wait when it is attached (poll, select, read, recv,
# sigsuspend, waitpid, epoll_wait, condition variables, long sleeps: none may return early or
# with EINTR because of the attach or a checkpoint). The first restarts from the images with
# dmtcp_restart, the others through the restart script.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_ATTACH=1 rs_cycles "$(prog rs_threads)" 300
RS_ATTACH=1 RS_NPROCS=3 rs_cycles "$(prog rs_tree)" 250 3 "$T/dmtcp_restart_script.sh"
RS_ATTACH=1 RS_NPROCS=2 RS_RESUME_FIRST=1 rs_cycles "$(prog rs_block)" 400 3 "$T/dmtcp_restart_script.sh"
grep '^ok waits' "$T/$(basename "$(prog rs_block)").out"
