#!/bin/bash
# Integration suite runner.
#
#   tests/run-integration.sh [PATTERN [VARIANTS]]
#
# Runs every tests/integration/t_*.sh whose name matches PATTERN (a grep -E regex; default:
# all), once per variant, each run with a time bound ($DMTCP_TEST_TIMEOUT seconds, default 300).
#
# The variants of a test come from two lines of its header comment:
#   # builds: dynamic static   one run per build of the test programs, with DMTCP_TEST_BUILD set
#                              to it: lib.sh's `prog NAME` is then build/tests/progs/NAME or
#                              NAME.static, and $BUILD says which. A test without this line
#                              does not depend on a build: it runs once, DMTCP_TEST_BUILD unset.
#   # variants: root unpriv    one run as root (DMTCP_TEST_UNPRIV=0) and one with
#                              DMTCP_TEST_UNPRIV=1: lib.sh's run_user then runs the programs
#                              under test as the user nobody. Without this line: root only.
# They combine: a test with both lines runs 4 times, labelled [dynamic], [dynamic,unpriv],
# [static] and [static,unpriv] (a root run without a build has no label).
# VARIANTS, words of those lines separated by commas, runs only the variants that have every
# one of them: "static" the static runs, "unpriv" the unprivileged ones, "dynamic,root" ...
#
# A test exits 0 (pass), 77 (skip: its last "SKIP: reason" line says why), 99 (harness error:
# the test could not be carried out, lib.sh's harness_fail printed "HARNESS: reason") or
# anything else (fail: an assertion did not hold). A run stopped by the time limit fails.
#
# Every invocation writes into a directory of its own, tests/out/<YYYYmmdd-HHMMSS>-<pid>/: a
# log per variant, <test>[.<build>][.unpriv].log (t_restart_state.static.unpriv.log), and
# "results", the result lines printed. tests/out/latest points at the newest directory. The
# newest 5 directories are kept ($DMTCP_TEST_KEEP_RUNS) and the newest 20 that had a failure
# ($DMTCP_TEST_KEEP_FAILED); older ones are deleted unless their run is still going.
#
# Printed: a line per run (PASS, FAIL, SKIP; ERROR for a harness error, apart from the
# failures), then the runs that failed an assertion or timed out, and last
#   of the N failed: M harness errors (t_x [static], ...)
#   N passed, N failed, N skipped
# The last line is what CI reads: its "failed" counts the harness errors too. The exit status
# is 0 only when nothing failed.
#
# To test the runner itself (tests/check-runner.sh): $DMTCP_TEST_DIR is where the t_*.sh are
# (default tests/integration), $DMTCP_TEST_OUT where the run directories go (tests/out).
set -u
cd "$(dirname "$0")/.."
pattern=${1:-.}
select=${2:-}
tests=${DMTCP_TEST_DIR:-tests/integration}
base=${DMTCP_TEST_OUT:-tests/out}
limit=${DMTCP_TEST_TIMEOUT:-300}
keep=${DMTCP_TEST_KEEP_RUNS:-5}
BUILD_WORDS="dynamic static"
USER_WORDS="root unpriv"

for w in ${select//,/ }; do
	case " $BUILD_WORDS $USER_WORDS " in
	*" $w "*) ;;
	*) echo "run-integration.sh: no variant '$w' (one of: $BUILD_WORDS $USER_WORDS)" >&2; exit 2 ;;
	esac
done

# This run's directory: the pid makes it unique among runs started in the same second.
run_id=$(date +%Y%m%d-%H%M%S)-$$
out=$base/$run_id
mkdir -p "$base" && mkdir "$out" || { echo "run-integration.sh: cannot create $out" >&2; exit 2; }
chmod 755 "$base" "$out" 2>/dev/null
# Repoint "latest" by renaming a new link over it: a concurrent run sees the old or the new one.
ln -s "$run_id" "$base/.latest.$$" && mv -T "$base/.latest.$$" "$base/latest"

