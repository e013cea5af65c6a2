#!/bin/bash
# dmtcp_command --detach (and 'd' on the coordinator's standard input): an attached
# computation is let go and runs on untraced, its tracer gone.
#  - rs_block (a process with a child, a thread in every kind of blocking call) is attached,
#    checkpointed, and detached with dmtcp_command --detach: both processes untraced, the
#    tracer ended, no peer left; it counts on to its end and passes (no wait cut short, no
#    EINTR, by the attach, the checkpoint or the detach);
#  - an attached rs_threads is checkpointed, killed and restarted: its image says it ran
#    without our filter (--show: NOFILTER), the restarted process runs without one too, and
#    it outlives its tracer: unprivileged (in the PID namespace the restart made for it,
#    whose pid 1 must outlive the restart) --detach lets it go, as root its tracer is killed
#    with SIGKILL; either way it runs to its end untraced;
#  - a program stopped by SIGSTOP, attached, detached with 'd' typed on the coordinator's
#    input, stays stopped untraced; SIGCONT lets it go on;
#  - a computation that also holds a launched process (under the seccomp filter, which cannot
#    be taken off) refuses --detach naming that process, and nothing is detached.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"
. "$TOP/tests/integration/launch_lib.bash"
trap 'rs_kill_leftovers; _launch_cleanup; _cleanup' EXIT

start_coord
tracer_of() { sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }
_untraced() { [ "$(tracer_of "$1")" = 0 ]; }
_gone() { ! kill -0 "$1" 2>/dev/null; }
attach() {
	local rc=0
	run_user timeout 30 "$BIN/dmtcp_launch" --attach "$1" >"$T/attach.out" 2>&1 || rc=$?
	[ $rc = 0 ] || { cat "$T/attach.out"; fail "dmtcp_launch --attach $1: exit status $rc"; }
}

# --- rs_block: attach, checkpoint, detach, run to the end -------------------------------
p=$(prog rs_block)
name=$(basename "$p")
out=$T/$name.out
rs_outfile "$name.out"
RS_PROG_OUT=$out
rs_run blk "$p" "$T/$name.ready" 300 >"$out"
wait_for_file "$T/$name.ready"
pid=$(head -n 1 "$T/$name.ready")
rs_wait_count "$out" 3
attach "$pid"
tracer=$(tracer_of "$pid")
[ "$tracer" != 0 ] || fail "rs_block not traced after the attach"
rs_wait_running 2
rs_checkpoint_resume "$out"
kid=$(children_of "$pid" | head -n 1)
[ -n "$kid" ] || harness_fail "rs_block has no child"
out2=$(run_user "$BIN/dmtcp_command" --detach 2>&1) || fail "dmtcp_command --detach failed: $out2"
wait_until 10 _untraced "$pid" || fail "rs_block still traced after --detach"
wait_until 10 _untraced "$kid" || fail "rs_block's child still traced after --detach"
wait_until 10 _gone "$tracer" || fail "the tracer ($tracer) did not end after --detach"
wait_peers 0 10
rs_expect_pass blk "$out" "^PASS pid $pid\b"
grep '^ok waits' "$out"
log "rs_block: attached, checkpointed, detached, ran to its end untraced"

# --- attached, restarted, then detached --------------------------------------------------
p=$(prog rs_threads)
name=$(basename "$p")
out=$T/$name.out
rs_outfile "$name.out"
RS_PROG_OUT=$out
rm -f "$T"/ckpt_*.dmtcp
rs_run thr "$p" "$T/$name.ready" 250 >"$out"
wait_for_file "$T/$name.ready"
pid=$(head -n 1 "$T/$name.ready")
rs_wait_count "$out" 3
attach "$pid"
rs_wait_running 1
rs_checkpoint_kill thr
"$BIN/dmtcp_restart" --show $(rs_images) | grep -q '^format:.*NOFILTER' ||
	{ "$BIN/dmtcp_restart" --show $(rs_images) | head -n 3; fail "the attached program's image is not flagged NOFILTER"; }
