# Helpers for the t_restart_* integration tests; source it after tests/lib.sh.
#
# A cycle is: checkpoint (dmtcp_command -bc, which returns once the images are committed),
# kill (dmtcp_command -k, then wait for the command that ran the computation to end), restart
# (dmtcp_restart IMAGES, or the restart script), then wait until the coordinator counts the
# processes again and the program made progress past where it was killed.

# On exit, a test that failed half-way must leave no computation behind, and a restarted one
# is no child of the test's shell (nor is a restart script's dmtcp_restart, once its shell is
# killed): kill, by pid, every process whose command line names the test's directory (the
# programs, tracers, restarts, coordinators), then lib.sh's cleanup.
rs_kill_leftovers() {
	local f p
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" = $$ ] && continue
		tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$T/" && kill -KILL "$p" 2>/dev/null
	done
}
trap 'rs_kill_leftovers; _cleanup' EXIT
# A test ended by the runner's time limit cleans up too.
trap 'exit 143' TERM INT HUP

# RS_OWN_OUT: words that make a launched program append its stdout to a file it opens itself,
# "dmtcp_launch "${RS_OWN_OUT[@]}" FILE PROG ARGS...". Its stdout is then not the launch's,
# which a restart replaces with its own (as DMTCP does): tests that restart several separately
# launched programs with one command keep their outputs apart so.
RS_OWN_OUT=(sh -c 'exec "$@" >>"$0"')

# rs_run NAME CMD...: run_user CMD in the background; its stderr in $T/NAME.err, its exit
# status in $T/NAME.rc when it ends. Its stdout is the caller's (tests redirect it to a file
# they created; a restart's goes on as the restored program's stdout).
rs_run() {
	local name=$1
	shift
	rm -f "$T/$name.rc"
	# The program inherits this stderr and a restart reopens it: the test user must own it.
	rs_outfile "$name.err"
	(
		# fd 8 is lib.sh's hold on the coordinator's input fifo: not the program's business.
		run_user "$@" 2>"$T/$name.err" </dev/null 8>&-
		echo $? >"$T/$name.rc.tmp" && mv "$T/$name.rc.tmp" "$T/$name.rc"
	) &
	track $!
}

# rs_bare NAME CMD...: run_user CMD without dmtcp, in the background (tests that attach to
# it): its pid in $T/NAME.pid (the shell that writes it execs CMD), its stdout and stderr in
# $T/NAME.log, its exit status in $T/NAME.rc when it ends.
rs_bare() {
	local name=$1
	shift
	rs_outfile "$name.log"
	rm -f "$T/$name.rc" "$T/$name.pid"
	(
		run_user sh -c 'echo $$ >"$0"; exec "$@"' "$T/$name.pid" "$@" \
			>"$T/$name.log" 2>&1 </dev/null 8>&-
		echo $? >"$T/$name.rc.tmp" && mv "$T/$name.rc.tmp" "$T/$name.rc"
	) &
	track $!
}

# rs_wait_rc NAME EXPECTED [TIMEOUT]
rs_wait_rc() {
	wait_until "${3:-30}" test -s "$T/$1.rc" || { cat "$T/$1.err"; fail "$1 did not end"; }
	local rc
	rc=$(cat "$T/$1.rc")
	[ "$rc" = "$2" ] || {
		echo "--- $1.err:"; cat "$T/$1.err"
		# the program's own words (a FAIL line says what it found wrong)
		if [ -n "${RS_PROG_OUT:-}" ]; then
			echo "--- $(basename "$RS_PROG_OUT"):"; tail -n 8 "$RS_PROG_OUT"
		fi
		fail "$1: exit status $rc, expected $2"
	}
}

# rs_outfile NAME: an empty file the test user may write (the program's stdout).
rs_outfile() {
	: >"$T/$1"
	chmod 666 "$T/$1"
}

# rs_last_count FILE: the highest "count N" in FILE (0 when none).
rs_last_count() {
	local n
	n=$(sed -n 's/^count \([0-9]*\)$/\1/p' "$1" | sort -n | tail -n 1)
	echo "${n:-0}"
}
_count_above() { [ "$(rs_last_count "$1")" -gt "$2" ]; }
# rs_wait_count FILE N [TIMEOUT]: until the program counted past N.
rs_wait_count() {
	wait_until "${3:-20}" _count_above "$1" "$2" || {
		tail -n 5 "$1"; fail "no progress past count $2 in $1"; }
}

