#!/bin/bash
# memfds across restarts: rs_memfd's "rs-data" (3 pages, offset 1234) is mapped shared and
# shared with a child (fd and mapping), "rs-sealed" carries three seals. Each restart must
# give back memfds (the /proc link text, the seals, sizes, offset and contents), and one
# object behind both fds and both mappings: parent and child see each other's counters
# through the mapping and through the fd. "rs-maponly", mapped shared with the child and its
# fd closed, keeps its name and stays shared. Three cycles, static and dynamic.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
RS_NPROCS=2
rs_cycles "$(prog rs_memfd)" 300
