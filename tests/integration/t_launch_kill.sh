#!/bin/bash
# The tracer killed by SIGKILL takes the traced programs with it (PTRACE_O_EXITKILL): none is
# left running or stopped; dmtcp_launch reports that the tracer vanished.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
launch_bg tree -j "$PROGS/l_tree" "$T" 3
wait_for_line "$T/tree.out" '^READY'
wait_peers 4
pids=$("$BIN/dmtcp_command" -l | sed -n 's/.*l_tree\[\([0-9]*\)\].*/\1/p')
root=$(sed -n 's/^READY //p' "$T/tree.out")
tracer=$(awk '{print $4}' "/proc/$root/stat")
[ -n "$tracer" ] && [ "$tracer" -gt 1 ] || harness_fail "no tracer pid for $root"
grep -q dmtcp_launch "/proc/$tracer/cmdline" 2>/dev/null || harness_fail "parent $tracer of $root is not the tracer"
# Stop one child first: it must not be left behind stopped either.
kill -STOP "$(echo "$pids" | grep -v "^$root\$" | head -n 1)"
kill -KILL "$tracer"
_dead() { local s; s=$(pid_state "$1"); [ -z "$s" ] || [ "$s" = Z ] || [ "$s" = X ]; }
for p in $pids; do
	wait_until 5 _dead "$p" || fail "pid $p survived its tracer (state $(pid_state "$p"))"
done
wait_for_file "$T/tree.rc"
[ "$(cat "$T/tree.rc")" = 99 ] || fail "dmtcp_launch exit status $(cat "$T/tree.rc"), expected 99"
grep -q "tracer .* ended" "$T/tree.out" || { cat "$T/tree.out"; fail "no message about the tracer"; }
wait_peers 0 5
log "SIGKILL of the tracer leaves nothing behind"
exit 0
