#!/bin/bash
# Suspend/resume transparency: l_block (with a child) has a thread asleep in each of read, poll,
# poll with a timeout, nanosleep, accept, waitpid, pthread_cond_wait, pthread_mutex_lock and
# epoll_wait. Three checkpoints run through the coordinator while they sleep; then the test
# releases the calls and the program checks that every call completed normally (no EINTR) and
# that timed calls took their time, no more, no less. The static build runs under a tracer that
# never spins (DMTCP_TRACER_SPIN_US=0), so that both ways of waiting for stops are covered.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
d=$T/$BUILD
mkdir -m 777 "$d"
(cd "$d" && mkfifo -m 666 fifo_read fifo_poll fifo_never fifo_child fifo_cond fifo_epoll) ||
	harness_fail "mkfifo"
if [ "$BUILD" = static ]; then
	export DMTCP_TRACER_SPIN_US=0
fi
launch_bg "$BUILD" -j "$(prog l_block)" "$d"
out=$T/$BUILD.out
wait_for_line "$out" '^READY'
wait_peers 2

for i in 1 2 3; do
	ckpt $i
done
[ "$(status_field CKPT_COUNT)" = 3 ] || fail "coordinator counts $(status_field CKPT_COUNT) checkpoints, not 3"
# The checkpoints must have hit the sleeping calls, or this test proves nothing.
if grep -q '^ok \|^FAIL' "$out"; then
	cat "$out"
	fail "a blocking call returned before the checkpoints were done"
fi

port=$(sed -n 's/^READY //p' "$out")
echo x >"$d/fifo_read"
echo x >"$d/fifo_poll"
echo x >"$d/fifo_epoll"
echo x >"$d/fifo_child"
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to $BUILD's port $port"
exec 3>&-
echo x >"$d/fifo_cond"
wait_rc "$BUILD" 0
for call in read poll poll_timeout nanosleep accept waitpid cond_wait mutex_lock epoll_wait; do
	grep -q "^ok $call\$" "$out" || { cat "$out"; fail "$BUILD: no 'ok $call'"; }
done
grep -q '^PASS$' "$out" || { cat "$out"; fail "$BUILD did not pass"; }
log "9 blocking calls transparent across 3 checkpoints ($BUILD)"
exit 0
