#!/bin/bash
# Restart benchmark (figures, never pass/fail), against a same-run baseline.
#
#   bench/restart_bench.sh [MIB] [DIR]   defaults: 1024 MiB, images in /dev/shm/dmtcp-rbench
#
# For random (incompressible) and text (compressible) memory, with DMTCP_GZIP=0 and =1: launch
# rs_big with MIB MiB written, checkpoint, kill, then time dmtcp_restart from the command to
# the moment the program runs again (its heartbeat on stdout grows), 3 times, median; next to
# it the median time of `cp` of the same image file to the same directory. Target: restart of
# the uncompressed image <= 1.5x that copy.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/bin
PROG=$TOP/build/tests/progs/rs_big
MIB=${1:-1024}
D=${2:-/dev/shm/dmtcp-rbench}
[ -x "$PROG" ] && [ -x "$BIN/dmtcp_restart" ] || { echo "build first (make)"; exit 1; }
rm -rf "$D" && mkdir -p "$D"
export DMTCP_CHECKPOINT_DIR=$D
unset DMTCP_COORD_HOST DMTCP_HOST DMTCP_PORT
"$BIN/dmtcp_coordinator" --port 0 --port-file "$D/port" --ckptdir "$D" </dev/null \
	>"$D/coord.log" 2>&1 &
COORD=$!
trap 'kill $COORD 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$D"' EXIT
for _ in $(seq 200); do [ -s "$D/port" ] && break; sleep 0.05; done
export DMTCP_COORD_PORT=$(cat "$D/port")

now() { date +%s%N; }
median() { sort -g | sed -n 2p; }
peers() { "$BIN/dmtcp_command" -s 2>/dev/null | sed -n 's/^NUM_PEERS=//p'; }
wait_peers0() { for _ in $(seq 600); do [ "$(peers)" = 0 ] && return; sleep 0.05; done; }
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# restart_time IMG: ms from starting dmtcp_restart until the heartbeat grows; leaves it killed.
restart_time() {
	local img=$1 s0 t0 t1 rp
	s0=$(size "$D/beat")
	t0=$(now)
	"$BIN/dmtcp_restart" "$img" 2>>"$D/restart.err" &
	rp=$!
	while [ "$(size "$D/beat")" -le "$s0" ]; do
		if ! kill -0 $rp 2>/dev/null || [ $((($(now) - t0) / 1000000000)) -gt 120 ]; then
			echo "restart did not bring the program back:" >&2
			tail -n 5 "$D/restart.err" >&2
			echo nan
			return
		fi
	done
	t1=$(now)
	"$BIN/dmtcp_command" -k >/dev/null 2>&1
	wait $rp
	wait_peers0
	echo $(((t1 - t0) / 1000000))
}

printf '%-8s %-5s %10s %12s %10s %10s\n' memory gzip "image MiB" "restart ms" "cp ms" ratio
for data in random text; do
	for gz in 0 1; do
		export DMTCP_GZIP=$gz
		rm -f "$D"/ckpt_*.dmtcp "$D/ready"
		: >"$D/beat"
		"$BIN/dmtcp_launch" "$PROG" "$D/ready" "$MIB" $data >"$D/beat" 2>>"$D/launch.err" &
		lp=$!
		for _ in $(seq 1200); do [ -s "$D/ready" ] && break; sleep 0.05; done
		"$BIN/dmtcp_command" -bc >/dev/null || { echo "checkpoint failed"; exit 1; }
		"$BIN/dmtcp_command" -k >/dev/null 2>&1
		wait $lp 2>/dev/null
		wait_peers0
		img=$(ls "$D"/ckpt_rs_big_*.dmtcp)
		# Warm-up restart (first touches cost more), then the measured ones.
		restart_time "$img" >/dev/null
		r=$(for i in 1 2 3; do restart_time "$img"; done | median)
		c=$(for i in 1 2 3; do
			t0=$(now); cp "$img" "$D/copy"; t1=$(now); rm -f "$D/copy"
			echo $(((t1 - t0) / 1000000))
		done | median)
		printf '%-8s %-5s %10s %12s %10s %10s\n' $data $gz $(($(size "$img") >> 20)) "$r" "$c" \
			"$(awk -v a="$r" -v b="$c" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "nan" }')"
	done
done
echo "restart: dmtcp_restart start -> the program runs again (validation of every checksum,"
echo "tree, decompression into staging, restorer mremap, tracer seize, coordinator barriers)."
