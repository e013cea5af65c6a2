#!/bin/bash
# Checkpoint benchmarks (figures, never pass/fail), against same-run baselines.
#
#   bench/ckpt_bench.sh [DIR]     DIR: where images go (default /dev/shm/dmtcp-bench)
#
#  1. 1 GiB of incompressible data, DMTCP_GZIP=0 (the parasite writes the pages: the direct
#     path): checkpoint time vs `dd` of as many bytes to the same directory; then DMTCP_GZIP=1
#     on the same data; then DMTCP_GZIP=0 with the copy path (DMTCP_DIRECT_PAGES=0); then
#     compressible text.
#  2. 8 GiB mapped, 10 MiB touched: image size and checkpoint time.
#  3. The program's own longest pause: a program ticking every millisecond (ckpt_bigmem tick,
#     64 MiB touched) reports its longest gap between ticks across a checkpoint.
# Each figure is the median of 5 runs (after a warm-up checkpoint). The machine is shared: run it
# twice and distrust a figure that moves.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/bin
PROG=$TOP/build/tests/progs/ckpt_bigmem
D=${1:-/dev/shm/dmtcp-bench}
export PATH=$BIN:$PATH
rm -rf "$D" && mkdir -p "$D"
export DMTCP_CHECKPOINT_DIR=$D
unset DMTCP_COORD_HOST DMTCP_HOST DMTCP_PORT
"$BIN/dmtcp_coordinator" --port 0 --port-file "$D/port" --ckptdir "$D" --daemon --exit-on-last \
	>"$D/coord.log" 2>&1 || { echo "no coordinator"; exit 99; }
