#!/bin/bash
# dmtcp_launch --attach, the program's side of it:
#  - a program that forks, execs, spawns, makes sockets and creates threads without pause
#    (l_churn) is
#    attached while it does so and checkpointed twice; then its tracer is killed with SIGKILL:
#    the program and every child it makes from then on run on untraced, and it ends with PASS
#    (no fork, exec, wait, socket call or join failed: no ENOSYS from a filter, no EINTR);
#  - a parent held in vfork() by its child (which waits before it execs) is attached at once:
#    the child is not held, so the parent can stop once the child execs; a checkpoint follows;
#  - a program stopped by SIGSTOP stays stopped when attached and across a checkpoint, and is
#    listed STOPPED; SIGCONT lets it go on;
#  - two programs attached with one command share one tracer and are checkpointed together;
#  - refusals, each with exit status DMTCP_FAIL_RC, the pid and the reason named, the target
#    untouched: no such process, a thread id, a process already traced (by a first attach),
#    another user's process (unprivileged variant), an ancestor of dmtcp_launch (root
#    variant), --attach with a command.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/restart_lib.bash"
. "$(dirname "$0")/launch_lib.bash"
# The programs are started without dmtcp, outside any dmtcp_launch: a failing run kills them
# by their command lines, which name $T (rs_kill_leftovers).
trap 'rs_kill_leftovers; _launch_cleanup; _cleanup' EXIT

start_coord
tracer_of() { sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }
_traced() { [ "$(tracer_of "$1")" != 0 ]; }
_untraced() { [ "$(tracer_of "$1")" = 0 ]; }
# attach NAME PID...: dmtcp_launch --attach as the test user, bounded; exit status in $rc.
attach() {
	local name=$1 a=() p
	shift
	for p in "$@"; do a+=(--attach "$p"); done
	rc=0
	run_user timeout 30 "$BIN/dmtcp_launch" "${a[@]}" >"$T/$name.out" 2>&1 || rc=$?
}
expect_refusal() { # NAME PATTERN
	[ "$rc" = 99 ] || { cat "$T/$1.out"; fail "$1: exit status $rc, expected 99"; }
	grep -Eq -- "$2" "$T/$1.out" || { cat "$T/$1.out"; fail "$1: no /$2/ in the error"; }
	log "$1 refused: $(head -n 1 "$T/$1.out")"
}

# --- a churning program, attached, checkpointed, then its tracer killed -----------------
d=$T/churn
mkdir -m 777 "$d"
rs_bare churn "$(prog l_churn)" "$d"
wait_for_line "$T/churn.log" '^READY'
pid=$(cat "$T/churn.pid")
attach churn "$pid"
[ "$rc" = 0 ] || { cat "$T/churn.out"; fail "attach to a churning program: exit status $rc"; }
[ -s "$T/churn.out" ] && { cat "$T/churn.out"; fail "dmtcp_launch --attach printed output"; }
_traced "$pid" || fail "l_churn not traced after the attach"
tracer=$(tracer_of "$pid")
wait_peers 1
ckpt "of the attached churn 1"
ckpt "of the attached churn 2"
[ -e "$T/churn.rc" ] && { cat "$T/churn.log"; fail "l_churn ended during the checkpoints"; }
kill -KILL "$tracer"
wait_until 10 _untraced "$pid" || fail "l_churn still traced after its tracer was killed"
# It goes on forking, exec'ing and creating threads untraced (its fork count moves on).
forks() { tr -d ' \n' <"$d/forks"; }
f0=$(forks)
_forked_on() { [ "$(forks)" -ge $((f0 + 256)) ]; }
wait_until 20 _forked_on || fail "l_churn stopped forking after its tracer died ($f0 -> $(forks))"
[ -e "$T/churn.rc" ] && { cat "$T/churn.log"; fail "l_churn died with its tracer"; }
touch "$d/stop"
wait_until 30 test -s "$T/churn.rc" || fail "l_churn did not end after its stop file"
[ "$(cat "$T/churn.rc")" = 0 ] || { cat "$T/churn.log"; fail "l_churn: exit status $(cat "$T/churn.rc")"; }
grep -q '^PASS' "$T/churn.log" || { cat "$T/churn.log"; fail "l_churn did not pass"; }
log "churn: attached, checkpointed twice, tracer killed, ran on: $(grep '^PASS' "$T/churn.log")"
wait_peers 0

