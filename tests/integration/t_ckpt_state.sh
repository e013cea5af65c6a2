#!/bin/bash
# What a checkpoint saves: launch ckpt_state (one of each kind of state, and a forked child
# sharing memory with it plus a zombie), checkpoint with dmtcp_command -bc, and check the
# images with dmtcp_restart --show: every mapping kind with its flags, untouched pages not
# stored, shared anonymous memory stored once across the two processes, deleted-file contents
# and pipe bytes present, fds shared and cloexec, two threads with distinct masks, pending
# signals of both queues, dispositions, timers, umask, rlimits, the zombie. Dynamic and static,
# each also with pages found through /proc/PID/pagemap instead of PAGEMAP_SCAN.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"

[ -x "$BIN/dmtcp_launch" ] && [ -x "$BIN/dmtcp_restart" ] || harness_fail "commands not built"

# expect FILE REGEX WHAT: FILE must have a line matching REGEX.
expect() {
	grep -Eq -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "$3 (no line /$2/ in $1)"; }
}
fact() { sed -n "s/^$1 //p" "$W/facts"; }
# The vma line of the mapping starting at address $2 in show output $1.
vma_at() { grep -E "^  vma $2-" "$1"; }

# shared_once ADDR PATH PAGES: the shared mapping at ADDR is the same object in the main and
# the child image, stored (PAGES pages, a regex) in exactly one of them, with 0 in the other.
shared_once() {
	local m c
	m=$(vma_at "$show_main" "$1")
	c=$(vma_at "$show_child" "$1")
	echo "$m" | grep -q " rw-s shmem .* $2$" && echo "$c" | grep -q " rw-s shmem .* $2$" ||
		fail "$tag: $2 not a shared object in both ($m / $c)"
	[ "$(echo "$m" | sed 's/.* object \([0-9]*\) .*/\1/')" = "$(echo "$c" | sed 's/.* object \([0-9]*\) .*/\1/')" ] ||
		fail "$tag: the two processes must name the same object for $2"
	[ "$( (echo "$m"; echo "$c") | grep -c ' data-here')" = 1 ] ||
		fail "$tag: $2 data must be stored exactly once ($m / $c)"
	(echo "$m"; echo "$c") | grep ' data-here' | grep -Eq " pages $3 " || fail "$tag: $2 pages stored"
	(echo "$m"; echo "$c") | grep -v ' data-here' | grep -q " pages 0 " || fail "$tag: $2 stored twice"
}

