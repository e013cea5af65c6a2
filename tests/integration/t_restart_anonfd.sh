#!/bin/bash
# eventfd, timerfd, signalfd and epoll across restarts: rs_anonfd checks its counters (a dup'ed
# eventfd is one description; a non-blocking close-on-exec semaphore), a periodic timer that
# runs on, an expired one-shot timer whose unread expiration stays exactly 1, an absolute
# realtime timer that still ends at its time, and a signalfd with a pending SIGUSR1 and a mask
# without SIGUSR2, an epoll set over a pipe and the eventfd (with their data; a spent one-shot
# watch stays spent) and a set watching that set; a child forked after all that shares it
# (two shared eventfds pass a token between them every step; at the end it checks the shared
# epoll set). Three cycles; --show and --json print the records.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_NPROCS=2 rs_cycles "$(prog rs_anonfd)" 150
img=$(ls "$T"/ckpt_rs_anonfd*.dmtcp | head -n 1)
"$BIN/dmtcp_restart" --show "$img" >"$T/show" 2>&1 || { cat "$T/show"; fail "--show failed"; }
for want in "eventfd count [05]\$" "eventfd count [0-3] semaphore" \
	"timerfd clock 1 relative value_ns [0-9]* interval_ns 10000000" \
	"timerfd clock 1 relative value_ns 0 interval_ns 0 ticks 1" \
	"timerfd clock 0 absolute value_ns [0-9]* interval_ns 0 ticks 0 cancel-on-set" \
	"signalfd sigmask 0x200\$" \
	"epoll watches 3 .*fd [0-9]+ events 0x19 data 0x1111222233334444" \
	"epoll watches 3 .*fd [0-9]+ events 0x19 data 0x55" \
	"epoll watches 3 .*fd [0-9]+ events 0x40000018 data 0x77" \
	"epoll watches 1 fd [0-9]+ events 0x19 data 0x99\$"; do
	grep -Eq "anon file [0-9]+ $want" "$T/show" || { grep 'anon file' "$T/show"; fail "no '$want' in --show"; }
done
"$BIN/dmtcp_restart" --show --json "$img" >"$T/json" 2>&1 || { cat "$T/json"; fail "--json failed"; }
grep -q '"kind": *"signalfd"' "$T/json" || fail "no signalfd record in --json"
exit 0