for i in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
export DMTCP_COORD_PORT=$(cat "$D/port")

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
wait_file() { local i; for i in $(seq 600); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

# ckpt_time [dd]: one warm-up checkpoint (fresh tmpfs pages cost more the first time), then 5
# rounds; prints the median wall seconds of dmtcp_command -bc. With "dd", each round first
# times a dd of 1 GiB to the same directory, so that the baseline shares the checkpoint's
# minutes; the rounds go to $D/rounds as "checkpoint dd" pairs.
#
# Both timed writes start with the same memory: this VM reports freed pages to its host
# (virtio_balloon free page reporting, feature bit 5), which takes them back about 2 s later,
# and writing into pages taken back costs host faults. Measured: a 1 GiB dd right after
# another's rm takes 0.35-0.57 s; the same dd 3 s later 1.4-2.1 s. So each round frees 1 GiB
# it has just written (prime) before its timed writes (the dd's own file is removed just
# before the checkpoint): each of them writes into pages freed a moment before.
ckpt_time() {
	local i t0 t1 d=
	"$BIN/dmtcp_command" -bc >/dev/null || { echo "checkpoint failed" >&2; return 1; }
	: >"$D/rounds"
	for i in 1 2 3 4 5; do
		dd if=/dev/zero of="$D/dd.out" bs=1M count=1024 status=none
		rm -f "$D/dd.out"
		if [ "${1:-}" = dd ]; then
			t0=$(now)
			dd if=/dev/zero of="$D/dd.out" bs=1M count=1024 conv=fsync status=none
			t1=$(now)
			rm -f "$D/dd.out"
			d=$(echo "$t1 - $t0" | bc -l)
		fi
		t0=$(now)
		"$BIN/dmtcp_command" -bc >/dev/null || { echo "checkpoint failed" >&2; return 1; }
		t1=$(now)
		echo "$(echo "$t1 - $t0" | bc -l) $d" >>"$D/rounds"
	done
	awk '{ print $1 }' "$D/rounds" | median
}
# The rounds' dd median, and the median of their checkpoint/dd ratios.
rounds_dd() { awk '{ print $2 }' "$D/rounds" | median; }
rounds_ratio() { awk '{ print $1 / $2 }' "$D/rounds" | median; }

# run_prog WORKDIR ARGS...: launch ckpt_bigmem, wait for its facts
run_prog() {
	local w=$1
	shift
	rm -rf "$w" && mkdir -p "$w"
	# (a subshell's job, so that its kill by dmtcp_command -k is not reported here)
	(dmtcp_launch "$PROG" "$w" "$@" >"$w/launch.out" 2>&1 &)
	wait_file "$w/facts" || { echo "program did not start"; cat "$w/launch.out"; exit 99; }
}
stop_prog() { "$BIN/dmtcp_command" -k >/dev/null 2>&1; sleep 0.5; rm -f "$D"/ckpt_*.dmtcp; }
img_size() { stat -c %s "$D"/ckpt_*.dmtcp | head -n 1; }

echo "== 1 GiB incompressible, images in $D"
# The tracer takes compression (and DMTCP_DIRECT_PAGES) from its environment when it is
# launched, not from dmtcp_command's: each setting gets its own launch.
export DMTCP_GZIP=0
run_prog "$D/w1" 1024 1024
t=$(ckpt_time dd)
rounds_dd >"$D/dd.t"
printf "dd 1 GiB (fsync), same rounds:    %.3f s\n" "$(cat "$D/dd.t")"
printf "checkpoint DMTCP_GZIP=0:          %.3f s  (%.2fx dd; per-round ratios: median %.2fx)  image %d bytes\n" \
	"$t" "$(echo "$t / $(cat "$D/dd.t")" | bc -l)" "$(rounds_ratio)" "$(img_size)"
printf "  against the fastest dd of the rounds (%.3f s): %.2fx\n" "$(awk '{ print $2 }' "$D/rounds" | sort -g | head -n 1)" \
	"$(echo "$t / $(awk '{ print $2 }' "$D/rounds" | sort -g | head -n 1)" | bc -l)"
echo "  rounds (checkpoint s, dd s): $(awk '{ printf "%s%.3f/%.3f", (NR > 1 ? ", " : ""), $1, $2 }' "$D/rounds")"
echo "$t" >"$D/raw.t"
stop_prog
# The same without the direct path (pages copied through the tracer), as a same-run baseline.
export DMTCP_DIRECT_PAGES=0
run_prog "$D/w1c" 1024 1024
t=$(ckpt_time dd)
printf "  copy path (DMTCP_DIRECT_PAGES=0): %.3f s  (%.2fx dd; per-round ratios: median %.2fx)\n" \
	"$t" "$(echo "$t / $(rounds_dd)" | bc -l)" "$(rounds_ratio)"
stop_prog
unset DMTCP_DIRECT_PAGES
export DMTCP_GZIP=1
run_prog "$D/w1z" 1024 1024
t=$(ckpt_time)
printf "checkpoint DMTCP_GZIP=1:          %.3f s  (%.2fx GZIP=0)  image %d bytes\n" "$t" \
	"$(echo "$t / $(cat "$D/raw.t")" | bc -l)" "$(img_size)"
stop_prog
run_prog "$D/w1t" 1024 1024 text
t=$(ckpt_time)
printf "compressible 1 GiB, DMTCP_GZIP=1: %.3f s  image %d bytes (%.1f MB/s of program memory)\n" \
	"$t" "$(img_size)" "$(echo "1024 / $t" | bc -l)"
stop_prog

echo "== 8 GiB mapped, 10 MiB touched"
export DMTCP_GZIP=0
run_prog "$D/w2" 8192 10
t=$(ckpt_time)
printf "checkpoint:                       %.3f s  (%.1f%% of the 1 GiB time)  image %d bytes\n" \
	"$t" "$(echo "100 * $t / $(cat "$D/raw.t")" | bc -l)" "$(img_size)"
stop_prog

echo "== longest pause seen by a program ticking every millisecond (64 MiB touched)"
for gz in 0 1; do
	export DMTCP_GZIP=$gz
	run_prog "$D/w3" 64 64 tick
	pid=$(sed -n 's/^pid //p' "$D/w3/facts")
	kill -USR2 "$pid"; wait_file "$D/w3/maxgap"; rm -f "$D/w3/maxgap"
	"$BIN/dmtcp_command" -bc >/dev/null
	kill -USR2 "$pid"; wait_file "$D/w3/maxgap"
	printf "DMTCP_GZIP=%d: longest gap %d us\n" "$gz" "$(cat "$D/w3/maxgap")"
	stop_prog
done
rm -rf "$D"
