#!/bin/bash
# Aborted checkpoints: a peer that fails at 'checkpoint', and a peer that disconnects in the
# middle of a checkpoint. The others get 'abort' and resume, their temporary images are
# dropped, -bc exits 2 with the reason, no restart script is written (the previous one and
# its symlink stay untouched), and the coordinator goes on serving and checkpointing.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

start_coord
start_fakepeer good -n 2 --image-dir "$T"
wait_for_line "$T/good.out" '^ready$'
run_user "$BIN/dmtcp_command" -bc >/dev/null || fail "first checkpoint failed"
script=$(status_field LAST_CKPT)
[ -x "$script" ] || fail "no first restart script"
sum=$(md5sum <"$script")
link=$(readlink "$T/dmtcp_restart_script.sh")

# 1. Peer 1 of 'bad' reports failure at the checkpoint barrier.
start_fakepeer bad -n 2 --image-dir "$T" --fail-at checkpoint:1 --prog bad
wait_for_line "$T/bad.out" '^ready$'
wait_peers 4
err=$(run_user "$BIN/dmtcp_command" -bc 2>&1); rc=$?
[ $rc = 2 ] || fail "-bc of a failing checkpoint exited $rc: $err"
echo "$err" | grep -q "failed at barrier checkpoint (fakepeer: told to fail here)" ||
	fail "-bc did not give the reason: $err"
grep -q "checkpoint 2 aborted: peer [0-9]* (bad pid [0-9]*) failed at barrier checkpoint" \
	"$T/coord.out" || fail "coordinator did not log the abort"
for f in good bad; do
	for i in 0 1; do
		grep -q "^barrier $i abort 2$" "$T/$f.out" || fail "$f peer $i got no abort"
		grep -q "^done $i abort 2 0$" "$T/$f.out" || fail "$f peer $i did not resume"
		grep -q "^barrier $i commit 2$" "$T/$f.out" && fail "$f peer $i got commit"
	done
done
[ "$(md5sum <"$script")" = "$sum" ] || fail "previous restart script changed"
[ "$(readlink "$T/dmtcp_restart_script.sh")" = "$link" ] || fail "symlink changed"
[ -z "$(find "$T" -name '.ckpt_*tmp')" ] || fail "temporary images left behind"
[ "$(status_field CKPT_COUNT)" = 1 ] || fail "an aborted checkpoint was counted"
[ "$(status_field RUNNING)" = yes ] || fail "computation not running after the abort"

# 2. Peer 0 of 'quitter' disconnects at 'drain'.
kill "$FP_PID"
wait_peers 2
start_fakepeer quitter -n 2 --disconnect-at drain:0 --prog quitter
wait_for_line "$T/quitter.out" '^ready$'
wait_peers 4
err=$(run_user "$BIN/dmtcp_command" -bc 2>&1); rc=$?
[ $rc = 2 ] || fail "-bc with a departing peer exited $rc: $err"
echo "$err" | grep -q "left during barrier drain" || fail "reason: $err"
grep -q "^barrier 1 abort " "$T/quitter.out" || fail "the remaining quitter peer got no abort"
[ "$(md5sum <"$script")" = "$sum" ] || fail "previous restart script changed"
wait_peers 3
[ "$(status_field RUNNING)" = yes ] || fail "computation not running after the abort"

# 3. The coordinator carries on: the next checkpoint of the survivors succeeds.
kill "$FP_PID"
wait_peers 2
run_user "$BIN/dmtcp_command" -bc >/dev/null || fail "checkpoint after the aborts failed"
[ "$(status_field CKPT_COUNT)" = 2 ] || fail "CKPT_COUNT is not 2"
echo PASS
