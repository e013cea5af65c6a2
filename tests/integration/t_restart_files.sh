#!/bin/bash
# Files across restarts: rs_files holds a written file (offset), an O_APPEND file, a file read
# at an offset, a deleted file only its fd keeps (recreated from the image, still deleted),
# a directory, O_PATH fds on a directory and a file (no offset to seek), /dev/null, and a pipe
# to itself with 100 bytes in it (put back at restart).
# Three checkpoint/restart cycles, static and dynamic.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_cycles "$(prog rs_files)" 200