# --- a vfork in progress at the attach ---------------------------------------------------
v=$T/vf
mkdir -m 777 "$v"
rs_bare vf "$(prog l_vfork)" "$v"
wait_for_line "$T/vf.log" '^READY'
vpid=$(cat "$T/vf.pid")
touch "$v/vfork"
wait_for_file "$v/in-vfork"
attach vfork "$vpid"
[ "$rc" = 0 ] || { cat "$T/vfork.out"; fail "attach to a parent in vfork: exit status $rc"; }
_traced "$vpid" || fail "l_vfork not traced after the attach"
touch "$v/go"
wait_for_line "$T/vf.log" '^vfork done'
wait_peers 1
ckpt "after the vfork"
touch "$v/stop"
wait_until 20 test -s "$T/vf.rc" || fail "l_vfork did not end"
[ "$(cat "$T/vf.rc")" = 0 ] || { cat "$T/vf.log"; fail "l_vfork: exit status $(cat "$T/vf.rc")"; }
grep -q '^PASS' "$T/vf.log" || { cat "$T/vf.log"; fail "l_vfork did not pass"; }
log "vfork: attached while the parent waited for its vfork child, checkpointed after"
wait_peers 0

# --- a stopped program -------------------------------------------------------------------
s=$T/stop
mkdir -m 777 "$s"
rs_bare stop "$(prog l_stop)" "$s"
wait_for_line "$T/stop.log" '^READY'
spid=$(cat "$T/stop.pid")
count() { tr -d ' \n' <"$s/count"; }
_is_stopped() { case $(pid_state "$spid") in T | t) return 0 ;; esac; return 1; }
_moved() { [ "$(count)" != "$1" ]; }
_listed_as() { "$BIN/dmtcp_command" -l | grep "\[$spid\]" | grep -q ", $1,"; }
kill -STOP "$spid"
wait_until 5 _is_stopped || fail "SIGSTOP did not stop l_stop"
c1=$(count)
attach stop "$spid"
[ "$rc" = 0 ] || { cat "$T/stop.out"; fail "attach to a stopped program: exit status $rc"; }
_traced "$spid" || fail "l_stop not traced after the attach"
wait_until 5 _listed_as STOPPED || { "$BIN/dmtcp_command" -l; fail "the attached stopped program is not listed STOPPED"; }
ckpt "of the stopped program"
_is_stopped || fail "the attach or the checkpoint woke the stopped program ($(pid_state "$spid"))"
[ "$(count)" = "$c1" ] || fail "the stopped program ran: count $c1 -> $(count)"
kill -CONT "$spid"
wait_until 5 _moved "$c1" || fail "SIGCONT did not let the attached program go on"
wait_until 5 _listed_as RUNNING || { "$BIN/dmtcp_command" -l; fail "not listed RUNNING after SIGCONT"; }
log "stopped: stayed stopped through the attach and a checkpoint, SIGCONT let it go"

# --- two programs with one command ------------------------------------------------------------
for k in 1 2; do
	mkdir -m 777 "$T/two$k"
	rs_bare two$k "$(prog l_stop)" "$T/two$k"
	wait_for_line "$T/two$k.log" '^READY'
