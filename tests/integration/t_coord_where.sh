#!/bin/bash
# dmtcp_command --where: every thread's backtrace of a running computation, per process and
# thread, as text and as JSON. c_where (main -> level_a -> level_b counting, a thread blocked
# in read() on a fifo, a thread computing, a child blocked in read() on a pipe) is looked at
# many times, two at once, while job-control stopped and while checkpoints start, and must see
# nothing of it: it counts on, stays stopped while stopped, its blocked read gets the line
# written afterwards, no call ends with EINTR, it ends with PASS. A vfork parent and child
# (c_where_vfork) are reported, not stopped. The errors, with exit status 2 and a clear
# message: no coordinator, no processes, a checkpoint in progress; a process that does not
# answer (a fakepeer) is reported after the coordinator's bound while the others are printed.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"
. "$TOP/tests/tools/coordlib.sh"

P=$(prog c_where)
PN=$(basename "$P")
start_coord

# check_where NOTE FILE...: each text answer names, for each thread, the functions it is in, and
# has NOTE ("" for none) as the only process note (one python for them all: it is slow here).
# NOTE "race": an answer given while a checkpoint started; any process may be noted "held for a
# checkpoint" (its tracer served it after the checkpoint's suspend reached it), none otherwise.
check_where() {
	python3 - "$PN" "$pid" "$kid" "$@" <<'PY' || fail "unexpected --where answer (above)"
import re, sys
prog, pid, kid, note = sys.argv[1:5]
frame = re.compile(r"^  #(\d+) 0x[0-9a-f]{16} in (\S+)\+0x[0-9a-f]+ \((.+)\)$")
head = re.compile(r"^pid (\d+) \((.+?)\) thread (\d+) \((.+?)\):$")

def check(text):
    threads, notes = {}, {}
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.split("\n")
        m = head.match(lines[0])
        if not m:
            p = re.match(r"^pid (\d+) \((.+?)\): (.*)$", lines[0])
            assert p and len(lines) == 1, "bad block: %r" % block
            notes[p.group(1)] = p.group(3)
            continue
        assert m.group(2) == prog, lines[0]
        funcs = []
        for i, l in enumerate(lines[1:]):
            f = frame.match(l)
            assert f and int(f.group(1)) == i, "bad frame line: %r" % l
            funcs.append(f.group(2))
        threads[(m.group(1), m.group(4))] = funcs

    def calls(key, chain):
        funcs = threads.get(key)
        assert funcs is not None, "no thread %s in %s" % (key, sorted(threads))
        at = [funcs.index(f) for f in chain if f in funcs]
        assert len(at) == len(chain) and at == sorted(at), "%s: %s not in %s" % (key, chain, funcs)

    assert sorted(threads) == sorted([(pid, prog), (pid, "reader"), (pid, "cruncher"),
                                      (kid, "c_where_kid")]), sorted(threads)
    calls((pid, prog), ["level_b", "level_a", "main"])
    calls((pid, "reader"), ["reader_wait", "reader_main"])
    calls((pid, "cruncher"), ["crunch_numbers", "cruncher_main"])
    calls((kid, "c_where_kid"), ["child_wait", "main"])
    if note == "race":
        assert all(n == "held for a checkpoint" for n in notes.values()), notes
    else:
        assert notes == ({pid: note} if note else {}), notes

for path in sys.argv[5:]:
    text = open(path).read()
    try:
        check(text)
    except AssertionError as e:
        print("%s:\n%s\n%s" % (path, text, e))
        sys.exit(1)
PY
}
# where FILE: dmtcp_command --where into FILE, exit status 0 and nothing on stderr.
where() {
	run_user "$BIN/dmtcp_command" --where >"$1" 2>"$1.err" ||
		{ cat "$1.err"; fail "dmtcp_command --where exited $?"; }
	[ -s "$1.err" ] && { cat "$1.err"; fail "dmtcp_command --where wrote to stderr"; }
}
count() { tr -d ' \n' <"$T/count"; }
_moved() { [ "$(count)" != "$1" ]; }
_is_stopped() { case $(pid_state "$pid") in T | t) return 0 ;; esac; return 1; }
_listed_as() { "$BIN/dmtcp_command" -l | grep "\[$pid\]" | grep -q ", $1,"; }

