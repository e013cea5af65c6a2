#!/bin/bash
# What the coordinator says about a checkpoint that waits, that failed, and about each
# process's last image, with fake peers whose timing the test controls (no tracer, no guessed
# time): one peer holds its 'checkpoint' answer until the test releases it.
#  1. Before any checkpoint: nothing to say (no CKPT_PROGRESS/WAITING/LAST_ERROR; JSON nulls).
#  2. While held: -s, -l, --json and the coordinator's own 's'/'l' give the progress
#     (2/3 processes, the bytes the held peer reported) and the waiting line naming the held
#     process with its reason; dmtcp_command -bc under a pseudo-terminal draws the progress
#     line and erases it before its outcome.
#  3. The same -bc through a pipe, held past two seconds: not a byte of the line.
#  4. After commit: each process's image, its size (reported: equal to the file's; not
#     reported: null) and its commit time, in -l and --json -l.
#  5. A checkpoint that fails (a peer fails at 'checkpoint', a peer leaves): LAST_ERROR in -s,
#     -l, JSON and the coordinator's 's', with the peer's reason; the images listed are still
#     the last committed ones; the next good checkpoint clears it.
#  6. A restart gathering its processes says how many it waits for.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

host=$(hostname)
cmd() { run_user "$BIN/dmtcp_command" "$@"; }
# pyjson EXPR...: python3 code run with the JSON document of stdin as d; fails on a false assert.
pyjson() { python3 -c "import json, os, sys, time, re, datetime
d = json.load(sys.stdin)
$1" "${@:2}"; }

start_coord
start_fakepeer fp -n 3 --prog holder --image-dir "$T" --image-size --image-bytes 5000 \
	--hold-at checkpoint:1 --hold-why "in a disabled-checkpoint section" \
	--progress-bytes 104857600
HOLDER=$FP_PID
wait_for_line "$T/fp.out" '^ready$'
held_pid=$((HOLDER * 10 + 1))

# ---- 1. nothing to say yet ---------------------------------------------------------------
out=$(cmd -s) || fail "-s failed"
echo "$out" | grep -Eq '^(CKPT_PROGRESS|WAITING|LAST_ERROR)=' && fail "idle status says too much: $out"
cmd --json -l | pyjson '
assert d["checkpoint"] is None and d["waiting"] is None and d["last_error"] is None, d
assert len(d["peers"]) == 3, d
for p in d["peers"]:
    assert p["image"] is None and p["image_size"] is None and p["image_time"] is None, p
' || fail "idle JSON"

# ---- 2. a held checkpoint, -bc on a pseudo-terminal ----------------------------------------
run_user script -qfec "$BIN/dmtcp_command -bc" /dev/null </dev/null >"$T/pty.out" 2>&1 &
spid=$!
track $spid
wait_for_line "$T/fp.out" '^holding 1 checkpoint 1$'
# The held peer's 100 MiB plus the two small finished images.
wait_for_line "$T/pty.out" 'checkpoint 1: 2/3 processes, 100\.0 MiB written, [0-9.]+ [KMG]?i?B/s'
waiting="WAITING=checkpoint 1 at barrier checkpoint: waiting for 1 of 3 processes: holder\[$held_pid\]@$host \(in a disabled-checkpoint section\)"
out=$(cmd -s)
echo "$out" | grep -Eqx 'CKPT_PROGRESS=2/3 processes, 100\.0 MiB written, [0-9.]+ s' ||
	fail "no CKPT_PROGRESS in: $out"
echo "$out" | grep -Eqx "$waiting" || fail "no WAITING line in: $out"
echo "$out" | grep -q '^LAST_ERROR=' && fail "LAST_ERROR without a failure: $out"
cmd -l | grep -Eqx "$waiting" || fail "the list does not say why it waits: $(cmd -l)"
cmd --json -s | pyjson '
c = d["checkpoint"]
assert c["generation"] == 1 and c["done"] == 2 and c["total"] == 3, c
assert c["bytes"] == 104857600 + 2 * os.path.getsize(sys.argv[1]), c
assert c["elapsed_ms"] >= 1000, c
assert re.fullmatch(sys.argv[2], "WAITING=" + d["waiting"]), d["waiting"]
assert d["last_error"] is None, d
' "$(ls "$T"/.ckpt_holder_*.tmp | head -n 1)" "$waiting" || fail "JSON of the held checkpoint"
# The coordinator's own 's' and 'l' say the same.
coord_type s
coord_type l
wait_for_line "$T/coord.out" '^CKPT_PROGRESS=2/3 processes, 100\.0 MiB written'
_twice() { [ "$(grep -Ecx "$waiting" "$T/coord.out")" -ge 2 ]; }
wait_until 10 _twice || { cat "$T/coord.out"; fail "the coordinator's s and l do not both say why it waits"; }

kill -USR1 "$HOLDER"
wait $spid || { cat -A "$T/pty.out"; fail "-bc under a pseudo-terminal failed"; }
grep -q $'\r\e\[K''checkpoint 1 done: ' "$T/pty.out" ||
	{ cat -A "$T/pty.out"; fail "the progress line was not erased before the outcome"; }
log "progress line under a pseudo-terminal: $(tr -cd '\r' <"$T/pty.out" | wc -c) carriage returns"
out=$(cmd -s)
echo "$out" | grep -Eq '^(CKPT_PROGRESS|WAITING|LAST_ERROR)=' && fail "status after the checkpoint: $out"

# ---- 3. the same through a pipe ------------------------------------------------------------
( cmd -bc 2>&1 | cat >"$T/pipe.out" ) &
ppid_=$!
track $ppid_
wait_for_line "$T/fp.out" '^holding 1 checkpoint 2$'
# Held long enough that a terminal would have had its line.
_long() { cmd --json -s | pyjson 'assert d["checkpoint"]["elapsed_ms"] >= 2000'; }
wait_until 20 _long || fail "checkpoint 2 never reached 2 s"
kill -USR1 "$HOLDER"
wait $ppid_ || fail "-bc through a pipe failed"
[ "$(cat "$T/pipe.out")" = "checkpoint 2 done: $T/dmtcp_restart_script_$(sed -n 's/^welcome 0 [0-9]* //p' "$T/fp.out").sh" ] ||
	{ cat -A "$T/pipe.out"; fail "-bc through a pipe printed more than its outcome"; }
grep -q $'[\r\e]' "$T/pipe.out" && fail "control characters in a pipe"

# ---- 4. the images ----------------------------------------------------------------------------
cmd --json -l | pyjson '
now = time.time()
for p in d["peers"]:
    assert p["image"] and os.path.isfile(p["image"]), p
    assert p["image_size"] == os.path.getsize(p["image"]), p
    t = datetime.datetime.strptime(p["image_time"], "%Y-%m-%dT%H:%M:%SZ")
    t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
    assert now - 300 < t <= now + 1, (p, now)
' || fail "JSON list of the images: $(cmd --json -l)"
n=$(cmd -l | grep -Ec ", $T/ckpt_holder_[^ ]*\.dmtcp \(4\.9 KiB, [0-9-]{10}T[0-9:]{8}Z\)$")
[ "$n" = 3 ] || fail "the list does not show 3 images: $(cmd -l)"
kill "$HOLDER"
wait_peers 0

# Images whose size is not reported: path and time, size null ("size unknown").
start_fakepeer good -n 2 --prog good --image-dir "$T"
wait_for_line "$T/good.out" '^ready$'
cmd -bc >/dev/null || fail "checkpoint of the good peers failed"
cmd --json -l | pyjson '
for p in d["peers"]:
    assert p["image"] and os.path.isfile(p["image"]) and p["image_size"] is None, p
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["image_time"]), p
' || fail "images without a size"
[ "$(cmd -l | grep -c '\.dmtcp (size unknown, ')" = 2 ] || fail "list: $(cmd -l)"
before=$(cmd --json -l | pyjson 'print(json.dumps(d["peers"]))')

