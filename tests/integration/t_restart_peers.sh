#!/bin/bash
# Two separately launched programs (two tracers, one coordinator) talking over a TCP and a unix
# stream connection with records always in flight both ways (rs_peer server and client):
# three cycles of checkpoint, kill and restart through the restart script, which restarts both
# images with one dmtcp_restart; each program checks every record's number, length and bytes,
# and both end with PASS. Static and dynamic, root and unprivileged.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
P=$(prog rs_peer)
so=$T/server.out
co=$T/client.out
rs_outfile server.out
rs_outfile client.out
# Each program has its own output (RS_OWN_OUT): one restart brings both back.
rs_run srv "$BIN/dmtcp_launch" "${RS_OWN_OUT[@]}" "$so" "$P" server "$T/server.ready" 300 >/dev/null
wait_for_file "$T/rs_peer.port"
rs_run cli "$BIN/dmtcp_launch" "${RS_OWN_OUT[@]}" "$co" "$P" client "$T/client.ready" 300 >/dev/null
wait_for_file "$T/server.ready"
wait_for_file "$T/client.ready"
spid=$(head -n 1 "$T/server.ready")
cpid=$(head -n 1 "$T/client.ready")
rs_wait_count "$so" 3
rs_wait_count "$co" 3
run=(srv cli)
for cycle in 1 2 3; do
	out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || fail "checkpoint $cycle failed: $out"
	run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
	for r in "${run[@]}"; do rs_wait_rc "$r" 137; done
	wait_until 30 _peers_are 0 || fail "peers still at the coordinator after the kill"
	ks=$(rs_last_count "$so")
	kc=$(rs_last_count "$co")
	RS_PROG_OUT=$so
	rs_run restart$cycle "$T/dmtcp_restart_script.sh"
	run=(restart$cycle)
	rs_wait_running 2 restart$cycle
	rs_wait_count "$so" "$ks"
	rs_wait_count "$co" "$kc"
	log "cycle $cycle: killed at $ks/$kc, both running again"
done
rs_wait_rc restart3 0 60
for o in "$so" "$co"; do
	grep -q FAIL "$o" && fail "$(basename "$o"): $(grep FAIL "$o")"
done
grep -q "^PASS pid $spid\b" "$so" || { tail -n 3 "$so"; fail "the server did not pass"; }
grep -q "^PASS pid $cpid\b" "$co" || { tail -n 3 "$co"; fail "the client did not pass"; }
log "server and client: PASS after 3 restarts"
