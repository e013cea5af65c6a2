#!/bin/bash
# Checkpoints while processes and threads are born and die without pause (fork and clone
# racing with PTRACE_INTERRUPT): no checkpoint hangs, newborns held during a suspend are let
# go, and the program sees every fork, exec, wait and join succeed.
#
# A child that exits on its own just as a checkpoint starts would leave during the barrier,
# which makes the coordinator abort that checkpoint (its policy); the tracer keeps such a
# peer as a ghost that answers the barriers, so aborts should be rare: at most 2 of 8 are
# allowed here, and any other failure fails the test.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
b=$(basename "$(prog l_churn)")
d=$T/$b
mkdir -m 777 "$d"
launch_bg "$b" -j "$(prog l_churn)" "$d"
wait_for_line "$T/$b.out" '^READY'
ok=0 aborted=0
for i in $(seq 8); do
	if timeout 30 "$BIN/dmtcp_command" -bc >"$T/bc.out" 2>&1; then
		ok=$((ok + 1))
	elif grep -q 'left during barrier' "$T/bc.out"; then
		aborted=$((aborted + 1))
	else
		cat "$T/bc.out"
		fail "$b: checkpoint $i failed or hung"
	fi
done
log "$b: $ok checkpoints completed, $aborted aborted by an exit during the barrier"
[ $ok -ge 6 ] || fail "$b: only $ok of 8 checkpoints completed"
touch "$d/stop"
wait_rc "$b" 0
grep -q '^PASS$' "$T/$b.out" || { grep -v written "$T/$b.out"; fail "$b saw a failure"; }
wait_until 2 _peers_are 0 || fail "$b: $(status_field NUM_PEERS) peers left behind"
log "checkpoints amid fork/clone churn"
exit 0
