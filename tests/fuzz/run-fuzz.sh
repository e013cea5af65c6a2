#!/bin/bash
# The libFuzzer runs of `make fuzz`: each target for FUZZ_SECONDS (default 300), one after
# the other, on one core, niced.
#
#   tests/fuzz/run-fuzz.sh BUILD_FUZZ_DIR TARGET...
#
# Target T is BUILD_FUZZ_DIR/clang/fuzz-T. Its corpus is kept in BUILD_FUZZ_DIR/corpus/T
# (what libFuzzer finds is added there and reused by the next run), started from the seeds
# (BUILD_FUZZ_DIR/seeds/T, tests/fuzz/corpus/T), which are read, never written. A crash, an
# oracle's abort, a leak, a hang (-timeout) or one allocation over FUZZ_MALLOC_MB (default
# 16: the seeds are a few KiB, and no length or count field may make a reader allocate more
# than the input justifies) stops the target: the input is saved in
# BUILD_FUZZ_DIR/crashes/T/ and named. The full libFuzzer output is in
# BUILD_FUZZ_DIR/logs/T.log; one line per target sums it up (runs, coverage in edges and
# features, corpus size). FUZZ_FLAGS adds libFuzzer options.
# Exit status: 0 when no target failed, 1 otherwise.
set -u
dir=$1
shift
secs=${FUZZ_SECONDS:-300}
malloc_mb=${FUZZ_MALLOC_MB:-16}
root=$(cd "$(dirname "$0")/../.." && pwd)
rc=0
mkdir -p "$dir/logs"
for t in "$@"; do
	bin=$dir/clang/fuzz-$t
	corpus=$dir/corpus/$t
	crashes=$dir/crashes/$t
	log=$dir/logs/$t.log
	mkdir -p "$corpus" "$crashes"
	seeds=()
	for s in "$dir/seeds/$t" "$root/tests/fuzz/corpus/$t"; do
		[ -d "$s" ] && seeds+=("$s")
	done
	before=$(find "$crashes" -type f | wc -l)
	# shellcheck disable=SC2086
	nice -n 19 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-malloc_limit_mb="$malloc_mb" -print_final_stats=1 \
		-artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} "$corpus" "${seeds[@]}" >"$log" 2>&1
	status=$?
	last=$(grep -E '^#[0-9]+.*(cov|ft):' "$log" | tail -n 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
	ncorp=$(find "$corpus" -type f | wc -l)
	after=$(find "$crashes" -type f | wc -l)
	if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
		rc=1
		input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		echo "fuzz $t: FAILED after ${runs:-?} runs (exit $status): input ${input:-not saved}; log $log"
		grep -m 3 -E 'ERROR:|SUMMARY:|^fuzz:' "$log" | sed 's/^/    /'
	else
		echo "fuzz $t: ${secs} s, ${runs:-?} runs, cov ${cov:-?} edges," \
			"ft ${ft:-?} features, corpus $ncorp inputs, no failure"
	fi
done
exit $rc
