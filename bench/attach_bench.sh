#!/bin/bash
# Attach benchmark (part of `make bench`): figures and ratios against a same-run baseline,
# never pass/fail.
#
#   bench/attach_bench.sh [ROUNDS]     (default 5; each figure is the median of the rounds)
#
# b_attach (bench/b_attach.c) runs 64 threads with 1 GiB resident. Per round:
#   attach    wall time of "dmtcp_launch --attach PID" until it returns (every thread seized,
#             the tree held once and let go, the coordinator peer opened)
#   loop      ns per round of cheap untrapped syscalls (getppid, pipe write+read,
#             clock_gettime), bare and after the attach (no filter is installed: the ratio
#             should be ~1.00; the order of the two alternates from round to round)
# (checkpoint times are bench/ckpt_bench.sh's.)
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
ROUNDS=${1:-5}
OUT=$TOP/build/bench
mkdir -p "$OUT"
CC=${CC:-gcc}
$CC -O2 -Wall -Wextra -Werror -pthread -o "$OUT/b_attach" bench/b_attach.c || exit 1
[ -x bin/dmtcp_launch ] && [ -x bin/dmtcp_coordinator ] && [ -x bin/dmtcp_command ] ||
	{ echo "bench: build the commands first (make)"; exit 1; }

W=$(mktemp -d /tmp/dmtcp-bench.XXXXXX)
COORD=
PROG=
cleanup() {
	[ -n "$PROG" ] && kill -KILL "$PROG" 2>/dev/null
	[ -n "$COORD" ] && kill "$COORD" 2>/dev/null
	exec 3>&- 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
bin/dmtcp_coordinator --port 0 --port-file "$W/port" --ckptdir "$W" </dev/null >"$W/coord.out" 2>&1 &
COORD=$!
for _ in $(seq 200); do [ -s "$W/port" ] && break; sleep 0.05; done
[ -s "$W/port" ] || { echo "bench: the coordinator did not start"; cat "$W/coord.out"; exit 1; }
export DMTCP_COORD_PORT=$(cat "$W/port")
export DMTCP_CHECKPOINT_DIR=$W

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

ITERS=300000
# start_prog: b_attach in the background, its stdin a fifo (fd 3), its pid in PROG once READY.
start_prog() {
	rm -f "$W/in" "$W/out"
	mkfifo "$W/in"
	"$OUT/b_attach" 64 1024 $ITERS <"$W/in" >"$W/out" 2>&1 &
	PROG=$!
	exec 3>"$W/in"
	for _ in $(seq 600); do grep -q '^READY' "$W/out" 2>/dev/null && return 0; sleep 0.05; done
	echo "bench: b_attach did not start"; cat "$W/out"; exit 1
}
# run_loop: let the timed loop run; its ns per round.
run_loop() {
	echo go >&3
	wait "$PROG" || { echo "bench: b_attach failed"; cat "$W/out"; exit 1; }
	PROG=
	exec 3>&-
	# its tracer, if any, gone from the coordinator before the next round (or the end)
	for _ in $(seq 250); do
		bin/dmtcp_command -s 2>/dev/null | grep -q '^NUM_PEERS=0' && break
		sleep 0.02
	done
	sed -n '2p' "$W/out"
}

: >"$W/bare" ; : >"$W/att" ; : >"$W/attach"
bare_round() {
	start_prog
	run_loop >>"$W/bare"
}
attached_round() {
	local t0
	start_prog
	t0=$(date +%s%N)
	bin/dmtcp_launch --attach "$PROG" || { echo "bench: the attach failed"; exit 1; }
	ms_since "$t0" >>"$W/attach"
	run_loop >>"$W/att"
}
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then bare_round; attached_round; else attached_round; bare_round; fi
	echo "round $r: attach $(tail -n 1 "$W/attach") ms, loop bare $(tail -n 1 "$W/bare") ns, attached $(tail -n 1 "$W/att") ns"
done
bare=$(median <"$W/bare")
att=$(median <"$W/att")
echo
echo "attach: 64 threads, 1 GiB resident; medians of $ROUNDS rounds"
printf '  %-34s %10s ms\n' "dmtcp_launch --attach" "$(median <"$W/attach")"
printf '  %-34s %10s ns  bare %s ns  ratio %s\n' "cheap syscall loop, attached" "$att" "$bare" "$(ratio "$att" "$bare")"
