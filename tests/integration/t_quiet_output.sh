#!/bin/bash
# Quiet by default, informative on demand. A program launched and restarted with an
# implicitly started coordinator and checkpointed three times each way: its stdout holds only
# its own lines, its stderr and the commands' output nothing; the coordinator logs beside its
# port file. Then the log options (-q, -q -q, DMTCP_QUIET, --log-level, --log-file) on a
# warning, an error and a checkpoint; then dmtcp_restart's progress line, on a terminal only.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

P=$(prog rs_counter)
OUT=$T/prog.out

# qrun NAME CMD...: CMD as the test user in the background, with nothing but stdin (/dev/null),
# the caller's stdout and $T/NAME.err: no descriptor of the shell's may reach the program (a
# pipe to a process outside the computation is worth a warning at every checkpoint), and the
# shell's own "Killed" report goes to the test's log, not into NAME.err. Exit status in
# $T/NAME.rc.
qrun() {
	local name=$1
	shift
	rm -f "$T/$name.rc"
	rs_outfile "$name.err"
	(
		(
			for fd in $(ls /proc/$BASHPID/fd); do
				[ "$fd" -gt 2 ] && eval "exec $fd>&-"
			done
			if [ "$UNPRIV" = 1 ]; then
				exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
					--inh-caps=-all -- "$@" 2>"$T/$name.err" </dev/null
			fi
			exec "$@" 2>"$T/$name.err" </dev/null
		)
		echo $? >"$T/$name.rc.tmp" && mv "$T/$name.rc.tmp" "$T/$name.rc"
	) &
	track $!
}

# only "count N" lines (and the final PASS) in the program's stdout
only_program_lines() {
	if grep -Evq '^(count [0-9]+|PASS pid [0-9]+)$' "$1"; then
		grep -Ev '^(count [0-9]+|PASS pid [0-9]+)$' "$1" | head -n 5
		fail "$1 holds lines that are not the program's"
	fi
}
must_be_empty() {
	[ ! -s "$1" ] || { echo "--- $1:"; head -n 10 "$1"; fail "$2"; }
}
coord_gone() { port_closed "$DMTCP_COORD_PORT"; }
# checkpoints N: N blocking checkpoints, each must succeed; its own words in $T/bc.*
checkpoints() {
	local i
	for i in $(seq "$1"); do
		run_user "$BIN/dmtcp_command" -bc >"$T/bc.out" 2>&1 ||
			{ cat "$T/bc.out"; fail "checkpoint $i failed"; }
	done
}
# kill_run NAME: kill the computation, wait for NAME to end and its coordinator to leave
kill_run() {
	run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
	rs_wait_rc "$1" 137
	wait_until 30 coord_gone || fail "the implicit coordinator did not leave with its last process"
}

# ---- 1. launch and restart with implicit coordinators: only the program's bytes -------------
rs_outfile prog.out
qrun launch "$BIN/dmtcp_launch" -p 0 --port-file "$T/port" "$P" "$T/ready" 1000000 >"$OUT"
wait_for_file "$T/port"
export DMTCP_COORD_PORT=$(cat "$T/port")
wait_for_file "$T/ready"
rs_wait_count "$OUT" 3
checkpoints 3
grep -q 'listening on port' "$T/dmtcp_coordinator.log" ||
	fail "the implicit coordinator does not log beside its port file"
kill_run launch
only_program_lines "$OUT"
must_be_empty "$T/launch.err" "dmtcp_launch printed into the program's stderr"

rm -f "$T/port"
killed_at=$(rs_last_count "$OUT")
# The restart's stdout and stderr become the restored program's (as with DMTCP): what
# dmtcp_restart itself printed there would show among the program's lines.
qrun restart "$BIN/dmtcp_restart" -p 0 --port-file "$T/port" $(rs_images) >>"$OUT"
wait_for_file "$T/port"
export DMTCP_COORD_PORT=$(cat "$T/port")
rs_wait_count "$OUT" "$killed_at"
checkpoints 3
kill_run restart
only_program_lines "$OUT"
must_be_empty "$T/restart.err" "dmtcp_restart (or the program) printed into the stderr"
[ "$(grep -c 'listening on port' "$T/dmtcp_coordinator.log")" = 2 ] ||
	fail "the restart's coordinator does not log beside its port file"
log "launch and restart: only the program's lines"

