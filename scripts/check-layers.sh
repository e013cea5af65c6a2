#!/bin/bash
# The include rules of docs/architecture.md ("Layers"), checked mechanically.
#
#   scripts/check-layers.sh        prints every violation; exits 1 if there is one
#
# A module can only call what the headers it includes declare, so rules on includes are rules
# on calls: with them the tracer's modules form a stack in which calls go down only (the way
# back up is the hook table's function pointers), restart/ sees the tracer only through its
# public header, and the blobs see no libc-side code. The rules:
#   * project headers are named by path from the top ("tracer/peer.h") or, inside a folder,
#     by file name; both are resolved here;
#   * common/ includes only common/ (and nolibc/, arch/ for freestanding shared code);
#   * coord/ includes common/ and coord/;  api/ includes include/ and common/api_abi.h;
#   * restart/ includes common/, restart/, restorer/restore_plan.h, tracer/tracer.h and
#     tracer/tracer_types.h; the command mains of tracer/ include tracer/tracer.h (and
#     tracer_types.h) of tracer/;
#   * parasite/ and restorer/ include only nolibc/, arch/, their own folder and
#     parasite/parasite-cmd.h (the parasite's contract with the tracer);
#   * inside tracer/, each module has a level (table below); a file may include headers of its
#     own module and of modules of a lower level, never of its own level or above;
#   * no .c file of tracer/ declares a function it does not define (no way around a header).
set -u
cd "$(dirname "$0")/.."

# tracer/ modules from the floor up: "level module files..." (a file stem maps to a module by
# its name, or by the prefix before its first '_' when that is a module: collect_mem -> collect)
LEVELS='
0 remote remote
0 probe probe pagemap_scan
0 names names
0 sockports sockports
0 types tracer_types
0 backtrace backtrace
0 sysrestart sysrestart
1 infect infect infect_int
1 filter filter
2 collect collect
3 dump dump
4 core core ptable hooks
5 thread thread
6 suspend suspend
7 events events
8 loop loop
9 sockrec sockrec
8 sockdrain sockdrain
9 follow follow
9 peer peer
9 checkpoint checkpoint
9 crash crash
10 barriers barriers
10 where where
10 detach detach
11 sysapi sysapi
12 api tracer adopt attach
13 cmd dmtcp_launch dmtcp_nocheckpoint
'

declare -A LEVEL MODULE
while read -r lvl mod files; do
	[ -n "$lvl" ] || continue
	LEVEL[$mod]=$lvl
	for f in $files; do MODULE[$f]=$mod; done
done <<<"$LEVELS"

bad=0
violation() { echo "layers: $1"; bad=1; }

# module_of STEM: the tracer module of a file stem, or "" when none.
module_of() {
	local stem=$1
	if [ -n "${MODULE[$stem]:-}" ]; then echo "${MODULE[$stem]}"; return; fi
	stem=${stem%%_*}
	[ -n "${MODULE[$stem]:-}" ] && echo "${MODULE[$stem]}"
}

# project_includes FILE: the project headers FILE includes, as paths from the top.
project_includes() {
	local file=$1 dir inc
	dir=$(dirname "$file")
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file" |
	while read -r inc; do
		if [[ "$inc" == build/* ]]; then
			: # generated at build time (blob symbol tables)
		elif [ -e "$dir/$inc" ]; then
			realpath --relative-to=. "$dir/$inc"
		elif [ -e "$inc" ]; then
			echo "$inc"
		elif [ -e "common/$inc" ]; then
			echo "common/$inc"
		elif [ -e "arch/x86_64/$inc" ]; then
			echo "arch/x86_64/$inc"
		elif [ -e "include/$inc" ]; then
			echo "include/$inc"
		elif [ -e "nolibc/$inc" ]; then
			echo "nolibc/$inc"
		else
			echo "?$inc"
		fi
	done
}

# allowed FILE HEADER: 0 when FILE may include HEADER.
allowed() {
	local file=$1 hdr=$2 fdir hdir fmod hmod
	fdir=${file%%/*}
	hdir=${hdr%%/*}
	[ "$hdr" = "$file" ] && return 0
	case $hdr in \?*) return 1 ;; esac
	case $fdir in
	common) [[ $hdir == common || $hdir == nolibc || $hdir == arch ]] ;;
	coord) [[ $hdir == common || $hdir == coord ]] ;;
	api) [[ $hdir == include || $hdr == common/api_abi.h ]] ;;
	restart)
		[[ $hdir == common || $hdir == restart || $hdir == arch ||
			$hdr == restorer/restore_plan.h || $hdr == tracer/tracer.h ||
			$hdr == tracer/tracer_types.h ]] ;;
	parasite | restorer)
		[[ $hdir == nolibc || $hdir == arch || $hdir == "$fdir" ||
			$hdr == parasite/parasite-cmd.h ]] ;;
	tracer)
		[[ $hdir == common || $hdir == arch ]] && return 0
		[[ $hdr == parasite/parasite-cmd.h ]] && return 0
		[[ $hdir == tracer ]] || return 1
		fmod=$(module_of "$(basename "${file%.*}")")
		hmod=$(module_of "$(basename "${hdr%.*}")")
		[ -n "$fmod" ] || { violation "$file: not in the module table of scripts/check-layers.sh"; return 0; }
		[ -n "$hmod" ] || return 1
		[ "$fmod" = "$hmod" ] && return 0
		# the commands see only the public header
		if [ "$fmod" = cmd ]; then [[ $hmod == api || $hmod == types ]]; return; fi
		[ "${LEVEL[$hmod]}" -lt "${LEVEL[$fmod]}" ] ;;
	*) return 0 ;;
	esac
}

for f in common/*.[ch] coord/*.[ch] api/*.[ch] restart/*.[ch] parasite/*.[ch] restorer/*.[ch] \
	tracer/*.[ch]; do
	[ -e "$f" ] || continue
	while read -r h; do
		[ -n "$h" ] || continue
		allowed "$f" "$h" || violation "$f includes ${h#\?} (not allowed: see docs/architecture.md, Layers)"
	done < <(project_includes "$f")
done

# A function declared in a .c file of tracer/ without being defined there would bypass the
# headers: file-scope prototypes must be static (and defined).
for f in tracer/*.c; do
	awk -v f="$f" '
		/^[a-z_][a-z_0-9 *]*[ *]([a-z_][a-z_0-9]*)\([^)]*\);$/ && !/^static/ &&
		!/^(return|else|if|while|for)/ { print "layers: " f ": declares a function: " $0 }
	' "$f"
done | grep . && bad=1

if [ $bad = 0 ]; then
	echo "layers: ok"
fi
exit $bad
