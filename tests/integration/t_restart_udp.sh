#!/bin/bash
# UDP across restarts: rs_udp keeps datagrams queued on IPv4 and IPv6 servers and on their
# clients, and on a server that a connect()ed client sends to; every datagram read is checked
# for its number, length, bytes and sender address (datagrams come back from their senders);
# SO_BROADCAST and IP_TTL stay set; a netlink route socket keeps its port id and groups (one
# beyond the first 32) and answers a request at the end. Three cycles, static and dynamic.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_cycles "$(prog rs_udp)" 250
img=$(ls "$T"/ckpt_rs_udp*.dmtcp | head -n 1)
"$BIN/dmtcp_restart" --show "$img" >"$T/show" 2>&1 || { cat "$T/show"; fail "--show failed"; }
for want in "inet dgram unconnected .* messages 8" "inet6 dgram unconnected .* messages 8" \
	"inet dgram connected" "netlink raw unconnected .* addr portid [0-9]* groups 0x11 .* options 1 "; do
	grep -q "socket file .*$want" "$T/show" || { grep 'socket file' "$T/show"; fail "no socket '$want' in --show"; }
done
