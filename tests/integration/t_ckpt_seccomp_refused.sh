#!/bin/bash
# A program with a seccomp sandbox of its own (l_ownfilter: a filter that fails getpriority)
# cannot be restored with it yet, so its checkpoint fails, naming the process and why: a
# restart without the filter would lift the sandbox. Launched (its filter on top of ours) and
# attached (no filter of ours): each time the program runs on, sandboxed, no image is written,
# and it ends with PASS.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/restart_lib.bash"
. "$(dirname "$0")/launch_lib.bash"
trap 'rs_kill_leftovers; _launch_cleanup; _cleanup' EXIT

start_coord
p=$(prog l_ownfilter)
b=$(basename "$p")
# refused WHAT DIR: a checkpoint fails naming the filter; the program counts on.
refused() {
	local c
	if run_user timeout 30 "$BIN/dmtcp_command" -bc >"$T/bc.out" 2>&1; then
		fail "$1: a checkpoint of a sandboxed program succeeded"
	fi
	# (an attached process is known by its comm: 15 characters of the name)
	grep -Eq "pid [0-9]+ \(${b:0:15}[^)]*\).*installed 1 seccomp filter of its own, which cannot be checkpointed" "$T/bc.out" ||
		{ cat "$T/bc.out"; fail "$1: the failure does not name the process and its filter"; }
	ls "$T"/ckpt_*.dmtcp >/dev/null 2>&1 && fail "$1: an image was written"
	c=$(tr -d ' \n' <"$2/count")
	wait_until 5 _moved "$2" "$c" || fail "$1: the program stopped after the refused checkpoint"
	log "$1: refused with: $(cat "$T/bc.out")"
}
_moved() { [ "$(tr -d ' \n' <"$1/count")" != "$2" ]; }

mkdir -m 777 "$T/l"
launch_bg launched -j "$p" "$T/l"
wait_for_line "$T/launched.out" '^READY'
wait_peers 1
refused launched "$T/l"
touch "$T/l/stop"
wait_rc launched 0
grep -q '^PASS' "$T/launched.out" || { cat "$T/launched.out"; fail "launched: no PASS"; }
wait_peers 0

mkdir -m 777 "$T/a"
rs_bare att "$p" "$T/a"
wait_for_line "$T/att.log" '^READY'
rc=0
run_user timeout 30 "$BIN/dmtcp_launch" --attach "$(cat "$T/att.pid")" >"$T/attach.out" 2>&1 || rc=$?
[ $rc = 0 ] || { cat "$T/attach.out"; fail "attach: exit status $rc"; }
wait_peers 1
refused attached "$T/a"
touch "$T/a/stop"
wait_until 20 test -s "$T/att.rc" || fail "the attached program did not end"
[ "$(cat "$T/att.rc")" = 0 ] || { cat "$T/att.log"; fail "attached: exit status $(cat "$T/att.rc")"; }
grep -q '^PASS' "$T/att.log" || { cat "$T/att.log"; fail "attached: no PASS"; }
