#!/bin/bash
# File locks across restarts: rs_locks's parent holds POSIX write and read locks on byte
# ranges of one file, an OFD write lock on another range of it, an exclusive flock lock on a
# second file; its child a POSIX read lock (through the description it shares with the parent)
# and a shared flock lock on a third file. Each process reads its own locks from fdinfo at
# every step; at the start and the end a checker looks from outside (F_GETLK, F_OFD_GETLK,
# flock LOCK_NB): types, ranges and holders, and the bytes between them free. Three
# checkpoint/restart cycles; --show and --json print the locks.
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
exit 0
