#!/bin/bash
# A program that crashes after a restart is reported by the tracer with a symbolized backtrace
# of the crashing thread (libunwind-ptrace), so that a user can tell a restore bug from a
# program bug; dmtcp_restart then ends as the program did (SIGSEGV). A launched program's
# crash stays quiet unless --log-level info asks for it.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

P=$(prog rs_crash)
OUT=$T/prog.out

start_coord
rs_outfile prog.out
rs_run launch "$BIN/dmtcp_launch" -j "$P" "$T/ready" "$T/crash" >"$OUT"
wait_for_file "$T/ready"
rs_wait_count "$OUT" 3
rs_checkpoint_kill launch
rs_restart restart "$OUT" "$BIN/dmtcp_restart" -j $(rs_images)
touch "$T/crash"
rs_wait_rc restart 139
grep -q 'SIGSEGV after restart; backtrace:' "$T/restart.err" ||
	{ cat "$T/restart.err"; fail "no crash report after restart"; }
grep -q 'in crash_here+' "$T/restart.err" ||
	{ cat "$T/restart.err"; fail "the backtrace does not name crash_here"; }
grep -q 'in deeper+' "$T/restart.err" ||
	{ cat "$T/restart.err"; fail "the backtrace does not name deeper"; }
log "crash after restart: $(grep -c '#' "$T/restart.err") frames reported"

# launched, not restarted: quiet by default, the report at --log-level info
rm -f "$T/crash" "$T/ready"
rs_outfile prog2.out
rs_run launch2 "$BIN/dmtcp_launch" -j "$P" "$T/ready" "$T/crash" >"$T/prog2.out"
wait_for_file "$T/ready"
touch "$T/crash"
rs_wait_rc launch2 139
grep -q 'backtrace' "$T/launch2.err" && { cat "$T/launch2.err"; fail "a launched program's crash was reported by default"; }
rm -f "$T/crash" "$T/ready"
rs_run launch3 "$BIN/dmtcp_launch" -j --log-level info "$P" "$T/ready" "$T/crash" >"$T/prog2.out"
wait_for_file "$T/ready"
touch "$T/crash"
rs_wait_rc launch3 139
grep -q 'SIGSEGV; backtrace:' "$T/launch3.err" || { cat "$T/launch3.err"; fail "no report at --log-level info"; }
grep -q 'in crash_here+' "$T/launch3.err" || { cat "$T/launch3.err"; fail "the report does not name crash_here"; }
