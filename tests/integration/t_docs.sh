#!/bin/bash
# The man pages stay in step with the commands: every long option a command's --help lists is
# described in its page (docs/<command>.1), every page renders without a groff warning, and
# no page holds a control character (a "\f" that became a form feed, say).
. "$(dirname "$0")/../lib.sh"

command -v groff >/dev/null || skip "groff is not installed"
n=0
for page in "$TOP"/docs/*.1; do
	c=$(basename "$page" .1)
	bad=$(LC_ALL=C tr -d '\n\t' <"$page" | LC_ALL=C tr -d '\040-\176\200-\377' | wc -c)
	[ "$bad" = 0 ] || fail "$c.1: $bad control characters"
	warn=$(LC_ALL=C groff -man -ww -z "$page" 2>&1)
	[ -z "$warn" ] || fail "$c.1: groff: $warn"
	[ -x "$BIN/$c" ] || continue
	text=$(sed 's/\\-/-/g' "$page")
	help=$("$BIN/$c" --help 2>&1)
	opts=$(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$help" | sort -u)
	grep -q "^Usage: $c" <<<"$help" || fail "$c --help: $help"
	for o in $opts; do
		grep -qE -- "$o([^a-z0-9-]|$)" <<<"$text" || fail "$c: $o is in --help but not in docs/$c.1"
		n=$((n + 1))
	done
done
log "$n options of --help found in the man pages"
