#!/bin/bash
# dmtcp_command --json -s / -l on a real computation of two processes, read by python3's json
# module: after a checkpoint, each process has its image (the file exists), its size (null
# while the tracer does not report F_IMAGE_SIZE, else the file's size) and its commit time
# (ISO-8601 UTC, just now); the status keys are there. A checkpoint into a directory that has
# become read-only fails: LAST_ERROR in -s and "last_error" in JSON say so, naming the process
# and its reason, and the images listed are still the last committed ones; the next good
# checkpoint clears the error and lists the new images.
# Making the directory read-only (a read-only bind mount) needs root.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

[ "$(id -u)" = 0 ] || skip "a read-only bind mount needs root"
trap 'umount -l "$T/img" 2>/dev/null; _cleanup' EXIT
host=$(hostname)
cmd() { run_user "$BIN/dmtcp_command" "$@"; }
# pyjson CODE ARGS...: python3 CODE with the JSON document of stdin as d.
pyjson() { python3 -c "import json, os, sys, time, re, datetime
d = json.load(sys.stdin)
$1" "${@:2}"; }
# The checks of every process once a checkpoint committed; argv: host, pids, oldest time.
check_images='
host, pids, since = sys.argv[1], sorted(int(p) for p in sys.argv[2].split()), float(sys.argv[3])
assert sorted(p["pid"] for p in d["peers"]) == pids, d["peers"]
for p in d["peers"]:
    assert p["host"] == host and p["state"] == "RUNNING", p
    assert p["image"] and os.path.isfile(p["image"]), p
    # null until the tracer reports the size; then exactly the file s size
    assert p["image_size"] == os.path.getsize(p["image"]), p
    t = datetime.datetime.strptime(p["image_time"], "%Y-%m-%dT%H:%M:%SZ")
    t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
    assert since - 1 <= t <= time.time() + 1, (p, since)
'

start_coord
mkdir "$T/img" "$T/w" && chmod 1777 "$T/img" "$T/w"
rs_outfile prog.out
DMTCP_CHECKPOINT_DIR=$T/img rs_run launch "$BIN/dmtcp_launch" -j "$(prog ckpt_bigmem)" \
	"$T/w" 33 1 fork >"$T/prog.out"
wait_for_file "$T/w/facts"
pids="$(sed -n 's/^pid //p' "$T/w/facts") $(sed -n 's/^child //p' "$T/w/facts")"
wait_peers 2

t1=$(date +%s)
cmd -bc >/dev/null || fail "first checkpoint failed"
cmd --json -l | pyjson "$check_images" "$host" "$pids" "$t1" || fail "JSON list: $(cmd --json -l)"
cmd --json -s | pyjson '
for k in ("num_peers", "running", "coord_state", "ckpt_count", "last_ckpt", "checkpoint",
          "waiting", "last_error", "peers"):
    assert k in d, k
assert d["num_peers"] == 2 and d["ckpt_count"] == 1 and d["running"] is True, d
assert d["checkpoint"] is None and d["waiting"] is None and d["last_error"] is None, d
' || fail "JSON status: $(cmd --json -s)"
before=$(cmd --json -l | pyjson 'print(json.dumps(d["peers"]))')

# ---- a checkpoint that fails: the image directory is read-only -----------------------------
mount --bind "$T/img" "$T/img" && mount -o remount,bind,ro "$T/img" ||
	harness_fail "cannot make $T/img read-only"
out=$(cmd -bc 2>&1) && fail "checkpoint into a read-only directory succeeded: $out"
err='checkpoint 2 aborted: peer [0-9]+ \(ckpt_bigmem pid [0-9]+\) failed at barrier checkpoint \(.*Read-only file system.*\)'
cmd -s | grep -Eqx "LAST_ERROR=$err" || fail "status after the failure: $(cmd -s)"
cmd --json -s | pyjson '
assert re.fullmatch(sys.argv[1], d["last_error"]), d["last_error"]
assert d["checkpoint"] is None and d["waiting"] is None and d["ckpt_count"] == 1, d
' "$err" || fail "JSON status after the failure: $(cmd --json -s)"
cmd --json -l | pyjson '
old = {p["id"]: p for p in json.loads(sys.argv[1])}
assert sorted(old) == sorted(p["id"] for p in d["peers"]), d
for p in d["peers"]:
    assert p["image"] == old[p["id"]]["image"] and p["image_time"] == old[p["id"]]["image_time"], p
    assert p["image_size"] == old[p["id"]]["image_size"], p
' "$before" || fail "the failed checkpoint changed the listed images: $(cmd --json -l)"

# ---- the next good checkpoint --------------------------------------------------------------------
umount "$T/img" || harness_fail "umount $T/img"
t3=$(date +%s)
cmd -bc >/dev/null || fail "checkpoint after the failure failed"
cmd --json -l | pyjson "$check_images" "$host" "$pids" "$t3" || fail "JSON list: $(cmd --json -l)"
cmd --json -s | pyjson 'assert d["last_error"] is None and d["ckpt_count"] == 2, d' ||
	fail "last_error not cleared: $(cmd --json -s)"
cmd -s | grep -q '^LAST_ERROR=' && fail "LAST_ERROR after a good checkpoint"

"$BIN/dmtcp_command" -k >/dev/null 2>&1
rs_wait_rc launch 137
echo PASS
