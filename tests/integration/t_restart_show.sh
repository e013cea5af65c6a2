#!/bin/bash
# dmtcp_restart --show --json: the image of a program that was running is one JSON document
# that python3's json module parses, holding that program's real values (its pid, name,
# cmdline, an environment variable with quotes, control characters and bytes that are not
# UTF-8, its thread, its memory map, its stdout among its fds), and agreeing with the text
# form. Next to a corrupt image, the good one is still rendered, the corrupt one is an object
# with "valid": false and the message also printed on stderr, and the exit status is
# DMTCP_FAIL_RC. --json without --show is a usage error. Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

command -v python3 >/dev/null || skip "python3 is needed to parse the JSON"

start_coord
prog=$(prog rs_counter)
rs_outfile prog.out
# The odd variable: a quote, a backslash, a newline, a tab, 0xff 0xfe (not UTF-8), then "é".
rs_run launch env $'DMTCP_T_ODD=q"b\\s\n\t\xff\xfe\xc3\xa9' \
	"$BIN/dmtcp_launch" "$prog" "$T/ready" 100000 >"$T/prog.out"
wait_for_file "$T/ready"
pid=$(head -n 1 "$T/ready")
rs_wait_count "$T/prog.out" 2
rs_checkpoint_kill launch
img=$(rs_images)
[ "$(echo "$img" | wc -l)" = 1 ] || fail "expected one image, got: $img"

# ---- a good image --------------------------------------------------------------------------
run_user "$BIN/dmtcp_restart" --show --json "$img" >"$T/show.json" 2>"$T/show.err" ||
	{ cat "$T/show.err"; fail "--show --json rejects $img"; }
"$BIN/dmtcp_restart" --show "$img" >"$T/show.txt" 2>&1 ||
	{ cat "$T/show.txt"; fail "--show rejects $img"; }

read -r -d '' CHECK_GOOD <<'PY'
import json, os, re, sys
pid, prog, ready, out, txt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
d = json.load(sys.stdin)
assert isinstance(d, list) and len(d) == 1, d
o = d[0]
assert o["valid"] is True and "error" not in o, o.get("error")
p = o["process"]
assert p["pid"] == pid, (p["pid"], pid)
assert p["comm"] == os.path.basename(prog)[:15], p["comm"]
assert p["exe"] == os.path.realpath(prog), p["exe"]
assert p["cmdline"] == [prog, ready, "100000"], p["cmdline"]
odd = 'DMTCP_T_ODD=q"b\\s\n\t\u00ff\u00fe\u00e9'
assert odd in p["environ"], [e for e in p["environ"] if e.startswith("DMTCP_T_ODD")]
c = o["container"]
assert c["program"] == os.path.basename(prog), c["program"]
assert c["checksums"]["verified"] is True and c["checksums"]["whole_file"] is True
assert [s["index"] for s in c["sections"]] == list(range(c["section_count"]))

t = o["threads"]
assert len(t) == p["counts"]["threads"] == 1, t
assert t[0]["tid"] == pid and re.fullmatch(r"0x[0-9a-f]+", t[0]["regs"]["rip"]), t[0]

v = o["vmas"]
assert len(v) == p["counts"]["vmas"] >= 1
for x in v:
	assert int(x["start"], 16) < int(x["end"], 16), x
assert any(x["path"] == os.path.realpath(prog) for x in v), "no mapping of the program"
assert any(x["kind"] == "stack" for x in v), "no stack"
runs = o["page_runs"]
assert sum(r["pages"] for r in runs) == p["counts"]["pages_stored"]
assert all(0 <= r["vma"] < len(v) for r in runs)

fds = {f["fd"]: f for f in o["fds"]}
assert len(fds) == p["counts"]["fds"]
assert fds[1]["path"] == out and fds[1]["type"] == "reg", fds.get(1)
assert o["files"][fds[1]["file"]]["path"] == out

