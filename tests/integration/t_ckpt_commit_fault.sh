#!/bin/bash
# A fault during a commit loses nothing: two computations' worth of images never mix.
#
# Two launches of rs_counter (A and B) in one computation. Checkpoint 1 completes: both
# images carry its id and "2 processes". In checkpoint 2, B's commit is held back
# (DMTCP_TEST_STEP_DELAY_MS=commit#2) and A commits: A's image is now checkpoint 2, its
# checkpoint-1 image kept as .prev. Then B dies with its tracer mid-commit (a crashed node):
# the coordinator abandons checkpoint 2 (B left during the commit) and A runs on. After A is
# killed too, the restart script of checkpoint 1 finds A's image from checkpoint 2 and B's
# from checkpoint 1, says so, and restarts the newest whole checkpoint (A's .prev and B's
# image); both count on from there. Without the .prev, nothing whole is left and dmtcp_restart
# refuses with a clear error before starting anything.
# builds: dynamic
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
p=$(prog rs_counter)
rs_outfile a.out
rs_outfile b.out
# Each program has its own output (RS_OWN_OUT): one restart brings both back.
rs_run A "$BIN/dmtcp_launch" "${RS_OWN_OUT[@]}" "$T/a.out" "$p" "$T/a.ready" 100000 >/dev/null
rs_run B env DMTCP_TEST_STEP_DELAY_MS=commit#2:120000 "$BIN/dmtcp_launch" \
	"${RS_OWN_OUT[@]}" "$T/b.out" "$p" "$T/b.ready" 100000 >/dev/null
wait_for_file "$T/a.ready"
wait_for_file "$T/b.ready"
pa=$(head -n 1 "$T/a.ready")
pb=$(head -n 1 "$T/b.ready")
rs_wait_count "$T/a.out" 3
rs_wait_count "$T/b.out" 3
wait_peers 2

# checkpoint: "<id> <nprocs>" from an image's header
ckpt_of() {
	"$BIN/dmtcp_restart" --show "$1" 2>/dev/null |
		sed -n 's/^checkpoint: *\([0-9a-f]*\) (\([0-9]*\) processes)$/\1 \2/p'
}
out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || fail "checkpoint 1 failed: $out"
script=$(ls "$T"/dmtcp_restart_script_*.sh)
ia=$(ls "$T"/ckpt_rs_counter_*-"$pa"-*.dmtcp)
ib=$(ls "$T"/ckpt_rs_counter_*-"$pb"-*.dmtcp)
c1=$(ckpt_of "$ia")
[ -n "$c1" ] && [ "$c1" = "$(ckpt_of "$ib")" ] && [ "${c1#* }" = 2 ] ||
	fail "checkpoint 1 images: A '$c1', B '$(ckpt_of "$ib")'"
cp "$script" "$T/script1.sh"
log "checkpoint 1: ${c1% *}, 2 images"

# Checkpoint 2: A commits, B holds its commit.
run_user "$BIN/dmtcp_command" -c >/dev/null 2>&1 || fail "dmtcp_command -c failed"
wait_until 60 test -e "$ia.prev" || fail "A did not commit checkpoint 2"
c2=$(ckpt_of "$ia")
[ "$(ckpt_of "$ia.prev")" = "$c1" ] || fail "A's .prev is '$(ckpt_of "$ia.prev")', not '$c1'"
[ "${c2% *}" != "${c1% *}" ] && [ "${c2#* }" = 2 ] || fail "A's checkpoint 2 image: '$c2'"
[ "$(ckpt_of "$ib")" = "$c1" ] || fail "B's image changed before its commit"

# B's node crashes: its tracer dies (and B with it, PTRACE_O_EXITKILL).
tb=$(awk '/^PPid:/ {print $2}' "/proc/$pb/status")
kill -9 "$tb"
rs_wait_rc B 99 # dmtcp_launch: its tracer ended without reporting the program's end
_a_alone() { _peers_are 1 && [ "$(status_field RUNNING)" = yes ]; }
wait_until 30 _a_alone || fail "A is not running alone after B's crash: $(status_field NUM_PEERS)"
grep -q "checkpoint 2 aborted: .* left during barrier commit" "$T/coord.out" ||
	fail "coordinator did not abandon checkpoint 2: $(grep 'checkpoint 2' "$T/coord.out")"
cmp -s "$script" "$T/script1.sh" || fail "the restart script changed"
before_a=$(rs_last_count "$T/a.out")
rs_wait_count "$T/a.out" "$before_a"
run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1
rs_wait_rc A 137
wait_until 30 _peers_are 0 || fail "peers still at the coordinator after the kill"

# Restart from checkpoint 1's script: the whole set is A's .prev and B's image.
killed_a=$(rs_last_count "$T/a.out")
killed_b=$(rs_last_count "$T/b.out")
RS_PROG_OUT=$T/a.out
rs_run R bash "$T/script1.sh"
rs_wait_running 2 R
grep -q "not one complete checkpoint .* restarting checkpoint ${c1% *}, the newest complete one, with 2 images" \
	"$T/R.err" || { cat "$T/R.err"; fail "dmtcp_restart did not say which checkpoint it took"; }
rs_wait_count "$T/a.out" "$killed_a" 60
rs_wait_count "$T/b.out" "$killed_b" 60
grep -q FAIL "$T/a.out" "$T/b.out" && fail "a program found its state wrong: $(grep FAIL "$T/a.out" "$T/b.out")"
log "restarted checkpoint ${c1% *} from A's .prev and B's image"
run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1
rs_wait_rc R 137 60
wait_until 30 _peers_are 0 || fail "peers still at the coordinator after the second kill"

# Nothing whole left: a clear refusal, and nothing started.
mv "$ia.prev" "$T/a.prev.aside"
out=$(run_user "$BIN/dmtcp_restart" "$ia" "$ib" 2>&1) && fail "dmtcp_restart of a mixed set ran: $out"
echo "$out" | grep -q "from different checkpoints, and no checkpoint is whole" ||
	fail "dmtcp_restart said: $out"
_peers_are 0 || fail "a process of the mixed set joined the coordinator"
exit 0
