#!/bin/bash
# A socket no checkpoint can save (l_badsock's netlink socket of device events) fails the checkpoint with one
# line naming the process, the fd and the kind; the program runs on, untouched; the images of
# the previous checkpoint stay as they were (same bytes, no leftover temporary file) and a
# restart from them works; once the socket is closed, checkpoints succeed again. The same for a
# unix socket in flight (SCM_RIGHTS) that has fds in flight itself (l_badsock's nested pair).
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
b=$(basename "$(prog l_badsock)")
d=$T/w
mkdir -m 777 "$d"
launch_bg "$b" -j "$(prog l_badsock)" "$d"
wait_for_line "$T/$b.out" '^READY'
count() { tr -d ' \n' <"$d/count"; }
_moved() { [ "$(count)" != "$1" ]; }

ckpt first
sums=$(md5sum "$T"/ckpt_*.dmtcp)
touch "$d/open"
wait_for_line "$T/$b.out" '^(OPENED|SKIP)'
grep -q '^SKIP' "$T/$b.out" && skip "$(grep '^SKIP' "$T/$b.out")"
fd=$(sed -n 's/^OPENED //p' "$T/$b.out")
if run_user timeout 30 "$BIN/dmtcp_command" -bc >"$T/bc.out" 2>&1; then
	fail "a checkpoint of a netlink uevent socket succeeded: $(cat "$T/bc.out")"
fi
grep -Eq "pid [0-9]+ \($b\): fd $fd is a netlink socket of protocol 15, which cannot be checkpointed yet" \
	"$T/bc.out" || { cat "$T/bc.out"; fail "the failure does not name the process, fd and kind"; }
[ "$(wc -l <"$T/bc.out")" = 1 ] || { cat "$T/bc.out"; fail "more than one line"; }
c=$(count)
wait_until 5 _moved "$c" || fail "the program stopped counting after the refused checkpoint"
[ "$(md5sum "$T"/ckpt_*.dmtcp)" = "$sums" ] || fail "the previous images changed"
ls -a "$T" | grep -q '\.tmp\|\.part' && { ls -a "$T"; fail "a temporary image was left"; }
"$BIN/dmtcp_restart" --show "$T"/ckpt_*.dmtcp >/dev/null 2>&1 || fail "the previous images do not validate"

touch "$d/close"
wait_for_line "$T/$b.out" '^CLOSED'
ckpt after-close

# Still refused: a unix socket in flight (SCM_RIGHTS) that has fds in flight itself.
touch "$d/nested"
wait_for_line "$T/$b.out" '^NESTED'
fd=$(sed -n 's/^NESTED //p' "$T/$b.out")
if run_user timeout 30 "$BIN/dmtcp_command" -bc >"$T/bc2.out" 2>&1; then
	fail "a checkpoint with a socket in flight carrying fds itself succeeded: $(cat "$T/bc2.out")"
fi
grep -Eq "pid [0-9]+ \($b\): fd $fd: a unix stream socket in flight has file descriptors in flight itself" \
	"$T/bc2.out" || { cat "$T/bc2.out"; fail "the nested refusal does not name the process, fd and kind"; }
c=$(count)
wait_until 5 _moved "$c" || fail "the program stopped counting after the refused checkpoint"
touch "$d/unnest"
wait_for_line "$T/$b.out" '^UNNESTED'
ckpt after-unnest
touch "$d/stop"
wait_rc "$b" 0
grep -q '^FAIL' "$T/$b.out" && { cat "$T/$b.out"; fail "the program saw a failure"; }
grep -q '^PASS' "$T/$b.out" || fail "the program did not end well"
log "refused with: $(cat "$T/bc.out")"
log "refused with: $(cat "$T/bc2.out")"
exit 0
