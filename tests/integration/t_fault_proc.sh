#!/bin/bash
# Issue 15: a traced process SIGKILLed at each phase of a checkpoint loses nothing. Two
# launches of rs_counter, A and B, in one computation; checkpoint 1 completes; in checkpoint
# 2, B is killed while its tracer holds at a phase (tests/integration/fault_lib.bash). Killed
# before its image is whole (suspend, drain, checkpoint), B fails the checkpoint with a
# reason; killed once its image is written (at the write's end, between the checkpoint and
# commit barriers, at commit, refill or resume), its image is committed with A's and the
# checkpoint completes. Either way A runs on, every final image is whole, and checkpoint 1's
# restart script brings A and B back, counting on.
# Only the dynamic build: the faults are the tracer's and the coordinator's, not the program's.
# builds: dynamic
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"
. "$TOP/tests/integration/fault_lib.bash"

# Which of the two reasons depends on whether the tracer reads B's death before its next step
# runs on it (then B is a ghost that knows it was killed) or after (the step finds it gone).
before_image='pid [0-9]+( was killed while stopped for the checkpoint, before its image was written|: process exited during the checkpoint)'
fl_scenario suspend#2 proc "$before_image"
fl_scenario drain#2 proc "$before_image"
fl_scenario checkpoint#2 proc 'process exited during the checkpoint'
fl_scenario write#2 proc ok
fl_scenario coord-checkpoint#2 proc ok
fl_scenario commit#2 proc ok
fl_scenario refill#2 proc ok
fl_scenario resume#2 proc ok
