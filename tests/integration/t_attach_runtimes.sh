#!/bin/bash
# dmtcp_launch --attach on programs of other runtimes, started without dmtcp, attached while
# they run, then checkpointed, killed and restarted through the restart script three times,
# each checking its own state: a musl-static build of rs_threads, a Go program (goroutines over
# the runtime's threads, timers, channels), a Python script (interpreter threads, a lock), and a
# shell pipeline whose root (the shell) is attached, its two children coming along. And a
# program blocked in read on a pseudo-terminal when it is attached: the attach and two
# checkpoints must not end that read (cat exits on an EINTR), and a line typed afterwards is
# read. Parts whose toolchain is missing are skipped with the reason; all missing: exit 77.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
script=$T/dmtcp_restart_script.sh
ran=0
if command -v musl-gcc >/dev/null; then
	musl-gcc -static -O1 -D_GNU_SOURCE -pthread -o "$T/rs_threads.musl" \
		"$TOP/tests/progs/rs_threads.c" 2>"$T/musl.err" ||
		{ cat "$T/musl.err"; harness_fail "musl-gcc cannot build rs_threads"; }
	chmod 755 "$T/rs_threads.musl"
	RS_ATTACH=1 rs_cycles "$T/rs_threads.musl" 300 3 "$script"
	ran=$((ran + 1))
else
	log "musl part skipped: musl-gcc not installed (Debian package musl-tools)"
fi

if command -v go >/dev/null && mkdir -p "$T/gohome" &&
	HOME=$T/gohome GOCACHE=$T/gohome/cache GO111MODULE=off GOFLAGS= \
		timeout 300 go build -o "$T/rs_count_go" "$TOP/tests/progs/rs_count.go" >"$T/go.err" 2>&1; then
	chmod 755 "$T/rs_count_go"
	RS_ATTACH=1 rs_cycles "$T/rs_count_go" 300 3 "$script"
	ran=$((ran + 1))
else
	log "Go part skipped: no working go toolchain ($(head -n 1 "$T/go.err" 2>/dev/null))"
fi

if [ -x /usr/bin/python3 ]; then
	printf '#!/bin/sh\nexec /usr/bin/python3 %s "$@"\n' "$TOP/tests/progs/rs_count.py" >"$T/rs_count_py"
	chmod 755 "$T/rs_count_py"
	RS_ATTACH=1 rs_cycles "$T/rs_count_py" 300 3 "$script"
	ran=$((ran + 1))
else
	log "Python part skipped: no /usr/bin/python3 (install-deps.sh installs python3)"
fi

# The pipeline: sh runs "rs_counter | cat"; rs_counter's parent, the shell, is attached.
printf '#!/bin/sh\n%s "$@" | cat\n' "$(BUILD=dynamic; prog rs_counter)" >"$T/rs_pipeline"
chmod 755 "$T/rs_pipeline"
RS_ATTACH=1 RS_ATTACH_PARENT=1 RS_NPROCS=3 rs_cycles "$T/rs_pipeline" 250 3 "$script"
ran=$((ran + 1))

# A read on a pseudo-terminal, in progress at the attach.
if command -v script >/dev/null; then
	mkfifo -m 666 "$T/tty.in"
	rs_outfile tty.out
	rs_outfile typescript
	# (script's typescript in $T: a failing run finds it by its command line and kills it)
	(run_user script -qfec "stty -echo; exec cat" "$T/typescript" <"$T/tty.in" >"$T/tty.out" 2>&1 8>&-
	 echo $? >"$T/tty.rc") &
	track $!
	exec 9>"$T/tty.in"
	_cat_reading() {
		catpid=$(pgrep -x cat -P "$(pgrep -f -n "script -qfec stty -echo; exec cat")" 2>/dev/null)
		[ -n "$catpid" ] && [ "$(cat "/proc/$catpid/wchan" 2>/dev/null)" != 0 ] &&
			grep -q '^State:.*S' "/proc/$catpid/status"
	}
	wait_until 10 _cat_reading || harness_fail "cat is not waiting on its terminal"
	echo "before-attach" >&9
	wait_for_line "$T/tty.out" "before-attach"
	wait_until 10 _cat_reading || harness_fail "cat is not waiting on its terminal again"
	rc=0
	run_user timeout 30 "$BIN/dmtcp_launch" --attach "$catpid" >"$T/attach.out" 2>&1 || rc=$?
	[ $rc = 0 ] || { cat "$T/attach.out"; fail "attach to cat reading a terminal: exit status $rc"; }
	wait_peers 1
	for i in 1 2; do
		run_user "$BIN/dmtcp_command" -bc >"$T/bc.out" 2>&1 || { cat "$T/bc.out"; fail "checkpoint of cat failed"; }
	done
	kill -0 "$catpid" 2>/dev/null || { cat "$T/tty.out"; fail "cat ended: its read on the terminal was cut by the attach or a checkpoint"; }
	echo "after-attach" >&9
	wait_for_line "$T/tty.out" "after-attach"
	kill -0 "$catpid" 2>/dev/null || fail "cat ended after reading"
	grep -q "cat:" "$T/tty.out" && { cat "$T/tty.out"; fail "cat reported an error"; }
	log "cat blocked in read on a terminal: attached, checkpointed twice, read on"
	kill -KILL "$catpid"
	exec 9>&-
	ran=$((ran + 1))
else
	log "terminal part skipped: script(1) is not installed (package bsdutils)"
fi
[ $ran -gt 0 ] || skip "no runtime to test"
