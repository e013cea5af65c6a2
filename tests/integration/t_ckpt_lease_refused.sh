#!/bin/bash
# A lease (fcntl F_SETLEASE: l_badanon's read lease on a file it owns, opened read-only) fails
# the checkpoint with one line naming the process, the fd and the lease; the program runs on,
# the images of the previous checkpoint stay as they were and still validate; once the fd is
# closed, checkpoints succeed again.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
b=$(basename "$(prog l_badanon)")
d=$T/w
mkdir -m 777 "$d"
launch_bg "$b" -j "$(prog l_badanon)" "$d" lease
wait_for_line "$T/$b.out" '^READY'
count() { tr -d ' \n' <"$d/count"; }
_moved() { [ "$(count)" != "$1" ]; }

ckpt first
sums=$(md5sum "$T"/ckpt_*.dmtcp)
touch "$d/open1"
wait_for_line "$T/$b.out" "^(OPENED|SKIP) 1 "
grep -q "^SKIP 1 " "$T/$b.out" && skip "no lease here: $(grep "^SKIP 1 " "$T/$b.out")"
fd=$(sed -n "s/^OPENED 1 //p" "$T/$b.out")
if run_user timeout 30 "$BIN/dmtcp_command" -bc >"$T/bc.out" 2>&1; then
	fail "a checkpoint of a process holding a lease succeeded: $(cat "$T/bc.out")"
fi
want="pid [0-9]+ \($b\): fd $fd \($d/leased\) holds a lease \(F_SETLEASE\), which cannot be checkpointed"
grep -Eq "$want" "$T/bc.out" ||
	{ cat "$T/bc.out"; fail "the failure does not name the process, fd and lease"; }
[ "$(wc -l <"$T/bc.out")" = 1 ] || { cat "$T/bc.out"; fail "more than one line"; }
c=$(count)
wait_until 5 _moved "$c" || fail "the program stopped counting after the refused checkpoint"
[ "$(md5sum "$T"/ckpt_*.dmtcp)" = "$sums" ] || fail "the previous images changed"
ls -a "$T" | grep -q '\.tmp\|\.part' && { ls -a "$T"; fail "a temporary image was left"; }
"$BIN/dmtcp_restart" --show "$T"/ckpt_*.dmtcp >/dev/null 2>&1 || fail "the previous images do not validate"
log "refused with: $(cat "$T/bc.out")"
touch "$d/close1"
wait_for_line "$T/$b.out" "^CLOSED 1\$"
ckpt after-close
touch "$d/stop0"
wait_rc "$b" 0
grep -q '^FAIL' "$T/$b.out" && { cat "$T/$b.out"; fail "the program saw a failure"; }
grep -q '^PASS' "$T/$b.out" || fail "the program did not end well"
exit 0
