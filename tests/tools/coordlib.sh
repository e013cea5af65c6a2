# Helpers for the t_coord_* integration tests; source it after tests/lib.sh.
#
# fakepeer (tests/tools/fakepeer.c) plays N peers and prints one event per line; tests wait on
# those lines with wait_for_line, never on a fixed sleep.

FAKEPEER=$TOP/build/tests/tools/fakepeer
[ -x "$FAKEPEER" ] || harness_fail "fakepeer is not built (make tools)"

# start_fakepeer NAME ARGS...: fakepeer against the test's coordinator in the background,
# output in $T/NAME.out; its pid in FP_PID.
start_fakepeer() {
	local name=$1
	shift
	"$FAKEPEER" -p "$COORD_PORT" "$@" >"$T/$name.out" 2>&1 8>&- &
	FP_PID=$!
	track $FP_PID
}

# ckpt_count: checkpoints completed so far, from dmtcp_command -s.
ckpt_count() { status_field CKPT_COUNT; }

_count_ge() { local c; c=$(ckpt_count); [ -n "$c" ] && [ "$c" -ge "$1" ]; }
# wait_ckpt_count N [TIMEOUT]: until at least N checkpoints have completed.
wait_ckpt_count() {
	wait_until "${2:-20}" _count_ge "$1" || fail "checkpoint count stayed at '$(ckpt_count)', expected >= $1"
}

# coord_alive: the coordinator still answers dmtcp_command -s.
coord_alive() { "$BIN/dmtcp_command" -s >/dev/null 2>&1; }

# wait_exit PID TIMEOUT: until PID is gone (it need not be our child).
_gone() { ! kill -0 "$1" 2>/dev/null; }
wait_exit() { wait_until "$2" _gone "$1"; }
