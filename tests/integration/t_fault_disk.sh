#!/bin/bash
# Issue 15: a full, read-only or size-limited checkpoint directory loses nothing. Two launches
# of rs_counter, A and B, in one computation, checkpoint 1 completes; then checkpoint 2 meets:
#   1. a file size limit (RLIMIT_FSIZE) on B's tracer: "File too large", not a dead tracer
#   2. a full disk (a small tmpfs filled up) before the images are written
#   3. a full disk once the images are committed (B's tracer held at commit meanwhile): the
#      coordinator cannot write the restart script; the previous script stays as it was
#   4. a read-only file system before the images are written
#   5. the file system turned read-only while B's tracer holds at commit (A has committed)
#   6. (unprivileged) a checkpoint directory without write permission
# After each: -bc fails with one line naming the cause, both programs run on, every image
# under a final name is whole, the restart script of checkpoint 1 is untouched, and once the
# disk is usable again it restarts A and B (from the newest whole checkpoint), counting on.
# 1 and 6 need no privilege; 2-5 mount a tmpfs, which needs root (the programs themselves run
# unprivileged in that variant).
# Only the dynamic build: the faults are the file system's, not the program's.
# builds: dynamic
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"
. "$TOP/tests/integration/fault_lib.bash"

D=$T/mnt
mkdir -p "$D" && chmod 1777 "$D"
export DMTCP_CHECKPOINT_DIR=$D

# disk_begin [HOOK_B]: the pair launched into $D with a coordinator writing its scripts there,
# checkpoint 1 done, its script saved aside ($T/script1.sh) and its path in SCRIPT.
disk_begin() {
	rm -f "$D"/ckpt_* "$D"/.ckpt_* "$D"/*.sh "$D"/.dmtcp_restart_script*
	fl_fresh --ckptdir "$D"
	fl_start_pair "${1:-}"
	fl_ckpt1
	SCRIPT=$(status_field LAST_CKPT)
}

# disk_end DIR_OK_CMD...: the programs run on and the images are whole; run DIR_OK_CMD to
# make the directory usable again; the computation killed, the original script of checkpoint
# 1 (at its place in $D) restarts A and B; killed again.
disk_end() {
	fl_check_running A B
	fl_check_finals "$D"
	cmp -s "$SCRIPT" "$T/script1.sh" || fail "the restart script of checkpoint 1 changed"
	"$@" || harness_fail "could not make $D usable again: $*"
	fl_kill_all A B
	cp "$SCRIPT" "$T/script1.sh"
	fl_restart_script1 R
	fl_kill_all R
}

# ---- 1. a file size limit on B's tracer ---------------------------------------------------
disk_begin
tb=$(fl_tracer_of "$(fl_pid B)")
# (the image goes through the tracer: it is compressed, DMTCP_GZIP's default)
run_user prlimit --pid "$tb" --fsize=1048576 || harness_fail "prlimit on the tracer"
fl_bc_start
fl_check_bc 'failed at barrier checkpoint .*File too large'
fl_no_temp "$D"
kill -0 "$tb" || fail "B's tracer died of the file size limit"
disk_end true
log "1. file size limit: $(cat "$T/bc2.out")"

# ---- 6. (unprivileged) no write permission ------------------------------------------------
if [ "$UNPRIV" = 1 ]; then
	disk_begin
	chmod 555 "$D"
	fl_bc_start
	fl_check_bc 'failed at barrier checkpoint .*Permission denied'
	disk_end chmod 1777 "$D"
	log "6. directory not writable: $(cat "$T/bc2.out")"
fi

[ "$(id -u)" = 0 ] || { log "2-5 skipped: mounting a tmpfs needs root"; exit 0; }
mount -t tmpfs -o size=64m,mode=1777 tmpfs "$D" || { log "2-5 skipped: cannot mount a tmpfs"; exit 0; }
fill() { dd if=/dev/zero of="$D/filler" bs=64k 2>/dev/null; [ "$(df --output=avail "$D" | tail -n 1)" -lt 64 ]; }

# ---- 2. full before the images are written ------------------------------------------------
disk_begin
fill || harness_fail "could not fill $D"
fl_bc_start
fl_check_bc 'failed at barrier checkpoint .*No space left on device'
fl_no_temp "$D"
disk_end rm -f "$D/filler"
log "2. disk full: $(cat "$T/bc2.out")"

# ---- 3. full once the images are committed ------------------------------------------------
fl_reset_gate
disk_begin "$(fl_hook commit#2)"
fl_bc_start
fl_wait_reached commit#2
fill || harness_fail "could not fill $D"
fl_open_gate
fl_check_bc 'images committed but the restart script could not be written: No space left on device'
fl_no_temp "$D"
disk_end rm -f "$D/filler"
log "3. disk full at the restart script: $(cat "$T/bc2.out")"

# ---- 4. read-only before the images are written -------------------------------------------
disk_begin
mount -o remount,ro "$D" || harness_fail "remount read-only"
fl_bc_start
fl_check_bc 'failed at barrier checkpoint .*Read-only file system'
disk_end mount -o remount,rw "$D"
log "4. read-only: $(cat "$T/bc2.out")"

# ---- 5. read-only while B holds at commit --------------------------------------------------
fl_reset_gate
disk_begin "$(fl_hook commit#2)"
fl_bc_start
fl_wait_reached commit#2
wait_until 20 sh -c "ls '$D' | grep -q '\.prev\$'" || fail "A did not commit checkpoint 2"
mount -o remount,ro "$D" || harness_fail "remount read-only"
fl_open_gate
fl_check_bc 'failed at barrier commit .*Read-only file system'
disk_end mount -o remount,rw "$D"
grep -q "restarting checkpoint [0-9a-f]*, the newest complete one, with 2 images" "$T/R.err" ||
	{ cat "$T/R.err"; fail "the restart did not take checkpoint 1 from A's .prev and B's image"; }
log "5. read-only at commit: $(cat "$T/bc2.out")"
