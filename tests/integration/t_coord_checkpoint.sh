#!/bin/bash
# A full checkpoint through every barrier with dmtcp_command -bc: each fake peer sees
# suspend drain checkpoint commit refill resume in order, writes its image under a temporary
# name and renames it at commit; the restart script and its symlink are written and executable
# and name every image, the barriers carry the checkpoint's id and number of images. A peer
# that joins in the middle of a checkpoint takes part from the next one (a late child of a
# member aborts it), and a checkpoint asked for by a peer (the dmtcp.h API) runs like 'c'.
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

# Every peer got the checkpoint's id with the checkpoint and commit barriers, and the number
# of images with the commit; the ids of two checkpoints share the coordinator's epoch.
ids=$(sed -n 's/^ckpt-id [0-9] [a-z]* 1 //p' "$T/fp.out" | sort -u)
[ "$(grep -c '^ckpt-id [0-9] \(checkpoint\|commit\) 1 ' "$T/fp.out")" = 6 ] ||
	fail "not every peer got the id at checkpoint and commit: $(grep '^ckpt-id' "$T/fp.out")"
[ "$(echo "$ids" | wc -l)" = 1 ] || fail "checkpoint 1 has several ids: $ids"
id2=$(sed -n 's/^ckpt-id 0 checkpoint 2 //p' "$T/fp.out")
[ "${ids:0:8}" = "${id2:0:8}" ] && [ "$ids" != "$id2" ] || fail "checkpoint ids $ids, $id2"
[ "$(sed -n 's/^num-images [0-9] commit 1 //p' "$T/fp.out" | sort -u)" = 3 ] ||
	fail "commit did not say 3 images: $(grep '^num-images' "$T/fp.out")"

# A process that says hello once the others are stopped (the third peer connects when the
# first is at 'drain') was not part of the computation when it stopped: it gets no barrier
# of this checkpoint and takes part from the next one on.
start_fakepeer late -n 3 --join-at drain --image-dir "$T" --prog late
wait_for_line "$T/late.out" '^ready$'
wait_peers 5
run_user "$BIN/dmtcp_command" -bc >/dev/null || fail "-bc with a late joiner failed"
wait_for_line "$T/late.out" '^joined 2$'
n=$(ckpt_count)
grep -q '^barrier 2 ' "$T/late.out" && fail "late joiner took part: $(grep '^barrier 2 ' "$T/late.out")"
grep -q "joined during checkpoint $n (at barrier [a-z]*); it takes part from the next" \
	"$T/coord.out" || fail "coordinator did not log the late joiner"
wait_peers 6
[ "$(grep -c "^	'/.*\.dmtcp'$" "$script")" = 5 ] || fail "script does not list 5 images"
[ "$(sed -n "s/^num-images 0 commit $n //p" "$T/late.out")" = 5 ] ||
	fail "commit of checkpoint $n did not say 5 images"
run_user "$BIN/dmtcp_command" -bc >/dev/null || fail "-bc after the late joiner failed"
seq=$(grep -E "^barrier 2 [a-z]+ $((n + 1))\$" "$T/late.out" | awk '{print $3}' | tr '\n' ' ')
[ "$seq" = "suspend drain checkpoint commit refill resume " ] || fail "late joiner saw: $seq"
img=$(sed -n 's/^image 2 //p' "$T/late.out")
[ -f "$img" ] || fail "late joiner's image missing"
grep -qF "'$img'" "$script" || fail "late joiner's image not in the restart script"
[ "$(grep -c "^	'/.*\.dmtcp'$" "$script")" = 6 ] || fail "script does not list 6 images"

# A late child of a process being checkpointed means its state was not stopped with its
# parent's (a tracer announces every child before its suspend answer): the checkpoint is
# abandoned, not written without it.
start_fakepeer child -n 2 --join-at drain --late-child --image-dir "$T" --prog child
wait_for_line "$T/child.out" '^ready$'
wait_peers 7
out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) && fail "-bc with a late child succeeded: $out"
echo "$out" | grep -q "a child of peer .* was announced after the processes were stopped" ||
	fail "-bc said: $out"
wait_peers 8
run_user "$BIN/dmtcp_command" -bc >/dev/null || fail "-bc after the aborted one failed"

# The program asks for a checkpoint itself.
n=$(ckpt_count)
start_fakepeer api --ckpt-request
wait_for_line "$T/api.out" '^ckpt-request$'
wait_ckpt_count $((n + 1))
echo PASS
