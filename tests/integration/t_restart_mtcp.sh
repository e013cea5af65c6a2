#!/bin/bash
# mtcp_restart IMG restores one process standalone: after launch -> checkpoint -> kill, the
# program comes back with its pid and memory, runs to its end without any coordinator peer,
# and mtcp_restart exits with the program's status (0 after PASS; the program's own failure
# code otherwise). One and several threads; static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
for p in "$(prog rs_counter)" "$(prog rs_threads)"; do
	name=$(basename "$p")
	out=$T/$name.out
	rs_outfile "$name.out"
	rm -f "$T"/ckpt_*.dmtcp
	rs_run launch "$BIN/dmtcp_launch" "$p" "$T/$name.ready" 200 >"$out"
	wait_for_file "$T/$name.ready"
	pid=$(head -n 1 "$T/$name.ready")
	rs_wait_count "$out" 3
	rs_checkpoint_kill launch
	killed_at=$(rs_last_count "$out")
	rs_run mtcp "$BIN/mtcp_restart" $(rs_images) >>"$out"
	rs_wait_count "$out" "$killed_at"
	[ "$(status_field NUM_PEERS)" = 0 ] || fail "$name: mtcp_restart's process joined the coordinator"
	rs_expect_pass mtcp "$out" "^PASS pid $pid\b"
done
