#!/bin/bash
# dmtcp_launch returns the program's exit status, and a program killed by a signal makes it
# report that signal the way a shell expects (128+N from bash), for dynamic and static builds,
# a multi-threaded program exiting from a non-main thread, and a shell script.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
# expect RC ARGS...: run dmtcp_launch ARGS in the foreground; its status must be RC.
expect() {
	local want=$1 rc
	shift
	run_user "$BIN/dmtcp_launch" -j "$@" >"$T/out" 2>&1
	rc=$?
	[ "$rc" = "$want" ] || { cat "$T/out"; fail "dmtcp_launch $*: exit status $rc, expected $want"; }
}

p=$(prog l_exit)
expect 0 "$p" code 0
expect 42 "$p" code 42
expect 255 "$p" code 255
expect $((128 + 9)) "$p" signal 9
expect $((128 + 15)) "$p" signal 15
expect $((128 + 6)) "$p" signal 6
expect 17 "$p" threads 8 17
# A shell script that starts other programs (of both builds); its last one decides.
cat >"$T/script.sh" <<EOS
#!/bin/sh
"$PROGS/l_exit" code 0 || exit 1
"$PROGS/l_exit.static" code 3
exit \$((\$? + 20))
EOS
chmod 755 "$T/script.sh"
expect 23 "$T/script.sh"
expect 5 /bin/sh -c 'ls / >/dev/null && exit 5'
# Everything is gone afterwards: the coordinator counts no peer.
wait_peers 0
log "exit codes and fatal signals passed through"
exit 0
