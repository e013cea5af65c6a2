#!/bin/bash
# Fork/exec trees: every process of the tree is a peer of the coordinator; children, their
# exec'd names and their exits are reflected in dmtcp_command -l/-s within a second; a
# checkpoint suspends and resumes the whole tree; the launched program's status comes back.
# Dynamic and static builds.
# builds: dynamic static
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/launch_lib.bash"

start_coord
b=$(basename "$(prog l_tree)")
d=$T/$b
mkdir -m 777 "$d"
launch_bg "$b" -j "$(prog l_tree)" "$d" 3
wait_for_line "$T/$b.out" '^READY'
wait_until 1 _peers_are 4 || fail "$b: expected 4 peers within a second, have $(status_field NUM_PEERS)"
"$BIN/dmtcp_command" -l >"$T/list" || fail "dmtcp_command -l failed"
n=$(grep -c "$b\\[" "$T/list")
[ "$n" = 4 ] || { cat "$T/list"; fail "$b: -l lists $n l_tree processes, expected 4"; }
ckpt "($b: checkpoint of the tree failed)"
# One child leaves: within a second the coordinator knows.
touch "$d/stop.1"
wait_until 1 _peers_are 3 || fail "$b: expected 3 peers within a second of an exit"
ckpt "($b: second checkpoint failed)"
touch "$d/stop.all"
wait_rc "$b" 7
grep -q '^PASS$' "$T/$b.out" || { cat "$T/$b.out"; fail "$b: children did not all end well"; }
wait_until 1 _peers_are 0 || fail "$b: peers left after the tree ended: $(status_field NUM_PEERS)"

# A shell script starting other programs (of both builds, whatever this run's): the exec'd
# names show up.
d=$T/sh
mkdir -m 777 "$d"
cat >"$T/tree.sh" <<EOS
#!/bin/sh
"$PROGS/l_tree.static" --child "$d" a &
"$PROGS/l_tree" --child "$d" b
wait
EOS
chmod 755 "$T/tree.sh"
launch_bg sh -j "$T/tree.sh"
wait_for_file "$d/child.a.ready"
wait_for_file "$d/child.b.ready"
wait_until 1 _peers_are 3 || fail "script: expected 3 peers (sh and two children), have $(status_field NUM_PEERS)"
_listed() { "$BIN/dmtcp_command" -l | grep -q "$1"; }
wait_until 1 _listed 'l_tree.static\[' || { "$BIN/dmtcp_command" -l; fail "exec'd l_tree.static not listed"; }
wait_until 1 _listed 'l_tree\[' || { "$BIN/dmtcp_command" -l; fail "exec'd l_tree not listed"; }
ckpt "(checkpoint of the script's tree failed)"
touch "$d/stop.all"
wait_rc sh 0

# A program that daemonizes: dmtcp_launch returns with the program's status at once, the
# tracer keeps its background child under control.
d=$T/daemon
mkdir -m 777 "$d"
launch_bg daemon -j sh -c "'$(prog l_tree)' --child '$d' z </dev/null >/dev/null 2>&1 & exit 9"
wait_rc daemon 9
wait_for_file "$d/child.z.ready"
wait_until 1 _peers_are 1 || fail "the daemonized child is not a peer ($(status_field NUM_PEERS) peers)"
ckpt "(daemonized child)"
touch "$d/stop.all"
wait_until 2 _peers_are 0 || fail "the daemonized child's exit was not seen"
log "trees followed, listed, checkpointed and left"
exit 0
