#!/bin/bash
# A pidfd and inotify instances across restarts: rs_pidino signals its child through a pidfd
# (PIDFD_NONBLOCK, close-on-exec) and a dup of it (one description, no close-on-exec), checks
# that poll and waitid(P_PIDFD) see the child alive, and at the end that they see it exit;
# it modifies, creates and deletes watched files and must read exactly the events of watches
# wd 1, 2, 4 and 7 (3, 5 and 6 were removed: the restart must keep the numbers), and those of
# a second, blocking instance; a second child shares the pidfd (one description: it sees
# the parent's O_NONBLOCK changes) and signals through it. Three cycles; --show and --json print the records. Then once
# more with a watched directory renamed away before the restart: the restart fails naming
# it, and succeeds once it is back.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_NPROCS=3 rs_cycles "$(prog rs_pidino)" 150
d=$T/rs_pidino.d
shown=0
for img in "$T"/ckpt_rs_pidino*.dmtcp; do
	"$BIN/dmtcp_restart" --show "$img" >"$T/show" 2>&1 || { cat "$T/show"; fail "--show failed"; }
	grep -q 'anon file [0-9]* inotify' "$T/show" || continue
	shown=1
	for want in "pidfd pid [0-9]+\$" \
		"inotify unread [0-9]+ watches 4 wd 1 mask 0x300 ino [0-9]+ $d wd 2 mask 0x2 ino [0-9]+ $d/a wd 4 mask 0x6 ino [0-9]+ $d/c wd 7 mask 0x100 ino [0-9]+ $d/sub\$" \
		"inotify unread [0-9]+ watches 1 wd 1 mask 0x8 ino [0-9]+ $d/c\$"; do
		grep -Eq "anon file [0-9]+ $want" "$T/show" || { grep 'anon file' "$T/show"; fail "no '$want' in --show"; }
	done
	"$BIN/dmtcp_restart" --show --json "$img" >"$T/json" 2>&1 || { cat "$T/json"; fail "--json failed"; }
	grep -q '"kind": *"pidfd"' "$T/json" || fail "no pidfd record in --json"
	grep -q '"wd": *7' "$T/json" || fail "no inotify wd 7 in --json"
done
[ $shown = 1 ] || fail "no image shows the inotify instances"

# A watched path gone at restart: refused by name, before anything of the program runs.
out=$T/rs_pidino.out
rs_outfile rs_pidino.out
rm -f "$T"/ckpt_*.dmtcp "$T/rs_pidino.ready"
RS_PROG_OUT=$out
rs_run launch2 "$BIN/dmtcp_launch" "$(prog rs_pidino)" "$T/rs_pidino.ready" 100 >"$out"
wait_for_file "$T/rs_pidino.ready"
pid=$(head -n 1 "$T/rs_pidino.ready")
rs_wait_count "$out" 3
rs_checkpoint_kill launch2
mv "$d/sub" "$d/sub.away"
rs_run badrestart "$BIN/dmtcp_restart" $(rs_images) >>"$out"
wait_until 30 test -s "$T/badrestart.rc" || fail "the restart without $d/sub did not end"
[ "$(cat "$T/badrestart.rc")" != 0 ] || fail "the restart without $d/sub succeeded"
grep -q "cannot watch $d/sub again (inotify wd 7, mask 0x100): No such file or directory" \
	"$T/badrestart.err" || { cat "$T/badrestart.err"; fail "the failed restart does not name the path"; }
wait_until 30 _peers_are 0 || fail "peers left at the coordinator after the failed restart"
mv "$d/sub.away" "$d/sub"
RS_NPROCS=3 rs_restart restart4 "$out" "$BIN/dmtcp_restart" $(rs_images)
rs_expect_pass restart4 "$out" "^PASS pid $pid\b"
exit 0
