#!/bin/bash
# A fork tree with a pipeline: rs_tree's parent, a writer and a reader joined by a pipe in a
# process group led by the writer. Three checkpoint/restart cycles: all three come back with
# their pids, parent links and group, the pipe is shared again with its in-flight bytes, and
# the sequence the reader checks has no gap or repeat; then two cycles forced into a new PID
# namespace (--pid-namespace) from -r DIR. Then rs_ring, four processes in a ring of pipes
# and FIFOs, two cycles through the restart script: each pipe and FIFO must read as ended
# once its last writer closed it. Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_NPROCS=3
rs_cycles "$(prog rs_tree)" 250
# Forced into a new PID namespace even where the pids are free (as root: without a new user
# namespace), from a directory of images.
rs_cycles "$(prog rs_tree)" 200 2 "$BIN/dmtcp_restart" --pid-namespace -r "$T"
# A ring of four processes joined by two pipes and two FIFOs, restarted from the restart
# script: every record comes round whole and in order, and at the end each pipe and FIFO
# reads as ended once its last writer closed it (nothing of the restart holds it open).
RS_NPROCS=4
rs_cycles "$(prog rs_ring)" 300 2 "$T/dmtcp_restart_script.sh"
