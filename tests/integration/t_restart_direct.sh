#!/bin/bash
# Uncompressed images written by the parasite straight from the program's memory (the direct
# page path, tracer/dump_pages_direct.c).
#  1. With DMTCP_GZIP=0 and DMTCP_DEBUG=1 a checkpoint of a program with 8 MiB of data (several
#     chunks and a short last one) says in the tracer's log that the parasite wrote the pages
#     with checksums from the blob, and the image is valid (every chunk checksum verified).
#     With DMTCP_DIRECT_PAGES=readback the container checksums the written bytes itself (the
#     path of a CPU without SSE4.2), again a valid image of as many pages.
#     With DMTCP_DIRECT_PAGES=0 the same program is written through the tracer instead, the
#     log says why, and it stores as many pages.
#  2. Images written that way restore: checkpoint -> kill -> restart cycles with DMTCP_GZIP=0
#     (each restarted computation is checkpointed again), the programs check their own memory.
#     One and several threads.
#  3. With DMTCP_GZIP=1, a program whose 80 MiB sample as incompressible takes the direct path
#     as well (its chunks would be stored raw anyway), and the image restores; with 80 MiB of
#     text the pages go through the tracer and are compressed.
# (The logs of part 2 cannot be checked: a restart reopens the program's stderr, the file the
# launching tracer logged into, and writes it from the saved offset.)
# Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

export DMTCP_GZIP=0
DIRECT='page bytes written by the parasite (direct path'

start_coord

# ---- 1. which path, and a valid image ----------------------------------------------------
# one_ckpt DIR [ENV...]: launch ckpt_bigmem with DMTCP_DEBUG, checkpoint it once, keep its
# log in DIR/launch.err and its --show output in DIR/show, kill it.
one_ckpt() {
	local w=$1 img
	shift
	mkdir -p "$w" && chmod 1777 "$w"
	rm -f "$T"/ckpt_*.dmtcp
	run_user env DMTCP_DEBUG=1 "$@" "$BIN/dmtcp_launch" "$(prog ckpt_bigmem)" "$w" 16 8 \
		>"$w/launch.out" 2>"$w/launch.err" &
	track $!
	wait_for_file "$w/facts"
	wait_peers 1
	run_user "$BIN/dmtcp_command" -bc >"$w/c.out" 2>&1 || { cat "$w/c.out" "$w/launch.err"; fail "checkpoint failed"; }
	img=$(ls "$T"/ckpt_*.dmtcp) || fail "no image"
	"$BIN/dmtcp_restart" --show "$img" >"$w/show" || { tail -n 3 "$w/show"; fail "image $img is not valid"; }
	"$BIN/dmtcp_command" -k >/dev/null 2>&1
	wait_peers 0
}
stored() { sed -n 's/^content: valid .* \([0-9]*\) pages stored)$/\1/p' "$1/show"; }
# near A B: page counts of two runs of the program agree (a separate process may differ by a
# few pages of stack or allocator state, never by the 8 MiB of data)
near() { [ "${1:-0}" -ge $((8 * 256)) ] && [ "${2:-0}" -ge $((8 * 256)) ] &&
	[ $(($1 - $2)) -le 16 ] && [ $(($2 - $1)) -le 16 ]; }

one_ckpt "$T/d1"
grep -q "$DIRECT" "$T/d1/launch.err" || { cat "$T/d1/launch.err"; fail "the direct path was not taken"; }
if grep -q sse4_2 /proc/cpuinfo; then
	grep "$DIRECT" "$T/d1/launch.err" | grep -q "checksums from the blob" ||
		fail "checksums not computed in the blob on an SSE4.2 CPU"
fi
grep -q "pages copied through the tracer" "$T/d1/launch.err" && fail "copy path taken as well"
p1=$(stored "$T/d1")
[ "${p1:-0}" -ge $((8 * 256)) ] || { tail -n 1 "$T/d1/show"; fail "direct image holds too few pages"; }
log "direct path: $(grep -o "[0-9]* $DIRECT.*" "$T/d1/launch.err"), $p1 pages"

one_ckpt "$T/d3" DMTCP_DIRECT_PAGES=readback
grep "$DIRECT" "$T/d3/launch.err" | grep -q "checksums read back" ||
	{ cat "$T/d3/launch.err"; fail "DMTCP_DIRECT_PAGES=readback: checksums not read back"; }
