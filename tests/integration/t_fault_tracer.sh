#!/bin/bash
# Issue 15: a tracer SIGKILLed at each phase of a checkpoint loses nothing. Two launches of
# rs_counter, A and B, in one computation; checkpoint 1 completes; in checkpoint 2, B's
# tracer is killed while it holds at a phase (tests/integration/fault_lib.bash), and B dies
# with it (PTRACE_O_EXITKILL). Before the commit barrier is complete the checkpoint fails
# ("left during barrier ..."), after it (refill, resume, or the coordinator about to write
# its restart script) it completes. A runs on, every final image is whole, checkpoint 1's
# restart script brings A and B back, and the next checkpoint drops the temporary image the
# dead tracer left.
# Then a tracer of three processes (rs_tree: a pipeline) killed half-way through its commit:
# one image renamed, two not. The old script restarts the whole of checkpoint 1 (the first
# process's .prev with the others' images), and the pipeline's oracle checks every line.
# Only the dynamic build: the faults are the tracer's, not the program's.
# builds: dynamic
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"
. "$TOP/tests/integration/fault_lib.bash"

fl_scenario suspend#2 tracer 'left during barrier suspend'
fl_scenario drain#2 tracer 'left during barrier drain'
fl_scenario checkpoint#2 tracer 'left during barrier checkpoint'
fl_scenario write#2 tracer 'left during barrier checkpoint'
fl_scenario coord-checkpoint#2 tracer 'left during barrier (checkpoint|commit)'
fl_scenario commit#2 tracer 'left during barrier commit'
fl_scenario coord-commit#2 tracer ok
fl_scenario refill#2 tracer ok
fl_scenario resume#2 tracer ok

# ---- a tree's tracer killed mid-commit ---------------------------------------------------
# rs_tree is three processes: the first commit of checkpoint 2 is the 4th commit its tracer
# runs, so commit#5 holds with one image renamed and two to go.
fl_fresh
rs_outfile tree.out
rm -f "$T/tree.ready"
rs_run tree env DMTCP_TEST_STEP_DELAY_MS="$(fl_hook commit#5)" "$BIN/dmtcp_launch" \
	"$(prog rs_tree)" "$T/tree.ready" 100000 >"$T/tree.out"
wait_for_file "$T/tree.ready"
rs_wait_count "$T/tree.out" 3
wait_peers 3
fl_ckpt1
tpid=$(head -n 1 "$T/tree.ready")
ttr=$(fl_tracer_of "$tpid")
fl_bc_start
fl_wait_reached commit#5
[ "$(ls "$T"/ckpt_*.dmtcp.prev | wc -l)" = 1 ] || { ls -la "$T"; fail "expected one image committed"; }
kill -KILL "$ttr"
fl_open_gate
fl_check_bc 'left during barrier commit'
rs_wait_rc tree 99
fl_check_finals
killed_at=$(rs_last_count "$T/tree.out")
wait_until 30 _peers_are 0 || fail "peers of the dead tracer still at the coordinator"
RS_PROG_OUT=$T/tree.out
rs_run R bash "$T/script1.sh" >>"$T/tree.out" # the restart's stdout is the program's
rs_wait_running 3 R
grep -q "restarting checkpoint [0-9a-f]*, the newest complete one, with 3 images" "$T/R.err" ||
	{ cat "$T/R.err"; fail "the restart did not take checkpoint 1 from the .prev and the others"; }
rs_wait_count "$T/tree.out" "$killed_at" 60
! grep -q FAIL "$T/tree.out" || fail "rs_tree: $(grep FAIL "$T/tree.out")"
fl_kill_all R
log "rs_tree's tracer killed after 1 of 3 commits: checkpoint 1 restarted, pipeline intact"
