#!/bin/bash
# Self-test of tests/run-integration.sh, run by make check before the suite (a few seconds).
# Throwaway tests in a temporary directory (DMTCP_TEST_DIR) pass, fail, skip, stop on a harness
# error, time out or carry a bad header; the runner's output, exit status and logs (under
# DMTCP_TEST_OUT) must say so: each kind reported apart, a log per variant, the variables each
# variant gets, two runs at the same time in directories of their own, the selection of
# variants, and old run directories pruned but for those of runs still going.
set -u
cd "$(dirname "$0")/.."
TOP=$PWD
RUNNER=$TOP/tests/run-integration.sh
D=$(mktemp -d /tmp/dmtcp-runner-check.XXXXXX)
bad=0
trap 'rm -rf "$D"' EXIT

fail() { echo "FAIL: $*"; bad=1; }
# has FILE REGEX: FILE has a line matching REGEX.
has() { grep -Eq -- "$2" "$1" || { fail "no line /$2/ in $1:"; sed 's/^/    /' "$1"; }; }
# last FILE LINE: the last line of FILE is LINE.
last() { [ "$(tail -n 1 "$1")" = "$2" ] || fail "$1 ends with '$(tail -n 1 "$1")', not '$2'"; }
# runner OUT ARGS...: run the runner on the tests of $D/t, run directories under $D/OUT; its
# output in $D/OUT.txt, its exit status in rc.
runner() {
	local out=$1
	shift
	DMTCP_TEST_DIR=$D/t DMTCP_TEST_OUT=$D/$out "$RUNNER" "$@" >"$D/$out.txt" 2>&1
	rc=$?
}
# test_file NAME HEADER BODY: a throwaway test that sources lib.sh.
test_file() {
	printf '#!/bin/bash\n# %s: a throwaway test of check-runner.sh\n%s. "%s/tests/lib.sh"\n%s\n' \
		"$1" "$2" "$TOP" "$3" >"$D/t/$1.sh"
}

mkdir "$D/t"
test_file t_pass $'# builds: dynamic static\n# variants: root unpriv\n' \
	'echo "build $BUILD unpriv $UNPRIV prog $(prog l_exit) env ${DMTCP_TEST_BUILD-unset}"'
test_file t_plain '' 'echo "build $BUILD unpriv $UNPRIV env ${DMTCP_TEST_BUILD-unset}"'
test_file t_fail '' 'fail "two is not three"'
test_file t_skip $'# variants: root unpriv\n' 'echo noise; skip "no widget here"'
test_file t_harness $'# builds: static\n' 'harness_fail "fixture missing"'
printf '#!/bin/bash\n# t_slow: a throwaway test of check-runner.sh\nsleep 30\n' >"$D/t/t_slow.sh"
test_file t_badhdr $'# builds: dynamic shared\n' 'echo never run'

# ---- one run of every kind ------------------------------------------------------------------
# (variables inherited from the caller must not leak into the variants)
DMTCP_TEST_TIMEOUT=2 DMTCP_TEST_BUILD=static DMTCP_TEST_UNPRIV=1 runner out
o=$D/out.txt
[ $rc != 0 ] || fail "the runner exits 0 although tests failed"
for v in '\[dynamic\]' '\[dynamic,unpriv\]' '\[static\]' '\[static,unpriv\]'; do
	has "$o" "^PASS t_pass $v \([0-9]+s\)$"
done
has "$o" '^PASS t_plain \([0-9]+s\)$'
has "$o" '^FAIL t_fail \(exit 1, [0-9]+s\)'
has "$o" '^SKIP t_skip: no widget here$'
has "$o" '^SKIP t_skip \[unpriv\]: no widget here$'
has "$o" '^ERROR t_harness \[static\] \(harness\): HARNESS: fixture missing \([0-9]+s\); last lines of '
has "$o" "^ERROR t_badhdr \(harness\): '# builds:' names 'shared'"
has "$o" '^FAIL t_slow \(timed out after 2s\)'
has "$o" '^failed: t_fail, t_slow \(timed out\)$'
grep -q 'never run' "$o" && fail "a test with a bad header ran"
tail -n 2 "$o" | head -n 1 | grep -qx 'of the 4 failed: 2 harness errors (t_badhdr, t_harness \[static\])' ||
	fail "the line before the last: '$(tail -n 2 "$o" | head -n 1)'"
