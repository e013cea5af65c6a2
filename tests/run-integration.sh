#!/bin/bash
# Integration suite runner.
#
#   tests/run-integration.sh [PATTERN]
#
# Runs every tests/integration/t_*.sh (whose name matches PATTERN, a grep -E regex) with a
# time bound each. A test exits 0 (pass), 77 (skip: its last output line says why), 99
# (harness failure) or anything else (fail). A test whose header has the line
# "# variants: root unpriv" runs twice, the second time with DMTCP_TEST_UNPRIV=1 (lib.sh then
# runs the programs under test as the user nobody). Logs go to tests/out/<test>[.variant].log.
# The last line printed is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
pattern=${1:-.}
out=tests/out
mkdir -p "$out"
chmod 755 "$out" 2>/dev/null
pass=0 failn=0 skipn=0
failed=()
limit=${DMTCP_TEST_TIMEOUT:-300}

run_one() {
	local t=$1 variant=$2 name log rc reason
	name=$(basename "$t" .sh)
	log=$out/$name${variant:+.$variant}.log
	local start=$SECONDS
	if [ "$variant" = unpriv ]; then
		DMTCP_TEST_UNPRIV=1 timeout -k 10 "$limit" bash "$t" >"$log" 2>&1 </dev/null
	else
		timeout -k 10 "$limit" bash "$t" >"$log" 2>&1 </dev/null
	fi
	rc=$?
	local secs=$((SECONDS - start))
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name${variant:+ [$variant]} (${secs}s)" ;;
	77) skipn=$((skipn + 1))
	    reason=$(grep '^SKIP: ' "$log" | tail -n 1 | sed 's/^SKIP: //')
	    [ -n "$reason" ] || reason=$(grep -v '^\s*$' "$log" | tail -n 1)
	    echo "SKIP $name${variant:+ [$variant]}: $reason" ;;
	*) failn=$((failn + 1)); failed+=("$name${variant:+ [$variant]}")
	   [ $rc = 124 ] && echo "timed out after ${limit}s" >>"$log"
	   echo "FAIL $name${variant:+ [$variant]} (exit $rc, ${secs}s); last lines of $log:"
	   tail -n 25 "$log" | sed 's/^/    /' ;;
	esac
}

for t in tests/integration/t_*.sh; do
	[ -e "$t" ] || continue
	basename "$t" .sh | grep -Eq -- "$pattern" || continue
	run_one "$t" ""
	if grep -q '^# variants:.*unpriv' "$t"; then
		run_one "$t" unpriv
	fi
done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]
