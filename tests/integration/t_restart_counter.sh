#!/bin/bash
# The whole cycle on the simplest program: dmtcp_launch rs_counter, then three times
# checkpoint -> kill -> dmtcp_restart. The program checks its own memory and pid at every step
# and prints PASS at the end; the restarted computation must be a peer of the coordinator,
# running, and checkpointable again (each next cycle checkpoints the restarted one); the last
# restart returns the program's exit status. Static and dynamic builds.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
for prog in rs_counter.static rs_counter; do
	log "$prog"
	out=$prog.out
	rs_outfile "$out"
	rm -f "$T"/ckpt_*.dmtcp
	run=launch
	rs_run $run "$BIN/dmtcp_launch" "$PROGS/$prog" "$T/$prog.ready" 400 >"$T/$out"
	wait_for_file "$T/$prog.ready"
	pid=$(cat "$T/$prog.ready")
	rs_wait_count "$T/$out" 3
	for cycle in 1 2 3; do
		rs_checkpoint_kill $run
		killed_at=$(rs_last_count "$T/$out")
		run=restart$cycle
		rs_run $run "$BIN/dmtcp_restart" $(rs_images)
		rs_wait_running 1
		rs_wait_count "$T/$out" "$killed_at"
		log "cycle $cycle: killed at $killed_at, counting again"
	done
	rs_wait_rc $run 0 60
	grep -q "^PASS pid $pid\$" "$T/$out" || { tail -n 5 "$T/$out"; fail "$prog: no PASS with pid $pid"; }
	grep -q FAIL "$T/$out" && fail "$prog: $(grep FAIL "$T/$out")"
	[ "$(rs_last_count "$T/$out")" = 400 ] || fail "$prog: did not count to the end"
done
log "three cycles, static and dynamic: PASS"
