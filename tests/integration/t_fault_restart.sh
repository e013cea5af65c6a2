#!/bin/bash
# Issue 15: a restart killed half-way loses nothing. Two launches of rs_counter, A and B, in
# one computation; checkpoint 1 completes; both are killed; checkpoint 1's restart script
# restarts them (one dmtcp_restart for both images) and is held at a phase by a test hook
# (common/testhook.h, with a gate: the test knows it is there), where something is
# SIGKILLed:
#   stage        each restored process, before it stages its memory: the restart's tracer
#                (the dmtcp_restart process that does the work; killing the command in front
#                of it leaves the restart to it, as with dmtcp_launch), or the process itself
#   restart#1    the restart's tracer at the restart's first barrier, every process restored
#                and held: the tracer, or process A
#   refill#1, resume#1   the same tracer at the restart's later barriers: process B, or the
#                tracer
# After each: dmtcp_restart fails (DMTCP_FAIL_RC) with one line naming what happened (the
# script's own "restarting N image(s)" line aside), no process of the restart is left
# (stopped or not), the images are untouched (same bytes, and dmtcp_restart --show validates
# them), the coordinator has no process left (and, past stage, logged the restart as
# failed), and the same restart script then restarts A and B, which count on past where
# they were killed with their oracle silent.
# Last, the coordinator killed with every restart answer in (coord-restart#1): there the
# restart goes on without it (no fault of the restart: a dead coordinator is never waited
# for), both programs count on, a coordinator started again on the same port gets both back,
# and once they are killed the script restarts them again from the same images.
# Only the dynamic build: the faults are dmtcp_restart's, its tracer's and the coordinator's,
# before the program runs again; a static program is restored by the same code.
# builds: dynamic
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"
. "$TOP/tests/integration/fault_lib.bash"