rs_restart thr1 "$out" "$BIN/dmtcp_restart" $(rs_images)
# Its pid as this shell sees it (a restart may give it a PID namespace of its own).
rpid=$(pgrep -f -x "$p $T/$name.ready 250")
[ -n "$rpid" ] || harness_fail "the restarted rs_threads is not found"
grep -q '^Seccomp:[[:space:]]*0' "/proc/$rpid/status" ||
	fail "the restarted attached program carries a seccomp filter: $(grep Seccomp "/proc/$rpid/status")"
pid=$rpid
tracer=$(tracer_of "$pid")
[ "$tracer" != 0 ] || fail "the restarted program is not traced"
if [ "$UNPRIV" = 1 ]; then
	# (in the PID namespace the restart made: its pid 1 must outlive the restart)
	how="detached"
	out2=$(run_user "$BIN/dmtcp_command" --detach 2>&1) ||
		fail "dmtcp_command --detach after the restart failed: $out2"
	wait_until 10 _untraced "$pid" || fail "the restarted rs_threads still traced after --detach"
	wait_until 10 _gone "$tracer" || fail "the restart's tracer ($tracer) did not end after --detach"
	# dmtcp_restart ends with its tracer, 0: the computation is no longer its own.
	rs_wait_rc thr1 0
else
	# (no PTRACE_O_EXITKILL on a process restored from an attached image)
	how="its tracer killed"
	kill -KILL "$tracer"
	wait_until 10 _untraced "$pid" || fail "the restarted rs_threads still traced after its tracer died"
fi
wait_peers 0 10
wait_for_line "$out" '^(PASS|FAIL)' 60
grep -q FAIL "$out" && fail "rs_threads after the detach: $(grep FAIL "$out")"
log "rs_threads: attached, restarted without a filter, $how, ran to its end untraced"
wait_peers 0 10

# --- a stopped program, detached from the coordinator's input ----------------------------
s=$T/stop
mkdir -m 777 "$s"
rs_bare stop "$(prog l_stop)" "$s"
wait_for_line "$T/stop.log" '^READY'
spid=$(cat "$T/stop.pid")
count() { tr -d ' \n' <"$s/count"; }
_is_stopped() { case $(pid_state "$spid") in T | t) return 0 ;; esac; return 1; }
_stopped_untraced() { [ "$(pid_state "$spid")" = T ] && _untraced "$spid"; }
_moved() { [ "$(count)" != "$1" ]; }
kill -STOP "$spid"
wait_until 5 _is_stopped || fail "SIGSTOP did not stop l_stop"
c1=$(count)
attach "$spid"
wait_peers 1
coord_type d
wait_until 10 _stopped_untraced ||
	fail "after 'd' l_stop is not stopped and untraced (state $(pid_state "$spid"), tracer $(tracer_of "$spid"))"
wait_peers 0 10
[ "$(count)" = "$c1" ] || fail "the detach woke the stopped program: count $c1 -> $(count)"
kill -CONT "$spid"
wait_until 5 _moved "$c1" || fail "SIGCONT did not let the detached program go on"
log "stopped: detached with 'd', stayed stopped, SIGCONT let it go"

# --- a launched process in the computation: refused, nothing detached -------------------
launch_bg launched -j "$(prog l_stop)" "$T/stop"
wait_for_line "$T/launched.out" '^READY'
attach "$spid"
wait_peers 2
rc=0
run_user "$BIN/dmtcp_command" --detach >"$T/refused.out" 2>&1 || rc=$?
[ $rc = 2 ] || { cat "$T/refused.out"; fail "--detach with a launched process: exit status $rc, expected 2"; }
grep -q "l_stop.*\[[0-9]*\]@.*seccomp filter.*nothing was detached" "$T/refused.out" ||
	{ cat "$T/refused.out"; fail "--detach refusal does not name the launched process"; }
log "refused: $(head -n 1 "$T/refused.out")"
[ "$(tracer_of "$spid")" != 0 ] || fail "a refused --detach detached the attached process"
wait_peers 2
touch "$s/stop"
wait_rc launched 0
wait_until 20 test -s "$T/stop.rc" || fail "the attached l_stop did not end"
[ "$(cat "$T/stop.rc")" = 0 ] || fail "l_stop: exit status $(cat "$T/stop.rc")"
