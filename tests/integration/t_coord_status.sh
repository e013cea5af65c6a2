#!/bin/bash
# dmtcp_command -s / -l / --json against a coordinator with several fake peers; PEER_UPDATE;
# the errors: checkpoint with no peers, a dead port, bad options.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

start_coord

# No peers yet: status answers, a checkpoint is refused with a reason.
out=$(run_user "$BIN/dmtcp_command" -s) || fail "dmtcp_command -s failed"
echo "$out" | grep -qx "NUM_PEERS=0" || fail "no NUM_PEERS=0 in: $out"
echo "$out" | grep -qx "RUNNING=no" || fail "no RUNNING=no in: $out"
echo "$out" | grep -q "Port: $COORD_PORT" || fail "port missing in: $out"
echo "$out" | grep -q "Checkpoint Dir: $T" || fail "checkpoint dir missing in: $out"
err=$(run_user "$BIN/dmtcp_command" -c 2>&1); rc=$?
[ $rc = 2 ] || fail "-c with no peers exited $rc, expected 2"
echo "$err" | grep -q "no processes to checkpoint" || fail "unexpected -c error: $err"

start_fakepeer fp -n 3 --prog sleeper
wait_for_line "$T/fp.out" '^ready$'
wait_peers 3
out=$(run_user "$BIN/dmtcp_command" --status)
echo "$out" | grep -qx "NUM_PEERS=3" || fail "no NUM_PEERS=3 in: $out"
echo "$out" | grep -qx "RUNNING=yes" || fail "no RUNNING=yes in: $out"
compid=$(sed -n 's/^welcome 0 [0-9]* //p' "$T/fp.out")
[ -n "$compid" ] || fail "fakepeer saw no computation id"
echo "$out" | grep -q "Computation Id: $compid" || fail "computation id $compid missing in: $out"

list=$(run_user "$BIN/dmtcp_command" -l)
[ "$(echo "$list" | grep -c "sleeper\[[0-9]*\]@.*, RUNNING, ")" = 3 ] || fail "list: $list"
# The same through the bare DMTCP-style command word and the long option.
[ "$(run_user "$BIN/dmtcp_command" --list | grep -c sleeper)" = 3 ] || fail "--list"
[ "$(run_user "$BIN/dmtcp_command" l | grep -c sleeper)" = 3 ] || fail "bare l"

json=$(run_user "$BIN/dmtcp_command" --json -s) || fail "--json -s failed"
python3 - "$json" "$compid" "$T" <<'PY' || fail "bad JSON: $json"
import json, sys
j = json.loads(sys.argv[1])
assert j["num_peers"] == 3 and j["running"] is True, j
assert j["checkpoint_interval"] == 0 and j["computation_id"] == sys.argv[2], j
assert j["ckpt_dir"] == sys.argv[3], j
assert len(j["peers"]) == 3 and all(p["prog"] == "sleeper" and p["state"] == "RUNNING" for p in j["peers"]), j
assert sorted(p["id"] for p in j["peers"]) == [1, 2, 3], j
PY
json=$(run_user "$BIN/dmtcp_command" --json -l)
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert len(j["peers"])==3' "$json" ||
	fail "bad JSON list: $json"

# A peer that execs reports its new program name.
start_fakepeer upd --update-prog newname
wait_for_line "$T/upd.out" '^ready$'
wait_until 10 sh -c "'$BIN/dmtcp_command' -l | grep -q newname" || fail "PEER_UPDATE not shown"
wait_peers 4

# Control characters in a name are not passed on into the tab-separated list.
start_fakepeer ctl --prog "$(printf 'tab\there')"
wait_for_line "$T/ctl.out" '^ready$'
wait_until 10 sh -c "'$BIN/dmtcp_command' -l | grep -q 'tab?here\['" || fail "control character not replaced"

# Dead port: exit 2 with a clear message.
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
err=$(run_user "$BIN/dmtcp_command" -p "$dead" -s 2>&1); rc=$?
[ $rc = 2 ] || fail "dead port: exit $rc"
echo "$err" | grep -q "no coordinator at 127.0.0.1:$dead: Connection refused" || fail "dead port message: $err"
err=$(DMTCP_COORD_PORT=$dead run_user "$BIN/dmtcp_command" -s 2>&1); rc=$?
[ $rc = 2 ] || fail "dead port from the environment: exit $rc ($err)"
# A port in the environment that is not a number: a usage error, not the default port.
err=$(DMTCP_COORD_PORT=77x9 run_user "$BIN/dmtcp_command" -s 2>&1); rc=$?
[ $rc = 1 ] || fail "DMTCP_COORD_PORT=77x9: exit $rc ($err)"
echo "$err" | grep -q "DMTCP_COORD_PORT='77x9' is not a port number" || fail "bad env port message: $err"
# ...unless -p gives the port.
err=$(DMTCP_COORD_PORT=77x9 run_user "$BIN/dmtcp_command" -p "$dead" -s 2>&1); rc=$?
[ $rc = 2 ] || fail "-p over a bad DMTCP_COORD_PORT: exit $rc ($err)"

# Bad usage: exit 1 with a message naming the problem.
for args in "" "--bogus" "-s -l" "-i" "-i abc" "-p notaport -s" "-p 70000 -s"; do
	# shellcheck disable=SC2086
	err=$(run_user "$BIN/dmtcp_command" $args 2>&1); rc=$?
	[ $rc = 1 ] || fail "dmtcp_command $args: exit $rc, expected 1 ($err)"
	[ -n "$err" ] || fail "dmtcp_command $args: no message"
done
run_user "$BIN/dmtcp_command" --help | grep -q -- "--bcheckpoint" || fail "--help"
run_user "$BIN/dmtcp_command" --version | grep -q "dmtcp_command" || fail "--version"
# Bad coordinator options: exit 1.
for args in "--bogus" "--interval x" "--port 99999" "--timeout -1"; do
	# shellcheck disable=SC2086
	"$BIN/dmtcp_coordinator" $args >/dev/null 2>&1 </dev/null; rc=$?
	[ $rc = 1 ] || fail "dmtcp_coordinator $args: exit $rc, expected 1"
done
"$BIN/dmtcp_coordinator" --help | grep -q -- "--exit-on-last" || fail "coordinator --help"
coord_alive || fail "coordinator died"
echo PASS
