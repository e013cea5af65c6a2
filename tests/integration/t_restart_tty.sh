#!/bin/bash
# Terminals: rs_tty runs on a pseudo-terminal (made by script(1)) with ECHO off and unusual
# VMIN/VTIME. Each restart runs on a new pseudo-terminal of its own: it must take the old
# one's place at the program's fd 0 with the saved settings. Three cycles, static and dynamic.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"
command -v script >/dev/null || skip "script(1) is not installed (package bsdutils)"

start_coord
# "script -qfec 'SHELL COMMAND' /dev/null" runs the command with a new pseudo-terminal as its
# terminal; the command's own redirection sends the program's stdout to the test's file.
p=$(prog rs_tty)
name=$(basename "$p")
out=$T/$name.out
rs_outfile "$name.out"
run=launch
rs_run $run script -qfec "$BIN/dmtcp_launch $p $T/$name.ready 300 >$out" /dev/null >/dev/null
wait_for_file "$T/$name.ready"
pid=$(head -n 1 "$T/$name.ready")
rs_wait_count "$out" 3
for cycle in 1 2 3; do
	rs_checkpoint_kill $run
	run=restart$cycle
	# The restart's stdout is the program's after it (as with DMTCP): the file again, so
	# that the counts go on there; script's own copy of the terminal is dropped.
	rs_restart $run "$out" sh -c 'exec script -qfec "$0" /dev/null >/dev/null' \
		"$BIN/dmtcp_restart $(rs_images | tr '\n' ' ') >>$out"
done
rs_expect_pass $run "$out" "^PASS pid $pid\b"
