#!/bin/bash
# How a coordinator ends and what it does to the computation: k (kill all, keep serving),
# q (kill all, quit), kc / --kill-after-ckpt, SIGTERM, --exit-on-last, --timeout,
# --stale-timeout, and --daemon returning once the port file is written.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

# k: every peer gets KILL; the coordinator stays.
start_coord
start_fakepeer fp -n 3
wait_for_line "$T/fp.out" '^ready$'
"$BIN/dmtcp_command" -k || fail "-k failed"
wait_for_line "$T/fp.out" '^all-closed$'
[ "$(grep -c '^kill ' "$T/fp.out")" = 3 ] || fail "not every peer got KILL"
wait_peers 0
coord_alive || fail "coordinator quit on k"

# kc: checkpoint, then kill; -kc returns once the script is written.
start_fakepeer kc -n 2 --image-dir "$T"
wait_for_line "$T/kc.out" '^ready$'
"$BIN/dmtcp_command" -kc >/dev/null || fail "-kc failed"
wait_for_line "$T/kc.out" '^all-closed$'
grep -q '^barrier 0 commit ' "$T/kc.out" || fail "kc did not checkpoint"
grep -q '^kill 0$' "$T/kc.out" || fail "kc did not kill"
[ -x "$(status_field LAST_CKPT)" ] || fail "kc wrote no restart script"

# q: kill and quit.
start_fakepeer q -n 2
wait_for_line "$T/q.out" '^ready$'
"$BIN/dmtcp_command" -q || fail "-q failed"
wait_for_line "$T/q.out" '^all-closed$'
wait_exit "$COORD_PID" 10 || fail "coordinator still running after q"

# --kill-after-ckpt applies to every checkpoint, 'c' included.
start_coord --kill-after-ckpt
start_fakepeer kac -n 1
wait_for_line "$T/kac.out" '^ready$'
"$BIN/dmtcp_command" -c || fail "-c failed"
wait_for_line "$T/kac.out" '^kill 0$'

# SIGTERM: kill the computation and quit.
start_fakepeer term -n 2
wait_for_line "$T/term.out" '^ready$'
kill -TERM "$COORD_PID"
wait_for_line "$T/term.out" '^all-closed$'
wait_exit "$COORD_PID" 10 || fail "coordinator ignored SIGTERM"
grep -q '^kill 1$' "$T/term.out" || fail "SIGTERM did not kill the peers"

# --exit-on-last: exits when the last peer leaves, not before the first arrives.
start_coord --exit-on-last
coord_alive || fail "--exit-on-last exited with no peer yet"
start_fakepeer eol -n 2
wait_for_line "$T/eol.out" '^ready$'
kill "$FP_PID"
wait_exit "$COORD_PID" 10 || fail "--exit-on-last coordinator still running"
grep -q "last process left" "$T/coord.out" || fail "no exit-on-last log line"

# --timeout: quits by itself (killing its peers).
start_coord --timeout 1
start_fakepeer tmo -n 1
wait_for_line "$T/tmo.out" '^ready$'
wait_for_line "$T/tmo.out" '^kill 0$' 10
wait_exit "$COORD_PID" 10 || fail "--timeout did not quit"

# --stale-timeout: quits when no peer has been connected for that long.
start_coord --stale-timeout 1
wait_exit "$COORD_PID" 10 || fail "--stale-timeout did not quit"
grep -q "no process connected for 1 s" "$T/coord.out" || fail "no stale-timeout log line"

# --daemon: the command returns once the port file exists, and the daemon serves.
rm -f "$T/d.port"
"$BIN/dmtcp_coordinator" --daemon --port 0 --port-file "$T/d.port" --ckptdir "$T" \
	--coord-logfile "$T/d.log" </dev/null >"$T/d.out" 2>&1 || fail "--daemon returned failure"
[ -s "$T/d.port" ] || fail "--daemon returned before writing the port file"
dport=$(cat "$T/d.port")
dpid=$(ss -Hltnp "sport = :$dport" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
[ -n "$dpid" ] && track "$dpid"
"$BIN/dmtcp_command" -p "$dport" -s | grep -q "^NUM_PEERS=0$" || fail "daemon does not answer"
[ ! -s "$T/d.out" ] || fail "daemon wrote to the caller's output: $(cat "$T/d.out")"
grep -q "listening on port $dport" "$T/d.log" || fail "daemon log file not written"
"$BIN/dmtcp_command" -p "$dport" -q || fail "daemon -q"
# The port is free again once the daemon is gone.
wait_until 10 sh -c "! '$BIN/dmtcp_command' -p $dport -s" || fail "daemon did not quit"

# A second coordinator on a taken port fails with a message.
start_coord
err=$("$BIN/dmtcp_coordinator" --port "$COORD_PORT" </dev/null 2>&1); rc=$?
[ $rc != 0 ] || fail "second coordinator on port $COORD_PORT started"
echo "$err" | grep -q "Address already in use" || fail "port-taken message: $err"
echo PASS
