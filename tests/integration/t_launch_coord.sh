#!/bin/bash
# Choosing the coordinator, and dmtcp_launch's own failures.
#  - default --any-coordinator starts one in the background (port 0 + --port-file), the
#    program is its peer, and it goes away with the last peer;
#  - -j joins a running one; --join with none answering fails;
#  - an unknown program, a non-executable file, and bad options each give a clear message and
#    DMTCP_FAIL_RC (99, or the value of $DMTCP_FAIL_RC), and never run the program.
# Dynamic and static builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

# expect_fail RC REGEX ARGS...: dmtcp_launch ARGS fails with RC and a message matching REGEX.
expect_fail() {
	local want=$1 re=$2 rc
	shift 2
	run_user "$BIN/dmtcp_launch" "$@" >"$T/err" 2>&1
	rc=$?
	[ "$rc" = "$want" ] || { cat "$T/err"; fail "dmtcp_launch $*: exit status $rc, expected $want"; }
	grep -Eq -- "$re" "$T/err" || { cat "$T/err"; fail "dmtcp_launch $*: no message /$re/"; }
	[ ! -e "$T/ran" ] || fail "dmtcp_launch $*: the program ran although launch failed"
}

# 1. Implicit coordinator.
mkdir -m 777 "$T/imp"
launch_bg imp -p 0 --port-file "$T/imp/port" "$(prog l_tree)" "$T/imp" 1
wait_for_line "$T/imp.out" '^READY'
wait_for_file "$T/imp/port"
port=$(cat "$T/imp/port")
# A new process is announced within a second of its birth.
_imp_peers() { [ "$(DMTCP_COORD_PORT=$port status_field NUM_PEERS)" = 2 ]; }
wait_until 1 _imp_peers || fail "implicit coordinator on port $port does not count 2 peers"
touch "$T/imp/stop.all"
wait_rc imp 7
_coord_gone() { port_closed "$port"; }
wait_until 10 _coord_gone || fail "the implicitly started coordinator outlived its last peer"

# 1b. -i reaches a coordinator that dmtcp_launch starts: checkpoints come by themselves.
mkdir -m 777 "$T/int"
launch_bg int -p 0 --port-file "$T/int/port" -i 1 "$(prog l_tree)" "$T/int" 1
wait_for_line "$T/int.out" '^READY'
wait_for_file "$T/int/port"
_ckpts_ge1() { local c; c=$(DMTCP_COORD_PORT=$(cat "$T/int/port") status_field CKPT_COUNT); [ "${c:-0}" -ge 1 ]; }
wait_until 10 _ckpts_ge1 || fail "no interval checkpoint within 10 s with -i 1"
touch "$T/int/stop.all"
wait_rc int 7

# 2. Explicit join; --ckptdir sends this computation's images to its own directory.
start_coord
mkdir -m 777 "$T/join" "$T/images"
launch_bg join -j --ckptdir "$T/images" "$(prog l_tree)" "$T/join" 2
wait_for_line "$T/join.out" '^READY'
wait_peers 3
ckpt "with --ckptdir"
n=$(ls "$T/images" | grep -c '^ckpt_l_tree.*\.dmtcp$')
[ "$n" = 3 ] || { ls -l "$T/images"; fail "expected 3 images in the --ckptdir directory, found $n"; }
touch "$T/join/stop.all"
wait_rc join 7

# 3. Failures. Port 1 on loopback answers nobody.
mk=(touch "$T/ran")
expect_fail 99 "no coordinator at 127.0.0.1:1" -j -p 1 "${mk[@]}"
DMTCP_FAIL_RC=42 expect_fail 42 "no coordinator" --join-coordinator --coord-port 1 "${mk[@]}"
# (a PATH the test user can search, so the answer is ENOENT, not EACCES)
PATH=/usr/bin:/bin expect_fail 99 "cannot execute 'no-such-program-here': No such file or directory" -j no-such-program-here
DMTCP_FAIL_RC=3 expect_fail 3 "cannot execute" -j "$T/no/such/path"
printf 'not a program\n' >"$T/plain"
chmod 644 "$T/plain"
expect_fail 99 "cannot execute '$T/plain': Permission denied" -j "$T/plain"
expect_fail 99 "unknown option '--bogus'" --bogus "${mk[@]}"
expect_fail 99 "port number" -p notaport "${mk[@]}"
expect_fail 99 "--interval must be a number" -i soon "${mk[@]}"
expect_fail 99 "plugin interface" --with-plugin foo.so "${mk[@]}"
expect_fail 99 "needs an argument" --port-file
expect_fail 99 "no program to launch" -j
DMTCP_FAIL_RC=77 DMTCP_SIGCKPT=x expect_fail 77 "DMTCP_SIGCKPT" "${mk[@]}"
DMTCP_GZIP=maybe expect_fail 99 "DMTCP_GZIP='maybe' is not a boolean" "${mk[@]}"
DMTCP_COORD_PORT=x7 expect_fail 99 "DMTCP_COORD_PORT='x7' is not a port number" "${mk[@]}"
DMTCP_CHECKPOINT_INTERVAL=-3 expect_fail 99 "DMTCP_CHECKPOINT_INTERVAL must be a number" "${mk[@]}"
DMTCP_FAIL_RC=123 expect_fail 123 "unknown option" --nope "${mk[@]}"
run_user "$BIN/dmtcp_launch" --help | grep -q -- '--join-coordinator' || fail "--help lacks options"
run_user "$BIN/dmtcp_launch" --version | grep -q 'dmtcp_launch' || fail "--version"
# Accepted for compatibility.
run_user "$BIN/dmtcp_launch" -j --ckpt-signal 12 --no-gzip -q "$(prog l_exit)" code 4
[ $? = 4 ] || fail "--ckpt-signal/--no-gzip/-q not accepted"
# A tuning knob with a bad value is named in a warning, and the program runs with the default.
DMTCP_TRACER_SPIN_US=soon run_user "$BIN/dmtcp_launch" -j "$(prog l_exit)" code 5 2>"$T/spin.err"
[ $? = 5 ] || { cat "$T/spin.err"; fail "DMTCP_TRACER_SPIN_US=soon: the program did not run"; }
grep -q "DMTCP_TRACER_SPIN_US=soon: not a number" "$T/spin.err" ||
	{ cat "$T/spin.err"; fail "no warning for DMTCP_TRACER_SPIN_US=soon"; }
log "coordinator choice and failures as specified"
exit 0
