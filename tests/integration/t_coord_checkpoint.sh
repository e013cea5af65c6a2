#!/bin/bash
# A full checkpoint through every barrier with dmtcp_command -bc: each fake peer sees
# suspend drain checkpoint commit refill resume in order, writes its image under a temporary
# name and renames it at commit; the restart script and its symlink are written and executable
# and name every image. Then a peer that joins in the middle of a checkpoint is brought up to
# date and counted, and a checkpoint asked for by a peer (the dmtcp.h API) runs like 'c'.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

start_coord --status-file "$T/status"
start_fakepeer fp -n 3 --image-dir "$T"
wait_for_line "$T/fp.out" '^ready$'
wait_for_line "$T/status" '^NUM_PEERS=3$'
compid=$(sed -n 's/^welcome 0 [0-9]* //p' "$T/fp.out")

out=$(run_user "$BIN/dmtcp_command" -bc) || fail "-bc failed: $out"
script=$T/dmtcp_restart_script_$compid.sh
echo "$out" | grep -q "checkpoint 1 done: $script" || fail "-bc said: $out"
for i in 0 1 2; do
	seq=$(sed -n "s/^barrier $i \([a-z]*\) 1$/\1/p" "$T/fp.out" | tr '\n' ' ')
	[ "$seq" = "suspend drain checkpoint commit refill resume " ] ||
		fail "peer $i saw barriers: $seq"
	img=$(sed -n "s/^image $i //p" "$T/fp.out")
	[ -f "$img" ] || fail "image of peer $i missing: '$img'"
	grep -qF "'$img'" "$script" || fail "script does not name $img"
done
[ -x "$script" ] || fail "restart script $script missing or not executable"
[ "$(readlink "$T/dmtcp_restart_script.sh")" = "dmtcp_restart_script_$compid.sh" ] ||
	fail "symlink points to '$(readlink "$T/dmtcp_restart_script.sh")'"
bash -n "$script" || fail "restart script has a syntax error"
[ -z "$(find "$T" -name '.*tmp*')" ] || fail "temporary files left: $(find "$T" -name '.*tmp*')"
[ "$(status_field CKPT_COUNT)" = 1 ] || fail "CKPT_COUNT is not 1"
[ "$(status_field LAST_CKPT)" = "$script" ] || fail "LAST_CKPT is not $script"
[ "$(status_field RUNNING)" = yes ] || fail "not running after the checkpoint"
grep -q "checkpoint 1 complete" "$T/coord.out" || fail "coordinator did not log completion"
wait_for_line "$T/status" '^CKPT_COUNT=1$'
grep -q '^RUNNING=yes$' "$T/status" || fail "status file not updated after the checkpoint"

# 'c' answers at once; the checkpoint still completes.
run_user "$BIN/dmtcp_command" -c || fail "-c failed"
wait_ckpt_count 2

# A process that says hello during a checkpoint (the third peer connects when the first is
# at 'drain') gets suspend and drain, and takes part from there on.
start_fakepeer late -n 3 --join-at drain --image-dir "$T" --prog late
wait_for_line "$T/late.out" '^ready$'
wait_peers 5
run_user "$BIN/dmtcp_command" -bc >/dev/null || fail "-bc with a late joiner failed"
wait_for_line "$T/late.out" '^joined 2$'
seq=$(grep -E '^barrier 2 ' "$T/late.out" | awk '{print $3}' | tr '\n' ' ')
[ "$seq" = "suspend drain checkpoint commit refill resume " ] || fail "late joiner saw: $seq"
img=$(sed -n 's/^image 2 //p' "$T/late.out")
[ -f "$img" ] || fail "late joiner's image missing"
grep -qF "'$img'" "$script" || fail "late joiner's image not in the restart script"
wait_peers 6
[ "$(grep -c "^	'/.*\.dmtcp'$" "$script")" = 6 ] || fail "script does not list 6 images"

# The program asks for a checkpoint itself.
n=$(ckpt_count)
start_fakepeer api --ckpt-request
wait_for_line "$T/api.out" '^ckpt-request$'
wait_ckpt_count $((n + 1))
echo PASS
