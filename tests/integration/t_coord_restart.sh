#!/bin/bash
# Restart handling and the key-value store on a fresh coordinator: restarted processes adopt
# the images' computation id, the coordinator waits (RESTARTING) until the expected number is
# connected, then runs restart, refill, resume; a restart of another computation is refused;
# KV put/get, a get that waits for a later put, a get that times out, a missing key; keys are
# cleared when a new computation starts.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

C1=abc123-4242-1f2e3d
start_coord
# Two of three processes: the coordinator waits.
start_fakepeer r1 -n 2 --restart "$C1" --expect 3
wait_for_line "$T/r1.out" '^ready$'
wait_peers 2
[ "$(status_field COORD_STATE)" = RESTARTING ] || fail "state is not RESTARTING"
[ "$(status_field RUNNING)" = no ] || fail "RUNNING during a restart"
grep -q '^barrier' "$T/r1.out" && fail "barrier sent before every process connected"
"$BIN/dmtcp_command" -s | grep -q "Computation Id: $C1" || fail "computation id not adopted"
# No checkpoint while restarting; no ordinary process may join.
err=$("$BIN/dmtcp_command" -c 2>&1) && fail "checkpoint accepted during a restart"
echo "$err" | grep -q "restart is in progress" || fail "wrong refusal: $err"
start_fakepeer intruder -n 1
wait_for_line "$T/intruder.out" '^refused 0 a restart is in progress'

# The third arrives: restart, refill, resume, then RUNNING.
start_fakepeer r2 -n 1 --restart "$C1" --expect 3
for f in r1 r2; do
	wait_for_line "$T/$f.out" '^done 0 resume [0-9]+ 0$'
	seq=$(grep '^barrier 0 ' "$T/$f.out" | awk '{print $3}' | tr '\n' ' ')
	[ "$seq" = "restart refill resume " ] || fail "$f saw barriers: $seq"
done
wait_until 10 sh -c "'$BIN/dmtcp_command' -s | grep -qx 'RUNNING=yes'" || fail "not RUNNING after restart"
[ "$(status_field COORD_STATE)" = RUNNING ] || fail "state is not RUNNING"
[ "$(status_field NUM_PEERS)" = 3 ] || fail "expected 3 peers"

# Another computation's restart is refused while this one runs.
start_fakepeer other -n 1 --restart fff-1-2
wait_for_line "$T/other.out" "^refused 0 computation $C1 is running here; cannot restart fff-1-2$"
# A malformed computation id is refused.
start_fakepeer bad -n 1 --restart not-an-id
wait_for_line "$T/bad.out" '^refused 0 malformed computation id$'

# Key-value store: a get that waits, then the put that answers it.
start_fakepeer waiter --kv-get conn1:10000
wait_for_line "$T/waiter.out" '^ready$'
start_fakepeer putter --kv-put conn1=127.0.0.1:4567 --kv-put other=x
wait_for_line "$T/putter.out" '^put other$'
wait_for_line "$T/waiter.out" '^kv 0 conn1 0 127.0.0.1:4567$'
# Replace, then read back without waiting.
start_fakepeer putter2 --kv-put conn1=new
wait_for_line "$T/putter2.out" '^put conn1$'
start_fakepeer getter --kv-get conn1 --kv-get missing --kv-get late:150
wait_for_line "$T/getter.out" '^kv 0 conn1 0 new$'
wait_for_line "$T/getter.out" '^kv 0 missing -2$'
wait_for_line "$T/getter.out" '^kv 0 late -110$'

# When every process is gone, the next one starts a new computation with an empty store.
"$BIN/dmtcp_command" -k
wait_peers 0
start_fakepeer fresh --kv-get conn1
wait_for_line "$T/fresh.out" '^kv 0 conn1 -2$'
c2=$(sed -n 's/^welcome 0 [0-9]* //p' "$T/fresh.out")
[ -n "$c2" ] && [ "$c2" != "$C1" ] || fail "no new computation id ($c2)"
echo PASS