# No coordinator there, no processes: exit 2 with the reason.
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
err=$(run_user "$BIN/dmtcp_command" -p "$dead" --where 2>&1); rc=$?
[ $rc = 2 ] || fail "--where with no coordinator: exit $rc ($err)"
echo "$err" | grep -q "no coordinator at 127.0.0.1:$dead" || fail "no coordinator: message: $err"
# (On a machine shared with other tests, a tracer whose coordinator went away looks for it again
# at its address, and joins ours if ours got that port: an answer about any process here is
# such a stranger's, since ours is not launched yet; then ask again.)
no_process_where() {
	local try err rc
	for try in 1 2 3 4 5; do
		err=$(run_user "$BIN/dmtcp_command" "$@" --where 2>&1); rc=$?
		[ $rc = 2 ] && [ "$err" = "dmtcp_command: where failed: no processes are connected" ] &&
			return 0
		echo "$err" | grep -Eq '^pid [0-9]+ \(|"pid":' ||
			fail "--where $* with no processes: exit $rc, message: $err"
		log "a stranger joined this coordinator (try $try): $(echo "$err" | head -n 1)"
		wait_peers 0 10
	done
	fail "--where $*: strangers kept joining this coordinator"
}
no_process_where
no_process_where --json

mkfifos in
launch_bg prog -j "$P" "$T"
wait_for_line "$T/prog.out" '^READY'
read -r pid kid < <(sed -n 's/^READY \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$T/prog.out")
wait_peers 2

# Looked at again and again: the same answer, and the program goes on counting.
for i in 1 2 3 4 5; do
	c=$(count)
	where "$T/where.$i"
	wait_until 5 _moved "$c" || fail "the program stopped counting after --where $i"
done

# Two clients at once get the same answer.
run_user "$BIN/dmtcp_command" --where >"$T/w2a" 2>&1 &
wa=$!
run_user "$BIN/dmtcp_command" --where >"$T/w2b" 2>&1 || fail "second of two --where at once failed: $(cat "$T/w2b")"
wait $wa || fail "first of two --where at once failed: $(cat "$T/w2a")"
check_where "" "$T"/where.[1-5] "$T/w2a" "$T/w2b"
log "--where: $(grep -c '^  #' "$T/where.1") frames, e.g.:"
sed -n '1,4p' "$T/where.1"

# The same as JSON.
run_user "$BIN/dmtcp_command" --json --where >"$T/where.json" || fail "--json --where failed"
python3 - "$T/where.json" "$PN" "$pid" "$kid" <<'PY' || { cat "$T/where.json"; fail "bad --where JSON"; }
import json, sys
j = json.load(open(sys.argv[1]))
prog, pid, kid = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
procs = {p["pid"]: p for p in j["processes"]}
assert sorted(procs) == sorted([pid, kid]), procs.keys()
for p in procs.values():
    assert p["answered"] is True and p["error"] is None and p["note"] is None, p
    assert p["prog"] == prog and p["state"] == "RUNNING", p
def funcs(p, name):
    t = [t for t in procs[p]["threads"] if t["name"] == name]
    assert len(t) == 1 and t[0]["note"] is None, procs[p]["threads"]
    fr = t[0]["frames"]
    assert [f["n"] for f in fr] == list(range(len(fr))), fr
    assert all(f["ip"].startswith("0x") and isinstance(f["offset"], int) and f["object"] for f in fr), fr
    return [f["function"] for f in fr]
assert "level_a" in funcs(pid, prog) and "reader_wait" in funcs(pid, "reader"), procs[pid]
assert "crunch_numbers" in funcs(pid, "cruncher") and "child_wait" in funcs(kid, "c_where_kid")
assert j["computation_id"], j
PY

# Stopped by job control: looked at all the same, and left stopped.
kill -STOP "$pid"
wait_until 5 _is_stopped || fail "SIGSTOP did not stop the program"
wait_until 2 _listed_as STOPPED || fail "not listed as STOPPED"
c=$(count)
where "$T/where.stopped"
_is_stopped || fail "--where woke the stopped program (state $(pid_state "$pid"))"
_listed_as STOPPED || fail "not listed as STOPPED after --where"
[ "$(count)" = "$c" ] || fail "the stopped program ran: count $c -> $(count)"
kill -CONT "$pid"
wait_until 5 _moved "$c" || fail "SIGCONT did not let the program go on after --where"
wait_until 2 _listed_as RUNNING || fail "not listed as RUNNING after SIGCONT"
check_where "stopped (job control)" "$T/where.stopped"

# --where and checkpoints at once: each checkpoint completes, each --where answers or is refused
# for the checkpoint (one that started first makes the checkpoint's suspend wait for the process
# being looked at; a process whose turn had not come when the suspend reached it is unwound as
# it is held, and noted so).
ok=()
for i in 1 2 3 4; do
	run_user "$BIN/dmtcp_command" --where >"$T/race.$i" 2>&1 &
	wpid=$!
	run_user "$BIN/dmtcp_command" -bc >/dev/null 2>"$T/bc.$i" || fail "checkpoint $i with --where: $(cat "$T/bc.$i")"
	if wait $wpid; then
		ok+=("$T/race.$i")
	else
		grep -qx "dmtcp_command: where failed: a checkpoint is in progress; ask again when it is over" \
			"$T/race.$i" || { cat "$T/race.$i"; fail "--where during checkpoint $i"; }
	fi
done
[ ${#ok[@]} = 0 ] || check_where race "${ok[@]}"
log "--where with checkpoints: ${#ok[@]} of 4 answered, the others refused"
c=$(count)
wait_until 5 _moved "$c" || fail "the program stopped counting after the checkpoints"

# A process that does not answer (a fakepeer ignores WHERE) is reported once the coordinator's
# bound is over, and the others are printed all the same. Once: it takes 5 s.
if [ "$BUILD" = dynamic ] && [ "$UNPRIV" = 0 ]; then
	start_fakepeer silent --prog silent
	wait_for_line "$T/silent.out" '^ready$'
	wait_peers 3
	t0=$(date +%s%N)
	run_user "$BIN/dmtcp_command" --where >"$T/where.silent" 2>"$T/where.silent.err"; rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $rc = 2 ] || fail "--where with a silent process: exit $rc"
	grep -q "^unexpected 0 WHERE$" "$T/silent.out" || fail "the fakepeer was not asked"
	grep -qx "dmtcp_command: where: 1 of 3 processes did not answer" "$T/where.silent.err" ||
		fail "silent process: stderr: $(cat "$T/where.silent.err")"
	grep -q "^pid [0-9]* (silent): no answer within 5.0 s$" "$T/where.silent" ||
		{ cat "$T/where.silent"; fail "the silent process is not reported"; }
	grep -v "(silent)" "$T/where.silent" >"$T/where.others"
	check_where "" "$T/where.others"
	[ "$ms" -lt 15000 ] || fail "--where took $ms ms with a silent process (bound: 5 s)"
	log "--where with a silent process: $ms ms"
	kill "$FP_PID"
	wait_peers 2
fi

# The blocked read gets what is written now; the program ends well.
c=$(count)
wait_until 5 _moved "$c" || fail "the program does not count any more"
echo hello >"$T/in"
wait_for_line "$T/prog.out" '^GOT hello$'
touch "$T/stop"
wait_rc prog 0
grep -q "^PASS" "$T/prog.out" || { cat "$T/prog.out"; fail "the program did not pass"; }
grep -q "FAIL" "$T/prog.out" && { cat "$T/prog.out"; fail "the program saw a failure"; }

# A vfork parent cannot stop until its child execs or exits: both are reported, neither is
# touched, and the exec goes through afterwards.
V=$(prog c_where_vfork)
VN=$(basename "$V")
wait_peers 0
launch_bg vf -j "$V" "$T"
wait_for_line "$T/vf.out" '^VFORKED [0-9]+$'
vkid=$(sed -n 's/^VFORKED //p' "$T/vf.out")
vpid=$(awk '{print $4}' "/proc/$vkid/stat")
wait_peers 2
where "$T/where.vfork"
grep -qx "pid $vpid ($VN): vfork parent waiting for child $vkid to exec or exit; not stopped" \
	"$T/where.vfork" || { cat "$T/where.vfork"; fail "the vfork parent is not reported"; }
grep -qx "pid $vkid ($VN): vfork child that has not exec'd yet; not stopped" "$T/where.vfork" ||
	{ cat "$T/where.vfork"; fail "the vfork child is not reported"; }
[ "$(grep -c . "$T/where.vfork")" = 2 ] || { cat "$T/where.vfork"; fail "more than the two notes"; }
touch "$T/go"
wait_rc vf 0
grep -qx PASS "$T/vf.out" || { cat "$T/vf.out"; fail "the vfork program did not pass"; }

# While a checkpoint runs, --where is refused at once with the reason.
if [ "$BUILD" = dynamic ] && [ "$UNPRIV" = 0 ]; then
	wait_peers 0
	start_fakepeer held --prog held --hold-at suspend
	wait_for_line "$T/held.out" '^ready$'
	"$BIN/dmtcp_command" -c || fail "checkpoint did not start"
	wait_for_line "$T/held.out" '^holding 0 suspend'
	err=$("$BIN/dmtcp_command" --where 2>&1); rc=$?
	[ $rc = 2 ] || fail "--where during a checkpoint: exit $rc ($err)"
	echo "$err" | grep -q "where failed: a checkpoint is in progress; ask again when it is over" ||
		fail "--where during a checkpoint: message: $err"
	kill -USR1 "$FP_PID"
	wait_ckpt_count 1
fi
coord_alive || fail "the coordinator died"
log "--where: every thread named; the program saw nothing of it"
exit 0
