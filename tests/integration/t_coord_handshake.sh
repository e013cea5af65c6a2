#!/bin/bash
# A slow handshake: the coordinator waits before it answers each HELLO with its CHALLENGE
# (testhook "coord-challenge"), so the tracer has things to say before it is authenticated: the
# program's dmtcp_checkpoint() at once, its state after exec. Those wait for the AUTH and
# follow it; the coordinator never sees a message before AUTH, and the checkpoint is taken.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/restart_lib.bash"

p=$(prog api_ckpt)
b=$(basename "$p")
DMTCP_TEST_STEP_DELAY_MS=coord-challenge:400 start_coord
rs_outfile "$b.out"
rs_run launch "$BIN/dmtcp_launch" -j "$p" "$T/stop" >"$T/$b.out"
wait_for_line "$T/$b.out" '^checkpoint ' 30
grep -q 'before AUTH' "$T/coord.out" && fail "coordinator: $(grep 'before AUTH' "$T/coord.out")"
grep -qx 'checkpoint 1' "$T/$b.out" || fail "$b: $(cat "$T/$b.out"; cat "$T/launch.err")"
ls "$T"/ckpt_*.dmtcp >/dev/null 2>&1 || fail "$b: no image after dmtcp_checkpoint() returned"
touch "$T/stop"
rs_wait_rc launch 0
grep -q FAIL "$T/$b.out" && fail "$b: $(grep FAIL "$T/$b.out")"
grep -q 'lost the connection' "$T/launch.err" && fail "launch: $(cat "$T/launch.err")"
log "$b: checkpoint requested before authentication taken"