_running_peers() {
	[ "$(status_field NUM_PEERS)" = "$1" ] && [ "$(status_field RUNNING)" = yes ]
}
# rs_wait_running N [RUNNAME]: until the coordinator has N peers, all running. On failure,
# show what the restart command (RUNNAME), the coordinator and the program (RS_PROG_OUT, set
# by rs_cycles) said.
_running_or_ended() { _running_peers "$1" || { [ -n "$2" ] && [ -s "$T/$2.rc" ]; }; }
rs_wait_running() {
	# (Success is not re-checked: the killed run's peer may have been what answered.)
	if wait_until 60 _running_or_ended "$1" "${2:-}"; then
		[ -z "${2:-}" ] || [ ! -s "$T/$2.rc" ] || _running_peers "$1" && return 0
	fi
	if [ -n "${2:-}" ]; then
		echo "--- $2.err:"; tail -n 30 "$T/$2.err"
		[ -s "$T/$2.rc" ] && echo "--- $2 ended with status $(cat "$T/$2.rc")"
	fi
	# The program's own words (a FAIL line says what it found wrong).
	if [ -n "${RS_PROG_OUT:-}" ]; then
		echo "--- $(basename "$RS_PROG_OUT"):"; tail -n 5 "$RS_PROG_OUT"
	fi
	echo "--- coordinator output:"; tail -n 20 "$T/coord.out"
	fail "expected $1 running peers; coordinator: $("$BIN/dmtcp_command" -s 2>&1 | tr '\n' ' ')"
}

# rs_images: the images of the last checkpoint (every ckpt_*.dmtcp in $T).
rs_images() { ls "$T"/ckpt_*.dmtcp; }

# rs_checkpoint_kill RUNNAME: checkpoint, kill, wait until RUNNAME ended (killed: 137).
rs_checkpoint_kill() {
	local out
	out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || {
		echo "--- $1.err:"; tail -n 20 "$T/$1.err"
		echo "--- coordinator output:"; tail -n 20 "$T/coord.out"
		fail "checkpoint failed: $out"
	}
	run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
	rs_wait_rc "$1" 137
	# The tracer outlives the command that started it by a moment: until its peer
	# connections are gone the coordinator still has a running computation.
	wait_until 30 _peers_are 0 || fail "peers still at the coordinator after the kill"
}

# rs_restart RUNNAME OUT CMD...: the second half of a cycle, after rs_checkpoint_kill: run CMD
# (a restart) as RUNNAME, wait until RS_NPROCS processes (default 1) run at the coordinator
# and the program, whose stdout is OUT, counts past where it was killed. The restart's stdout
# appends to OUT: the restored program's standard streams are the restart's (as with DMTCP),
# its stderr is then RUNNAME.err.
rs_restart() {
	local run=$1 out=$2 killed_at
	shift 2
	killed_at=$(rs_last_count "$out")
	RS_PROG_OUT=$out
	rs_run "$run" "$@" >>"$out"
	rs_wait_running "${RS_NPROCS:-1}" "$run"
	rs_wait_count "$out" "$killed_at"
	log "$(basename "$out" .out) $run: killed at $killed_at, running again"
}

# rs_expect_pass RUNNAME OUT REGEX: the end of an oracle program run as RUNNAME with stdout OUT:
# exit status 0, no FAIL printed, a line matching REGEX (its PASS line).
rs_expect_pass() {
	local name
	name=$(basename "$2" .out)
	rs_wait_rc "$1" 0 60
	grep -q FAIL "$2" && fail "$name: $(grep FAIL "$2")"
	grep -Eq -- "$3" "$2" || { tail -n 5 "$2"; fail "$name: no line /$3/"; }
	log "$name: $(grep '^PASS' "$2")"
}

