#!/bin/bash
# Huge reservations, mostly untouched (a 2 TiB and a 64 GiB read+write MAP_NORESERVE region, a
# 1 TiB PROT_NONE reservation with one page made writable, as allocators, JITs and Go make
# them): three cycles of checkpoint -> kill -> dmtcp_restart. Staging and restore cost the
# pages present, not the length reserved. rs_noreserve is the oracle: at every step it checks
# the written pages, that untouched ones read as zero, that each region is one mapping of its
# full length with its permissions and "nr" flag (/proc/self/smaps), and that its Rss and the
# process's VmRSS stay small.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_cycles "$(prog rs_noreserve)" 150
