#!/bin/bash
# Standard streams follow the restart, as with DMTCP: rs_stdio (with a child that reads a pipe
# of the computation as its stdin) is launched with stdin a FIFO, stdout "before" and stderr
# before.err; after a checkpoint and a kill, dmtcp_restart runs with another FIFO, "after" and
# after.err. A line written into the restart's FIFO must reach the program ("got"), its dup of
# stdout ("dup") and, through the internal pipe, the child ("child", on the child's inherited
# stdout), all in "after", the error line in after.err, nothing more in "before". Then the same
# through mtcp_restart, without the child. --show marks fds 0-2 "stdio", not the child's pipe.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

# srun NAME IN OUT CMD...: CMD as the test user in the background, stdin IN, stdout OUT,
# stderr $T/NAME.err; its exit status in $T/NAME.rc when it ends.
srun() {
	local name=$1 in=$2 out=$3
	shift 3
	rm -f "$T/$name.rc"
	rs_outfile "$name.err"
	(
		run_user "$@" <"$in" >"$out" 2>"$T/$name.err" 6>&- 7>&- 8>&-
		echo $? >"$T/$name.rc.tmp" && mv "$T/$name.rc.tmp" "$T/$name.rc"
	) &
	track $!
}
expect_line() { wait_for_line "$1" "$2" 20 || { cat "$1"; fail "no line /$2/ in $(basename "$1")"; }; }
no_line() { ! grep -Eq "$2" "$1" || { cat "$1"; fail "$(basename "$1") has /$2/"; }; }

start_coord
P=$(prog rs_stdio)
for f in in1 in2 in3; do mkfifo -m 666 "$T/$f"; done
exec 6<>"$T/in1" 7<>"$T/in2" 8<>"$T/in3"
for f in before after after2; do rs_outfile "$f"; done

srun launch "$T/in1" "$T/before" "$BIN/dmtcp_launch" "$P" "$T/ready" child
wait_for_file "$T/ready"
echo one >&6
expect_line "$T/before" '^child one$'
expect_line "$T/before" '^dup one$'
wait_for_line "$T/launch.err" '^err 1$' 20 || fail "no 'err 1' in the launch's stderr"
wait_peers 2
rs_checkpoint_kill launch
"$BIN/dmtcp_restart" --show $(rs_images) >"$T/show" 2>&1 || { cat "$T/show"; fail "--show"; }
[ "$(grep -Ec '^  fd [0-2] file [0-9]+ stdio$' "$T/show")" = 5 ] ||
	{ grep '^  fd' "$T/show"; fail "not fds 0-2 of the parent and 1-2 of the child marked stdio"; }
grep -Eq '^  fd 0 file [0-9]+$' "$T/show" || { grep '^  fd' "$T/show"; fail "the child's stdin (a pipe) is marked stdio"; }

srun restart "$T/in2" "$T/after" "$BIN/dmtcp_restart" $(rs_images)
rs_wait_running 2 restart
echo two >&7
expect_line "$T/after" '^got two$'
expect_line "$T/after" '^dup two$'
expect_line "$T/after" '^child two$'
wait_for_line "$T/restart.err" '^err 2$' 20 || { cat "$T/restart.err"; fail "no 'err 2' in the restart's stderr"; }
echo quit >&7
rs_wait_rc restart 0 30
expect_line "$T/after" '^PASS pid '
no_line "$T/before" 'two|quit|PASS'
no_line "$T/launch.err" 'err 2'
log "dmtcp_restart: the program and its child write where the restart's streams go"

# mtcp_restart: one process, no coordinator afterwards
rm -f "$T"/ckpt_*.dmtcp "$T/ready"
srun launch2 "$T/in3" "$T/before" "$BIN/dmtcp_launch" "$P" "$T/ready"
wait_for_file "$T/ready"
rs_checkpoint_kill launch2
exec 8>&-
mkfifo -m 666 "$T/in4"
exec 8<>"$T/in4"
srun mtcp "$T/in4" "$T/after2" "$BIN/mtcp_restart" $(rs_images)
echo three >&8
expect_line "$T/after2" '^got three$'
echo quit >&8
rs_wait_rc mtcp 0 30
expect_line "$T/after2" '^PASS pid '
no_line "$T/before" 'three'
log "mtcp_restart: the same"
