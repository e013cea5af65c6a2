#!/bin/bash
# The tracer records what the socket syscalls did (the table the checkpoint code reads): a TCP
# listener with its bind address, a connected client with its peer address, the accepted
# end, both ends of a socketpair, a bound unix datagram socket. A socketpair that failed (its
# sv[] holding the listener's and client's fds) leaves their records alone, and one closed again
# leaves none (one of its fds reused by /dev/null): socketpair's fds are read after the call
# without a syscall-exit stop, and every record is checked against /proc/PID/fd at suspend.
# Checked through the table's debug dump at suspend (DMTCP_DEBUG=1), for dynamic and static
# builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
export DMTCP_DEBUG=1
b=$(basename "$(prog l_sock)")
d=$T/$b
mkdir -m 777 "$d"
launch_bg "$b" -j "$(prog l_sock)" "$d"
wait_for_line "$T/$b.out" '^READY'
read -r _ port l c a p0 p1 u nul gone <<<"$(grep '^READY' "$T/$b.out")"
ckpt "$b"
has() {
	grep -Eq -- "socket fd $1 $2" "$T/$b.out" ||
		{ grep 'socket fd' "$T/$b.out"; fail "$b: fd $1 not recorded as /$2/"; }
}
has "$l" "AF_INET SOCK_STREAM listening bound 127\.0\.0\.1:0 remote - ino [1-9]"
has "$c" "AF_INET SOCK_STREAM connected bound - remote 127\.0\.0\.1:$port ino [1-9]"
has "$a" "AF_INET SOCK_STREAM connected accepted bound - remote -"
has "$p0" "AF_UNIX SOCK_STREAM connected pair bound - remote -"
has "$p1" "AF_UNIX SOCK_STREAM connected pair"
has "$u" "AF_UNIX SOCK_DGRAM bound $d/sock remote -"
[ -n "$gone" ] || fail "$b: READY line without the closed pair's fds"
for fd in "$nul" "$gone"; do
	! grep -q -- "socket fd $fd " "$T/$b.out" ||
		{ grep 'socket fd' "$T/$b.out"; fail "$b: fd $fd recorded, but it is no socket"; }
done
touch "$d/stop"
wait_rc "$b" 0
log "socket calls recorded"
exit 0
