#!/bin/bash
# A child made with clone(CLONE_UNTRACED) or clone3(CLONE_UNTRACED) stays traced: the tracer
# takes the flag off at the clone's seccomp stop. Without that, the child would escape every
# checkpoint and its socketpair() (a trapped call) would fail with ENOSYS. Dynamic and static.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"

start_coord
p=$(prog l_untraced)
b=$(basename "$p")
run_user "$BIN/dmtcp_launch" -j "$p" >"$T/out" 2>&1
rc=$?
grep -q '^PASS' "$T/out" && [ $rc = 0 ] || { cat "$T/out"; fail "$b: exit status $rc"; }
log "$b: $(grep -E '^(PASS|SKIP)' "$T/out" | tr '\n' ' ')"
# Outside dmtcp_launch the same program's children are simply untraced: the check can fail.
"$p" >"$T/bare" 2>&1 && fail "$b passes without a tracer: the test proves nothing"
log "bare run fails as it should: $(head -n 1 "$T/bare")"