last "$o" "5 passed, 4 failed, 2 skipped"
run=$(readlink "$D/out/latest")
[ -d "$D/out/$run" ] && [[ $run =~ ^[0-9]{8}-[0-9]{6}-[0-9]+$ ]] || fail "latest -> '$run'"
l=$D/out/$run
has "$l/t_pass.dynamic.log" "^build dynamic unpriv 0 prog $TOP/build/tests/progs/l_exit env dynamic$"
has "$l/t_pass.dynamic.unpriv.log" "^build dynamic unpriv 1 prog .*/l_exit env dynamic$"
has "$l/t_pass.static.log" "^build static unpriv 0 prog .*/l_exit.static env static$"
has "$l/t_pass.static.unpriv.log" "^build static unpriv 1 prog .*/l_exit.static env static$"
has "$l/t_plain.log" "^build dynamic unpriv 0 env unset$"
has "$l/t_skip.unpriv.log" "^SKIP: no widget here$"
has "$l/t_harness.static.log" "^HARNESS: fixture missing$"
has "$l/t_slow.log" "timed out"
cmp -s "$l/results" <(grep -v '^ \|^logs in' "$o") || fail "results file differs from the output"

# ---- two runs at the same time --------------------------------------------------------------
DMTCP_TEST_DIR=$D/t DMTCP_TEST_OUT=$D/two "$RUNNER" 't_pass|t_plain' >"$D/two.1" 2>&1 &
p1=$!
DMTCP_TEST_DIR=$D/t DMTCP_TEST_OUT=$D/two "$RUNNER" 't_pass|t_plain' >"$D/two.2" 2>&1 &
p2=$!
wait $p1 || fail "first concurrent run failed"
wait $p2 || fail "second concurrent run failed"
r1=$(sed -n 's|^logs in .*/\([^/]*\)/ .*|\1|p' "$D/two.1")
r2=$(sed -n 's|^logs in .*/\([^/]*\)/ .*|\1|p' "$D/two.2")
[ -n "$r1" ] && [ -n "$r2" ] && [ "$r1" != "$r2" ] || fail "concurrent runs in '$r1' and '$r2'"
for r in "$r1" "$r2"; do
	[ "$(ls "$D/two/$r" | wc -l)" = 6 ] || fail "run $r: $(ls "$D/two/$r" | tr '\n' ' ')"
	for f in "$D/two/$r"/t_*.log; do
		[ "$(grep -c '^build ' "$f")" = 1 ] || fail "$f written by more than one run"
	done
	last "$D/two/$r/results" "5 passed, 0 failed, 0 skipped"
done
case $(readlink "$D/two/latest") in "$r1" | "$r2") ;; *) fail "two/latest: $(readlink "$D/two/latest")" ;; esac

# ---- selection of variants ------------------------------------------------------------------
runner sel 't_pass|t_plain|t_skip' static
[ $rc = 0 ] || fail "selection 'static': exit $rc"
[ "$(grep -c '^PASS' "$D/sel.txt")" = 2 ] && has "$D/sel.txt" '^PASS t_pass \[static,unpriv\]' ||
	fail "selection 'static' ran: $(grep '^PASS\|^SKIP' "$D/sel.txt" | tr '\n' ' ')"
runner sel 't_pass|t_plain|t_skip' unpriv,dynamic
[ "$(grep -c '^PASS\|^SKIP' "$D/sel.txt")" = 1 ] && has "$D/sel.txt" '^PASS t_pass \[dynamic,unpriv\]' ||
	fail "selection 'unpriv,dynamic' ran: $(grep '^PASS\|^SKIP' "$D/sel.txt" | tr '\n' ' ')"
runner sel 't_pass' shared
[ $rc = 2 ] || fail "selection 'shared': exit $rc, expected 2"

# ---- pruning of old runs --------------------------------------------------------------------
mkdir -p "$D/old"
for i in 1 2 3 4 5 6 7; do
	mkdir "$D/old/20000101-00000$i-1"
done
# A run still going (its command line names the runner) keeps its directory, however old.
(exec -a run-integration sleep 30) &
going=$!
mkdir "$D/old/19990101-000000-$going"
: >"$D/old/t_flat.log"
runner old t_plain
kill $going
wait $going 2>/dev/null
left=$(cd "$D/old" && ls | tr '\n' ' ')
want="19990101-000000-$going 20000101-000004-1 20000101-000005-1 20000101-000006-1 20000101-000007-1 $(readlink "$D/old/latest") latest "
[ "$left" = "$want" ] || fail "after pruning: '$left', expected '$want'"

[ $bad = 0 ] && echo "run-integration.sh: behaves as documented"
exit $bad
