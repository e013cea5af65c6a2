# Helpers for the t_fault_* integration tests: a fault injected at a named phase, then what
# issue 15 asks of every fault checked. Source it after tests/lib.sh and restart_lib.bash.
#
# The hold: DMTCP_TEST_STEP_DELAY_MS=<step>#<n>:<ms>:$T/gate (common/testhook.h) stops the
# nth time its process reaches the step, creates $T/gate.reached and waits for $T/gate. The
# test waits for gate.reached, kills something, opens the gate: the fault lands exactly at the
# phase, with no timing involved (FL_HOLD_MS only bounds a hold that a failing test never
# opens).
#
# A scenario (fl_scenario): two launches of rs_counter, A and B, in one computation, each with
# its own tracer; the hold in B's tracer (or the coordinator's, for coord-* steps).
# Checkpoint 1 completes and its restart script is kept; checkpoint 2 (-bc in the background)
# reaches the hold; the victim is SIGKILLed (B itself, B's tracer or the coordinator); the gate
# opens. Then:
#   - -bc ends: non-zero with one line matching the expected reason, or 0 where the fault came
#     after the checkpoint could no longer lose anything
#   - every image under a final name (and each .prev) validates with dmtcp_restart --show
#   - every program whose tracer survived counts on, and its oracle found nothing wrong
#   - (coordinator killed) a new coordinator on the same port gets both processes back
#   - the computation killed, checkpoint 1's restart script restarts both programs, which count
#     past where they were killed with their oracle silent
# Every wait is bounded.

FL_HOLD_MS=${FL_HOLD_MS:-60000}
# Long enough for a scenario at 20 ms a count, short enough that a test that failed
# half-way leaves nothing counting for long.
FL_LIMIT=${FL_LIMIT:-6000}

# Kill, by pid, whatever the test started that is still there (restart_lib.bash), unmount
# what it mounted, then lib.sh's cleanup.
fl_cleanup() {
	local f
	rs_kill_leftovers
	for f in "$T"/mnt*; do
		[ -d "$f" ] && umount -l "$f" 2>/dev/null
	done
	_cleanup
}
trap fl_cleanup EXIT

# fl_hook STEP#N: DMTCP_TEST_STEP_DELAY_MS's value for a hold there at $T/gate.
fl_hook() { echo "$1:$FL_HOLD_MS:$T/gate"; }
fl_reset_gate() { rm -f "$T/gate" "$T/gate.reached" "$T"/gate.reached.*; }
# fl_wait_reached WHAT: until the hold is reached.
fl_wait_reached() {
	wait_until 60 test -s "$T/gate.reached" || {
		echo "--- coordinator:"; tail -n 15 "$T/coord.out"
		fail "the hold at $1 was never reached"
	}
}
fl_open_gate() { : >"$T/gate"; }

# fl_pid NAME: the pid rs_counter NAME wrote when it started.
fl_pid() { head -n 1 "$T/$1.ready"; }
# fl_tracer_of PID: the tracer of a traced process.
fl_tracer_of() { awk '/^TracerPid:/ {print $2}' "/proc/$1/status"; }

# fl_launch NAME [HOOK]: rs_counter as NAME under dmtcp_launch (stdout $T/NAME.out, its own:
# one restart brings A and B back), with DMTCP_TEST_STEP_DELAY_MS=HOOK for its tracer when
# given.
fl_launch() {
	local name=$1 hook=${2:-}
	rs_outfile "$name.out"
	rm -f "$T/$name.ready"
	rs_run "$name" env ${hook:+DMTCP_TEST_STEP_DELAY_MS=$hook} "$BIN/dmtcp_launch" \
		"${RS_OWN_OUT[@]}" "$T/$name.out" "$(prog rs_counter)" "$T/$name.ready" "$FL_LIMIT" \
		>/dev/null
}

# fl_start_pair [HOOK_B]: A and B launched, counting, both at the coordinator.
fl_start_pair() {
	fl_launch A
	fl_launch B "${1:-}"
	wait_for_file "$T/A.ready"
	wait_for_file "$T/B.ready"
	rs_wait_count "$T/A.out" 3
	rs_wait_count "$T/B.out" 3
	wait_peers 2
}

