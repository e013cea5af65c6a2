#!/bin/bash
# Failed checkpoints leave everything as it was.
#  1. Disk full: the checkpoint dir is a small tmpfs. A first checkpoint fits; the program
#     grows; the next checkpoint fails with "No space left on device", leaves no temporary
#     file, keeps the previous image byte for byte, and the program runs on; after the tmpfs is
#     enlarged the program checkpoints again.
#  2. A process killed while its image is being written: the checkpoint fails with a reason
#     naming the exit, no temporary file remains, the other process's previous image is
#     untouched, and the survivor is still running and checkpointable.
# Mounting the tmpfs needs root (the programs themselves run unprivileged in that variant).
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || skip "mounting a small tmpfs as checkpoint dir needs root"
trap 'umount -l "$T/small" "$T/mid" 2>/dev/null; _cleanup' EXIT
fact() { sed -n "s/^$2 //p" "$1/facts"; }
no_temp() { ! ls -a "$1" | grep -q '^\.ckpt_.*\.tmp\.'; }
export DMTCP_GZIP=0

start_coord

# ---- 1. disk full -------------------------------------------------------------------------
mkdir -p "$T/small" "$T/w1" && chmod 1777 "$T/w1"
mount -t tmpfs -o size=8m,mode=1777 tmpfs "$T/small" || skip "cannot mount tmpfs here"
export DMTCP_CHECKPOINT_DIR=$T/small
run_user "$BIN/dmtcp_launch" "$PROGS/ckpt_bigmem" "$T/w1" 40 1 >"$T/w1/launch.out" 2>&1 &
track $!
wait_for_file "$T/w1/facts"
pid=$(fact "$T/w1" pid)
wait_peers 1
"$BIN/dmtcp_command" -bc >"$T/c1.out" 2>&1 || { cat "$T/c1.out" "$T/w1/launch.out"; fail "first checkpoint failed"; }
img=$(ls "$T"/small/ckpt_*.dmtcp) || fail "no image"
cp "$img" "$T/prev.dmtcp"
log "first image $(stat -c %s "$img") bytes"

kill -USR1 "$pid"
wait_for_file "$T/w1/grown"
if "$BIN/dmtcp_command" -bc >"$T/c2.out" 2>&1; then
	cat "$T/c2.out"
	fail "checkpoint of 33 MiB into an 8 MiB tmpfs succeeded"
fi
cat "$T/c2.out"
grep -q "No space left on device" "$T/c2.out" || fail "the failure does not say the disk is full"
no_temp "$T/small" || { ls -la "$T/small"; fail "temporary image left behind"; }
cmp "$img" "$T/prev.dmtcp" || fail "previous image changed"
"$BIN/dmtcp_restart" --show "$img" >/dev/null || fail "previous image no longer valid"
kill -0 "$pid" || fail "program died"
grep -q "^State:.*[RS]" /proc/"$pid"/status || fail "program not running after the failed checkpoint"

mount -o remount,size=128m "$T/small" || harness_fail "remount"
"$BIN/dmtcp_command" -bc >"$T/c3.out" 2>&1 || { cat "$T/c3.out"; fail "checkpoint after freeing space failed"; }
"$BIN/dmtcp_restart" --show "$img" >"$T/show3" || fail "new image invalid"
pages=$(sed -n 's/^content: valid .* \([0-9]*\) pages stored)$/\1/p' "$T/show3")
[ "${pages:-0}" -ge $((33 * 256)) ] || { tail -n 1 "$T/show3"; fail "the new image should hold the grown memory"; }
cmp -s "$img" "$T/prev.dmtcp" && fail "image not replaced"
log "disk full: clean failure, previous image kept, later checkpoint fine"
"$BIN/dmtcp_command" -k >/dev/null 2>&1
wait_peers 0

# ---- 2. a process killed while its image is written ----------------------------------------
mkdir -p "$T/mid" "$T/w2" && chmod 1777 "$T/w2"
mount -t tmpfs -o size=2g,mode=1777 tmpfs "$T/mid" || skip "cannot mount tmpfs here"
export DMTCP_CHECKPOINT_DIR=$T/mid
run_user "$BIN/dmtcp_launch" "$PROGS/ckpt_bigmem" "$T/w2" 520 512 fork >"$T/w2/launch.out" 2>&1 &
track $!
wait_for_file "$T/w2/facts"
big=$(fact "$T/w2" pid)
small=$(fact "$T/w2" child)
wait_peers 2
"$BIN/dmtcp_command" -bc >"$T/c4.out" 2>&1 || { cat "$T/c4.out"; fail "first checkpoint of the pair failed"; }
simg=$(ls "$T"/mid/ckpt_*-"$small"-*.dmtcp) || fail "no image of the small process"
before=$(stat -c '%i %Y %s' "$simg")

"$BIN/dmtcp_command" -bc >"$T/c5.out" 2>&1 &
cpid=$!
# The big image is being written once its temporary file exists.
wait_until 30 sh -c "ls -a '$T/mid' | grep -q '^\.ckpt_.*-$big-.*\.tmp\.'" || fail "never saw the temporary image"
kill -KILL "$big"
wait $cpid && { cat "$T/c5.out"; fail "checkpoint succeeded although a process was killed during it"; }
cat "$T/c5.out"
grep -Eq "exited|No such process|disconnected|died|left" "$T/c5.out" || fail "the failure does not say a process went away"
no_temp "$T/mid" || { ls -la "$T/mid"; fail "temporary image left behind"; }
[ "$(stat -c '%i %Y %s' "$simg")" = "$before" ] || fail "previous image of the survivor changed"
kill -0 "$small" || fail "the surviving process died"
wait_peers 1
"$BIN/dmtcp_command" -bc >"$T/c6.out" 2>&1 || { cat "$T/c6.out"; fail "survivor not checkpointable"; }
"$BIN/dmtcp_restart" --show "$simg" >/dev/null || fail "survivor's new image invalid"
[ "$(stat -c '%i' "$simg")" != "${before%% *}" ] || fail "survivor's image not replaced"
"$BIN/dmtcp_command" -k >/dev/null 2>&1
echo PASS
