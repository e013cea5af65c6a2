#!/bin/bash
# Many threads: rs_threads runs 8 workers with thread-local state, a shared mutex and values
# kept in SSE registers across sleeps; through three checkpoint/restart cycles every worker
# must keep its tid, its TLS, its registers, and the mutex-protected counter must stay
# consistent. Static and dynamic builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_cycles "$(prog rs_threads)" 300