# Delete all but the newest $keep run directories (names sort by time), except those of runs
# still going (their pid is the last part of the name) and the newest $keep_failed runs that
# had a failure: a flaky test's log must outlive the runs that came after it.
keep_failed=${DMTCP_TEST_KEEP_FAILED:-20}
prune_runs() {
	local d runs=() n=0 nf=0
	# (and the logs of the days before run directories: tests/out/t_*.log)
	rm -f "$base"/t_*.log
	for d in "$base"/*; do
		[[ ${d##*/} =~ ^[0-9]{8}-[0-9]{6}-[0-9]+$ ]] && [ -d "$d" ] && runs+=("$d")
	done
	[ ${#runs[@]} -gt "$keep" ] || return 0
	for d in $(printf '%s\n' "${runs[@]}" | sort -r); do
		n=$((n + 1))
		[ $n -gt "$keep" ] || continue
		grep -qs run-integration "/proc/${d##*-}/cmdline" && continue
		if grep -qs '^FAIL' "$d/results"; then
			nf=$((nf + 1))
			[ $nf -gt "$keep_failed" ] || continue
		fi
		rm -rf -- "$d"
	done
}
prune_runs

pass=0 failn=0 skipn=0 errn=0
failed=() errors=()

# say LINE: print a result line and keep it in the run's results file.
say() {
	echo "$*"
	echo "$*" >>"$out/results"
}

# header_words FILE KEY: the words of the line "# KEY: ..." of FILE (the first one).
header_words() { sed -n "s/^# $2:[[:space:]]*//p" "$1" | head -n 1; }

# harness_error WHAT WHY [LOG]: a run (or a test that could not be run) with a harness error.
harness_error() {
	errn=$((errn + 1))
	errors+=("$1")
	say "ERROR $1 (harness): $2${3:+; last lines of $3:}"
	[ -z "${3:-}" ] || tail -n 25 "$3" | sed 's/^/    /'
}

# run_one TEST BUILD USER: one variant of TEST (BUILD empty for a test without builds).
run_one() {
	local t=$1 build=$2 user=$3 name label what log rc secs reason start unpriv=0
	name=$(basename "$t" .sh)
	label=$build
	if [ "$user" = unpriv ]; then
		unpriv=1
		label=${label:+$label,}unpriv
	fi
	what=$name${label:+ [$label]}
	log=$out/$name${label:+.${label//,/.}}.log
	start=$SECONDS
	env -u DMTCP_TEST_BUILD ${build:+DMTCP_TEST_BUILD=$build} DMTCP_TEST_UNPRIV=$unpriv \
		timeout -k 10 "$limit" bash "$t" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$((SECONDS - start))
	# timeout(1) says 124, or 137 when the test outlived the TERM by the grace time too.
	if { [ $rc = 124 ] || [ $rc = 137 ]; } && [ $secs -ge "$limit" ]; then
		echo "timed out after ${limit}s (stopped by the runner)" >>"$log"
		failn=$((failn + 1))
		failed+=("$what (timed out)")
		say "FAIL $what (timed out after ${limit}s); last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
		return
	fi
	case $rc in
	0)
		pass=$((pass + 1))
		say "PASS $what (${secs}s)"
		;;
	77)
		skipn=$((skipn + 1))
		reason=$(sed -n 's/^SKIP: //p' "$log" | tail -n 1)
		[ -n "$reason" ] || reason=$(grep -v '^\s*$' "$log" | tail -n 1)
		say "SKIP $what: $reason"
		;;
	99)
		reason=$(grep '^HARNESS: ' "$log" | tail -n 1)
		harness_error "$what" "${reason:-exit 99 without a HARNESS: line} (${secs}s)" "$log"
		;;
	*)
		failn=$((failn + 1))
		failed+=("$what")
		say "FAIL $what (exit $rc, ${secs}s); last lines of $log:"
		tail -n 25 "$log" | sed 's/^/    /'
		;;
	esac
}

# selected BUILD USER: the variant has every word asked for on the command line.
selected() {
	local w
	for w in ${select//,/ }; do
		[ "$w" = "$1" ] || [ "$w" = "$2" ] || return 1
	done
	return 0
}

# header_ok FILE NAME KEY ALLOWED: every word of FILE's header line "# KEY:" is in ALLOWED, and
# the line, if there, lists one at least.
header_ok() {
	local w words
	words=$(header_words "$1" "$3")
	for w in $words; do
		case " $4 " in
		*" $w "*) ;;
		*) harness_error "$2" "'# $3:' names '$w', not one of: $4"; return 1 ;;
		esac
	done
	[ -n "$words" ] || ! grep -q "^# $3:" "$1" || { harness_error "$2" "'# $3:' lists nothing"; return 1; }
}

echo "logs in $out/ ($base/latest)"
for t in "$tests"/t_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	echo "$name" | grep -Eq -- "$pattern" || continue
	header_ok "$t" "$name" builds "$BUILD_WORDS" || continue
	header_ok "$t" "$name" variants "$USER_WORDS" || continue
	read -ra builds <<<"$(header_words "$t" builds)"
	[ ${#builds[@]} -gt 0 ] || builds=("")
	read -ra users <<<"$(header_words "$t" variants)"
	[ ${#users[@]} -gt 0 ] || users=(root)
	for b in "${builds[@]}"; do
		for u in "${users[@]}"; do
			selected "$b" "$u" && run_one "$t" "$b" "$u"
		done
	done
done

# Harness errors count as failures in the last line (CI fails on either); the line before
# says how many of them there were, and which.
join() { local s; s=$(printf ', %s' "$@"); echo "${s#, }"; }
[ ${#failed[@]} = 0 ] || say "failed: $(join "${failed[@]}")"
failn=$((failn + errn))
line="of the $failn failed: $errn harness error"
[ $errn = 1 ] || line=${line}s
[ $errn = 0 ] || line="$line ($(join "${errors[@]}"))"
say "$line"
say "$pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]
