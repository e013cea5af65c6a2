#!/bin/bash
# The usual sequence "dmtcp_command -k, then restart at once": the killed computation's peers
# may still be at the coordinator for a moment; dmtcp_restart waits for them to leave (bounded)
# instead of being refused. A different computation running at the coordinator is refused at
# once with a message that says so, and DMTCP_FAIL_RC.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_outfile c.out
rs_run launch "$BIN/dmtcp_launch" -j "$PROGS/rs_counter" "$T/ready" 250 >"$T/c.out"
wait_for_file "$T/ready"
rs_wait_count "$T/c.out" 3
mkdir -m 777 "$T/img"
out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || fail "checkpoint failed: $out"
mv "$T"/ckpt_*.dmtcp "$T/img/"

# Kill, and restart at once: no wait for the peers to leave.
run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
killed_at=$(rs_last_count "$T/c.out")
rs_run restart "$BIN/dmtcp_restart" -j "$T"/img/ckpt_*.dmtcp >"$T/c.out"
rs_wait_running 1
rs_wait_count "$T/c.out" "$killed_at"
rs_wait_rc launch 137
rs_wait_rc restart 0 60
grep -q "^PASS" "$T/c.out" || fail "no PASS: $(tail -n 3 "$T/c.out")"
grep -q "refused" "$T/restart.err" && fail "refused: $(cat "$T/restart.err")"
wait_peers 0
log "restart right after -k ran on from count $killed_at"

# Another computation at the coordinator: refused at once, by name.
mkdir -m 777 "$T/s"
rs_run other "$BIN/dmtcp_launch" -j "$PROGS/l_tree" --child "$T/s" x
wait_for_file "$T/s/child.x.ready"
wait_peers 1
start=$SECONDS
out=$(run_user "$BIN/dmtcp_restart" -j "$T"/img/ckpt_*.dmtcp 2>&1); rc=$?
[ $rc = 99 ] || fail "restart next to another computation: exit $rc ($out)"
echo "$out" | grep -q "runs computation .* cannot also restart" || fail "message: $out"
[ $((SECONDS - start)) -lt 8 ] || fail "refusing took $((SECONDS - start)) s"
touch "$T/s/stop.x"
rs_wait_rc other 0
