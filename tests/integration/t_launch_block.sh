#!/bin/bash
# Suspend/resume transparency: l_block (dynamic and static at once, each with a child) has a
# thread asleep in each of read, poll, poll with a timeout, nanosleep, accept, waitpid,
# pthread_cond_wait, pthread_mutex_lock and epoll_wait. Three checkpoints run through the
# coordinator while they sleep; then the test releases the calls and each program checks that
# every call completed normally (no EINTR) and that timed calls took their time, no more, no
# less. The static one runs under a tracer that never spins (DMTCP_TRACER_SPIN_US=0), so
# that both ways of waiting for stops are covered.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
for v in dyn static; do
	mkdir -m 777 "$T/$v"
	(cd "$T/$v" && mkfifo -m 666 fifo_read fifo_poll fifo_never fifo_child fifo_cond fifo_epoll) ||
		harness_fail "mkfifo"
done
launch_bg dyn -j "$PROGS/l_block" "$T/dyn"
DMTCP_TRACER_SPIN_US=0 launch_bg static -j "$PROGS/l_block.static" "$T/static"
wait_for_line "$T/dyn.out" '^READY'
wait_for_line "$T/static.out" '^READY'
wait_peers 4

for i in 1 2 3; do
	ckpt $i
done
[ "$(status_field CKPT_COUNT)" = 3 ] || fail "coordinator counts $(status_field CKPT_COUNT) checkpoints, not 3"
# The checkpoints must have hit the sleeping calls, or this test proves nothing.
if grep -q '^ok \|^FAIL' "$T/dyn.out" "$T/static.out"; then
	cat "$T/dyn.out" "$T/static.out"
	fail "a blocking call returned before the checkpoints were done"
fi

for v in dyn static; do
	port=$(sed -n 's/^READY //p' "$T/$v.out")
	d=$T/$v
	echo x >"$d/fifo_read"
	echo x >"$d/fifo_poll"
	echo x >"$d/fifo_epoll"
	echo x >"$d/fifo_child"
	exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to $v's port $port"
	exec 3>&-
	echo x >"$d/fifo_cond"
done
wait_rc dyn 0
wait_rc static 0
for v in dyn static; do
	for call in read poll poll_timeout nanosleep accept waitpid cond_wait mutex_lock epoll_wait; do
		grep -q "^ok $call\$" "$T/$v.out" || { cat "$T/$v.out"; fail "$v: no 'ok $call'"; }
	done
	grep -q '^PASS$' "$T/$v.out" || { cat "$T/$v.out"; fail "$v did not pass"; }
done
log "9 blocking calls x 2 builds transparent across 3 checkpoints"
exit 0
