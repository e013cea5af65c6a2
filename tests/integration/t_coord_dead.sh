#!/bin/bash
# A computation never hangs on a dead coordinator. The coordinator is killed (SIGKILL) while a
# checkpoint holds the program stopped: the tracer abandons that checkpoint on its own (no
# temporary image left, the previous image untouched) and lets the program run on; the
# dmtcp_command waiting for the checkpoint fails with a message. A coordinator started again on
# the same port has the computation back (the tracer keeps looking for it), and checkpoints
# work again.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

P=$(prog rs_counter)
OUT=$T/prog.out

start_coord
rs_outfile prog.out
# every checkpoint step waits 1.5 s first: time to kill the coordinator in the middle
DMTCP_TEST_STEP_DELAY_MS=checkpoint:1500 rs_run launch "$BIN/dmtcp_launch" -j "$P" \
	"$T/ready" 1000000 >"$OUT"
wait_for_file "$T/ready"
pid=$(head -n 1 "$T/ready")
rs_wait_count "$OUT" 3

# a good checkpoint first: its image must survive the failed one
run_user "$BIN/dmtcp_command" -bc >"$T/bc1.out" 2>&1 || { cat "$T/bc1.out"; fail "first checkpoint failed"; }
img=$(rs_images)
[ -s "$img" ] || fail "no image after the first checkpoint"
sum1=$(sha256sum <"$img")

# the second: kill the coordinator once the program is held for it
( run_user "$BIN/dmtcp_command" -bc >"$T/bc2.out" 2>&1; echo $? >"$T/bc2.rc" ) &
track $!
held() { [ "$(pid_state "$pid")" = t ]; }
pid_state() { sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null; }
wait_until 20 held || fail "the program was never stopped for the second checkpoint"
kill -KILL "$COORD_PID"
wait "$COORD_PID" 2>/dev/null
log "coordinator killed during checkpoint 2"

# the program runs on, within the step's delay and a little more
at=$(rs_last_count "$OUT")
rs_wait_count "$OUT" "$at" 20
wait_until 20 test -s "$T/bc2.rc" || fail "dmtcp_command -bc did not return after the coordinator died"
[ "$(cat "$T/bc2.rc")" != 0 ] || fail "dmtcp_command -bc succeeded without a coordinator"
[ -s "$T/bc2.out" ] || fail "dmtcp_command -bc failed without a word"
wait_for_line "$T/launch.err" 'checkpoint abandoned: no coordinator'
ls -a "$T" | grep -q '\.tmp\.' && { ls -la "$T"; fail "a temporary image was left behind"; }
[ "$(sha256sum <"$img")" = "$sum1" ] || fail "the previous image was changed"
log "program running again, previous image intact"

# a coordinator on the same port: the tracer finds it, checkpoints work again
old_port=$COORD_PORT
start_coord --port "$old_port"
[ "$COORD_PORT" = "$old_port" ] || fail "the new coordinator took port $COORD_PORT, not $old_port"
wait_peers 1 30
run_user "$BIN/dmtcp_command" -bc >"$T/bc3.out" 2>&1 || { cat "$T/bc3.out"; fail "checkpoint with the new coordinator failed"; }
grep -q 'FAIL' "$OUT" && fail "the program found its state wrong: $(grep FAIL "$OUT")"
rs_checkpoint_kill launch
log "checkpointed again with a new coordinator"
