#!/bin/bash
# Bad input from the coordinator: a fake coordinator (tests/tools/peerfuzz.py, on
# tests/tools/coordproto.py) takes the port of the real one, which is killed, and plays it for
# the tracer of a launched rs_counter: it knows the key, completes the handshake, welcomes the
# tracer, then sends a few hundred seeded hostile cases: truncated frames, bad lengths, unknown
# types, unknown, duplicated, missing and mistyped fields, strings over the limit, barriers of
# absurd generations and names, messages out of order (a BARRIER or KILL before the
# CHALLENGE, a second CHALLENGE, a WELCOME without the proof or with bad fields), random bytes
# and bit-flipped messages. Each case is judged by what docs/protocol.md says a tracer does:
# ignored or answered with the connection kept (a WHERE probe after it is answered), or the
# connection closed at once (one "invalid message" line naming the reason) and made again
# (the tracer's retry). After every case the program lives, is not left stopped, keeps its
# tracer and counts on. A second, short rs_counter (the bystander) is sent checkpoint steps
# and an unknown barrier while it runs: when it ends, its tracer lets go of the connection at
# once. Then a real coordinator on the same port gets the process back, and a checkpoint, a
# kill and a restart bring it back with its state intact (rs_counter checks itself at every
# step).
#
# One build: the code under test is the tracer's (the same binary for a static program), and
# the cases take most of a minute (the tracer waits 0.5 s before it connects again, more after
# a connection that was never welcomed), so a static run would only double the time.
# DMTCP_PEERFUZZ_SEED picks other cases.
# builds: dynamic
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

SEED=${DMTCP_PEERFUZZ_SEED:-20261125}
export PYTHONDONTWRITEBYTECODE=1
P=$(prog rs_counter)
OUT=$T/prog.out

start_coord
rs_outfile prog.out
rs_run launch "$BIN/dmtcp_launch" -j "$P" "$T/ready" 1000000 >"$OUT"
# The bystander: a short run, under a tracer of its own, that ends during the cases.
rs_outfile by.out
rs_run bystander "$BIN/dmtcp_launch" -j "$P" "$T/by.ready" 150 >"$T/by.out"
wait_for_file "$T/ready"
wait_for_file "$T/by.ready"
pid=$(head -n 1 "$T/ready")
rs_wait_count "$OUT" 3
wait_peers 2

# The fake coordinator takes the real one's port (and key).
port=$COORD_PORT
kill -KILL "$COORD_PID"
wait "$COORD_PID" 2>/dev/null
python3 "$TOP/tests/tools/peerfuzz.py" "$TOP" "$port" "$T/coord.key" "$pid" "$OUT" "$SEED" \
	"$(head -n 1 "$T/by.ready")" >"$T/fuzz.out" 2>&1 </dev/null 8>&-
rc=$?
if [ $rc != 0 ]; then
	tail -n 15 "$T/fuzz.out"
	echo "--- launch.err:"; grep -v "unknown barrier" "$T/launch.err" | tail -n 15
	grep -q "^FAIL: " "$T/fuzz.out" && fail "$(sed -n "s/^FAIL: //p" "$T/fuzz.out")"
	harness_fail "the fake coordinator failed (status $rc)"
fi
log "$(grep '^cases ' "$T/fuzz.out")"
log "bystander: $(sed -n 's/^bystander //p' "$T/fuzz.out")"
rs_expect_pass bystander "$T/by.out" '^PASS'

# One line per connection closed for an invalid message (no more: no connection was closed
# for a message it had to keep), naming the reason the codec found.
want=$(sed -n 's/^invalid //p' "$T/fuzz.out")
got=$(grep -c 'invalid message from the coordinator: ' "$T/launch.err")
[ "$got" = "$want" ] || {
	grep 'invalid message from the coordinator: ' "$T/launch.err" | sed 's/^[^:]*: //' |
		sort | uniq -c | sort -rn | head -n 40
	fail "the tracer logged $got invalid messages, the cases sent $want"
}
while read -r why; do
	grep -qF "invalid message from the coordinator: $why" "$T/launch.err" ||
		fail "no connection was closed for '$why'"
done < <(sed -n 's/^reason //p' "$T/fuzz.out")
grep -q "does not know this computation's key" "$T/launch.err" ||
	fail "a CHALLENGE with a wrong proof was not refused"

# A real coordinator on the same port has the process back; a checkpoint and a restart work.
start_coord --port "$port"
[ "$COORD_PORT" = "$port" ] || fail "the coordinator took port $COORD_PORT, not $port"
wait_peers 1 30
kill -0 "$pid" || fail "the program died"
rm -f "$T"/ckpt_*.dmtcp
RS_PROG_OUT=$OUT
rs_checkpoint_kill launch
rs_restart restart "$OUT" "$BIN/dmtcp_restart" $(rs_images)
grep -q FAIL "$OUT" && fail "the program found its state wrong: $(grep FAIL "$OUT")"
run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
rs_wait_rc restart 137
log "checkpointed and restarted by a real coordinator afterwards"
