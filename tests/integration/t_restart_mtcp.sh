#!/bin/bash
# mtcp_restart IMG restores one process standalone: after launch -> checkpoint -> kill, the
# program comes back with its pid and memory, runs to its end without any coordinator peer,
# and mtcp_restart exits with the program's status (0 after PASS; the program's own failure
# code otherwise). Static and dynamic builds.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
for prog in rs_counter.static rs_threads; do
	out=$T/$prog.out
	rs_outfile "$prog.out"
	rm -f "$T"/ckpt_*.dmtcp
	rs_run launch "$BIN/dmtcp_launch" "$PROGS/$prog" "$T/$prog.ready" 200 >"$out"
	wait_for_file "$T/$prog.ready"
	pid=$(head -n 1 "$T/$prog.ready")
	rs_wait_count "$out" 3
	rs_checkpoint_kill launch
	killed_at=$(rs_last_count "$out")
	rs_run mtcp "$BIN/mtcp_restart" $(rs_images)
	rs_wait_count "$out" "$killed_at"
	[ "$(status_field NUM_PEERS)" = 0 ] || fail "$prog: mtcp_restart's process joined the coordinator"
	rs_wait_rc mtcp 0 60
	grep -q FAIL "$out" && fail "$prog: $(grep FAIL "$out")"
	grep -q "^PASS pid $pid\b" "$out" || { tail -n 3 "$out"; fail "$prog: no PASS with pid $pid"; }
	log "$prog: $(grep '^PASS' "$out")"
done
