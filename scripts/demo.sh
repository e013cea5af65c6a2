#!/bin/bash
# make demo: show the project working end to end.
#
# For now (launch and restart are being built): start a coordinator on a free port, let the
# test client fakepeer play a computation of three processes, show dmtcp_command -s, -l and
# --json, checkpoint it with -bc (images and restart script land in a scratch directory),
# and quit. Every wait is on an explicit signal (port file, a printed line), bounded.
set -eu
cd "$(dirname "$0")/.."
BIN=$PWD/bin
FAKEPEER=$PWD/build/tests/tools/fakepeer
for f in "$BIN/dmtcp_coordinator" "$BIN/dmtcp_command"; do
	[ -x "$f" ] || { echo "demo: $f is not built (run make)" >&2; exit 1; }
done
dir=$(mktemp -d /tmp/dmtcp-demo.XXXXXX)
coord_pid=
peer_pid=
cleanup() {
	[ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null
	[ -n "$coord_pid" ] && kill "$coord_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# wait_for N CMD...: retry CMD every 50 ms for at most N seconds.
wait_for() {
	local i=0 n=$(($1 * 20))
	shift
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $n ] && { echo "demo: timed out waiting for: $*" >&2; exit 1; }
		sleep 0.05
	done
}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "start a coordinator on a free port (checkpoint directory $dir)"
"$BIN/dmtcp_coordinator" --port 0 --port-file "$dir/port" --ckptdir "$dir" \
	--coord-logfile "$dir/coord.log" </dev/null >/dev/null 2>&1 &
coord_pid=$!
wait_for 10 test -s "$dir/port"
export DMTCP_COORD_PORT
DMTCP_COORD_PORT=$(cat "$dir/port")
echo "coordinator pid $coord_pid listening on port $DMTCP_COORD_PORT"

step "status of an empty coordinator"
run "$BIN/dmtcp_command" -s

if [ -x "$FAKEPEER" ]; then
	step "three processes join (played by the test client fakepeer)"
	"$FAKEPEER" -p "$DMTCP_COORD_PORT" -n 3 --prog demo-app --image-dir "$dir" \
		>"$dir/peers.out" 2>&1 &
	peer_pid=$!
	wait_for 10 grep -q '^ready$' "$dir/peers.out"
	run "$BIN/dmtcp_command" -l
	run "$BIN/dmtcp_command" -s
	step "checkpoint and wait for it (-bc)"
	run "$BIN/dmtcp_command" -bc
	run ls -l "$dir"
fi

COUNTER=$PWD/build/tests/progs/rs_counter
if [ -x "$BIN/dmtcp_launch" ] && [ -x "$BIN/dmtcp_restart" ] && [ -x "$COUNTER" ]; then
	[ -n "$peer_pid" ] && { run "$BIN/dmtcp_command" -k; wait "$peer_pid" 2>/dev/null; peer_pid=; }
	step "launch a counting program under dmtcp_launch"
	"$BIN/dmtcp_launch" "$COUNTER" "$dir/ready" 150 >"$dir/count.out" 2>"$dir/launch.err" &
	launch_pid=$!
	wait_for 10 test -s "$dir/ready"
	wait_for 10 grep -q '^count 10$' "$dir/count.out"
	tail -n 2 "$dir/count.out"
	step "checkpoint it, then kill it"
	run "$BIN/dmtcp_command" -bc
	run "$BIN/dmtcp_command" -k
	wait "$launch_pid" || true
	echo "killed at: $(tail -n 1 "$dir/count.out")"
	step "restart it from its image: it goes on counting with the same pid"
	run "$BIN/dmtcp_restart" "$dir"/ckpt_rs_counter_*.dmtcp 2>"$dir/restart.err" &
	restart_pid=$!
	wait_for 20 grep -q '^PASS' "$dir/count.out"
	wait "$restart_pid"
	echo "dmtcp_restart exited with the program's status: $?"
	tail -n 3 "$dir/count.out"
	echo "pid before: $(cat "$dir/ready")"
fi

step "the same status as JSON"
run "$BIN/dmtcp_command" --json -s

step "quit (kills the computation, then the coordinator)"
run "$BIN/dmtcp_command" -q
wait_for 10 sh -c "! kill -0 $coord_pid"
coord_pid=
echo
echo "coordinator log:"
sed 's/^/  /' "$dir/coord.log"
