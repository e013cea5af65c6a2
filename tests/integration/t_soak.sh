#!/bin/bash
# Issue 15's soak test: SOAK_CYCLES checkpoint/restart cycles (default 10 here, in make check;
# `make soak` runs 200) of rs_ring, a 4-process computation joined in a ring of a pipe, a FIFO,
# a unix socketpair and a TCP connection. Each cycle: checkpoint (-bc), sample, kill (-k), restart from the restart
# script, and check the program's own oracle: it runs on past where it was killed and
# printed no FAIL (every stage checks each record it passes on for gaps, repeats and changed
# bytes; at the end every byte sent through the ring is accounted for, stage by stage, and it
# prints PASS). The sample, taken with the computation running after its checkpoint: the
# coordinator's VmRSS and open fds, and the same of the computation's tracer (a new one each
# restart), the program's VmRSS and RssAnon (its four processes: VmRSS varies with the file
# pages it happened to touch, RssAnon is what a leak grows) and the images' bytes. After a
# warm-up (a tenth of the cycles, at least 2: the first sample is dmtcp_launch's tracer), every fd
# count must be the same in every cycle, and the median of each memory figure over the last
# tenth of the cycles (3 at least) must not exceed its median over the first tenth by more
# than 10% or a slack, whichever is larger (256 kB for the coordinator, 2 MiB for the tracer,
# a new process each restart whose VmRSS at the sample is bimodal: 3.7 or 4.9 MB within one
# run, in no trend, and a first tenth all in the low mode once failed a flat run; 1 MiB for the
# program's VmRSS, 128 kB for its RssAnon, 16 KiB for the images): flat, not grown. The
# figures are printed.
# Only the dynamic build: the soak is the coordinator's and the tracers'; the program's build
# changes none of what is measured.
# builds: dynamic
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

CYCLES=${SOAK_CYCLES:-10}
[[ $CYCLES =~ ^[0-9]+$ ]] && [ "$CYCLES" -ge 4 ] || harness_fail "SOAK_CYCLES=$CYCLES: at least 4"

# soak_kb PID [FIELD]: its VmRSS (or FIELD of /proc/PID/status) in kB. soak_fds PID: how
# many fds it has open.
soak_kb() { awk -v f="${2:-VmRSS}:" '$1 == f {print $2}' "/proc/$1/status"; }
soak_fds() { ls "/proc/$1/fd" | wc -l; }

# soak_procs: the pids here of rs_ring's four processes (their command line names the ready
# file, whatever pid namespace they run in).
soak_procs() {
	local f p
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		tr '\0' ' ' 2>/dev/null <"$f" | grep -q "^$(prog rs_ring) $T/ring.ready " && echo "$p"
	done
}

# The coordinator is at rest when the only TCP connections to its port are its peers', every
# client (dmtcp_command) gone on both sides: an fd count then means the same every cycle.
_coord_at_rest() {
	local hexport n
	hexport=$(printf '%04X' "$COORD_PORT")
	# local address ends in :PORT; st 01 ESTABLISHED, 08 CLOSE_WAIT, 06 TIME_WAIT is no fd
	n=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p=":$hexport" '$2 ~ p"$" && $4 != "0A" && $4 != "06" {n++} END {print n + 0}')
	[ "$n" = "$1" ]
}

# soak_sample CYCLE: one line of figures, with the computation running after a checkpoint.
soak_sample() {
	local pids p tracer prss=0 panon=0 img
	wait_until 10 _coord_at_rest 4 || {
		grep -i ":$(printf '%04X' "$COORD_PORT") " /proc/net/tcp /proc/net/tcp6
		ls -l "/proc/$COORD_PID/fd"
		fail "cycle $1: the coordinator keeps other connections than its 4 peers'"
	}
	pids=$(soak_procs)
	[ "$(echo "$pids" | wc -w)" = 4 ] || fail "cycle $1: rs_ring has $(echo "$pids" | wc -w) processes"
	tracer=$(awk '/^TracerPid:/ {print $2}' "/proc/${pids%%[[:space:]]*}/status")
	for p in $pids; do
		prss=$((prss + $(soak_kb "$p")))
		panon=$((panon + $(soak_kb "$p" RssAnon)))
		[ "$(awk '/^TracerPid:/ {print $2}' "/proc/$p/status")" = "$tracer" ] ||
			fail "cycle $1: rs_ring's processes have different tracers"
	done
	img=$(cat "$T"/ckpt_*.dmtcp | wc -c)
	echo "$1 $(rs_last_count "$T/ring.out") $(soak_kb "$COORD_PID") $(soak_fds "$COORD_PID")" \
		"$(soak_kb "$tracer") $(soak_fds "$tracer") $prss $panon $img" >>"$T/soak.dat"
}

