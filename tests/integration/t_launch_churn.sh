#!/bin/bash
# Checkpoints while processes and threads are born and die without pause (fork and clone
# racing with PTRACE_INTERRUPT): no checkpoint hangs, newborns held during a suspend are let
# go, and the program sees every fork, exec, wait and join succeed.
#
# Every checkpoint must complete, 100 of them: a child that exits just as a checkpoint starts
# stays a ghost that answers the barriers (barriers.h), and a child forked just before the
# stop is announced to the coordinator before any process answers the suspend, so the set
# the coordinator closes is the whole tree (none joins late, none leaves mid-checkpoint).
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
ok=0
for i in $(seq 100); do
	timeout 30 "$BIN/dmtcp_command" -bc >"$T/bc.out" 2>&1 || {
		cat "$T/bc.out"
		"$BIN/dmtcp_command" -s 2>&1 | grep -E 'WAITING|LAST_ERROR|COORD_STATE'
		tail -n 5 "$T/coord.out"
		ps -o pid,ppid,stat,wchan:24,cmd --ppid "$(cat "$T/$b.lpid")" 2>/dev/null
		fail "$b: checkpoint $i failed or hung (after $ok completed)"
	}
	ok=$((ok + 1))
done
log "$b: $ok of 100 checkpoints completed"
touch "$d/stop"
wait_rc "$b" 0
grep -q '^PASS$' "$T/$b.out" || { grep -v written "$T/$b.out"; fail "$b saw a failure"; }
wait_until 2 _peers_are 0 || fail "$b: $(status_field NUM_PEERS) peers left behind"
log "checkpoints amid fork/clone churn"
exit 0
