#!/bin/bash
# File descriptors and credentials in flight on unix sockets across restarts: rs_scm keeps
# messages with fds attached (SCM_RIGHTS: a pipe's read end with bytes and no other holder,
# a file description at an offset, one the program holds itself with a pipe's write end) on
# a stream, a seqpacket and a datagram pair, and messages with credentials on a SO_PASSCRED
# receiver, and a child's file description in flight to its parent (one description after
# restart, checked with kcmp), none read when checkpointed; after a plain resume and after each of three
# restarts it reads them in order and checks every fd and record. --show and --json list
# the fds each message carries.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
prog=$(prog rs_scm)
# a plain checkpoint first: the program resumes and reads what was peeked
rs_outfile rs_scm.resume.out
rm -f "$T/rs_scm.resume.ready"
rs_run resume env RS_SCM_PID_EXACT=1 "$BIN/dmtcp_launch" "$prog" "$T/rs_scm.resume.ready" 40 >"$T/rs_scm.resume.out"
wait_for_file "$T/rs_scm.resume.ready"
rs_wait_count "$T/rs_scm.resume.out" 3
out=$(run_user "$BIN/dmtcp_command" -bc 2>&1) || fail "checkpoint failed: $out"
rs_expect_pass resume "$T/rs_scm.resume.out" '^PASS'
wait_until 30 _peers_are 0 || fail "peers still at the coordinator"

# As root, a restart in the restart's own PID namespace gives the saved sender pids back
# (docs/dmtcp_restart.1): a single process (whose pid is free again at once) checks them.
if [ "${DMTCP_TEST_UNPRIV:-0}" != 1 ]; then
	RS_SCM_NOCHILD=1 RS_SCM_PID_EXACT=1 rs_cycles "$prog" 100 1
	grep -h 'sender' "$T"/restart*.err && fail "a root restart did not keep the senders' pids"
	rm -f "$T"/restart*.err
fi
RS_NPROCS=2 rs_cycles "$prog" 250
img=$(ls "$T"/ckpt_rs_scm*.dmtcp | head -n 1)
"$BIN/dmtcp_restart" --show "$img" >"$T/show" 2>&1 || { cat "$T/show"; fail "--show failed"; }
for want in "message [0-9]* at [0-9]* bytes [0-9]* files [0-9]*,[0-9]*\$" \
	"creds pid [0-9]* uid [0-9]* gid [0-9]*" "at [0-9]* bytes [0-9]* files [0-9]*\$"; do
	grep -q "^ *scm file .*$want" "$T/show" || { grep 'scm file' "$T/show"; fail "no '$want' in --show"; }
done
"$BIN/dmtcp_restart" --show --json "$img" >"$T/json" 2>&1 || { cat "$T/json"; fail "--show --json failed"; }
grep -q '"scm"' "$T/json" && grep -q '"creds"' "$T/json" || fail "no scm records in --json"
# what the restarts said of the senders' pids (docs/dmtcp_restart.1, LIMITATIONS)
grep -h '^note' "$T/rs_scm.out" | while read -r l; do log "rs_scm: $l"; done
grep -h 'sender' "$T"/restart*.err | head -n 1 | while read -r l; do log "restart: $l"; done
true
