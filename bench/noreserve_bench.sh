#!/bin/bash
# Cost of huge reservations (figures, never pass/fail).
#
#   bench/noreserve_bench.sh [RUNS] [DIR]   defaults: 3 runs, images in /dev/shm/dmtcp-nrbench
#
# rs_noreserve holds a 2 TiB and a 64 GiB read+write MAP_NORESERVE region and a 1 TiB PROT_NONE
# reservation, 7 pages written in all. Per run: checkpoint it (dmtcp_command -bc, ms), kill,
# restart it (ms from the command until the program counts again) and take the peak RSS of
# the restart: the highest VmHWM of its processes (the command, the tracer it forks, the
# reaper) and of the restored process, whose VmHWM includes the staging and the restorer's
# copy (the same mm); /usr/bin/time -v's "Maximum resident set size" of the command alone is
# printed beside it. Medians, with the image size.
# Staging and restore should cost the pages present: a few ms and a few MiB, not the 3 TiB
# reserved.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/bin
PROG=$TOP/build/tests/progs/rs_noreserve
RUNS=${1:-3}
D=${2:-/dev/shm/dmtcp-nrbench}
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
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
peers() { "$BIN/dmtcp_command" -s 2>/dev/null | sed -n 's/^NUM_PEERS=//p'; }
wait_peers0() { for _ in $(seq 600); do [ "$(peers)" = 0 ] && return; sleep 0.05; done; }
lines() { wc -l <"$D/out"; }

: >"$D/ckpt" ; : >"$D/restart" ; : >"$D/rss" ; : >"$D/hwm"
rm -f "$D/ready"
"$BIN/dmtcp_launch" "$PROG" "$D/ready" 1000000 >"$D/out" 2>>"$D/launch.err" &
lp=$!
for _ in $(seq 1200); do [ -s "$D/ready" ] && break; sleep 0.05; done
for run in $(seq "$RUNS"); do
	t0=$(now)
	"$BIN/dmtcp_command" -bc >/dev/null || { echo "checkpoint failed"; exit 1; }
	t1=$(now)
	echo $(((t1 - t0) / 1000000)) >>"$D/ckpt"
	"$BIN/dmtcp_command" -k >/dev/null 2>&1
	wait $lp 2>/dev/null
	wait_peers0
	img=$(ls "$D"/ckpt_rs_noreserve_*.dmtcp)
	size=$(stat -c %s "$img")
	n0=$(lines)
	t0=$(now)
	/usr/bin/time -v -o "$D/time.$run" "$BIN/dmtcp_restart" "$img" >>"$D/out" \
		2>>"$D/restart.err" &
	lp=$!
	while [ "$(lines)" -le "$n0" ]; do
		if ! kill -0 $lp 2>/dev/null || [ $((($(now) - t0) / 1000000000)) -gt 120 ]; then
			echo "restart did not bring the program back:" >&2
			tail -n 5 "$D/restart.err" >&2
			exit 1
		fi
	done
	t1=$(now)
	echo $(((t1 - t0) / 1000000)) >>"$D/restart"
	grep -q FAIL "$D/out" && { grep FAIL "$D/out"; exit 1; }
	hwm=0
	for p in $(pgrep -f "dmtcp_restart $img") $(pgrep -f "rs_noreserve $D/ready"); do
		h=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$p/status 2>/dev/null)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
	done
	echo "$hwm" >>"$D/hwm"
	# /usr/bin/time's figure is known once dmtcp_restart ends: after the next kill
	[ "$run" -gt 1 ] && sed -n 's/.*Maximum resident set size (kbytes): //p' \
		"$D/time.$((run - 1))" >>"$D/rss"
done
"$BIN/dmtcp_command" -k >/dev/null 2>&1
wait $lp 2>/dev/null
sed -n 's/.*Maximum resident set size (kbytes): //p' "$D/time.$RUNS" >>"$D/rss"
printf '%-5s %10s %14s %12s %18s %18s\n' runs "image KiB" "checkpoint ms" "restart ms" \
	"peak VmHWM KiB" "time -v maxRSS KiB"
printf '%-5s %10s %14s %12s %18s %18s\n' "$RUNS" $((size >> 10)) "$(median <"$D/ckpt")" \
	"$(median <"$D/restart")" "$(median <"$D/hwm")" "$(median <"$D/rss")"
echo "checkpoint: dmtcp_command -bc until the image is committed; restart: dmtcp_restart start"
echo "-> the program counts again; peak VmHWM: the highest of the restart's processes and the"
echo "restored one (staging included); time -v: the dmtcp_restart command's own; medians."