# ---- 2. the log options ---------------------------------------------------------------------
start_coord
E=$(prog l_exit)
# quick ARGS...: dmtcp_launch ARGS l_exit code 0 with a bad DMTCP_TRACER_SPIN_US (a warning)
quick() {
	DMTCP_TRACER_SPIN_US=bad run_user "$BIN/dmtcp_launch" -j "$@" "$E" code 0 >"$T/q.out" 2>"$T/q.err"
}
quick || fail "dmtcp_launch l_exit failed: $(cat "$T/q.err")"
[ "$(grep -c 'DMTCP_TRACER_SPIN_US=bad' "$T/q.err")" = 1 ] ||
	{ cat "$T/q.err"; fail "the warning is not there once by default"; }
quick -q || fail "dmtcp_launch -q l_exit failed"
must_be_empty "$T/q.err" "-q did not silence a warning"
DMTCP_QUIET=1 quick || fail "DMTCP_QUIET=1 dmtcp_launch l_exit failed"
must_be_empty "$T/q.err" "DMTCP_QUIET=1 did not silence a warning"
quick --log-level error || fail "dmtcp_launch --log-level error failed"
must_be_empty "$T/q.err" "--log-level error did not silence a warning"
rs_outfile q.log
quick --log-file "$T/q.log" || fail "dmtcp_launch --log-file failed"
must_be_empty "$T/q.err" "--log-file: a warning still went to stderr"
grep -q 'DMTCP_TRACER_SPIN_US=bad' "$T/q.log" || fail "--log-file: the warning is not in the file"
quick --log-level bogus && fail "--log-level bogus was accepted"
grep -q "not a level" "$T/q.err" || fail "--log-level bogus: no reason given"

# an error: the program cannot be executed
run_user "$BIN/dmtcp_launch" -j "$T/no-such-program" >"$T/q.out" 2>"$T/q.err"
rc=$?
[ $rc = 99 ] || fail "a missing program: exit $rc, expected 99"
grep -q "cannot execute" "$T/q.err" || fail "a missing program: no error message"
run_user "$BIN/dmtcp_launch" -q -q -j "$T/no-such-program" >"$T/q.out" 2>"$T/q.err"
rc=$?
[ $rc = 99 ] || fail "a missing program with -q -q: exit $rc, expected 99"
must_be_empty "$T/q.err" "-q -q did not silence an error"
DMTCP_QUIET=2 run_user "$BIN/dmtcp_launch" -j "$T/no-such-program" >"$T/q.out" 2>"$T/q.err"
must_be_empty "$T/q.err" "DMTCP_QUIET=2 did not silence an error"

# --log-level info: the checkpoint says what it wrote, on stderr or in the file
rs_outfile info.out
rm -f "$T/ready" "$T"/ckpt_*.dmtcp
qrun info "$BIN/dmtcp_launch" -j --log-level info "$P" "$T/ready" 1000000 >"$T/info.out"
wait_for_file "$T/ready"
checkpoints 1
wait_for_line "$T/info.err" 'image .* written'
run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1
rs_wait_rc info 137
rs_outfile info.log
rm -f "$T/ready" "$T"/ckpt_*.dmtcp
DMTCP_LOG_LEVEL=info DMTCP_LOG_FILE=$T/info.log qrun info "$BIN/dmtcp_launch" -j "$P" \
	"$T/ready" 1000000 >"$T/info.out"
wait_for_file "$T/ready"
checkpoints 1
wait_for_line "$T/info.log" 'image .* written'
must_be_empty "$T/info.err" "DMTCP_LOG_FILE: messages still went to stderr"
run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1
rs_wait_rc info 137
log "log options: as documented"

# ---- 3. dmtcp_restart's progress line: on a terminal, never in a pipe -------------------------
# (the images of part 2's last checkpoint; each restored process waits 1.5 s before staging)
progress_run() {
	local name=$1
	shift
	rs_outfile "$name.out"
	(
		DMTCP_TEST_STEP_DELAY_MS=stage:1500 run_user "$@" </dev/null >"$T/$name.out" 2>&1 8>&-
		echo $? >"$T/$name.rc.tmp" && mv "$T/$name.rc.tmp" "$T/$name.rc"
	) &
	track $!
	rs_wait_running 1 "$name"
	run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1
	wait_until 30 test -s "$T/$name.rc" || fail "$name did not end"
}
progress_run tty script -qfec "$BIN/dmtcp_restart -j $(rs_images | tr '\n' ' ')" /dev/null
grep -q 'restart: 0/1 processes, .* read' "$T/tty.out" ||
	{ cat -A "$T/tty.out" | head; fail "no progress line on a terminal"; }
progress_run pipe sh -c "$BIN/dmtcp_restart -j $(rs_images | tr '\n' ' ') 2>&1 | cat"
grep -q 'restart:' "$T/pipe.out" && { cat -A "$T/pipe.out"; fail "a progress line in a pipe"; }
log "progress line: on a terminal only"
