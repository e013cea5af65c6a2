#!/bin/bash
# Bad input fails before the point of no return: a truncated, corrupt, foreign and
# wrong-architecture image, a file the process had open that is gone, and (unprivileged) an
# image owned by another user each make dmtcp_restart and mtcp_restart exit with
# DMTCP_FAIL_RC and a message naming the image and the reason, with no restored process left
# and no peer at the coordinator. A valid image restarts afterwards, so nothing was damaged.
# Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_outfile prog.out
rs_run launch "$BIN/dmtcp_launch" "$(prog rs_counter)" "$T/ready" 100000 >"$T/prog.out"
wait_for_file "$T/ready"
rs_wait_count "$T/prog.out" 2
rs_checkpoint_kill launch
img=$(rs_images)
[ "$(echo "$img" | wc -l)" = 1 ] || fail "expected one image, got: $img"
mkdir -p "$T/bad"
chmod 777 "$T/bad"

# A restored process of this test would have our prog.out as its stdout (other tests on the
# machine may run rs_counter too, so the name alone says nothing).
ours_alive() {
	local l
	for l in /proc/[0-9]*/fd/1; do
		[ "$(readlink "$l" 2>/dev/null)" = "$T/prog.out" ] && { echo "${l%/fd/1}"; return 0; }
	done
	return 1
}
no_restored_process() {
	local p
	[ "$(status_field NUM_PEERS)" = 0 ] || fail "$1: a peer is left at the coordinator"
	if p=$(ours_alive); then
		cat "$p/status" 2>/dev/null | head -n 3
		fail "$1: a restored process is left behind ($p)"
	fi
}

# expect_fail NAME FILE REGEX: both restart commands refuse FILE with a message matching REGEX.
expect_fail() {
	local name=$1 file=$2 re=$3 cmd rc
	for cmd in dmtcp_restart mtcp_restart; do
		run_user "$BIN/$cmd" "$file" >"$T/bad/$name.out" 2>&1 </dev/null 8>&-
		rc=$?
		[ $rc = 99 ] || { cat "$T/bad/$name.out"; fail "$name: $cmd exit status $rc, expected 99"; }
		grep -Eq -- "$re" "$T/bad/$name.out" || {
			cat "$T/bad/$name.out"; fail "$name: $cmd did not say /$re/"; }
		no_restored_process "$name ($cmd)"
	done
	log "$name: refused: $(head -n 1 "$T/bad/$name.out")"
}

copy() { cp "$img" "$T/bad/ckpt_$1.dmtcp" && chmod 644 "$T/bad/ckpt_$1.dmtcp" && \
	chown --reference="$img" "$T/bad/ckpt_$1.dmtcp"; echo "$T/bad/ckpt_$1.dmtcp"; }

size=$(stat -c %s "$img")
f=$(copy truncated)
truncate -s $((size / 2)) "$f"
expect_fail truncated "$f" "ckpt_truncated.dmtcp.*(truncat|short|size|end)"

f=$(copy corrupt)
# Flip one byte in the middle of the file: some checksum must catch it.
printf '\xff' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s "$f" "$img" && printf '\x00' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_fail corrupt "$f" "ckpt_corrupt.dmtcp.*(checksum|CRC|crc|corrupt)"

f="$T/bad/ckpt_foreign.dmtcp"
head -c 4096 /bin/sh >"$f"
chmod 644 "$f"
chown --reference="$img" "$f"
expect_fail foreign "$f" "ckpt_foreign.dmtcp.*(magic|not a)"

f=$(copy arch)
# The header says aarch64 (183), with its header checksum made right again.
python3 - "$f" <<'PY' || harness_fail "cannot patch the header"
import struct, sys
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
path = sys.argv[1]
with open(path, 'r+b') as fh:
    h = bytearray(fh.read(512))
    h[16:20] = struct.pack('<I', 183)
    h[508:512] = struct.pack('<I', crc32c(bytes(h[:508])))
    fh.seek(0)
    fh.write(h)
PY
expect_fail arch "$f" "ckpt_arch.dmtcp.*aarch64"

# The program's stdout file is gone.
mv "$T/prog.out" "$T/prog.out.away"
expect_fail missing "$img" "$(basename "$img").*prog.out.*No such file"
mv "$T/prog.out.away" "$T/prog.out"

if [ "$UNPRIV" = 1 ]; then
	f=$(copy foreign_owner)
	chown root:root "$f"
	expect_fail owner "$f" "ckpt_foreign_owner.dmtcp.*owned by uid 0.*--no-strict-checking"
	# --no-strict-checking lets it through that check: it restarts.
	rs_run strict "$BIN/dmtcp_restart" --no-strict-checking "$f" >>"$T/prog.out"
	rs_wait_running 1
	run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1
	rs_wait_rc strict 137
fi

# Nothing was harmed: the real image still restarts, and the program goes on counting.
before=$(rs_last_count "$T/prog.out")
rs_run good "$BIN/dmtcp_restart" "$img" >>"$T/prog.out"
rs_wait_running 1
rs_wait_count "$T/prog.out" "$before"
run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1
rs_wait_rc good 137
log "every bad image refused cleanly; the good one restarts"
