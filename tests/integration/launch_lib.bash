# Helpers for the t_launch_* integration tests; source it after tests/lib.sh.

# launch_bg NAME ARGS...: run_user dmtcp_launch ARGS in the background, output in $T/NAME.out,
# its exit status in $T/NAME.rc when it ends; its pid in LAUNCH_PID.
launch_bg() {
	local name=$1
	shift
	(
		run_user "$BIN/dmtcp_launch" "$@" >"$T/$name.out" 2>&1 &
		echo $! >"$T/$name.lpid"
		wait $!
		echo $? >"$T/$name.rc.tmp" && mv "$T/$name.rc.tmp" "$T/$name.rc"
	) &
	LAUNCH_PID=$!
	track $LAUNCH_PID
}

# descendants PID: every live descendant of PID, by walking the parent links.
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# On exit, a test that failed half-way must not leave tracers behind: kill, by pid, every
# process under each dmtcp_launch it started (the traced programs die with their tracer).
_launch_cleanup() {
	local f p
	for f in "$T"/*.lpid; do
		[ -e "$f" ] || continue
		for p in $(descendants "$(cat "$f")"); do
			kill -KILL "$p" 2>/dev/null
		done
	done
}
trap '_launch_cleanup; _cleanup' EXIT
# A test ended by the runner's time limit cleans up too.
trap 'exit 143' TERM INT HUP

# wait_rc NAME EXPECTED [TIMEOUT]: until dmtcp_launch NAME ended; fail unless with EXPECTED.
wait_rc() {
	wait_for_file "$T/$1.rc" "${3:-20}"
	local rc
	rc=$(cat "$T/$1.rc")
	[ "$rc" = "$2" ] || { echo "--- $1.out:"; cat "$T/$1.out"; fail "$1: exit status $rc, expected $2"; }
}

# mkfifos NAME...: fifos in $T that the unprivileged user may use too.
mkfifos() {
	local f
	for f in "$@"; do
		mkfifo -m 666 "$T/$f" || harness_fail "mkfifo $T/$f"
	done
}

# pid_state PID: the state letter of /proc/PID/stat (R S D T t Z ...).
pid_state() { sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null; }

# children_of PID: pids whose parent is PID.
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }

# ckpt [WHAT]: one blocking checkpoint (dmtcp_command -bc) with a bound; on failure show what
# every listed process's threads are doing.
ckpt() {
	if ! timeout 30 "$BIN/dmtcp_command" -bc >"$T/bc.out" 2>&1; then
		cat "$T/bc.out"
		"$BIN/dmtcp_command" -l
		local p
		for p in $("$BIN/dmtcp_command" -l | sed -n 's/.*\[\([0-9]*\)\]@.*/\1/p'); do
			for s in /proc/"$p"/task/*/stat; do
				echo "$s: $(cut -d' ' -f3 "$s") wchan=$(cat "${s%stat}wchan" 2>/dev/null)"
			done
		done
		fail "checkpoint ${1:-} failed or hung"
	fi
}
