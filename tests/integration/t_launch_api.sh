#!/bin/bash
# The dmtcp.h API's virtual syscall and dmtcp_nocheckpoint.
#  - outside dmtcp the kernel answers -ENOSYS (the program runs anywhere);
#  - under dmtcp_launch: IS_ENABLED answers 1, an unknown op -EINVAL, CHECKPOINT asks the
#    coordinator for a checkpoint, which then happens;
#  - dmtcp_nocheckpoint runs its command outside control: not a peer, API says disabled,
#    its children not peers either, checkpoints of the rest still work.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

api=$(prog l_api)
tree=$(prog l_tree)
out=$(run_user "$api" enabled)
[ "$out" = "enabled -38" ] || fail "outside dmtcp: '$out', expected 'enabled -38' (-ENOSYS)"
start_coord
out=$(run_user "$BIN/dmtcp_launch" -j "$api" enabled)
[ "$out" = "enabled 1" ] || fail "$BUILD l_api under dmtcp: '$out', expected 'enabled 1'"
out=$(run_user "$BIN/dmtcp_launch" -j "$api" bogus)
[ "$out" = "bogus -22" ] || fail "$BUILD l_api: unknown op gave '$out', expected -EINVAL (-22)"
before=$(status_field CKPT_COUNT)
out=$(run_user "$BIN/dmtcp_launch" -j "$api" checkpoint)
[ "$out" = "checkpoint 0" ] || fail "checkpoint request answered '$out'"
_ckpt_more() { [ "$(status_field CKPT_COUNT)" -gt "$before" ]; }
# The program may be gone before the checkpoint runs: ask again with one that stays.
mkdir -m 777 "$T/s"
launch_bg stay -j sh -c "'$api' checkpoint && exec '$tree' --child '$T/s' 0"
wait_for_file "$T/s/child.0.ready"
wait_until 10 _ckpt_more || fail "the API's checkpoint request led to no checkpoint"
touch "$T/s/stop.all"
wait_rc stay 0
grep -q '^checkpoint 0$' "$T/stay.out" || fail "checkpoint request not answered 0"

# dmtcp_nocheckpoint
out=$(run_user "$BIN/dmtcp_launch" -j "$BIN/dmtcp_nocheckpoint" "$api" enabled)
[ "$out" = "enabled 0" ] || fail "under dmtcp_nocheckpoint the API says '$out', expected 'enabled 0'"
out=$(run_user "$BIN/dmtcp_nocheckpoint" "$api" enabled)
[ "$out" = "enabled -38" ] || fail "dmtcp_nocheckpoint outside dmtcp: '$out'"
mkdir -m 777 "$T/n"
launch_bg nock -j sh -c "'$BIN/dmtcp_nocheckpoint' '$tree' '$T/n' 2 & '$tree' --child '$T/n' x; wait"
wait_for_file "$T/n/child.x.ready"
wait_for_file "$T/n/child.0.ready"
wait_for_file "$T/n/child.1.ready"
# sh and l_tree --child x are peers; the nocheckpoint l_tree and its two children are not.
wait_until 1 _peers_are 2 || { "$BIN/dmtcp_command" -l; fail "expected 2 peers, have $(status_field NUM_PEERS)"; }
ckpt "with a nocheckpoint subtree"
touch "$T/n/stop.all"
wait_rc nock 0
log "API syscall and dmtcp_nocheckpoint as specified"
exit 0
