#!/bin/bash
# Socket checkpoint benchmark (figures, never pass/fail): 16 processes holding 1000 loopback
# TCP connections (bench/b_conns.c), checkpointed with 64 KiB waiting unread on every
# connection (62.5 MiB in flight in all) and with nothing in flight, the same computation
# otherwise. Prints, for each, the median wall time of dmtcp_command -bc (which includes the
# drain step and the peeks of every queue), the images' total size, and the time a restart
# takes until the 16 processes run again (which includes making every connection again and
# refilling its queue).
#
#   bench/sock_bench.sh [ROUNDS]      (default 5; DIR for images: /dev/shm/dmtcp-sock-bench)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/bin
ROUNDS=${1:-5}
D=/dev/shm/dmtcp-sock-bench
OUT=$TOP/build/bench
mkdir -p "$OUT"
${CC:-gcc} -O2 -Wall -Wextra -Werror -o "$OUT/b_conns" "$TOP/bench/b_conns.c" || exit 1
rm -rf "$D" && mkdir -p "$D"
export DMTCP_CHECKPOINT_DIR=$D
"$BIN/dmtcp_coordinator" --port 0 --port-file "$D/port" --ckptdir "$D" </dev/null \
	>"$D/coord.log" 2>&1 &
COORD=$!
trap 'kill $COORD 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.05; done
export DMTCP_COORD_PORT=$(cat "$D/port")

now() { date +%s%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
wait_file() { local i; for i in $(seq 1200); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
running() { "$BIN/dmtcp_command" -s 2>/dev/null | grep -q "^NUM_PEERS=$1$" &&
	"$BIN/dmtcp_command" -s 2>/dev/null | grep -q '^RUNNING=yes$'; }

# one BYTES: launch, ROUNDS checkpoints timed, then kill and restart timed; one table row
one() {
	local bytes=$1 w=$D/w$1 t0 t1 i size rs lp rp
	rm -rf "$w" && mkdir -p "$w"
	rm -f "$D"/ckpt_*.dmtcp
	"$BIN/dmtcp_launch" -j "$OUT/b_conns" 16 1000 "$bytes" "$w" >"$w/out" 2>"$w/err" &
	lp=$!
	wait_file "$w/ready" || { echo "b_conns did not get ready"; cat "$w/err"; return 1; }
	"$BIN/dmtcp_command" -bc >/dev/null || { echo "checkpoint failed"; return 1; }
	: >"$w/bc"
	for ((i = 0; i < ROUNDS; i++)); do
		t0=$(now)
		"$BIN/dmtcp_command" -bc >/dev/null || { echo "checkpoint failed"; return 1; }
		t1=$(now)
		echo $(((t1 - t0) / 1000000)) >>"$w/bc"
	done
	size=$(du -cb "$D"/ckpt_*.dmtcp | tail -n 1 | cut -f1)
	"$BIN/dmtcp_command" -k >/dev/null
	wait "$lp" 2>/dev/null
	for _ in $(seq 200); do running 0 && break; "$BIN/dmtcp_command" -s 2>/dev/null |
		grep -q '^NUM_PEERS=0$' && break; sleep 0.05; done
	t0=$(now)
	"$BIN/dmtcp_restart" "$D"/ckpt_*.dmtcp >"$w/rout" 2>"$w/rerr" &
	rp=$!
	for _ in $(seq 1200); do running 16 && break; sleep 0.02; done
	t1=$(now)
	rs=$(((t1 - t0) / 1000000))
	touch "$w/stop"
	"$BIN/dmtcp_command" -k >/dev/null
	wait "$rp" 2>/dev/null
	printf '%-22s %12s %14s %14s\n' "$((bytes / 1024)) KiB x 1000" "$(median <"$w/bc")" \
		"$((size / 1048576))" "$rs"
}
echo "16 processes, 1000 loopback TCP connections: -bc ms (median of $ROUNDS), images MiB, restart ms"
printf '%-22s %12s %14s %14s\n' "in flight" "checkpoint" "images" "restart"
one 0
one 65536
echo "The difference between the rows is the cost of 62.5 MiB in flight: peeked at the checkpoint"
echo "(DMTCP_GZIP as set; default compressed), sent again through each connection at restart."
