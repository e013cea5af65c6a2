#!/bin/bash
# Zombies: rs_zombie keeps a child that exited with status 7 unreaped; the restart recreates
# it as a zombie with its pid and status, so the program still sees it (waitid WNOWAIT) and
# finally reaps it with status 7.
#
# As root, three cycles, each restarting with the original pids in our PID namespace (the test
# waits until the old zombie is reaped and its pid free again). Unprivileged, one cycle: the
# restore is in a new PID namespace, and an image taken there records a zombie's pid as the
# tracer sees it, not as the program does, so a second restart has to leave it out (known
# limitation, logged as a warning). Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
_pids_free() {
	local p
	for p in "$@"; do [ -e "/proc/$p" ] && return 1; done
	return 0
}
_two_lines() { [ "$(wc -l <"$1" 2>/dev/null)" = 2 ]; }
p=$(prog rs_zombie)
name=$(basename "$p")
out=$T/$name.out
rs_outfile "$name.out"
run=launch
rs_run $run "$BIN/dmtcp_launch" "$p" "$T/$name.ready" 300 >"$out"
wait_until 20 _two_lines "$T/$name.ready" || fail "$name did not start"
pid=$(sed -n 1p "$T/$name.ready")
zpid=$(sed -n 2p "$T/$name.ready")
rs_wait_count "$out" 3
cycles=3
[ "$UNPRIV" = 1 ] && cycles=1
for cycle in $(seq $cycles); do
	rs_checkpoint_kill $run
	[ "$UNPRIV" = 1 ] || wait_until 20 _pids_free "$pid" "$zpid" ||
		fail "pids $pid $zpid still in use after the kill"
	run=restart$cycle
	rs_restart $run "$out" "$BIN/dmtcp_restart" $(rs_images)
done
rs_expect_pass $run "$out" "^PASS pid $pid zombie $zpid\$"
