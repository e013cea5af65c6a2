#!/bin/bash
# Memory of every kind (private and shared anonymous, private file mapping with a written
# page, shared file mapping, read-only and PROT_NONE regions, malloc), signal state (handler
# on the alternate stack with its flags and mask, an ignored signal, a blocked signal pending
# all along), an interval timer that keeps ticking, and AVX registers across an interrupted
# syscall: rs_state checks all of it at every step through three checkpoint/restart cycles.
# Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_cycles "$(prog rs_state)" 250
