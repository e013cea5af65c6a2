#!/bin/bash
# The restorer on its own (no dumper, no images): tests/tools/selfrestore captures
# tests/progs/rst_victim with ptrace, kills it and turns itself into it through
# prepare_restore() and the restorer blob; the victim checks its memory of every kind,
# threads' registers/AVX/TLS/masks, FPU mode, sigaltstack + handler, brk and the vdso time
# functions, then stops for the next cycle. Three cycles each with the vdso moved (same
# kernel) and with the vdso proxy forced (DMTCP_RESTORE_VDSO=proxy); as root also with exact
# thread IDs (clone3 set_tid), which unprivileged must be refused with a clear reason before
# the point of no return. Dynamic and static builds of the victim.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"

SELF=$TOP/build/tests/tools/selfrestore
v=$(prog rst_victim)
for f in "$SELF" "$v"; do
	[ -x "$f" ] || harness_fail "$f is not built (make all)"
done

# run_case NAME VDSO-MODE SELFRESTORE-ARGS...
run_case() {
	local name=$1 mode=$2 out=$T/$1.out rc
	shift 2
	log "$name"
	(cd "$T" && DMTCP_RESTORE_VDSO=$mode run_user timeout 30 "$SELF" -d "$T" "$@") >"$out" 2>&1
	rc=$?
	sed 's/^/    /' "$out"
	[ $rc = 99 ] && harness_fail "$name: selfrestore harness failure"
	[ $rc = 0 ] || fail "$name: exit $rc"
	[ "$(grep -c '^cycle [0-9]* ok' "$out")" = 3 ] || fail "$name: not three verified cycles"
	tail -n 1 "$out" | grep -qx PASS || fail "$name: no PASS at the end"
	grep -q 'sparse regions: [1-9]' "$out" ||
		fail "$name: no region was restored as sparse (RESTORE_SRC_SPARSE)"
	if [ "$mode" = proxy ]; then
		grep -q 'vdso proxied: [1-9][0-9]* entry points patched' "$out" ||
			fail "$name: the vdso proxy path was not taken"
	fi
}

run_case "$(basename "$v")-move" auto -n 3 "$v"
run_case "$(basename "$v")-proxy" proxy -n 3 "$v"
if [ "$UNPRIV" = 0 ]; then
	run_case "$(basename "$v")-exact-tid" auto -n 3 -x "$v"
else
	# Exact TIDs need CAP_SYS_ADMIN over the PID namespace: refused before the point of no
	# return, with the reason named.
	log "exact TIDs refused unprivileged"
	(cd "$T" && run_user timeout 30 "$SELF" -d "$T" -x "$v") >"$T/x.out" 2>&1
	rc=$?
	sed 's/^/    /' "$T/x.out"
	[ $rc = 0 ] && fail "exact TIDs granted to an unprivileged user"
	grep -q 'exact thread ids are not available here' "$T/x.out" ||
		fail "the refusal of exact TIDs does not say why"
fi
log "all cases passed"
