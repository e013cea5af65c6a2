#!/bin/bash
# The progress line of dmtcp_command -bc on a real computation whose checkpoint is slow on
# purpose: the tracer test hook DMTCP_TEST_STEP_DELAY_MS=checkpoint:2500 makes every process
# wait 2.5 s in its checkpoint step, so the checkpoint takes longer than the second after
# which the line appears, without a sleep in the test.
#  1. Under a pseudo-terminal (script): the line ("checkpoint 1: 0/1 processes, ...") is drawn
#     and erased ("\r\e[K") before the outcome line.
#  2. Through a pipe: the outcome line and nothing else, no carriage return, no escape.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
rs_outfile prog.out
DMTCP_TEST_STEP_DELAY_MS=checkpoint:2500 rs_run launch "$BIN/dmtcp_launch" -j \
	"$(prog rs_counter)" "$T/ready" 1000000 >"$T/prog.out"
wait_for_file "$T/ready"
wait_peers 1

# ---- 1. on a terminal ------------------------------------------------------------------------
run_user script -qfec "$BIN/dmtcp_command -bc" /dev/null </dev/null >"$T/pty.out" 2>&1 ||
	{ cat -A "$T/pty.out"; fail "-bc under a pseudo-terminal failed"; }
grep -Eq $'\r''checkpoint 1: [01]/1 processes, [^\r]+'$'\e''\[K' "$T/pty.out" ||
	{ cat -A "$T/pty.out"; fail "no progress line under a pseudo-terminal"; }
grep -q $'\r\e\[K''checkpoint 1 done: ' "$T/pty.out" ||
	{ cat -A "$T/pty.out"; fail "the progress line was not erased before the outcome"; }
log "on a terminal: $(tr '\r' '\n' <"$T/pty.out" | grep -Ec '^checkpoint 1: ') redraws"

# ---- 2. through a pipe -------------------------------------------------------------------------
t0=$(date +%s%N)
run_user "$BIN/dmtcp_command" -bc 2>&1 | cat >"$T/pipe.out"
[ "${PIPESTATUS[0]}" = 0 ] || { cat "$T/pipe.out"; fail "-bc through a pipe failed"; }
ms=$((($(date +%s%N) - t0) / 1000000))
# Long enough that a terminal would have had its line (else this proves nothing).
[ "$ms" -ge 2000 ] || fail "checkpoint 2 took $ms ms: is DMTCP_TEST_STEP_DELAY_MS honoured?"
[ "$(cat "$T/pipe.out")" = "checkpoint 2 done: $(status_field LAST_CKPT)" ] ||
	{ cat -A "$T/pipe.out"; fail "-bc through a pipe printed more than its outcome"; }
grep -q $'[\r\e]' "$T/pipe.out" && fail "control characters in a pipe"

"$BIN/dmtcp_command" -k >/dev/null 2>&1
rs_wait_rc launch 137
echo PASS
