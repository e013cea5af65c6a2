#!/bin/bash
# A program whose stdin/stdout/stderr are a terminal: the image records the fds as a tty with
# its termios and window size. The pty comes from script(1); its stdin is a fifo held open so
# that script never sees end of input.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"

command -v script >/dev/null || skip "script(1) from util-linux is not installed: no pty"
W=$T/w
export DMTCP_CHECKPOINT_DIR=$W
mkdir -p "$W" && chmod 1777 "$W"
mkfifo -m 666 "$T/tty.in"
exec 9<>"$T/tty.in"
start_coord
# The program runs in script's own session: ending script does not end it, so a failing run
# kills the computation through the coordinator before the usual cleanup.
trap '"$BIN/dmtcp_command" -k >/dev/null 2>&1; _cleanup' EXIT
run_user script -qfec "stty rows 33 cols 111 -echo; exec $BIN/dmtcp_launch $PROGS/ckpt_state $W" \
	/dev/null <"$T/tty.in" >"$T/script.out" 2>&1 &
track $!
wait_until 30 test -s "$W/facts" || { cat "$T/script.out"; skip "no pty could be had for the program here"; }
wait_peers 1
"$BIN/dmtcp_command" -bc >"$T/cmd.out" 2>&1 || { cat "$T/cmd.out" "$T/script.out"; fail "checkpoint failed"; }
img=$(ls "$W"/ckpt_*.dmtcp) || fail "no image"
"$BIN/dmtcp_restart" --show "$img" >"$T/show" || { cat "$T/show"; fail "image invalid"; }
# The launch's terminal at fds 0-2: marked as the standard streams a restart replaces.
f=$(sed -n 's/^  fd 0 file \([0-9]*\) stdio$/\1/p' "$T/show")
[ -n "$f" ] || { grep '^  fd ' "$T/show"; fail "no fd 0 marked stdio"; }
grep -Eq "^  file $f tty .* path /dev/pts/[0-9]+" "$T/show" || { grep "^  file $f " "$T/show"; fail "fd 0 is not recorded as a terminal"; }
grep -Eq "^  termios file $f iflag [0-7]+ oflag [0-7]+ cflag [0-7]+ lflag [0-7]+ rows 33 cols 111$" "$T/show" ||
	{ grep termios "$T/show"; fail "termios/window size of the terminal missing"; }
# -echo was set: ECHO (0010) must be clear in lflag
lflag=$(sed -n "s/^  termios file $f .* lflag \([0-7]*\) .*/\1/p" "$T/show")
[ $((0$lflag & 010)) = 0 ] || fail "lflag $lflag has ECHO although stty -echo ran"
[ "$(sed -n 's/^  fd 1 file \([0-9]*\) stdio$/\1/p' "$T/show")" = "$f" ] || fail "fd 1 should share fd 0's description"
"$BIN/dmtcp_command" -k >/dev/null 2>&1
echo PASS