fr_cmd_of() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }
fr_comm_of() { cat "/proc/$1/comm" 2>/dev/null; }
fr_ppid_of() { awk '/^PPid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# fr_ours: every process of the test (its command line names $T/) but the coordinator.
fr_ours() {
	local f p
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" = $$ ] || [ "$p" = "${COORD_PID:-}" ] && continue
		fr_cmd_of "$p" | grep -qF -- "$T/" && echo "$p"
	done
}
_fr_none_left() { [ -z "$(fr_ours)" ]; }

# fr_restart_tracer: the restart's tracer, the child of the dmtcp_restart command (whose own
# parent is the script's shell); the processes it creates are its descendants.
fr_restart_tracer() {
	local p pp
	for p in $(fr_ours); do
		[ "$(fr_comm_of "$p")" = dmtcp_restart ] || continue
		pp=$(fr_ppid_of "$p")
		[ "$(fr_comm_of "$pp")" = dmtcp_restart ] || continue
		[ "$(fr_comm_of "$(fr_ppid_of "$pp")")" = dmtcp_restart ] && continue
		echo "$p"
		return 0
	done
}

# fr_host_pid PID: the pid here of the restored process whose pid is PID where it runs (the
# same number when the restart had the pids here; else it is the last of its NSpid line).
fr_host_pid() {
	local f p ns one=
	for f in /proc/[0-9]*/status; do
		p=${f#/proc/}
		p=${p%/status}
		ns=$(sed -n 's/^NSpid:[[:space:]]*//p' "$f" 2>/dev/null)
		[ "${ns##*[[:space:]]}" = "$1" ] || continue
		fr_cmd_of "$p" | grep -qF -- "$T/" || continue
		if [ "$ns" != "$1" ]; then
			echo "$p"
			return 0
		fi
		one=$p
	done
	echo "$one"
}

# fr_prepare [COORD_HOOK]: A and B launched and checkpointed (checkpoint 1's script in
# $T/script1.sh), then killed; the images' checksums in $T/sums.
fr_prepare() {
	if [ -n "${1:-}" ]; then
		DMTCP_TEST_STEP_DELAY_MS=$(fl_hook "$1") fl_fresh
	else
		fl_fresh
	fi
	fl_start_pair
	fl_ckpt1
	fl_kill_all A B
	(cd "$T" && md5sum ckpt_*.dmtcp >"$T/sums") || harness_fail "cannot checksum the images"
}

# fr_check_error EXPECT: the killed restart ended with DMTCP_FAIL_RC and one line of its own
# matching EXPECT.
fr_check_error() {
	local rc
	wait_until 60 test -s "$T/R1.rc" || { cat "$T/R1.err"; fail "the killed restart did not end"; }
	rc=$(cat "$T/R1.rc")
	grep -v 'script1.sh: restarting [0-9]* image(s) on' "$T/R1.err" >"$T/R1.own"
	[ "$rc" = 99 ] || { cat "$T/R1.err"; fail "the killed restart exited $rc, not 99"; }
	[ "$(wc -l <"$T/R1.own")" = 1 ] ||
		{ cat "$T/R1.err"; fail "the killed restart did not fail with one line"; }
	grep -Eq -- "$1" "$T/R1.own" || fail "the killed restart said '$(cat "$T/R1.own")', not /$1/"
}

# fr_check_after: nothing of the killed restart is left, the images are as they were, the
# coordinator has no process; then checkpoint 1's script restarts A and B, which count on.
fr_check_after() {
	wait_until 20 _fr_none_left || {
		ps -o pid,ppid,stat,args -p "$(fr_ours | tr '\n' ',')0"
		fail "processes of the killed restart are left"
	}
	(cd "$T" && md5sum -c --quiet sums) || fail "the images changed"
	fl_check_finals
	fl_no_temp
	wait_until 30 _peers_are 0 || fail "the coordinator still has $(status_field NUM_PEERS) processes"
	fl_restart_script1 R2
	fl_kill_all R2
}

# fr_scenario STEP VICTIM: hold the restart at STEP (a hook of dmtcp_restart or its tracer),
# SIGKILL VICTIM there (tracer; proc, the restored process that reached the hold; A or B),
# check that dmtcp_restart says so, then fr_check_after.
fr_scenario() {
	local step=$1 victim=$2 vp pid
	fr_prepare
	rs_run R1 env DMTCP_TEST_STEP_DELAY_MS="$(fl_hook "$step")" bash "$T/script1.sh"
	fl_wait_reached "$step"
	case $victim in
	tracer) vp=$(fr_restart_tracer) ;;
	proc) pid=$(head -n 1 "$T/gate.reached") ;;
	A | B) pid=$(fl_pid $victim) ;;
	*) harness_fail "no victim '$victim'" ;;
	esac
	[ -n "${pid:-}" ] && vp=$(fr_host_pid "$pid")
	[ -n "$vp" ] || { ps -ef | grep -F "$T/"; harness_fail "$step: no $victim to kill"; }
	kill -KILL "$vp"
	fl_open_gate
	if [ "$victim" = tracer ]; then
		fr_check_error "the tracer \(pid $vp\) was killed by signal 9\$"
	else
		fr_check_error "pid $pid was killed by signal 9 before its restore completed\$"
	fi
	# Once its processes had joined the coordinator's restart, it says the restart failed.
	[ "$step" = stage ] ||
		wait_for_line "$T/coord.out" "restart of computation [^ ]+ failed: .* (left during|failed at) barrier"
	fr_check_after
	log "$step, $victim killed: $(cat "$T/R1.own"); checkpoint 1's script restarted A and B"
}

fr_scenario stage tracer
fr_scenario stage proc
fr_scenario restart#1 tracer
fr_scenario restart#1 A
fr_scenario refill#1 B
fr_scenario resume#1 B
fr_scenario resume#1 tracer

# ---- the coordinator killed with every restart answer in ----------------------------------
fr_prepare coord-restart#1
rs_run R1 bash "$T/script1.sh"
fl_wait_reached coord-restart#1
kill -KILL "$COORD_PID"
wait "$COORD_PID" 2>/dev/null
fl_check_running A B
[ ! -s "$T/R1.rc" ] || { cat "$T/R1.err"; fail "the restart ended when the coordinator died"; }
port=$COORD_PORT
start_coord --port "$port"
[ "$COORD_PORT" = "$port" ] || harness_fail "the new coordinator took port $COORD_PORT"
wait_peers 2 30
fl_check_running A B
fl_kill_all R1
(cd "$T" && md5sum -c --quiet sums) || fail "the images changed"
fl_restart_script1 R2
fl_kill_all R2
log "coord-restart#1, coordinator killed: the restart went on, a new coordinator got A and B"
