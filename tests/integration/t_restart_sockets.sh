#!/bin/bash
# Unix sockets across restarts: rs_socks keeps records in flight both ways on a stream, a
# seqpacket and a datagram socketpair, on a stream pair to a forked child that echoes them, and
# on a connection made through a path-bound listener, where another connection waits to be
# accepted until the end; an abstract listener takes a new
# connection every 10th step, a bound datagram socket always has one datagram queued; a
# half-closed pair and a pair whose writer closed keep their bytes for the end (then end of
# file); O_NONBLOCK, SO_RCVTIMEO and SO_SNDBUF stay set. The program checks every record's
# number, length and bytes, so a byte lost, doubled or reordered, or a boundary moved, fails
# it. Three checkpoint/restart cycles, static and dynamic.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_NPROCS=2 rs_cycles "$(prog rs_socks)" 250
# The images say what was saved: the kinds and states, and data queued.
img=$(ls "$T"/ckpt_rs_socks*.dmtcp | head -n 1)
"$BIN/dmtcp_restart" --show "$img" >"$T/show" 2>&1 || { cat "$T/show"; fail "--show failed"; }
for want in "unix stream connected" "unix seqpacket connected" "unix dgram connected" \
	"unix stream listening .* waiting 1" "unix seqpacket listening" "unix dgram unconnected" \
	"unix stream peer-gone" "shutdown wr" "messages $((8))"; do
	grep -q "socket file .*$want" "$T/show" || { grep 'socket file' "$T/show"; fail "no socket '$want' in --show"; }
done
