# Helpers for integration tests; source it first thing:  . "$(dirname "$0")/../lib.sh"
#
# Every wait here is on explicit readiness (a file, a line, a status) with a bound; no test
# sleeps for a fixed time to let something happen.
#
# A test's header comment names its variants, which tests/run-integration.sh runs one by one:
#   # builds: dynamic static   the body runs once per build, BUILD says which; it names its
#                              programs with `prog NAME` and keeps what only one build does
#                              under a condition on $BUILD
#   # variants: root unpriv    the body runs as root and again with UNPRIV=1, where run_user
#                              runs the programs under test as the user nobody
# Run by hand, a test is the dynamic, root variant: bash tests/integration/t_x.sh; others with
# DMTCP_TEST_BUILD=static and DMTCP_TEST_UNPRIV=1 in the environment.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$TOP/bin
PROGS=$TOP/build/tests/progs
export PATH=$BIN:$PATH
UNPRIV=${DMTCP_TEST_UNPRIV:-0}
BUILD=${DMTCP_TEST_BUILD:-dynamic}
TEST_NAME=$(basename "$0" .sh)

# A private scratch directory, readable and writable by the unprivileged user too.
T=$(mktemp -d /tmp/dmtcp-test.XXXXXX)
chmod 1777 "$T"
export DMTCP_CHECKPOINT_DIR=$T
# No test may talk to a coordinator it did not start: point the defaults at a dead port.
export DMTCP_COORD_HOST=127.0.0.1
unset DMTCP_HOST DMTCP_PORT DMTCP_COORD_PORT DMTCP_CHECKPOINT_INTERVAL

_bg_pids=()
_cleanup() {
	local p
	[ -n "${COORD_PID:-}" ] && _bg_pids+=("$COORD_PID")
	for p in "${_bg_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	# Reap them here, quietly: otherwise bash reports each "Killed" job as the last line of
	# the test's output, where the runner looks for a skip's reason.
	for p in "${_bg_pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap _cleanup EXIT

log() { echo "[$TEST_NAME] $*"; }
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
harness_fail() { echo "HARNESS: $*"; exit 99; }

case $BUILD in
dynamic | static) ;;
*) harness_fail "DMTCP_TEST_BUILD=$BUILD: not a build (dynamic or static)" ;;
esac

# prog NAME: the path of test program NAME (tests/progs/NAME.c) in this variant's build.
prog() {
	if [ "$BUILD" = static ]; then
		echo "$PROGS/$1.static"
	else
		echo "$PROGS/$1"
	fi
}

# Remember a background pid so it is killed when the test ends.
track() { _bg_pids+=("$1"); }

# run_user CMD...: run CMD as the test's user (root, or nobody in the unpriv variant).
run_user() {
	if [ "$UNPRIV" = 1 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all -- "$@"
	else
		"$@"
	fi
}

# wait_until TIMEOUT_S CMD...: poll CMD every 20 ms until it succeeds; fail after TIMEOUT_S.
wait_until() {
	local limit=$1 i=0 n
	shift
	n=$((limit * 50))
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $n ] && return 1
		sleep 0.02
	done
	return 0
}
wait_for_file() { wait_until "${2:-20}" test -s "$1" || fail "timed out waiting for file $1"; }
# wait_for_line FILE REGEX [TIMEOUT]
wait_for_line() {
	wait_until "${3:-20}" grep -Eq -- "$2" "$1" || {
		echo "--- $1:"; tail -n 20 "$1"; fail "timed out waiting for /$2/ in $1"; }
}

# start_coord [ARGS...]: start a coordinator on a free port; sets COORD_PORT and COORD_PID and
# exports DMTCP_COORD_PORT. Its stdin is a fifo ($T/coord.in) kept open so that commands can be
# typed with coord_type; its output goes to $T/coord.out. Its key is $T/coord.key (exported
# as DMTCP_COORD_KEY_FILE; a coordinator started again in the test uses the same key), owned
# by the test user in the unprivileged variants, whose computation it is.
start_coord() {
	export DMTCP_COORD_KEY_FILE=$T/coord.key
	rm -f "$T/coord.port" "$T/coord.in"
	mkfifo "$T/coord.in"
	# Hold the fifo open read-write so the coordinator never sees end of input on its own
	# (closing fd 8, `exec 8>&-`, is end of input; so children must not inherit it).
	exec 8<>"$T/coord.in"
	"$BIN/dmtcp_coordinator" --port 0 --port-file "$T/coord.port" --ckptdir "$T" "$@" \
		<"$T/coord.in" >"$T/coord.out" 2>&1 8>&- &
	COORD_PID=$!
	track $COORD_PID
	wait_until 20 test -s "$T/coord.port" || { cat "$T/coord.out"; fail "coordinator did not start"; }
	COORD_PORT=$(cat "$T/coord.port")
	export DMTCP_COORD_PORT=$COORD_PORT
	[ "$UNPRIV" = 1 ] && chown nobody:nogroup "$T/coord.key"
	return 0
}
coord_type() { printf '%s\n' "$*" >&8; }

# port_closed PORT: nothing listens on 127.0.0.1:PORT (a coordinator is gone; asking it with
# dmtcp_command could fail for other reasons, e.g. its key).
port_closed() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# status_field NAME: value of NAME=... in `dmtcp_command -s`, asked as the test user.
status_field() { run_user "$BIN/dmtcp_command" -s 2>/dev/null | sed -n "s/^$1=//p" | head -n 1; }
# wait_peers N [TIMEOUT]: until the coordinator counts N peers.
_peers_are() { [ "$(status_field NUM_PEERS)" = "$1" ]; }
wait_peers() {
	wait_until "${2:-20}" _peers_are "$1" ||
		fail "expected $1 peers, coordinator says '$(status_field NUM_PEERS)'"
}
