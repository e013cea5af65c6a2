#!/bin/sh
# Run the Check unit-test binaries given as arguments. Each prints Check's own summary line;
# the script fails if any of them fails.
set -u
rc=0
for t in "$@"; do
	echo "== $t"
	CK_FORK=yes "$t" || rc=1
done
exit $rc