done
attach two "$(cat "$T/two1.pid")" "$(cat "$T/two2.pid")"
[ "$rc" = 0 ] || { cat "$T/two.out"; fail "attach of two programs: exit status $rc"; }
_traced "$(cat "$T/two1.pid")" && _traced "$(cat "$T/two2.pid")" || fail "not both traced"
[ "$(tracer_of "$(cat "$T/two1.pid")")" = "$(tracer_of "$(cat "$T/two2.pid")")" ] ||
	fail "two programs attached by one command have two tracers"
wait_peers 3 # with the stopped program's
ckpt "of two attached programs"
for k in 1 2; do
	touch "$T/two$k/stop"
	wait_until 20 test -s "$T/two$k.rc" || fail "l_stop $k did not end"
	[ "$(cat "$T/two$k.rc")" = 0 ] || fail "l_stop $k: exit status $(cat "$T/two$k.rc")"
done
log "two programs attached with one command, one tracer, checkpointed"

# --- refusals ----------------------------------------------------------------------------
attach again "$spid"
expect_refusal again "pid $spid.*already traced by pid $(tracer_of "$spid")"
c2=$(count)
wait_until 5 _moved "$c2" || fail "l_stop stopped counting after a refused attach"
touch "$s/stop"
wait_until 20 test -s "$T/stop.rc" || fail "l_stop did not end"
[ "$(cat "$T/stop.rc")" = 0 ] || fail "l_stop: exit status $(cat "$T/stop.rc")"

none=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
while [ -e "/proc/$none" ]; do none=$((none - 1)); done
attach nosuch "$none"
expect_refusal nosuch "pid $none.*no such process"

# a thread id: the coordinator's is single-threaded; take a thread of a process of ours
rs_outfile thr.log
(run_user "$(prog rs_threads)" "$T/thr.ready" 100000 >"$T/thr.log" 2>&1 </dev/null 8>&-) &
track $!
wait_for_file "$T/thr.ready"
tpid=$(head -n 1 "$T/thr.ready")
wait_until 10 test "$(ls "/proc/$tpid/task" | wc -l)" -gt 1 || harness_fail "rs_threads has no threads"
tid=$(ls "/proc/$tpid/task" | grep -vx "$tpid" | head -n 1)
attach thread "$tid"
expect_refusal thread "pid $tid.*a thread of process $tpid"
_untraced "$tpid" || fail "a refused attach left rs_threads traced"
kill -KILL "$tpid"

if [ "$UNPRIV" = 1 ]; then
	attach other "$COORD_PID" # the coordinator runs as root
	expect_refusal other "pid $COORD_PID.*belongs to user 0"
	_untraced "$COORD_PID" || fail "a refused attach left the coordinator traced"
else
	attach ancestor $$
	expect_refusal ancestor "pid $$.*an ancestor of dmtcp_launch"
fi

rc=0
run_user "$BIN/dmtcp_launch" --attach 1 /bin/true >"$T/both.out" 2>&1 || rc=$?
expect_refusal both "no program to launch with it"

# Yama: with ptrace_scope 1 a user may trace only descendants (this test's programs are not
# dmtcp_launch's). Only where the kernel has Yama and we may set it (the harness is root).
yama=/proc/sys/kernel/yama/ptrace_scope
if [ "$UNPRIV" = 1 ] && [ -w "$yama" ]; then
	old_scope=$(cat "$yama")
	trap 'echo "$old_scope" >"$yama"; rs_kill_leftovers; _launch_cleanup; _cleanup' EXIT
	mkdir -m 777 "$T/ystop"
	rs_bare y "$(prog l_stop)" "$T/ystop"
	wait_for_line "$T/y.log" '^READY'
	echo 1 >"$yama"
	attach yama "$(cat "$T/y.pid")"
	echo "$old_scope" >"$yama"
	expect_refusal yama "ptrace_scope is 1"
	_untraced "$(cat "$T/y.pid")" || fail "a refused attach (Yama) left l_stop traced"
else
	log "Yama's refusal not tried: $([ -e "$yama" ] && echo "needs the unprivileged variant" || echo "this kernel has no Yama")"
fi