# rs_checkpoint_resume OUT: a checkpoint the computation runs on after (dmtcp_command -bc),
# then wait until the program, whose stdout is OUT, counts on.
rs_checkpoint_resume() {
	local at out
	at=$(rs_last_count "$1")
	out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || fail "checkpoint failed: $out"
	rs_wait_count "$1" "$((at + 2))"
}

# rs_attach PID OUT: "dmtcp_launch --attach PID" must return 0 at once (bounded) with PID's
# tree held by a tracer, RS_NPROCS (default 1) peers running at the coordinator, and the
# program, whose stdout is OUT, counting on under it.
rs_attach() {
	local at rc=0
	at=$(rs_last_count "$2")
	run_user timeout 30 "$BIN/dmtcp_launch" --attach "$1" >"$T/attach.out" 2>&1 || rc=$?
	[ $rc = 0 ] || { cat "$T/attach.out"; fail "dmtcp_launch --attach $1: exit status $rc"; }
	[ -s "$T/attach.out" ] && { cat "$T/attach.out"; fail "dmtcp_launch --attach printed output"; }
	[ "$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status")" != 0 ] ||
		fail "pid $1 is not traced after the attach"
	rs_wait_running "${RS_NPROCS:-1}"
	rs_wait_count "$2" "$((at + 2))"
	log "$(basename "$2" .out): attached at count $at"
}

# rs_cycles PATH LIMIT [CYCLES [RESTART...]]: the whole test of an oracle program. Launch
# "PATH READYFILE LIMIT" (stdout to $T/NAME.out, NAME the file name of PATH), then CYCLES
# times (default 3): checkpoint, kill, restart with RESTART (default: dmtcp_restart on the
# images), wait for it to run again past where it was killed. Then wait for the end: exit
# status 0, "PASS pid <its first pid>" printed, no FAIL. Each cycle checkpoints the restarted
# computation of the previous. With RS_RESUME_FIRST=1 each cycle begins with a checkpoint
# that the computation runs on after (rs_checkpoint_resume). With RS_ATTACH=1 the program is
# started without dmtcp and taken under control by "dmtcp_launch --attach PID" once it has
# counted to 3 (rs_attach); with RS_ATTACH_PARENT=1 too, its parent is attached instead (the
# root of a pipeline that PATH, a script, runs).
rs_cycles() {
	local path=$1 limit=$2 cycles=${3:-3} prog out pid run cycle
	shift 3 2>/dev/null || shift $#
	prog=$(basename "$path")
	out=$T/$prog.out
	RS_PROG_OUT=$out
	rs_outfile "$prog.out"
	rm -f "$T"/ckpt_*.dmtcp "$T/$prog.ready"
	run=launch
	if [ "${RS_ATTACH:-0}" = 1 ]; then
		rs_run $run "$path" "$T/$prog.ready" "$limit" >"$out"
	else
		rs_run $run "$BIN/dmtcp_launch" "$path" "$T/$prog.ready" "$limit" >"$out"
	fi
	wait_for_file "$T/$prog.ready"
	pid=$(head -n 1 "$T/$prog.ready")
	rs_wait_count "$out" 3
	if [ "${RS_ATTACH:-0}" = 1 ]; then
		if [ "${RS_ATTACH_PARENT:-0}" = 1 ]; then
			rs_attach "$(awk '{print $4}' "/proc/$pid/stat")" "$out"
		else
			rs_attach "$pid" "$out"
		fi
	fi
	for cycle in $(seq "$cycles"); do
		[ "${RS_RESUME_FIRST:-0}" = 1 ] && rs_checkpoint_resume "$out"
		rs_checkpoint_kill $run
		run=restart$cycle
		if [ $# -gt 0 ]; then
			rs_restart $run "$out" "$@"
		else
			rs_restart $run "$out" "$BIN/dmtcp_restart" $(rs_images)
		fi
	done
	rs_expect_pass $run "$out" "^PASS pid $pid\b"
	[ "$(rs_last_count "$out")" = "$limit" ] || fail "$prog: did not count to $limit"
	if grep -q "failed at barrier" "$T/coord.out"; then
		grep "failed at barrier" "$T/coord.out"
		fail "$prog: a barrier failed at the coordinator"
	fi
}
