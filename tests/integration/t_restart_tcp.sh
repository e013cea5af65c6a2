#!/bin/bash
# TCP across restarts: rs_tcp keeps records in flight both ways on connections to listeners on
# 127.0.0.1, ::1 and [::] (a v4-mapped client), and to a forked child that echoes them; a
# half-closed connection, one whose other end closed with data unread and one left waiting on
# a listener keep their bytes for the end (then end of file); TCP_NODELAY, SO_KEEPALIVE with
# TCP_KEEPIDLE, SO_REUSEADDR and O_NONBLOCK stay set. A connection to a server outside the
# computation (a python3 process started here) comes back closed by its peer: the program
# reads the 10 bytes that had arrived, then end of file, and the first restart warns about it. The
# program checks every record's number, length and bytes. Three cycles, static and dynamic.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
# The outside server: accepts, sends 10 bytes, keeps every connection open until killed.
python3 -u - "$T/ext.port" >"$T/ext.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
keep = []
while True:
    c, _ = s.accept()
    c.sendall(b"0123456789")
    keep.append(c)
PY
track $!
wait_for_file "$T/ext.port"
export RS_TCP_EXTERNAL_PORT=$(cat "$T/ext.port")
RS_NPROCS=2 rs_cycles "$(prog rs_tcp)" 250
out=$T/$(basename "$(prog rs_tcp)").out
grep -qx "external: closed after restart" "$out" ||
	{ tail -n 3 "$out"; fail "the outside connection did not come back closed"; }
grep -q "the TCP peer 127.0.0.1:$RS_TCP_EXTERNAL_PORT is not part of this restart" "$T"/restart1.err ||
	{ cat "$T"/restart1.err; fail "no warning about the outside peer"; }
img=$(ls "$T"/ckpt_rs_tcp*.dmtcp | head -n 1)
"$BIN/dmtcp_restart" --show "$img" >"$T/show" 2>&1 || { cat "$T/show"; fail "--show failed"; }
for want in "inet stream connected" "inet6 stream connected" "inet stream listening .* waiting 0" \
	"inet6 stream listening .* waiting 1" "inet stream peer-gone" "shutdown wr"; do
	grep -q "socket file .*$want" "$T/show" || { grep 'socket file' "$T/show"; fail "no socket '$want' in --show"; }
done