# fl_fresh [COORD_ARGS...]: a clean checkpoint directory and a new coordinator for the next
# scenario (the previous one's processes are all gone by now).
fl_fresh() {
	if [ -n "${COORD_PID:-}" ]; then
		kill -KILL "$COORD_PID" 2>/dev/null
		wait "$COORD_PID" 2>/dev/null
		COORD_PID=
	fi
	rm -f "$T"/ckpt_* "$T"/.ckpt_* "$T"/dmtcp_restart_script* "$T"/.dmtcp_restart_script* \
		"$T"/script1.sh "$T"/bc2.* "$T"/*.ready "$T"/*.rc
	fl_reset_gate
	start_coord "$@"
}

# fl_ckpt1: checkpoint 1, which must complete; its restart script kept as $T/script1.sh.
fl_ckpt1() {
	local out
	out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || fail "checkpoint 1 failed: $out"
	cp "$(status_field LAST_CKPT)" "$T/script1.sh" || fail "no restart script after checkpoint 1"
}

# fl_bc_start: checkpoint 2 by -bc in the background: $T/bc2.out, its status in $T/bc2.rc.
fl_bc_start() {
	rm -f "$T/bc2.rc"
	(
		run_user "$BIN/dmtcp_command" -bc >"$T/bc2.out" 2>&1 8>&-
		echo $? >"$T/bc2.rc.tmp" && mv "$T/bc2.rc.tmp" "$T/bc2.rc"
	) &
	track $!
}

# fl_check_bc EXPECT: how checkpoint 2's -bc ended. EXPECT "ok", or a regex its one line of
# failure must match.
fl_check_bc() {
	wait_until 60 test -s "$T/bc2.rc" || fail "dmtcp_command -bc did not return after the fault"
	if [ "$1" = ok ]; then
		[ "$(cat "$T/bc2.rc")" = 0 ] || fail "-bc failed: $(cat "$T/bc2.out")"
		return 0
	fi
	[ "$(cat "$T/bc2.rc")" != 0 ] || fail "-bc succeeded: $(cat "$T/bc2.out")"
	[ "$(wc -l <"$T/bc2.out")" = 1 ] || { cat "$T/bc2.out"; fail "-bc did not fail with one line"; }
	grep -Eq -- "$1" "$T/bc2.out" || fail "-bc said '$(cat "$T/bc2.out")', not /$1/"
}

# fl_check_finals [DIR]: every image under a final name, and every .prev, is whole.
fl_check_finals() {
	local f n=0 d=${1:-$T}
	for f in "$d"/ckpt_*.dmtcp "$d"/ckpt_*.dmtcp.prev; do
		[ -e "$f" ] || continue
		"$BIN/dmtcp_restart" --show "$f" >/dev/null 2>"$T/show.err" ||
			fail "$(basename "$f") is under a final name but is not a whole image: $(cat "$T/show.err")"
		n=$((n + 1))
	done
	[ $n -ge 2 ] || { ls -la "$d"; fail "$n final images left, expected 2 at least"; }
}

_fl_temp_gone() { ! ls -a "${1:-$T}" | grep -q '^\.ckpt_.*\.tmp'; }
# fl_no_temp [DIR]: no temporary image left.
fl_no_temp() {
	_fl_temp_gone "${1:-}" || { ls -la "${1:-$T}"; fail "a temporary image was left behind"; }
}

# fl_check_running NAME...: each program counts on (not left stopped), its oracle silent.
fl_check_running() {
	local n at
	for n in "$@"; do
		at=$(rs_last_count "$T/$n.out")
		rs_wait_count "$T/$n.out" "$at" 20
		! grep -q FAIL "$T/$n.out" || fail "$n: $(grep FAIL "$T/$n.out")"
	done
}

# fl_kill_all NAME...: dmtcp_command -k; each run NAME ends (killed: 137), the coordinator
# has no peer left.
fl_kill_all() {
	local n
	run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
	for n in "$@"; do
		rs_wait_rc "$n" 137
	done
	wait_until 30 _peers_are 0 || fail "peers still at the coordinator after the kill"
}

# fl_restart_script1 RUN: checkpoint 1's restart script, run as RUN, brings back A and B, which
# count past where they were killed, their oracle silent.
fl_restart_script1() {
	local run=$1 ka kb
	ka=$(rs_last_count "$T/A.out")
	kb=$(rs_last_count "$T/B.out")
	RS_PROG_OUT=$T/A.out
	rs_run "$run" bash "$T/script1.sh"
	rs_wait_running 2 "$run"
	rs_wait_count "$T/A.out" "$ka" 60
	rs_wait_count "$T/B.out" "$kb" 60
	! grep -q FAIL "$T/A.out" "$T/B.out" || fail "after the restart: $(grep FAIL "$T/A.out" "$T/B.out")"
}

# fl_scenario STEP VICTIM EXPECT: one fault (see the top of this file). STEP is a hold of B's
# tracer ("commit#2") or of the coordinator ("coord-commit#2"); VICTIM proc (B), tracer (B's)
# or coord; EXPECT what -bc says (fl_check_bc).
fl_scenario() {
	local step=$1 victim=$2 expect=$3 port pb tb out
	case $step in
	coord-*) DMTCP_TEST_STEP_DELAY_MS=$(fl_hook "$step") fl_fresh; fl_start_pair ;;
	*) fl_fresh; fl_start_pair "$(fl_hook "$step")" ;;
	esac
	fl_ckpt1
	pb=$(fl_pid B)
	tb=$(fl_tracer_of "$pb")
	fl_bc_start
	fl_wait_reached "$step"
	case $victim in
	proc) kill -KILL "$pb" ;;
	tracer) kill -KILL "$tb" ;;
	coord) kill -KILL "$COORD_PID"; wait "$COORD_PID" 2>/dev/null ;;
	*) harness_fail "no victim '$victim'" ;;
	esac
	fl_open_gate
	fl_check_bc "$expect"
	fl_check_finals
	# a tracer that survived dropped its temporary image (B's, killed, left its own); with
	# the coordinator gone, -bc returns at once while a tracer may still be writing: it drops
	# its image when its step ends and it finds no coordinator
	[ "$victim" != coord ] || wait_until 30 _fl_temp_gone
	[ "$victim" = tracer ] || fl_no_temp
	if [ "$victim" = coord ]; then
		fl_check_running A B
		port=$COORD_PORT
		start_coord --port "$port"
		[ "$COORD_PORT" = "$port" ] || harness_fail "the new coordinator took port $COORD_PORT"
		wait_peers 2 30
		fl_kill_all A B
	else
		fl_check_running A
		fl_kill_all A
	fi
	fl_restart_script1 R
	if [ "$victim" = tracer ]; then
		# The next image of B's name drops the temporary image its dead writer left.
		wait_until 20 test ! -e "/proc/$tb" || fail "B's killed tracer $tb is still there"
		out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || fail "checkpoint after the restart: $out"
		fl_no_temp
	fi
	fl_kill_all R
	log "$step, $victim killed: -bc $(cat "$T/bc2.rc"): $(head -c 150 "$T/bc2.out"); checkpoint 1's script restarted A and B"
}
