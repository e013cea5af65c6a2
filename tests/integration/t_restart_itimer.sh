#!/bin/bash
# A periodic ITIMER_REAL checkpointed between its expiry and its re-arm (rs_itimer keeps
# SIGALRM blocked, so the kernel holds the timer at value 0 until the signal is dequeued):
# the image records value 0 with the 10 ms interval, and after each of two restarts the
# program, unblocking SIGALRM at the end, gets the pending signal and then the timer's ticks.
# (Left unarmed by the restore, the timer would never tick again: a flake of t_restart_state
# when its checkpoint fell in that window.) Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
p=$(prog rs_itimer)
out=$T/rs_itimer.out
RS_PROG_OUT=$out
rs_outfile rs_itimer.out
run=launch
rs_run $run "$BIN/dmtcp_launch" "$p" "$T/rs_itimer.ready" 200 >"$out"
wait_for_file "$T/rs_itimer.ready"
pid=$(head -n 1 "$T/rs_itimer.ready")
rs_wait_count "$out" 3
for cycle in 1 2; do
	rs_checkpoint_kill $run
	img=$(rs_images)
	show=$("$BIN/dmtcp_restart" --show "$img" 2>&1) || fail "--show $img: $show"
	grep -q "^  itimer ITIMER_REAL interval_ns 10000000 value_ns 0\$" <<<"$show" || {
		grep itimer <<<"$show"; fail "cycle $cycle: the image does not hold the expired timer"; }
	run=restart$cycle
	rs_restart $run "$out" "$BIN/dmtcp_restart" $img
done
rs_expect_pass $run "$out" "^PASS pid $pid\$"
