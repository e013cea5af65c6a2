#!/bin/bash
# coord_ensure() as dmtcp_launch / dmtcp_restart use it (through the coordensure test tool):
# join fails clearly when nothing answers; "any" starts a daemon coordinator (found in PATH,
# with --exit-on-last, the given checkpoint dir and interval) and a second "any" joins it;
# "new" fails on a taken port and picks a free one for port 0; the started coordinator exits
# when its last process leaves.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

ENSURE=$TOP/build/tests/tools/coordensure
[ -x "$ENSURE" ] || harness_fail "coordensure is not built (make tools)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
listener_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2; }

P=$(free_port)
err=$("$ENSURE" --join -p "$P" 2>&1); rc=$?
[ $rc = 3 ] || fail "join to a dead port: exit $rc"
echo "$err" | grep -q "no coordinator at 127.0.0.1:$P: Connection refused" || fail "join message: $err"

# any: nothing answers, so a coordinator is started; this process joins it and stays.
mkfifo "$T/hold"
exec 7<>"$T/hold"
"$ENSURE" --any -p "$P" --ckptdir "$T/ck" --interval 5 --hello --hold <"$T/hold" >"$T/any.out" 2>&1 7>&- &
track $!
wait_for_line "$T/any.out" "^welcome .* $T/ck$"
grep -q "^connected $P$" "$T/any.out" || fail "any: $(cat "$T/any.out")"
cpid=$(listener_pid "$P")
[ -n "$cpid" ] && track "$cpid"
st=$("$BIN/dmtcp_command" -p "$P" -s) || fail "started coordinator does not answer"
echo "$st" | grep -qx "NUM_PEERS=1" || fail "status: $st"
echo "$st" | grep -q "Checkpoint Interval: 5$" || fail "interval not passed on: $st"
echo "$st" | grep -q "Checkpoint Dir: $T/ck$" || fail "ckptdir not passed on: $st"

# A second "any" joins the running one rather than starting another.
out=$("$ENSURE" --any -p "$P" --hello) || fail "second any failed: $out"
echo "$out" | grep -q "^connected $P$" || fail "second any: $out"
[ "$(listener_pid "$P")" = "$cpid" ] || fail "a second coordinator took over port $P"

# new: fails on the taken port, takes a free one for port 0.
"$ENSURE" --new -p "$P" >/dev/null 2>&1 && fail "new on a taken port succeeded"
out=$("$ENSURE" --new -p 0 --port-file "$T/new.port" 2>&1) || fail "new -p 0 failed: $out"
np=$(sed -n 's/^connected //p' <<<"$out")
[ -n "$np" ] && [ "$np" != 0 ] && [ "$np" != "$P" ] || fail "new -p 0 said: $out"
[ "$(cat "$T/new.port")" = "$np" ] || fail "port file says $(cat "$T/new.port"), not $np"
"$BIN/dmtcp_command" -p "$np" -q || fail "the new coordinator does not answer"

# The started coordinator has --exit-on-last: it goes when its last process leaves.
echo bye >&7
wait_until 10 sh -c "! '$BIN/dmtcp_command' -p $P -s" || fail "started coordinator did not exit on last"
echo PASS
