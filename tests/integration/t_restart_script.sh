#!/bin/bash
# Restart through the script the coordinator writes: three cycles where each restart is
# ./dmtcp_restart_script.sh (the symlink to the latest script) instead of dmtcp_restart, for a
# single process and for a process tree; then two cycles of dmtcp_restart --restartdir DIR.
# Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_cycles "$(prog rs_counter)" 300 3 "$T/dmtcp_restart_script.sh"
RS_NPROCS=3
rs_cycles "$(prog rs_tree)" 250 3 "$T/dmtcp_restart_script.sh"
# dmtcp_restart -r DIR: every ckpt_*.dmtcp of the directory.
RS_NPROCS=1
rs_cycles "$(prog rs_counter)" 200 2 "$BIN/dmtcp_restart" --restartdir "$T"