# ---- 5. failures ---------------------------------------------------------------------------
start_fakepeer bad --prog bad --fail-at checkpoint
BAD=$FP_PID
wait_for_line "$T/bad.out" '^ready$'
wait_peers 3
cmd -bc >/dev/null 2>&1 && fail "a checkpoint with a failing peer succeeded"
err='LAST_ERROR=checkpoint [0-9]+ aborted: peer [0-9]+ \(bad pid [0-9]+\) failed at barrier checkpoint \(fakepeer: told to fail here\)'
cmd -s | grep -Eqx "$err" || fail "status: $(cmd -s)"
cmd -l | grep -Eqx "$err" || fail "list: $(cmd -l)"
cmd --json -s | pyjson 'assert re.fullmatch(sys.argv[1], "LAST_ERROR=" + d["last_error"]), d' "$err" ||
	fail "JSON last_error: $(cmd --json -s)"
coord_type s
wait_for_line "$T/coord.out" "^$err\$"
# The failed checkpoint changed none of the listed images.
cmd --json -l | pyjson '
old = {p["id"]: p for p in json.loads(sys.argv[1])}
for p in d["peers"]:
    if p["id"] in old:
        assert p == old[p["id"]], (p, old[p["id"]])
    else:
        assert p["image"] is None, p
' "$before" || fail "images changed by a failed checkpoint"
kill "$BAD"
wait_peers 2
cmd -bc >/dev/null || fail "checkpoint after the failure"
cmd -s | grep -q '^LAST_ERROR=' && fail "LAST_ERROR after a good checkpoint: $(cmd -s)"
cmd --json -s | pyjson 'assert d["last_error"] is None, d' || fail "last_error not cleared"

start_fakepeer quitter --prog quitter --disconnect-at drain
wait_for_line "$T/quitter.out" '^ready$'
wait_peers 3
cmd -bc >/dev/null 2>&1 && fail "a checkpoint with a departing peer succeeded"
cmd -s | grep -Eqx 'LAST_ERROR=checkpoint [0-9]+ aborted: peer [0-9]+ \(quitter pid [0-9]+\) left during barrier drain' ||
	fail "status after a departure: $(cmd -s)"

# ---- 6. a restart gathering its processes ------------------------------------------------
compid=$(sed -n 's/^welcome 0 [0-9]* //p' "$T/good.out")
kill "$FP_PID" 2>/dev/null
cmd -k >/dev/null
wait_peers 0
start_fakepeer rst --restart "$compid" --expect 3 -n 1 --prog rst
wait_for_line "$T/rst.out" '^ready$'
cmd -s | grep -qx "WAITING=restart of computation $compid: waiting for 2 of 3 processes to connect" ||
	fail "restart status: $(cmd -s)"
coord_alive || fail "coordinator died"
echo PASS
