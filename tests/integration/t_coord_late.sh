#!/bin/bash
# The coordinator's status says why a checkpoint waits: a process held in vfork() (which the
# kernel lets no one stop until its child execs) cannot answer the suspend; after a second
# its tracer says why ("waits for its vfork child N to exec or exit"), the status's WAITING
# line shows it for that process (and for the child, that it runs on until it execs), and the checkpoint completes once the child execs.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"
. "$TOP/tests/tools/coordlib.sh"

start_coord
b=$(basename "$(prog l_vfork)")
d=$T/$b
mkdir -m 777 "$d"
launch_bg "$b" -j "$(prog l_vfork)" "$d"
wait_for_line "$T/$b.out" '^READY'
touch "$d/vfork"
wait_for_file "$d/in-vfork"
wait_peers 2
run_user "$BIN/dmtcp_command" -c >/dev/null || fail "dmtcp_command -c failed"
_says_vfork() {
	run_user "$BIN/dmtcp_command" -s 2>/dev/null | grep -qE \
		"^WAITING=checkpoint 1 at barrier suspend: waiting for [12] of 2 processes: (.* )?l_vfork[^ ]*\[[0-9]+\]@[^ ]+ \(waits for its vfork child [0-9]+ to exec or exit\)" &&
	run_user "$BIN/dmtcp_command" -s 2>/dev/null | grep -qE \
		"^WAITING=.*l_vfork[^ ]*\[[0-9]+\]@[^ ]+ \(a vfork child: runs on until it execs or exits"
}
wait_until 30 _says_vfork || fail "status: $(run_user "$BIN/dmtcp_command" -s 2>&1 | grep -E 'WAITING|COORD_STATE')"
log "the status says: $(run_user "$BIN/dmtcp_command" -s | sed -n 's/^WAITING=//p')"
touch "$d/go"
wait_ckpt_count 1 30
wait_for_line "$T/$b.out" '^vfork done$'
touch "$d/stop"
wait_rc "$b" 0
grep -q '^PASS$' "$T/$b.out" || fail "$b: $(cat "$T/$b.out")"
exit 0
