#!/bin/bash
# Runtime-overhead benchmark of dmtcp_launch (what `make bench` runs). Prints figures and
# ratios against baselines measured in the same run; never pass/fail.
#
#   bench/run.sh [ROUNDS]      (default 5 rounds; each figure is the median of the rounds)
#
# Rows:
#   cheap     getppid + pipe write/read + clock_gettime per iteration: untrapped syscalls
#   compute   arithmetic only
#   fork      fork + waitpid (trapped: fork family)
#   sockpair  socketpair + 2 close (trapped: socket family)
#   forksock  fork + waitpid + socketpair + 2 close: both families in one loop
#   tcppp     64-byte TCP ping-pong over loopback with a forked child: ns per round trip
#   tcpbulk   1 GiB over loopback TCP to a forked child, 64 KiB writes: ns per MiB
#             (send/recv are never trapped: both must cost what the allow-all floor costs)
# Columns: bare; under a one-instruction allow-all filter (the floor any filter costs), with
# and without SECCOMP_FILTER_FLAG_SPEC_ALLOW; under a 17-instruction linear filter (what a
# flat list of the trapped numbers would cost); under dmtcp_launch. Then suspend+resume of a
# 64-thread process, timed by the tracer itself (DMTCP_TRACER_TIMINGS=1).
set -u
cd "$(dirname "$0")/.."
TOP=$(pwd)
ROUNDS=${1:-5}
OUT=$TOP/build/bench
mkdir -p "$OUT"
CC=${CC:-gcc}
$CC -O2 -Wall -Wextra -Werror -o "$OUT/b_loops" bench/b_loops.c || exit 1
$CC -O2 -Wall -Wextra -Werror -pthread -o "$OUT/b_threads" bench/b_threads.c || exit 1
[ -x bin/dmtcp_launch ] && [ -x bin/dmtcp_coordinator ] && [ -x bin/dmtcp_command ] ||
	{ echo "bench: build the commands first (make)"; exit 1; }

W=$(mktemp -d /tmp/dmtcp-bench.XXXXXX)
COORD=
cleanup() {
	[ -n "$COORD" ] && kill "$COORD" 2>/dev/null
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

B=$OUT/b_loops
declare -A iters=([cheap]=300000 [compute]=200000000 [fork]=1500 [sockpair]=20000 [forksock]=1500
	[tcppp]=20000 [tcpbulk]=1024)
cols=(bare allow allow-nospec linear launch)
run_col() {
	local col=$1 mode=$2 n=$3
	case $col in
	bare) "$B" "$mode" "$n" ;;
	launch) bin/dmtcp_launch -j "$B" "$mode" "$n" 2>>"$W/launch.err" ;;
	*) "$B" --filter="$col" "$mode" "$n" ;;
	esac
}

# Warm-up: first touches of fresh memory and caches cost several times more.
for mode in cheap fork; do run_col bare $mode 200 >/dev/null; run_col launch $mode 200 >/dev/null; done

echo "dmtcp_launch runtime overhead: ns per iteration, median of $ROUNDS interleaved rounds"
printf '%-9s %10s %10s %12s %10s %10s   %9s %9s\n' loop "${cols[@]}" launch/bare launch/floor
for mode in cheap compute fork sockpair forksock tcppp tcpbulk; do
	declare -A res=()
	for col in "${cols[@]}"; do : >"$W/$mode.$col"; done
	for ((r = 0; r < ROUNDS; r++)); do
		# Interleaved, so that load from other users of the machine hits every column alike.
		for col in "${cols[@]}"; do
			run_col "$col" "$mode" "${iters[$mode]}" >>"$W/$mode.$col"
		done
	done
	for col in "${cols[@]}"; do res[$col]=$(median <"$W/$mode.$col"); done
	printf '%-9s %10s %10s %12s %10s %10s   %9s %9s\n' "$mode" "${res[bare]}" "${res[allow]}" \
		"${res[allow-nospec]}" "${res[linear]}" "${res[launch]}" \
		"$(ratio "${res[launch]}" "${res[bare]}")x" "$(ratio "${res[launch]}" "${res[allow]}")x"
	# socketpair stops once (its seccomp stop), close not at all: the difference is the
	# round trip of one ptrace-stop through the tracer, the floor of any trapped call.
	[ "$mode" = sockpair ] && stop_ns=$(awk -v a="${res[launch]}" -v b="${res[bare]}" \
		'BEGIN { printf "%.0f", a - b }')
	unset res
done
echo "targets: cheap, tcppp and tcpbulk <= 1.02x the floor (allow); compute <= 1.01x bare;"
echo "fork and sockpair <= 1.5x bare"
echo "one trapped-call round trip (sockpair launch - bare; one stop per iteration): ${stop_ns:-?} ns;"
echo "a fork pays three (its seccomp stop, PTRACE_EVENT_FORK, the child's first stop); the tracer spins"
echo "DMTCP_TRACER_SPIN_US (default 200) after each stop (docs/architecture.md, Trapped-syscall cost)"

# Suspend + resume of a 64-thread process.
threads_bench() {
	local what=$1 extra=$2 lp t0 t1 sus nth res bc
	rm -rf "$W/t"
	mkdir -p "$W/t"
	DMTCP_TRACER_TIMINGS=1 bin/dmtcp_launch -j --log-level info "$OUT/b_threads" 64 "$W/t" $extra \
		>"$W/threads.out" 2>"$W/threads.err" &
	lp=$!
	for _ in $(seq 400); do grep -q READY "$W/threads.out" && break; sleep 0.05; done
	grep -q READY "$W/threads.out" || { echo "bench: b_threads did not start"; cat "$W/threads.err"; return; }
	: >"$W/bc.us"
	for ((r = 0; r < ROUNDS; r++)); do
		t0=$(date +%s%N)
		bin/dmtcp_command -bc >/dev/null 2>&1 || echo "bench: checkpoint $r failed"
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >>"$W/bc.us"
	done
	touch "$W/t/stop"
	wait $lp
	sus=$(sed -n 's/.*suspended \([0-9]*\) threads in \([0-9]*\) us.*/\2/p' "$W/threads.err" | median)
	nth=$(sed -n 's/.*suspended \([0-9]*\) threads in.*/\1/p' "$W/threads.err" | head -n 1)
	res=$(sed -n 's/.*resumed \([0-9]*\) threads in \([0-9]*\) us.*/\2/p' "$W/threads.err" | median)
	bc=$(median <"$W/bc.us")
	printf '%-28s %8s %12s %10s %14s %16s\n' "$what" "${nth:-?}" "$sus" "$res" \
		"$(awk -v a="$sus" -v b="$res" 'BEGIN { print a + b }')" "$bc"
}
echo
echo "suspend+resume of a 64-thread process: us, tracer's own timings, median of $ROUNDS checkpoints"
printf '%-28s %8s %12s %10s %14s %16s\n' process threads suspend resume suspend+resume "whole -bc"
threads_bench "64 threads, 32 computing" ""
threads_bench "64 threads, all blocked" blocked
echo "suspend: barrier received -> every thread stopped; resume: every thread let go (the"
echo "tracer competes for the CPUs with the threads it has already let go); whole -bc includes"
echo "the checkpoint steps. Target: suspend+resume < 10000 us."
