#!/bin/bash
# Runtimes other than glibc: l_block built with musl-gcc -static, and a Go program (many
# runtime threads), each checkpointed while blocked and checked by itself afterwards.
# Skips (with the reason) when musl-gcc or a working go toolchain is missing.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

command -v musl-gcc >/dev/null || skip "musl-gcc not installed (Debian package musl-tools)"
musl-gcc -static -O1 -D_GNU_SOURCE -pthread -o "$T/l_block.musl" "$TOP/tests/progs/l_block.c" \
	2>"$T/musl.err" || { cat "$T/musl.err"; harness_fail "musl-gcc cannot build l_block"; }
chmod 755 "$T/l_block.musl"
have_go=0
if command -v go >/dev/null; then
	mkdir -p "$T/gohome"
	if HOME=$T/gohome GOCACHE=$T/gohome/cache GO111MODULE=off GOFLAGS= \
		timeout 120 go build -o "$T/l_gosleep" "$TOP/tests/progs/l_gosleep.go" >"$T/go.err" 2>&1; then
		have_go=1
		chmod 755 "$T/l_gosleep"
	fi
fi

start_coord
mkdir -m 777 "$T/m"
(cd "$T/m" && mkfifo -m 666 fifo_read fifo_poll fifo_never fifo_child fifo_cond fifo_epoll) || harness_fail mkfifo
launch_bg musl -j "$T/l_block.musl" "$T/m"
peers=2
if [ $have_go = 1 ]; then
	mkdir -m 777 "$T/g"
	mkfifo -m 666 "$T/g/fifo"
	launch_bg go -j "$T/l_gosleep" "$T/g"
	wait_for_line "$T/go.out" '^READY'
	peers=3
fi
wait_for_line "$T/musl.out" '^READY'
wait_peers $peers
for i in 1 2 3; do
	ckpt $i
done
port=$(sed -n 's/^READY //p' "$T/musl.out")
for f in fifo_read fifo_poll fifo_child fifo_epoll; do echo x >"$T/m/$f"; done
exec 3<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to port $port"
exec 3>&-
echo x >"$T/m/fifo_cond"
wait_rc musl 0
grep -q '^PASS$' "$T/musl.out" || { cat "$T/musl.out"; fail "musl-static l_block did not pass"; }
if [ $have_go = 1 ]; then
	echo x >"$T/g/fifo"
	wait_rc go 0
	grep -q '^PASS$' "$T/go.out" || { cat "$T/go.out"; fail "Go program did not pass"; }
	log "musl-static and Go programs transparent across 3 checkpoints"
	exit 0
fi
cat "$T/go.err" 2>/dev/null | tail -n 3
skip "musl-static part passed; no working go toolchain for the Go part"
