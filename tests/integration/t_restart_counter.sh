#!/bin/bash
# The whole cycle on the simplest program: dmtcp_launch rs_counter, then three times
# checkpoint -> kill -> dmtcp_restart. The program checks its own memory and pid at every step
# and prints PASS at the end; the restarted computation must be a peer of the coordinator,
# running, and checkpointable again (each next cycle checkpoints the restarted one); the last
# restart returns the program's exit status. Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_cycles "$(prog rs_counter)" 400
