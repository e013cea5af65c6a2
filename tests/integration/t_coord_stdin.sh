#!/bin/bash
# Commands typed on the coordinator's standard input: s l c i N ? unknown, an argument where
# none is taken, and end of input, which is not a quit.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

start_coord
coord_type s
wait_for_line "$T/coord.out" '^NUM_PEERS=0$'
grep -q '^RUNNING=no$' "$T/coord.out" || fail "no RUNNING=no"
coord_type "?"
wait_for_line "$T/coord.out" '^Commands: l \(list\)'
coord_type frobnicate
wait_for_line "$T/coord.out" "^unknown command 'frobnicate' \(type '\?' for help\)$"
coord_type "s now"
wait_for_line "$T/coord.out" "^command 's' takes no argument"
coord_type c
wait_for_line "$T/coord.out" '^c: no processes to checkpoint$'

start_fakepeer fp -n 2 --prog typed
wait_for_line "$T/fp.out" '^ready$'
coord_type l
wait_for_line "$T/coord.out" '^2, typed\[[0-9]+\]@'
coord_type s
wait_for_line "$T/coord.out" '^NUM_PEERS=2$'
coord_type c
wait_for_line "$T/coord.out" '^checkpoint 1 started$'
wait_ckpt_count 1
# These fake peers write no image: the script says so instead of running nothing.
err=$(DMTCP_RESTART_CMD=/bin/false "$T/dmtcp_restart_script.sh" 2>&1); rc=$?
[ $rc = 1 ] || fail "script without images exited $rc"
echo "$err" | grep -q "this checkpoint has no images" || fail "script without images said: $err"
coord_type "i"
wait_for_line "$T/coord.out" "^i needs an interval in seconds"
coord_type "i 3600"
wait_for_line "$T/coord.out" '^checkpoint interval: 3600 s$'
"$BIN/dmtcp_command" -s | grep -q "Checkpoint Interval: 3600$" || fail "i 3600 not applied"

# End of input: close the only writer of the fifo. The coordinator says so and serves on.
exec 8>&-
wait_for_line "$T/coord.out" 'end of standard input; still serving'
coord_alive || fail "coordinator quit at end of input"
[ "$(status_field NUM_PEERS)" = 2 ] || fail "peers lost at end of input"
grep -q '^kill' "$T/fp.out" && fail "peers killed at end of input"

# SIGINT is a quit.
kill -INT "$COORD_PID"
wait_exit "$COORD_PID" 10 || fail "SIGINT did not quit"
wait_for_line "$T/fp.out" '^all-closed$'
echo PASS
