#!/bin/bash
# A listener bound to an address the restarting host lacks: python3 (under control) listens on
# 10.77.0.1 in a network namespace that has that address (a "host", made with unshare -rn,
# its own coordinator); it is checkpointed and killed there, and restarted in another fresh
# namespace that has only loopback. The restart warns that the address is not this host's and
# listens on the same port on every address; a client there connects to 127.0.0.1 at that
# port and gets the answer of the restored process (its pid unchanged).
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY (install-deps.sh installs python3)"
run_user unshare -rn true 2>/dev/null || skip "cannot make a user and network namespace here"
D=$T/nh
mkdir -m 777 "$D"
cat >"$D/host.sh" <<'SH'
#!/bin/bash
# host.sh 1|2 DIR BIN PY: one "host", inside a fresh network namespace (unshare -rn)
set -u
ph=$1 D=$2 BIN=$3 PY=$4
wait_for() { local i; for i in $(seq 400); do eval "$1" && return 0; sleep 0.05; done; return 1; }
ip link set lo up || exit 3
# the coordinator key of this "host" (uid 0 here may be nobody outside: not /tmp/dmtcp-0)
mkdir -p -m 700 "$D/run$ph" && export XDG_RUNTIME_DIR=$D/run$ph
[ "$ph" = 1 ] && { ip addr add 10.77.0.1/32 dev lo || exit 3; }
"$BIN/dmtcp_coordinator" --port 0 --port-file "$D/port$ph" --ckptdir "$D" </dev/null >"$D/coord$ph.out" 2>&1 &
wait_for '[ -s "$D/port$ph" ]' || { echo "no coordinator"; exit 3; }
export DMTCP_COORD_PORT=$(cat "$D/port$ph") DMTCP_CHECKPOINT_DIR=$D
rc=0
if [ "$ph" = 1 ]; then
	"$BIN/dmtcp_launch" "$PY" -c '
import os, socket, sys
s = socket.socket()
s.bind(("10.77.0.1", 0))
s.listen(4)
open(sys.argv[1] + ".tmp", "w").write("%d %d\n" % (s.getsockname()[1], os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.sendall(b"hello from %d\n" % os.getpid())
    c.close()
' "$D/listening" >"$D/prog.out" 2>"$D/prog.err" &
	wait_for '[ -s "$D/listening" ]' || { echo "the program did not listen"; cat "$D/prog.err"; rc=1; }
	[ $rc = 0 ] && { "$BIN/dmtcp_command" -bc || rc=1; }
else
	"$BIN/dmtcp_restart" "$D"/ckpt_python3*.dmtcp >"$D/restart.out" 2>"$D/restart.err" &
	wait_for '"$BIN/dmtcp_command" -s | grep -q "^RUNNING=yes"' ||
		{ echo "the restart did not run"; cat "$D/restart.err"; rc=1; }
	[ $rc = 0 ] && "$PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
print("GOT", s.recv(100).decode().strip())' "$(cut -d" " -f1 "$D/listening")" >"$D/client.out" 2>&1 || rc=1
fi
"$BIN/dmtcp_command" -k >/dev/null 2>&1
"$BIN/dmtcp_command" -q >/dev/null 2>&1
wait
exit $rc
SH
chmod 755 "$D/host.sh"
run_user unshare -rn "$D/host.sh" 1 "$D" "$BIN" "$PY" || fail "host 1: $(cat "$D/coord1.out" "$D/prog.err" 2>/dev/null | tail -n 5)"
ls "$D"/ckpt_python3*.dmtcp >/dev/null || fail "no image"
run_user unshare -rn "$D/host.sh" 2 "$D" "$BIN" "$PY" || fail "host 2: $(cat "$D/client.out" "$D/restart.err" 2>/dev/null | tail -n 5)"
pid=$(cut -d" " -f2 "$D/listening")
grep -qx "GOT hello from $pid" "$D/client.out" || { cat "$D/client.out"; fail "no answer from the restored process $pid"; }
grep -q "10.77.0.1:[0-9]* is not an address of this host: the listener listens on its port on every address" \
	"$D/restart.err" || { cat "$D/restart.err"; fail "no warning about the missing address"; }
log "restored on a host without 10.77.0.1: $(cat "$D/client.out")"
