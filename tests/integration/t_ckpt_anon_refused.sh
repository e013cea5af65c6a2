#!/bin/bash
# An anonymous-inode fd no checkpoint can save yet (l_badanon's userfaultfd, io_uring,
# fanotify: each that this system lets the user make; an inotify instance watching a deleted
# file no path names; a pidfd of a process outside the computation, and one of a process
# that ended and was reaped; an epoll set that
# watches a file through an fd number that is gone, or that is now another file; a POSIX
# message queue, a regular file in name only; a System V shared memory segment) fails the
# checkpoint with one line naming the process, the fd and the kind; the program runs on,
# untouched (its fd still the same kind); the images of the previous checkpoint stay as they
# were and still validate; once the fd is closed, checkpoints succeed again.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

kinds="inotify-deleted userfaultfd io_uring pidfd-outside pidfd-dead fanotify epoll-stale epoll-replaced mqueue sysvshm"
start_coord
b=$(basename "$(prog l_badanon)")
d=$T/w
mkdir -m 777 "$d"
launch_bg "$b" -j "$(prog l_badanon)" "$d" $kinds
wait_for_line "$T/$b.out" '^READY'
count() { tr -d ' \n' <"$d/count"; }
_moved() { [ "$(count)" != "$1" ]; }

ckpt first
sums=$(md5sum "$T"/ckpt_*.dmtcp)
i=0 refused=0
for k in $kinds; do
	i=$((i + 1))
	touch "$d/open$i"
	wait_for_line "$T/$b.out" "^(OPENED|SKIP) $i "
	if grep -q "^SKIP $i " "$T/$b.out"; then
		log "not made here: $(grep "^SKIP $i " "$T/$b.out")"
		continue
	fi
	fd=$(sed -n "s/^OPENED $i //p" "$T/$b.out")
	if run_user timeout 30 "$BIN/dmtcp_command" -bc >"$T/bc$i.out" 2>&1; then
		fail "a checkpoint of a $k fd succeeded: $(cat "$T/bc$i.out")"
	fi
	want="fd $fd is an? [a-z_ ]*$k[a-z_ ]* \(anon_inode:[^)]*\), which cannot be checkpointed yet"
	[ $k = inotify-deleted ] &&
		want="fd $fd is an inotify instance watching inode [0-9]+ on device [0-9]+:[0-9]+ \(wd 1\), for which no path was found"
	[ $k = pidfd-outside ] &&
		want="fd $fd is a pidfd of pid 1, which is not a live process of the computation"
	[ $k = pidfd-dead ] &&
		want="fd $fd is a pidfd of a process that has ended and been reaped"
	[ ${k%-*} = epoll ] &&
		want="fd $fd is an epoll set watching a file it was given as fd [0-9]+, which is no longer that file"
	[ $k = mqueue ] &&
		want="fd $fd is a POSIX message queue \(/l_badanon-[0-9]+\), which cannot be checkpointed yet"
	[ $k = sysvshm ] &&
		want="a System V shared memory segment \(key 0x[0-9a-f]{8}, shmid [0-9]+\) is attached at 0x[0-9a-f]+, which cannot be checkpointed yet"
	grep -Eq "pid [0-9]+ \($b\): $want" "$T/bc$i.out" ||
		{ cat "$T/bc$i.out"; fail "the failure does not name the process, fd and kind ($k)"; }
	[ "$(wc -l <"$T/bc$i.out")" = 1 ] || { cat "$T/bc$i.out"; fail "more than one line ($k)"; }
	c=$(count)
	wait_until 5 _moved "$c" || fail "the program stopped counting after the refused checkpoint ($k)"
	[ "$(md5sum "$T"/ckpt_*.dmtcp)" = "$sums" ] || fail "the previous images changed ($k)"
	ls -a "$T" | grep -q '\.tmp\|\.part' && { ls -a "$T"; fail "a temporary image was left ($k)"; }
	"$BIN/dmtcp_restart" --show "$T"/ckpt_*.dmtcp >/dev/null 2>&1 || fail "the previous images do not validate ($k)"
	touch "$d/close$i"
	wait_for_line "$T/$b.out" "^CLOSED $i\$"
	log "$k refused with: $(cat "$T/bc$i.out")"
	refused=$((refused + 1))
done
[ $refused -ge 1 ] || fail "no kind could be made here"
ckpt after-close
touch "$d/stop0"
wait_rc "$b" 0
grep -q '^FAIL' "$T/$b.out" && { cat "$T/$b.out"; fail "the program saw a failure"; }
grep -q '^PASS' "$T/$b.out" || fail "the program did not end well"
exit 0
