#!/bin/bash
# Interval checkpoints: set with -i 1 on the command line, with DMTCP_CHECKPOINT_INTERVAL,
# and changed at run time with dmtcp_command -i (0 turns them off).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

start_coord -i 1
start_fakepeer fp -n 2
wait_for_line "$T/fp.out" '^ready$'
"$BIN/dmtcp_command" -s | grep -q "Checkpoint Interval: 1$" || fail "interval not shown as 1"
wait_ckpt_count 2 15
"$BIN/dmtcp_command" --json -s | grep -q '"checkpoint_interval":1,' || fail "json interval"

# Off at run time: the status says so.
"$BIN/dmtcp_command" -i 0 || fail "-i 0 failed"
"$BIN/dmtcp_command" -s | grep -q "Checkpoint Interval: disabled" || fail "interval not off"
"$BIN/dmtcp_command" -q
wait_exit "$COORD_PID" 10 || fail "coordinator did not quit"

# From the environment.
DMTCP_CHECKPOINT_INTERVAL=1 start_coord
start_fakepeer fp2 -n 1
wait_for_line "$T/fp2.out" '^ready$'
"$BIN/dmtcp_command" -s | grep -q "Checkpoint Interval: 1$" || fail "env interval not used"
wait_ckpt_count 1 15

# Turned on at run time on a coordinator started without one.
"$BIN/dmtcp_command" -q
wait_exit "$COORD_PID" 10 || fail "coordinator did not quit"
start_coord
start_fakepeer fp3 -n 1
wait_for_line "$T/fp3.out" '^ready$'
"$BIN/dmtcp_command" -i 1 || fail "-i 1 failed"
wait_ckpt_count 1 15
# Every peer took part in it.
grep -q '^done 0 resume 1 0$' "$T/fp3.out" || fail "peer did not go through the interval checkpoint"

# Asked for by a process in its hello (dmtcp_launch -i, dmtcp_restart -i).
"$BIN/dmtcp_command" -q
wait_exit "$COORD_PID" 10 || fail "coordinator did not quit"
start_coord
start_fakepeer fp4 -n 1 --interval 1
wait_for_line "$T/fp4.out" '^ready$'
"$BIN/dmtcp_command" -s | grep -q "Checkpoint Interval: 1$" || fail "hello interval not applied"
wait_ckpt_count 1 15
echo PASS
