#!/bin/bash
# A shell script as the program: bash (dynamic, with its own signal handling and job table)
# counts in a loop, sleeping with its builtin read -t on a FIFO it holds open (so no child
# process comes and goes), keeps a variable it checks at every step and its own pid
# ($BASHPID). Three checkpoint/restart cycles; the FIFO is reopened at restart.
# variants: root unpriv
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/integration/restart_lib.bash"

start_coord
mkdir -p "$T/sh"
chmod 777 "$T/sh"
cat >"$T/sh/rs_shell" <<'SH'
#!/bin/bash
# rs_shell READYFILE LIMIT
fifo=$(dirname "$1")/rs_shell.fifo
[ -p "$fifo" ] || mkfifo "$fifo"
exec 9<>"$fifo"
me=$BASHPID
secret=$(printf 'x%.0s' {1..1000})
echo "$me" >"$1"
for ((i = 1; i <= $2; i++)); do
	[ "$BASHPID" = "$me" ] || { echo "FAIL pid $BASHPID, was $me"; exit 1; }
	[ ${#secret} = 1000 ] || { echo "FAIL variable lost"; exit 1; }
	echo "count $i"
	read -r -t 0.02 -u 9 _ignored
done
echo "PASS pid $me"
SH
chmod 755 "$T/sh/rs_shell"
rs_cycles "$T/sh/rs_shell" 300
