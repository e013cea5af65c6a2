#!/bin/bash
# Authentication: every connection to the coordinator proves it knows the coordinator's key,
# and the coordinator proves it back (common/coordauth.h).
#  - another user (nobody) cannot kill, checkpoint or join root's computation: refused with a
#    log line at the coordinator, a clear error for them, the computation untouched;
#  - the same user needs no option: the key is found at its default path (created 0600 in a
#    0700 directory of ours) and removed when the coordinator quits;
#  - the key is not on any command line, not in the log, and never crosses the wire (a
#    recording proxy between dmtcp_command and the coordinator sees neither its bytes nor its
#    hex);
#  - a key file of random bytes, one others can read, or a wrong key is refused with a clear
#    error, by the commands and by a coordinator asked to use it;
#  - a tracer does not obey a coordinator that cannot prove the key: a fake one on the port,
#    after the real one died, sends KILL and the program lives on.
# Needs root (a second user).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

[ "$(id -u)" = 0 ] || skip "needs root to act as a second user"
PY="python3 - $TOP"
export PYTHONDONTWRITEBYTECODE=1

start_coord
key=$(awk '{print $2}' "$T/coord.key")
[ ${#key} = 64 ] || fail "key file: $(cat "$T/coord.key")"
[ "$(stat -c %a "$T/coord.key")" = 600 ] || fail "key file mode $(stat -c %a "$T/coord.key")"
P=$(prog rs_counter)
rs_outfile prog.out
rs_run launch "$BIN/dmtcp_launch" "$P" "$T/ready" 1000000 >"$T/prog.out"
wait_for_file "$T/ready"
pid=$(head -n 1 "$T/ready")
rs_wait_count "$T/prog.out" 3
wait_peers 1

# Another user: refused, logged, nothing done.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all -- "$@"; }
for k in "" "$T/coord.key"; do
	if out=$(DMTCP_COORD_KEY_FILE=$k as_nobody "$BIN/dmtcp_command" -p "$COORD_PORT" -k 2>&1); then
		fail "nobody killed root's computation: $out"
	fi
	echo "$out" | grep -q "without its key" || fail "nobody was told: $out"
done
grep -q "refused: it does not know the coordinator's key" "$T/coord.out" ||
	fail "the coordinator did not log the refusal"
DMTCP_COORD_KEY_FILE= as_nobody "$BIN/dmtcp_command" -p "$COORD_PORT" -c >/dev/null 2>&1 &&
	fail "nobody started a checkpoint"
if out=$(DMTCP_COORD_KEY_FILE= as_nobody "$BIN/dmtcp_launch" -j -p "$COORD_PORT" /bin/true 2>&1); then
	fail "nobody joined root's computation: $out"
fi
echo "$out" | grep -q "cannot be used without its key" || fail "dmtcp_launch said: $out"
[ "$(status_field NUM_PEERS)" = 1 ] || fail "the computation changed: $(status_field NUM_PEERS) peers"
[ "$(status_field CKPT_COUNT)" = 0 ] || fail "a checkpoint was taken"
kill -0 "$pid" || fail "the program died"
log "another user refused"

# The key is on no command line and in no log.
for p in "$COORD_PID" $(pgrep -x dmtcp_launch) "$pid"; do
	{ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q "$key" &&
		fail "the key is on the command line of $p"
	{ tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -q "$key" &&
		fail "the key is in the environment of $p"
done
grep -q "$key" "$T/coord.out" "$T/launch.err" && fail "the key is in a log"

# Never on the wire: dmtcp_command -s through a recording proxy.
$PY "$COORD_PORT" "$T/proxy.port" "$T/wire" <<'PY' &
import socket, sys, threading
up = int(sys.argv[2])
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
open(sys.argv[3] + ".tmp", "w").write(str(ls.getsockname()[1]))
import os; os.rename(sys.argv[3] + ".tmp", sys.argv[3])
c, _ = ls.accept(); s = socket.create_connection(("127.0.0.1", up))
rec = open(sys.argv[4], "wb")
def pump(a, b):
    while True:
        d = a.recv(65536)
        if not d:
            b.shutdown(socket.SHUT_WR); return
        rec.write(d); b.sendall(d)
t = threading.Thread(target=pump, args=(s, c)); t.start(); pump(c, s); t.join(); rec.close()
PY
track $!
wait_for_file "$T/proxy.port"
out=$("$BIN/dmtcp_command" -p "$(cat "$T/proxy.port")" -s 2>&1) || fail "-s through the proxy: $out"
wait_until 10 test -s "$T/wire" || fail "nothing recorded"
$PY "$T/wire" "$key" <<'PY' || fail "the key crossed the wire"
import sys
wire = open(sys.argv[2], "rb").read(); key = sys.argv[3]
sys.exit(1 if key.encode() in wire or bytes.fromhex(key) in wire or len(wire) < 100 else 0)
PY
log "the key is on no command line, in no log, not on the wire"

# Bad key files: random bytes, readable by others, another key.
head -c 81 /dev/urandom >"$T/random.key"
chmod 600 "$T/random.key"
out=$(DMTCP_COORD_KEY_FILE=$T/random.key "$BIN/dmtcp_command" -s 2>&1) && fail "random key accepted"
echo "$out" | grep -q "is not a dmtcp coordinator key file" || fail "random key: $out"
out=$(DMTCP_COORD_KEY_FILE=$T/random.key "$BIN/dmtcp_coordinator" -p 0 2>&1 </dev/null) &&
	fail "a coordinator started with a random key file"
echo "$out" | grep -q "is not a dmtcp coordinator key file" || fail "coordinator with a random key: $out"
cp "$T/coord.key" "$T/open.key"
chmod 640 "$T/open.key"
out=$(DMTCP_COORD_KEY_FILE=$T/open.key "$BIN/dmtcp_command" -s 2>&1) && fail "group-readable key accepted"
echo "$out" | grep -q "not private to its user" || fail "group-readable key: $out"
printf 'DMTCP-COORD-KEY-1 %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T/other.key"
chmod 600 "$T/other.key"
out=$(DMTCP_COORD_KEY_FILE=$T/other.key "$BIN/dmtcp_command" -k 2>&1) && fail "another key killed: $out"
echo "$out" | grep -q "does not know the key in $T/other.key" || fail "another key: $out"
kill -0 "$pid" || fail "the program died"
log "bad key files refused"

# A fake coordinator cannot command the tracer: kill the real one, listen on its port,
# answer the tracer's HELLO with a made-up proof and a KILL right behind it.
kill -KILL "$COORD_PID"
wait "$COORD_PID" 2>/dev/null
$PY "$COORD_PORT" "$T/fake.log" <<'PY' &
import os, socket, sys
sys.path.insert(0, sys.argv[1] + "/tests/tools")
import coordproto as P
P.load(sys.argv[1])
ls = socket.socket(socket.AF_INET6); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("::", int(sys.argv[2]))); ls.listen(4)
log = open(sys.argv[3], "w", buffering=1)
c, _ = ls.accept()
typ, f = P.recv_msg(c)
log.write("hello %d\n" % typ)
c.sendall(P.msg(P.MSG_CHALLENGE, P.sfield(P.F_NONCE, os.urandom(32).hex()) +
                P.sfield(P.F_AUTH, os.urandom(32).hex())) +
          P.msg(P.MSG_WELCOME, P.field(P.F_PEER_ID, P.U64, bytes(8))) + P.msg(P.MSG_KILL, b""))
try:
    while c.recv(4096):
        pass
    log.write("closed by the tracer\n")
except OSError as e:
    log.write("error %s\n" % e)
PY
track $!
wait_for_line "$T/fake.log" '^closed by the tracer$' 40
wait_for_line "$T/launch.err" "does not know this computation's key: not joining it"
at=$(rs_last_count "$T/prog.out")
rs_wait_count "$T/prog.out" "$at"
kill -0 "$pid" || fail "the program obeyed the fake coordinator"
log "a fake coordinator was not obeyed"

# The same user needs no option: the default key path, 0600 in a 0700 directory of ours,
# gone with the coordinator.
kill -KILL "$pid"
rs_wait_rc launch 137
unset DMTCP_COORD_KEY_FILE
export XDG_RUNTIME_DIR=$T/xdg
mkdir -m 700 "$XDG_RUNTIME_DIR"
"$BIN/dmtcp_coordinator" -p 0 --port-file "$T/own.port" --daemon >"$T/own.out" 2>&1 ||
	fail "coordinator with the default key path: $(cat "$T/own.out")"
wait_for_file "$T/own.port"
port=$(cat "$T/own.port")
kf=$XDG_RUNTIME_DIR/dmtcp/coord-$port.key
[ "$(stat -c %a "$kf")" = 600 ] && [ "$(stat -c %a "$XDG_RUNTIME_DIR/dmtcp")" = 700 ] ||
	fail "default key file: $(ls -la "$XDG_RUNTIME_DIR/dmtcp")"
"$BIN/dmtcp_command" -p "$port" -s >/dev/null || fail "the default key was not found"
"$BIN/dmtcp_command" -p "$port" -q >/dev/null || fail "-q failed"
wait_until 20 port_closed "$port" || fail "the coordinator did not quit"
wait_until 20 test ! -e "$kf" || fail "the key file outlived its coordinator"
log "the default key path"
exit 0
