#!/bin/bash
# dmtcp_restart returns like dmtcp_launch: as soon as the restored main program ends, with its
# exit status (a fatal signal re-raised), while the tracer keeps the rest of the restored
# computation under control; SIGTERM sent to dmtcp_restart reaches the main program.
# The computation: sh (main) runs "l_tree --child D main" in the foreground and a background
# "l_tree --child D bg" that outlives it; sh exits 5 once main is told to stop.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

D=$T/d
mkdir -m 777 "$D"
start_coord
# The program's stdout: a file the test user may reopen at restart (not this test's log).
rs_outfile prog.out
rs_run launch "$BIN/dmtcp_launch" -j sh -c \
	"'$PROGS/l_tree' --child '$D' bg & '$PROGS/l_tree' --child '$D' main; exit 5" >"$T/prog.out"
wait_for_file "$D/child.bg.ready"
wait_for_file "$D/child.main.ready"
wait_peers 3
rs_checkpoint_kill launch

# 1. The main program's exit status comes back at once; the background child stays traced.
rs_run restart1 "$BIN/dmtcp_restart" -j $(rs_images) >"$T/prog.out"
rs_wait_running 3
touch "$D/stop.main"
rs_wait_rc restart1 5
wait_peers 1
[ "$(status_field RUNNING)" = yes ] || fail "the remaining process is not running"
out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || fail "checkpoint of what remains failed: $out"
touch "$D/stop.bg"
wait_peers 0
log "exit status 5 returned while the background child ran on"

# 2. SIGTERM to dmtcp_restart is forwarded to the main program; its signal is re-raised.
rm -f "$D"/stop.* "$T"/ckpt_*.dmtcp
rs_run launch2 "$BIN/dmtcp_launch" -j sh -c \
	"'$PROGS/l_tree' --child '$D' bg & '$PROGS/l_tree' --child '$D' main; exit 5" >"$T/prog.out"
wait_peers 3
rs_checkpoint_kill launch2
rs_run restart2 "$BIN/dmtcp_restart" -j $(rs_images) >"$T/prog.out"
sub=${_bg_pids[${#_bg_pids[@]}-1]}
rs_wait_running 3
cmd=$(pgrep -P "$sub" -x dmtcp_restart) || fail "no dmtcp_restart under $sub"
kill -TERM "$cmd"
rs_wait_rc restart2 143
# sh's foreground child does not die with sh: it ran on under the tracer, as would without us
wait_peers 2
touch "$D/stop.bg" "$D/stop.main"
wait_peers 0
log "SIGTERM forwarded, status 143 (killed by SIGTERM)"
