#!/bin/bash
# dmtcp.h: dmtcp_checkpoint() returns DMTCP_AFTER_CHECKPOINT once the image is written, and
# DMTCP_AFTER_RESTART in the process restarted from that image; DMTCP_NOT_PRESENT outside
# dmtcp. Static and dynamic builds (libdmtcp.a linked into both).
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/restart_lib.bash"

p=$(prog api_ckpt)
b=$(basename "$p")
touch "$T/stop.outside"
out=$(run_user "$p" "$T/stop.outside")
echo "$out" | grep -qx 'enabled 0' || fail "$b outside dmtcp: $out"
echo "$out" | grep -qx 'checkpoint 3' || fail "$b outside dmtcp: dmtcp_checkpoint: $out"
echo "$out" | grep -q '^status ' || fail "$b outside dmtcp: local status accepted: $out"

start_coord
rs_outfile "$b.out"
rs_run launch "$BIN/dmtcp_launch" -j "$p" "$T/stop" >"$T/$b.out"
wait_for_line "$T/$b.out" '^checkpoint ' 30
wait_for_line "$T/$b.out" '^(done|status) ' 30
grep -qx 'checkpoint 1' "$T/$b.out" || fail "$b: $(cat "$T/$b.out")"
grep -qx 'done 1 failed 0' "$T/$b.out" || fail "$b: count after checkpoint: $(cat "$T/$b.out")"
ls "$T"/ckpt_*.dmtcp >/dev/null 2>&1 || fail "$b: no image after dmtcp_checkpoint() returned"

run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
rs_wait_rc launch 137
wait_until 30 _peers_are 0 || fail "peers still at the coordinator after the kill"

rs_run restart "$BIN/dmtcp_restart" -j $(rs_images) >>"$T/$b.out"
wait_for_line "$T/$b.out" '^checkpoint 2$' 30
wait_for_line "$T/$b.out" '^(done|status) ' 30
grep -qx 'done 0 failed 0' "$T/$b.out" || fail "$b: count after restart: $(cat "$T/$b.out")"
touch "$T/stop"
rs_wait_rc restart 0
grep -q FAIL "$T/$b.out" && fail "$b: $(grep FAIL "$T/$b.out")"
[ "$(grep -c '^PASS$' "$T/$b.out")" = 1 ] || fail "$b: $(cat "$T/$b.out")"
wait_until 30 _peers_are 0 || fail "peers still at the coordinator after the end"
log "$b: checkpoint 1, then 2 after restart"
