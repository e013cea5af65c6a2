#!/bin/bash
# File locks across restarts: rs_locks's parent holds POSIX write and read locks on byte
# ranges of one file, an OFD write lock on another range of it, an exclusive flock lock on a
# second file; its child a POSIX read lock (through the description it shares with the parent)
# and a shared flock lock on a third file. Each process reads its own locks from fdinfo at
# every step; at the start and the end a checker looks from outside (F_GETLK, F_OFD_GETLK,
# flock LOCK_NB): types, ranges and holders, and the bytes between them free. Three
# checkpoint/restart cycles; --show and --json print the locks. Then a restart of the last
# images while someone outside holds one of the locks (a POSIX lock, taken by the restored
# process; a flock lock, taken with the description) fails, naming the image, fd, range and
# holder, and leaves nothing behind: once the lock is let go the same images restart and the
# program ends with PASS (its checker sees exactly its locks).
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_NPROCS=2 rs_cycles "$(prog rs_locks)" 150
"$BIN/dmtcp_restart" --show $(rs_images) >"$T/show" 2>&1 || { cat "$T/show"; fail "--show failed"; }
for want in "posix write start 0 end 9 pid [0-9]+" "posix read start 100 end EOF pid [0-9]+" \
	"ofd write start 20 end 29\$" "flock write start 0 end EOF\$" \
	"posix read start 50 end 59 pid [0-9]+" "flock read start 0 end EOF\$"; do
	grep -Eq "lock file [0-9]+ $want" "$T/show" || { grep 'lock file' "$T/show"; fail "no '$want' in --show"; }
done
"$BIN/dmtcp_restart" --show --json $(rs_images) >"$T/json" 2>&1 || { cat "$T/json"; fail "--json failed"; }
grep -q '"kind": *"ofd"' "$T/json" || fail "no OFD lock in --json"

# A restart that cannot take a lock back.
out=$T/$(basename "$(prog rs_locks)").out
a=$T/rs_locks.a c=$T/rs_locks.c
for kind in posix flock; do
	file=$a want="fd [0-9]+ \\($a\\): cannot take its POSIX write lock on bytes 0-9 again: (pid [0-9]+ holds a write lock on bytes 0-9|a process outside this PID namespace holds a write lock on bytes 0-9)"
	[ $kind = flock ] && file=$c want="fd [0-9]+ \\($c\\): cannot take its flock read lock on bytes 0-EOF again: another open file description of the file holds a flock lock"
	rm -f "$T/stop-$kind"
	rs_outfile "hold-$kind.out"
	rs_run hold-$kind "$(prog rs_locks)" --hold $kind "$file" "$T/stop-$kind" >"$T/hold-$kind.out"
	wait_for_line "$T/hold-$kind.out" '^HELD [0-9]+'
	rs_run refused-$kind "$BIN/dmtcp_restart" $(rs_images) >>"$out"
	wait_until 60 test -s "$T/refused-$kind.rc" || { cat "$T/refused-$kind.err"; fail "the restart ($kind) did not end"; }
	[ "$(cat "$T/refused-$kind.rc")" != 0 ] || fail "a restart succeeded while someone held a lock ($kind)"
	grep -Eq "$want" "$T/refused-$kind.err" ||
		{ cat "$T/refused-$kind.err"; fail "the failed restart ($kind) does not name the image, fd, range and holder"; }
	grep -Eq "ckpt_rs_locks[^ ]*\\.dmtcp: $want" "$T/refused-$kind.err" ||
		{ cat "$T/refused-$kind.err"; fail "the failed restart ($kind) does not name the image"; }
	wait_until 30 _peers_are 0 || fail "peers left at the coordinator after the failed restart ($kind)"
	log "restart refused ($kind): $(grep -E "$want" "$T/refused-$kind.err" | head -n 1)"
	touch "$T/stop-$kind"
	rs_wait_rc hold-$kind 0
done
rs_run again "$BIN/dmtcp_restart" $(rs_images) >>"$out"
rs_wait_rc again 0 60
tail -n 1 "$out" | grep -q '^PASS pid' || { tail -n 5 "$out"; fail "the restart after the refused ones did not end with PASS"; }
grep -q FAIL "$out" && fail "$(grep FAIL "$out")"
exit 0