# The text form says the same.
text = open(txt).read()
m = re.search(r"^  process pid (\d+) ", text, re.M)
assert int(m.group(1)) == pid
tv = re.findall(r"^  vma (0x[0-9a-f]+)-(0x[0-9a-f]+) ", text, re.M)
assert tv == [(x["start"], x["end"]) for x in v], (tv, v)
tf = [(int(a), int(b)) for a, b in re.findall(r"^  fd (\d+) file (\d+)", text, re.M)]
assert tf == [(f["fd"], f["file"]) for f in o["fds"]], tf
print("pid %d, %d vmas, %d fds, %d page runs" % (pid, len(v), len(fds), len(runs)))
PY
res=$(python3 -c "$CHECK_GOOD" "$pid" "$prog" "$T/ready" "$T/prog.out" "$T/show.txt" \
	<"$T/show.json" 2>&1) || { echo "$res"; fail "the JSON of $img is not the program's"; }
log "good image: $res"

# ---- a corrupt image next to it --------------------------------------------------------------
bad=$T/ckpt_bad.dmtcp
cp "$img" "$bad" && chown --reference="$img" "$bad" || harness_fail "cannot copy $img"
size=$(stat -c %s "$bad")
# One byte flipped in the middle of the file: some checksum must catch it.
printf '\xff' | dd of="$bad" bs=1 seek=$((size / 2)) conv=notrunc status=none
cmp -s "$bad" "$img" &&
	printf '\x00' | dd of="$bad" bs=1 seek=$((size / 2)) conv=notrunc status=none
"$BIN/dmtcp_restart" --show "$bad" >"$T/bad.txt" 2>/dev/null &&
	fail "--show accepts the corrupt image"

run_user "$BIN/dmtcp_restart" --show --json "$img" "$bad" >"$T/mixed.json" 2>"$T/mixed.err"
rc=$?
[ $rc = 99 ] ||
	{ cat "$T/mixed.err"; fail "--show --json GOOD BAD: exit status $rc, expected 99"; }
read -r -d '' CHECK_MIXED <<'PY'
import json, re, sys
img, bad, err, txt = sys.argv[1:]
d = json.load(sys.stdin)
assert [o["path"] for o in d] == [img, bad], d
assert d[0]["valid"] is True and d[0]["process"]["pid"] > 0
o = d[1]
assert o["valid"] is False and o["error"].startswith(bad + ": "), o
assert re.search("checksum|CRC|crc|corrupt", o["error"]), o["error"]
assert "process" not in o and "threads" not in o, sorted(o)
# The same message on stderr, and in the text form.
assert any(l.endswith(": " + o["error"]) for l in open(err).read().splitlines()), o["error"]
assert "validation: FAILED: " + o["error"] in open(txt).read(), o["error"]
print(o["error"])
PY
res=$(python3 -c "$CHECK_MIXED" "$img" "$bad" "$T/mixed.err" "$T/bad.txt" <"$T/mixed.json" 2>&1) ||
	{ echo "$res"; cat "$T/mixed.err"; fail "--show --json GOOD BAD is not as expected"; }
log "corrupt image: $res"

# Straight from the command into json.load, a file that does not exist: valid JSON, status 99.
run_user "$BIN/dmtcp_restart" --show --json "$T/none.dmtcp" 2>/dev/null |
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["valid"] is False, d
assert "No such file" in d[0]["error"], d'
st=("${PIPESTATUS[@]}")
[ "${st[1]}" = 0 ] || fail "--show --json of a missing file: not the JSON expected"
[ "${st[0]}" = 99 ] || fail "--show --json of a missing file: exit status ${st[0]}, expected 99"
log "missing image: valid JSON, exit status 99"

# ---- --json alone --------------------------------------------------------------------------
run_user "$BIN/dmtcp_restart" --json "$img" >"$T/alone.out" 2>"$T/alone.err" </dev/null 8>&-
rc=$?
[ $rc = 99 ] || fail "--json without --show: exit status $rc, expected 99"
grep -q -- "--json goes with --show" "$T/alone.err" ||
	{ cat "$T/alone.err"; fail "--json alone: no usage message"; }
[ -s "$T/alone.out" ] && { cat "$T/alone.out"; fail "--json alone printed something"; }
[ "$(status_field NUM_PEERS)" = 0 ] || fail "--json alone restarted something"
log "--json without --show refused"
