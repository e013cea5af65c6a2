#!/bin/bash
# The restart script's text and options, run with a fake dmtcp_restart (DMTCP_RESTART_CMD)
# and a fake ssh that record their arguments: local images restarted in the foreground with
# the coordinator's host/port, images of another host through ssh; -h/-p/-i/-d and their long
# forms; --help; bad options exit 1.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

start_coord
# Peers 0 and 1 run here, peer 2 claims to run on "farhost".
start_fakepeer fp -n 3 --image-dir "$T" --peer-host farhost:2
wait_for_line "$T/fp.out" '^ready$'
"$BIN/dmtcp_command" -bc >/dev/null || fail "checkpoint failed"
script=$T/dmtcp_restart_script.sh
[ -x "$script" ] || fail "no restart script"
img0=$(sed -n 's/^image 0 //p' "$T/fp.out")
img1=$(sed -n 's/^image 1 //p' "$T/fp.out")
img2=$(sed -n 's/^image 2 //p' "$T/fp.out")
host=$(uname -n)
grep -q "^dmtcp_bin_dir='$BIN'$" "$script" || fail "script does not record the coordinator's directory"
grep -q "^coord_port=$COORD_PORT$" "$script" || fail "script does not record the port"

mkdir -p "$T/fake"
cat >"$T/fake/restart" <<'SH'
#!/bin/bash
printf '%s\n' "$@" >"$FAKE_LOG"
SH
cat >"$T/fake/ssh" <<'SH'
#!/bin/bash
printf '%s\n' "$@" >"$FAKE_SSH_LOG"
SH
chmod +x "$T/fake/restart" "$T/fake/ssh"
export DMTCP_RESTART_CMD=$T/fake/restart FAKE_LOG=$T/restart.args FAKE_SSH_LOG=$T/ssh.args
export PATH=$T/fake:$PATH

args() { tr '\n' ' ' <"$1"; }

# Defaults: the coordinator's host and port; local images here, farhost's through ssh.
"$script" 2>"$T/script.err" || fail "script failed: $(cat "$T/script.err")"
[ "$(args "$T/restart.args")" = "--coord-host $host --coord-port $COORD_PORT $img0 $img1 " ] ||
	fail "local restart got: $(args "$T/restart.args")"
wait_for_file "$T/ssh.args" 10
[ "$(head -n 1 "$T/ssh.args")" = farhost ] || fail "ssh went to: $(head -n 1 "$T/ssh.args")"
tail -n +2 "$T/ssh.args" | grep -q "restart --coord-host $host --coord-port $COORD_PORT $img2" ||
	fail "remote command: $(tail -n +2 "$T/ssh.args")"
grep -q "restarting 1 image(s) on farhost" "$T/script.err" || fail "no listing of farhost"

# Options, short and long; --restartdir moves the images; the loopback host is replaced by
# this host's name on the remote side.
rm -f "$T/restart.args" "$T/ssh.args"
mkdir -p "$T/moved"
"$script" -h 127.0.0.1 -p 1234 -i 7 -d "$T/moved" 2>/dev/null || fail "script with options failed"
[ "$(args "$T/restart.args")" = "--coord-host 127.0.0.1 --coord-port 1234 --interval 7 $T/moved/${img0##*/} $T/moved/${img1##*/} " ] ||
	fail "with options: $(args "$T/restart.args")"
wait_for_file "$T/ssh.args" 10
tail -n +2 "$T/ssh.args" | grep -q -- "--coord-host $host --coord-port 1234 --interval 7 $T/moved/${img2##*/}" ||
	fail "remote with options: $(tail -n +2 "$T/ssh.args")"
rm -f "$T/restart.args"
"$script" --coord-host=h2 --coord-port 99 --interval=3 --restartdir "$T/moved" 2>/dev/null ||
	fail "long options failed"
[ "$(head -n 6 "$T/restart.args" | tr '\n' ' ')" = "--coord-host h2 --coord-port 99 --interval 3 " ] ||
	fail "long options: $(args "$T/restart.args")"

# --help lists the images by host.
out=$("$script" --help) || fail "--help failed"
echo "$out" | grep -q -- "--coord-host" || fail "--help text"
echo "$out" | grep -q "^  farhost:$" || fail "--help does not list farhost"
echo "$out" | grep -qF "    $img0" || fail "--help does not list $img0"

# Bad options exit 1 with a message; nothing is restarted.
rm -f "$T/restart.args"
for a in "--bogus" "-p" "-p abc" "-p 70000" "-i x" "-d $T/nonexistent" "-h ''"; do
	# shellcheck disable=SC2086
	err=$(eval "\"$script\" $a" 2>&1); rc=$?
	[ $rc = 1 ] || fail "script $a: exit $rc"
	[ -n "$err" ] || fail "script $a: no message"
done
[ ! -e "$T/restart.args" ] || fail "a bad option still ran dmtcp_restart"

# The exit status of the local dmtcp_restart is the script's.
printf '#!/bin/sh\nexit 5\n' >"$T/fake/restart"
"$script" 2>/dev/null; rc=$?
[ $rc = 5 ] || fail "script exit status $rc, expected 5"
echo PASS
