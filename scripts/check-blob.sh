#!/bin/sh
# check-blob.sh ELF [ENTRY]
#
# Fails (exit 1, naming the problem) when a freestanding blob ELF cannot be used as a flat
# position-independent image:
#   - it has undefined symbols (nm -u): something libc or the compiler expected is missing;
#   - it has relocations: a flat copy at an arbitrary address would leave them unapplied;
#   - it has a GOT/PLT or dynamic section with content (absolute addresses in disguise);
#   - the entry symbol (ENTRY, default <name>_entry from the file name) is missing or is not
#     at offset 0.
# Used by the Makefile for every blob (parasite, restorer).
set -eu
elf=${1:?usage: check-blob.sh ELF [ENTRY]}
name=$(basename "$elf" .elf)
entry=${2:-${name}_entry}
bad=0

[ -r "$elf" ] || { echo "check-blob: $elf: not readable" >&2; exit 1; }

undef=$(nm -u "$elf")
if [ -n "$undef" ]; then
	echo "check-blob: $elf: undefined symbols:" >&2
	echo "$undef" | sed 's/^/    /' >&2
	bad=1
fi

relocs=$(readelf -W -r "$elf" | grep -E '^[0-9a-f]{8,} ' || true)
if [ -n "$relocs" ]; then
	echo "check-blob: $elf: relocations a flat blob cannot apply:" >&2
	echo "$relocs" | sed 's/^/    /' >&2
	bad=1
fi

# Sections that only make sense with a dynamic loader, if they hold any bytes.
# "[Nr] Name Type Address Off Size ..." with the "[Nr]" column stripped: $1 name, $5 size.
dyn=$(readelf -W -S "$elf" | sed -n 's/^ *\[ *[0-9]*\] *//p' |
	awk '$1 ~ /^\.(got|got\.plt|plt|plt\.got|dynamic|interp|rela\.dyn|rela\.plt)$/ && $5 !~ /^0+$/ { print $1 }')
if [ -n "$dyn" ]; then
	echo "check-blob: $elf: has loader sections with content: $(echo $dyn)" >&2
	bad=1
fi

addr=$(nm "$elf" | awk -v s="$entry" '$3 == s && $2 ~ /[Tt]/ { print $1 }')
if [ -z "$addr" ]; then
	echo "check-blob: $elf: entry symbol '$entry' is not defined in text" >&2
	bad=1
elif [ $((0x$addr)) -ne 0 ]; then
	echo "check-blob: $elf: entry symbol '$entry' is at 0x$addr, not at offset 0" >&2
	bad=1
fi

exit $bad
