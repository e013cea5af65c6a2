#!/bin/bash
# Job control under the tracer: kill -STOP / -TSTP stop the program as without dmtcp (and the
# coordinator lists it STOPPED); a checkpoint taken while it is stopped leaves it stopped
# (the counter it writes does not move); kill -CONT lets it go on. Dynamic and static builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
count() { tr -d ' \n' <"$T/count"; }
_is_stopped() { case $(pid_state "$pid") in T | t) return 0 ;; esac; return 1; }
_moved() { [ "$(count)" != "$1" ]; }
_listed_as() { "$BIN/dmtcp_command" -l | grep "\[$pid\]" | grep -q ", $1,"; }
p=$(prog l_stop)
# listed_pid: the pid of the program as dmtcp_command -l lists it ("l_stop[PID]@...").
listed_pid() { "$BIN/dmtcp_command" -l | grep -F "$(basename "$p")[" | sed -n 's/.*\[\([0-9]*\)\]@.*/\1/p'; }

launch_bg stop -j "$p" "$T"
wait_for_line "$T/stop.out" '^READY'
wait_peers 1
pid=$(listed_pid)
[ -n "$pid" ] || fail "$(basename "$p") not listed"

for sig in STOP TSTP; do
	kill -$sig "$pid"
	wait_until 5 _is_stopped || fail "SIG$sig did not stop the program (state $(pid_state "$pid"))"
	wait_until 2 _listed_as STOPPED || { "$BIN/dmtcp_command" -l; fail "not listed as STOPPED after SIG$sig"; }
	c1=$(count)
	for i in 1 2; do
		ckpt "while stopped"
	done
	_is_stopped || fail "the checkpoint woke the SIG$sig-stopped program (state $(pid_state "$pid"))"
	[ "$(count)" = "$c1" ] || fail "the program ran during the stop: count $c1 -> $(count)"
	kill -CONT "$pid"
	wait_until 5 _moved "$c1" || fail "SIGCONT did not let the program go on"
	wait_until 2 _listed_as RUNNING || { "$BIN/dmtcp_command" -l; fail "not listed as RUNNING after SIGCONT"; }
done
touch "$T/stop"
wait_rc stop 0

# SIGTERM and SIGHUP sent to dmtcp_launch reach the program; the shell sees it die of them.
for sig in TERM HUP; do
	rm -f "$T/stop"
	wait_peers 0 5 # the last program's peer gone, so -l shows only the next one
	launch_bg "sig$sig" -j "$p" "$T"
	wait_for_line "$T/sig$sig.out" '^READY'
	pid=$(listed_pid)
	tracer=$(awk '{print $4}' "/proc/$pid/stat")
	launcher=$(awk '{print $4}' "/proc/$tracer/stat")
	grep -q dmtcp_launch "/proc/$launcher/cmdline" || harness_fail "no dmtcp_launch above $pid"
	# dmtcp_launch, the tracer and the program share the caller's session and group.
	ids=$(for q in "$launcher" "$tracer" "$pid"; do ps -o pgid=,sid= -p "$q"; done | sort -u | wc -l)
	[ "$ids" = 1 ] || { ps -o pid,pgid,sid,args -p "$launcher,$tracer,$pid"; fail "process groups or sessions differ"; }
	kill -$sig "$launcher"
	case $sig in TERM) want=143 ;; HUP) want=129 ;; esac
	wait_rc "sig$sig" $want
done
log "stopped programs stay stopped across checkpoints; signals forwarded"
exit 0
