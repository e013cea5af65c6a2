#!/bin/sh
# Run the Check unit-test binaries given as arguments. Each prints Check's own summary line;
# the script fails if any of them fails.
#
# Check's default of 4 s per test turns a slow machine into failures (check_tracer's filter
# generator took longer than that with the load average at 16): unless a test case sets its
# own, each test gets 60 s, enough under load and still an end for a real hang.
set -u
rc=0
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60}
for t in "$@"; do
	echo "== $t"
	CK_FORK=yes "$t" || rc=1
done
exit $rc