near "$(stored "$T/d3")" "$p1" || fail "read-back image stored $(stored "$T/d3") pages, not $p1"
log "direct path, checksums read back by the container: valid image"

one_ckpt "$T/d2" DMTCP_DIRECT_PAGES=0
grep -q "$DIRECT" "$T/d2/launch.err" && fail "DMTCP_DIRECT_PAGES=0 still took the direct path"
grep -q "pages copied through the tracer: DMTCP_DIRECT_PAGES=0" "$T/d2/launch.err" ||
	{ cat "$T/d2/launch.err"; fail "the copy path does not say why it was taken"; }
p2=$(stored "$T/d2")
near "$p1" "$p2" || fail "direct path stored $p1 pages, copy path $p2"
log "copy path with DMTCP_DIRECT_PAGES=0: $p2 pages"

# ---- 2. direct images restore ------------------------------------------------------------
rs_cycles "$(prog rs_counter)" 300 2
rs_cycles "$(prog rs_threads)" 300 2

# ---- 3. compression on: incompressible memory takes the direct path too ------------------
# gz_ckpt DIR random|text: rs_big with 80 MiB of that kind, DMTCP_GZIP=1, one checkpoint; its
# log in DIR/launch.err, the image's --show in DIR/show and its path in DIR/img. Left running.
gz_ckpt() {
	local w=$1
	mkdir -p "$w" && chmod 1777 "$w"
	rm -f "$T"/ckpt_*.dmtcp
	rs_outfile "$(basename "$w").out"
	# the program's stderr: a restart as the test user reopens it
	: >"$w/launch.err" && chmod 666 "$w/launch.err"
	run_user env DMTCP_GZIP=1 DMTCP_DEBUG=1 "$BIN/dmtcp_launch" "$(prog rs_big)" "$w/ready" 80 "$2" \
		>"$T/$(basename "$w").out" 2>"$w/launch.err" </dev/null 8>&- &
	track $!
	wait_for_file "$w/ready"
	wait_peers 1
	run_user env DMTCP_GZIP=1 "$BIN/dmtcp_command" -bc >"$w/c.out" 2>&1 ||
		{ cat "$w/c.out" "$w/launch.err"; fail "checkpoint failed"; }
	ls "$T"/ckpt_*.dmtcp >"$w/img" || fail "no image"
	"$BIN/dmtcp_restart" --show "$(cat "$w/img")" >"$w/show" ||
		{ tail -n 3 "$w/show"; fail "image $(cat "$w/img") is not valid"; }
}
size_of() { stat -c %s "$1"; }

gz_ckpt "$T/z1" random
grep -q "$DIRECT" "$T/z1/launch.err" ||
	{ cat "$T/z1/launch.err"; fail "DMTCP_GZIP=1 on random memory: the direct path was not taken"; }
[ "$(size_of "$(cat "$T/z1/img")")" -ge $((80 << 20)) ] || fail "random memory image is too small"
log "DMTCP_GZIP=1, 80 MiB random: $(grep -o "[0-9]* of [0-9]* samples look incompressible" "$T/z1/launch.err" | head -n 1); direct path"
# ... and it restores: the program writes a byte a millisecond again.
"$BIN/dmtcp_command" -k >/dev/null 2>&1
wait_peers 0
mv "$(cat "$T/z1/img")" "$T/z1/"
grown=$(size_of "$T/z1.out")
rs_run zrestart "$BIN/dmtcp_restart" -j "$T"/z1/ckpt_*.dmtcp >>"$T/z1.out"
rs_wait_running 1 zrestart
_grew() { [ "$(size_of "$T/z1.out")" -gt "$grown" ]; }
wait_until 20 _grew || fail "the restarted rs_big does not run"
"$BIN/dmtcp_command" -k >/dev/null 2>&1
wait_peers 0
log "its image restores"

gz_ckpt "$T/z2" text
grep -q "$DIRECT" "$T/z2/launch.err" && fail "DMTCP_GZIP=1 on text took the direct path"
grep -q "pages copied through the tracer to be compressed" "$T/z2/launch.err" ||
	{ cat "$T/z2/launch.err"; fail "the copy path does not say why it was taken"; }
[ "$(size_of "$(cat "$T/z2/img")")" -lt $((40 << 20)) ] || fail "text image was not compressed"
"$BIN/dmtcp_command" -k >/dev/null 2>&1
wait_peers 0
log "DMTCP_GZIP=1, 80 MiB text: compressed to $(size_of "$(cat "$T/z2/img")") bytes"
