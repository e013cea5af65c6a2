#!/bin/bash
# Real software over TCP: Debian's python3 http.server, launched under checkpoint control,
# answers a client loop launched separately and also under control (bash running curl once per
# round: each curl a short-lived traced process with its own connection). Each round fetches a
# 300 KiB file with curl, then again with a python3 client that reads it slowly (16 KiB every
# 10 ms: the server has written it all and closed its end long before, so most checkpoints find
# the rest of the body held back by the client's full window), and compares both byte for
# byte ("count N"); a failed fetch or a different body is a FAIL. Three cycles of checkpoint, kill, restart through the restart script, taken while
# fetches are under way; the client's count must go on from where it was, without one FAIL.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY (install-deps.sh installs python3)"
command -v curl >/dev/null || skip "no curl (install-deps.sh installs it)"
start_coord
www=$T/www
mkdir -m 777 "$www"
head -c 307200 /dev/urandom >"$www/big.bin"
chmod 644 "$www/big.bin"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$www/loop.sh" <<'SH'
#!/bin/bash
# loop.sh READYFILE LIMIT PORT DIR
echo $$ >"$1"
for ((i = 1; i <= $2; i++)); do
	if ! curl -sSf --max-time 20 -o "$4/body.$$" "http://127.0.0.1:$3/big.bin" 2>"$4/curl.err"; then
		echo "FAIL round $i: curl: $(cat "$4/curl.err")"
		exit 1
	fi
	cmp -s "$4/body.$$" "$4/big.bin" || { echo "FAIL round $i: a different body"; exit 1; }
	if ! /usr/bin/python3 -c '
import sys, time, urllib.request
r = urllib.request.urlopen(sys.argv[1], timeout=20)
with open(sys.argv[2], "wb") as f:
    while True:
        b = r.read(16384)
        if not b:
            break
        f.write(b)
        time.sleep(0.01)
' "http://127.0.0.1:$3/big.bin" "$4/slow.$$" 2>"$4/slow.err"; then
		echo "FAIL round $i: slow client: $(tail -n 1 "$4/slow.err")"
		exit 1
	fi
	cmp -s "$4/slow.$$" "$4/big.bin" || { echo "FAIL round $i: a different body (slow client)"; exit 1; }
	echo "count $i"
	sleep 0.01
done
echo "PASS pid $$"
SH
chmod 755 "$www/loop.sh"
rs_outfile srv.out
rs_outfile loop.out
rs_run srv "$BIN/dmtcp_launch" "$PY" -m http.server --bind 127.0.0.1 --directory "$www" "$port" >"$T/srv.out"
# ready when it answers (a probe from outside the computation)
_answers() { curl -sf -o /dev/null "http://127.0.0.1:$port/big.bin"; }
wait_until 30 _answers || { cat "$T/srv.err"; fail "http.server does not answer"; }
rs_run loop "$BIN/dmtcp_launch" "$www/loop.sh" "$T/loop.ready" 100000 "$port" "$www" >"$T/loop.out"
wait_for_file "$T/loop.ready"
RS_PROG_OUT=$T/loop.out
rs_wait_count "$T/loop.out" 5 60
run=(srv loop)
# A checkpoint that finds a request sent on a connection the server has not accepted yet is
# refused by name (those bytes sit where no fd reaches them: docs/architecture.md, Sockets);
# the computation runs on, and the checkpoint is asked for again at once.
refused=0
checkpoint() {
	local try out
	for try in 1 2 3 4 5 6 7 8; do
		out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) && return 0
		echo "$out" | grep -q "a TCP connection waiting to be accepted on this listener has" ||
			fail "checkpoint $1 failed: $out"
		refused=$((refused + 1))
	done
	fail "checkpoint $1 refused 8 times in a row: $out"
}
for cycle in 1 2 3; do
	checkpoint $cycle
	run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
	for r in "${run[@]}"; do wait_until 30 test -s "$T/$r.rc" || fail "$r did not end after -k"; done
	wait_until 30 _peers_are 0 || fail "peers still at the coordinator after the kill"
	killed=$(rs_last_count "$T/loop.out")
	grep -q FAIL "$T/loop.out" && fail "$(grep FAIL "$T/loop.out")"
	# The restarted programs' stdout is the restart's (as with DMTCP): the loop's counts go
	# on in loop.out (the server prints nothing more on stdout, its log is on stderr).
	rs_run restart$cycle "$T/dmtcp_restart_script.sh" >>"$T/loop.out"
	run=(restart$cycle)
	rs_wait_count "$T/loop.out" $((killed + 5)) 60
	grep -q FAIL "$T/loop.out" && { cat "$T/restart$cycle.err"; fail "$(grep FAIL "$T/loop.out")"; }
	log "cycle $cycle: killed at round $killed, fetching again"
done
run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1
log "http.server and its curl loop: $(rs_last_count "$T/loop.out") rounds, no failure ($refused checkpoints refused for a request not accepted yet)"
