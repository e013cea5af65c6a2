#!/bin/bash
# Issue 15: the coordinator SIGKILLed at each barrier of a checkpoint loses nothing. Two
# launches of rs_counter, A and B; checkpoint 1 completes; in checkpoint 2 the coordinator is
# killed while B's tracer holds at a phase (so the coordinator waits at that barrier), or
# while the coordinator itself holds with every commit in and its restart script not yet
# written (tests/integration/fault_lib.bash). Each time: -bc fails with one line; both
# programs run on (their tracers abandon the checkpoint and drop their temporary images);
# every final image is whole; a coordinator started again on the same port gets both
# processes back; and checkpoint 1's restart script brings A and B back, counting on.
# Only the dynamic build: the faults are the coordinator's, not the program's.
# builds: dynamic
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"
. "$TOP/tests/integration/fault_lib.bash"

gone='no answer from the coordinator at .*: connection closed'
for step in suspend#2 drain#2 checkpoint#2 write#2 commit#2 coord-commit#2 refill#2 resume#2; do
	fl_scenario $step coord "$gone"
done