start_coord
out=$T/ring.out
RS_PROG_OUT=$out
RS_NPROCS=4
rs_outfile ring.out
: >"$T/soak.dat"
run=launch
rs_run $run "$BIN/dmtcp_launch" "$(prog rs_ring)" "$T/ring.ready" 0 >"$out"
wait_for_file "$T/ring.ready"
pid=$(head -n 1 "$T/ring.ready")
rs_wait_count "$out" 3
wait_peers 4
start_s=$SECONDS
for cycle in $(seq "$CYCLES"); do
	bc=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || {
		echo "--- coordinator:"; tail -n 20 "$T/coord.out"
		fail "cycle $cycle: checkpoint failed: $bc"
	}
	soak_sample "$cycle"
	run_user "$BIN/dmtcp_command" -k >/dev/null 2>&1 || fail "dmtcp_command -k failed"
	rs_wait_rc $run 137
	wait_until 30 _peers_are 0 || fail "cycle $cycle: peers still at the coordinator after the kill"
	run=restart$cycle
	rs_restart $run "$out" bash "$T/dmtcp_restart_script.sh"
	! grep -q FAIL "$out" || fail "cycle $cycle: $(grep FAIL "$out")"
done
took=$((SECONDS - start_s))
touch "$T/ring.ready.stop"
rs_expect_pass $run "$out" "^PASS pid $pid records [0-9]+ bytes [0-9]+$"

# ---- the figures, and are they flat? -------------------------------------------------------
echo "cycle count coord_kB coord_fds tracer_kB tracer_fds prog_kB prog_anon_kB image_bytes"
cat "$T/soak.dat"
warm=$((CYCLES / 10))
[ $warm -ge 2 ] || warm=2
# soak_check COLUMN NAME fds | COLUMN NAME size SLACK: after the warm-up, fds all equal; a
# size the median of the last tenth (3 samples at least: one outlier moves no median) at most
# that of the first tenth plus 10% or SLACK (in the figure's unit), whichever is more.
soak_check() {
	awk -v col="$1" -v name="$2" -v kind="$3" -v warm="$warm" -v slack="${4:-0}" '
	function median(a, lo, hi,   n, i, j, t, b) {
		n = 0
		for (i = lo; i <= hi; i++) b[++n] = a[i]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && b[j - 1] > b[j]; j--) { t = b[j]; b[j] = b[j - 1]; b[j - 1] = t }
		return n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
	}
	$1 > warm { v[++n] = $col }
	END {
		if (kind == "fds") {
			for (i = 2; i <= n; i++)
				if (v[i] != v[1]) {
					printf "%s: %d after the warm-up, %d in cycle %d\n", name, v[1], v[i], warm + i
					exit 1
				}
			printf "%s: %d in each of cycles %d-%d\n", name, v[1], warm + 1, warm + n
			exit 0
		}
		k = int(n / 10); if (k < 3) k = 3
		first = median(v, 1, k); last = median(v, n - k + 1, n)
		allow = slack; if (first * 0.1 > allow) allow = first * 0.1
		printf "%s: median %d over cycles %d-%d, %d over cycles %d-%d (growth allowed %d)\n",
			name, first, warm + 1, warm + k, last, warm + n - k + 1, warm + n, allow
		exit !(last <= first + allow)
	}' "$T/soak.dat"
}
bad=0
awk '$2 <= last { printf "the count went from %d to %d in cycle %d\n", last, $2, $1; bad = 1 }
	{ last = $2 } END { exit bad }' "$T/soak.dat" || bad=1
soak_check 4 "coordinator fds" fds || bad=1
soak_check 6 "tracer fds" fds || bad=1
soak_check 3 "coordinator VmRSS kB" size 256 || bad=1
soak_check 5 "tracer VmRSS kB" size 2048 || bad=1
soak_check 7 "program VmRSS kB (4 processes)" size 1024 || bad=1
soak_check 8 "program RssAnon kB (4 processes)" size 128 || bad=1
soak_check 9 "image bytes" size 16384 || bad=1
log "$CYCLES checkpoint/restart cycles of a 4-process ring in ${took}s"
[ $bad = 0 ] || fail "a figure grew over $CYCLES cycles (above)"
