#!/bin/bash
# The vdso paths of the restorer, chosen with DMTCP_RESTORE_VDSO. "move" (same kernel: this
# kernel's vdso block is moved to the saved addresses) must work; "proxy" (the path for an
# image from another kernel: the saved vdso's entry points jump into this kernel's) needs the
# saved vdso pages in the image. rs_counter reads the clocks through the vdso at every step;
# three cycles each, static and dynamic.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
export DMTCP_RESTORE_VDSO=move
rs_cycles "$(prog rs_counter)" 250

# Does an image carry its [vdso] pages? (The proxy path matches symbols in them.)
export DMTCP_RESTORE_VDSO=proxy
"$BIN/dmtcp_restart" --show $(rs_images) >"$T/show.txt" 2>&1 || fail "--show failed"
if ! grep -E '^ *vma .* vdso .* pages [1-9][0-9]* .*\[vdso\]' "$T/show.txt" >/dev/null; then
	grep -E '\[vdso\]' "$T/show.txt"
	skip "images carry no [vdso] pages (dumper), so the forced proxy path cannot be exercised"
fi
rs_cycles "$(prog rs_counter)" 250