run_variant() {
	local prog=$1 tag=$2 img main child show_main show_child a
	W=$T/$tag
	mkdir -p "$W" && chmod 1777 "$W"
	export DMTCP_CHECKPOINT_DIR=$W
	run_user "$BIN/dmtcp_launch" "$prog" "$W" fork >"$W/launch.out" 2>&1 &
	track $!
	wait_for_file "$W/facts" 30
	wait_peers 2
	"$BIN/dmtcp_command" -bc >"$W/cmd.out" 2>&1 || { cat "$W/cmd.out" "$W/launch.out"; fail "$tag: dmtcp_command -bc failed"; }
	main=$(fact pid)
	child=$(fact child)
	show_main=$W/show.main
	show_child=$W/show.child
	for img in "$W"/ckpt_*.dmtcp; do
		[ -e "$img" ] || { cat "$W/launch.out"; fail "$tag: no image written"; }
		"$BIN/dmtcp_restart" --show "$img" >"$W/show.tmp" 2>&1 || { cat "$W/show.tmp"; fail "$tag: --show rejects $img"; }
		if grep -q "^  process pid $main " "$W/show.tmp"; then
			mv "$W/show.tmp" "$show_main"
		elif grep -q "^  process pid $child " "$W/show.tmp"; then
			mv "$W/show.tmp" "$show_child"
		fi
	done
	[ -s "$show_main" ] && [ -s "$show_child" ] || fail "$tag: images of pid $main and $child expected"
	log "$tag: images of $main and $child valid"

	expect "$show_main" "^content: valid" "$tag: content validation"
	# process
	expect "$show_main" "^  umask 0027 " "$tag: umask"
	expect "$show_main" "^  rlimit RLIMIT_NOFILE 777 " "$tag: rlimit"
	expect "$show_main" "^  zombie pid $(fact zombie) status 1792$" "$tag: zombie child (exit 7)"
	expect "$show_main" "^  cmdline .*ckpt_state.* fork$" "$tag: command line"
	expect "$show_main" "^  counts threads 3 " "$tag: thread count"
	# threads: distinct masks, pending signals of each queue
	expect "$show_main" "^  sigmask 0x0*4800 SIGUSR2 SIGTERM$" "$tag: main thread mask"
	expect "$show_main" "^  sigmask 0x0*8004800 SIGUSR2 SIGTERM SIGWINCH$" "$tag: second thread mask"
	[ "$(grep -c '^  regs rip' "$show_main")" = 3 ] || fail "$tag: three register sets expected"
	[ "$(grep '^  regs rip' "$show_main" | sort -u | wc -l)" = 3 ] || fail "$tag: registers not distinct"
	expect "$show_main" "^  xsave [0-9]{3,} bytes" "$tag: xsave area"
	expect "$show_main" "^  syscall-fixup restart \(stopped rax -514\)" "$tag: pause() re-executed after restore"
	expect "$show_main" "^  syscall-fixup restart \(stopped rax -512\)" "$tag: read() re-executed after restore"
	expect "$show_main" "^  syscall-fixup restart \(stopped rax -516\)" "$tag: nanosleep() issued again after restore (restart block)"
	expect "$show_main" "^  pending SIGUSR2 " "$tag: thread-queue pending signal"
	expect "$show_main" "^  shared-pending SIGTERM code -1 pid $main" "$tag: process-queue pending signal"
	# signals and timers
	expect "$show_main" "^  sigaction SIGUSR1 handler 0x[0-9a-f]+ " "$tag: handler"
	expect "$show_main" "^  sigaction SIGPIPE handler SIG_IGN" "$tag: ignored signal"
	expect "$show_main" "^  itimer ITIMER_REAL interval_ns 1000000000000 " "$tag: itimer"
	expect "$show_main" "^  posix-timer id [0-9]+ clock 1 signal SIGUSR1 .*interval_ns 2000000000000 " "$tag: POSIX timer"
	# memory: kinds, flags, pages stored
	a=$(fact anon)
	vma_at "$show_main" "$a" | grep -Eq " rw-p anon .* pages 5 " || { vma_at "$show_main" "$a"; fail "$tag: 64 MiB anon with 5 touched pages must store 5"; }
	vma_at "$show_main" "$(fact cow)" | grep -Eq " rw-p file-private .* pages 1 .*mapped.dat$" || fail "$tag: private file mapping stores only its written page"
	vma_at "$show_main" "$(fact shfile)" | grep -Eq " rw-s file-shared .* pages 0 shared .*mapped.dat$" || fail "$tag: shared file mapping by reference"
	vma_at "$show_main" "$(fact guard)" | grep -Eq " ---p anon .* guard" || fail "$tag: PROT_NONE guard"
	vma_at "$show_main" "$(fact readonly)" | grep -Eq " r--p anon " || fail "$tag: read-only mapping"
	vma_at "$show_main" "$(fact growsdown)" | grep -Eq " rw-p anon .* pages 1 growsdown" || fail "$tag: growsdown mapping"
	expect "$show_main" " stack .* growsdown \[stack\]$" "$tag: [stack]"
	# [vdso] is stored whole (for the restorer's proxy path on another kernel), [vvar] never
	vdso_pages=$(sed -n 's/^ *vma 0x\([0-9a-f]*\)-0x\([0-9a-f]*\) .* pages \([0-9]*\) .*\[vdso\]$/\1 \2 \3/p' "$show_main")
	[ -n "$vdso_pages" ] || fail "$tag: no [vdso] line in $show_main"
	read -r vd_lo vd_hi vd_n <<<"$vdso_pages"
	[ $(( (0x$vd_hi - 0x$vd_lo) / 4096 )) = "$vd_n" ] ||
		fail "$tag: [vdso] stored $vd_n pages of $(( (0x$vd_hi - 0x$vd_lo) / 4096 ))"
	expect "$show_main" " pages 0 .*\[vvar\]$" "$tag: [vvar] without data"
	# shared anonymous memory and a memfd: one object each, data in exactly one of the two
	# images (either process may be written first); root may find the populated pages
	# (SEEK_DATA through map_files), the unprivileged tracer stores the whole object
	shared_once "$(fact shanon)" "/dev/zero" "(3|32)"
	shared_once "$(fact memfd)" "/memfd:ckpt-test" "(1|8)"
	# fds
	local df pf
	df=$(sed -n "s/^  fd $(fact deleted_fd) file \([0-9]*\)$/\1/p" "$show_main")
	[ -n "$df" ] || fail "$tag: fd of the deleted file"
	expect "$show_main" "^  fd $(fact dup_fd) file $df$" "$tag: dup'ed fd shares the description"
	expect "$show_main" "^  file $df reg .* pos 27 .*deleted.txt deleted data 27 bytes" "$tag: deleted file"
	pf=$(sed -n "s/^  fd $(fact wronly_fd) file \([0-9]*\)$/\1/p" "$show_main")
	expect "$show_main" "^  file $pf reg oflags 0?100001 .*wronly.txt deleted data 28 bytes" "$tag: write-only deleted file"
	# The forked child inherited the description: the same share key in both images.
	local km kc
	km=$(sed -n "s/^  file $df reg .* share \(0x[0-9a-f]*\) .*/\1/p" "$show_main")
	pf=$(sed -n "s/^  fd $(fact deleted_fd) file \([0-9]*\)$/\1/p" "$show_child")
	kc=$(sed -n "s/^  file $pf reg .* share \(0x[0-9a-f]*\) .*/\1/p" "$show_child")
	[ -n "$km" ] && [ "$km" = "$kc" ] || fail "$tag: description shared with the child has keys '$km' and '$kc'"
	expect "$show_main" "^  fd $(fact cloexec_fd) file [0-9]+ cloexec$" "$tag: FD_CLOEXEC"
	pf=$(sed -n "s/^  fd $(fact pipe_r) file \([0-9]*\)$/\1/p" "$show_main")
	expect "$show_main" "^  file $pf pipe .* end read data 15 bytes" "$tag: pipe bytes"
	pf=$(sed -n "s/^  fd $(fact wonly_w) file \([0-9]*\)$/\1/p" "$show_main")
	expect "$show_main" "^  file $pf pipe .* end write data 11 bytes" "$tag: bytes of a pipe whose read end is gone"
	pf=$(sed -n "s/^  fd $(fact dir_fd) file \([0-9]*\)$/\1/p" "$show_main")
	expect "$show_main" "^  file $pf dir " "$tag: directory fd"
	pf=$(sed -n "s/^  fd $(fact sock_fd) file \([0-9]*\)$/\1/p" "$show_main")
	expect "$show_main" "^  file $pf socket .* socktype 2" "$tag: socket fd"
	pf=$(sed -n "s/^  fd $(fact fifo_fd) file \([0-9]*\)$/\1/p" "$show_main")
	expect "$show_main" "^  file $pf fifo .*/fifo end both data 10 bytes" "$tag: FIFO bytes"
	img=$(grep -l "^  process pid $main " /dev/null "$show_main" >/dev/null; ls "$W"/ckpt_*"-$main-"*.dmtcp)
	grep -aq "deleted-file-contents-1234" "$img" || fail "$tag: deleted file contents not in the image"
	grep -aq "pipe-bytes-5678" "$img" || fail "$tag: pipe bytes not in the image"
	grep -aq "write-only-deleted-contents" "$img" || fail "$tag: write-only deleted file contents not in the image"
	# The program still runs and its pipes still hold their bytes (nothing was consumed).
	kill -0 "$main" 2>/dev/null || fail "$tag: program died"
	[ "$(cat /proc/$main/fdinfo/$(fact pipe_r) >/dev/null && python3 -c "import fcntl,termios,array,sys;b=array.array('i',[0]);fcntl.ioctl(open('/proc/$main/fd/$(fact pipe_r)','rb'),termios.FIONREAD,b);print(b[0])")" = 15 ] ||
		fail "$tag: the pipe lost its bytes"
	"$BIN/dmtcp_command" -k >/dev/null 2>&1
	wait_until 20 sh -c "! kill -0 $main 2>/dev/null" || fail "$tag: program not killed"
	wait_peers 0
}

start_coord
run_variant "$(prog ckpt_state)" "$BUILD"
# the same with pages found through /proc/PID/pagemap instead of the PAGEMAP_SCAN ioctl (the
# image line that names the method is an info line: asked for)
DMTCP_PAGEMAP_SCAN=0 DMTCP_LOG_LEVEL=info run_variant "$(prog ckpt_state)" pagemap
grep -q "pages found with pagemap" "$T/pagemap/launch.out" || { cat "$T/pagemap/launch.out"; fail "pagemap path not taken"; }
echo PASS
