#!/bin/bash
# Bad input: a bounded, seeded flood of connections sending random bytes, half messages,
# wrong versions, oversized headers, invalid fields and messages out of place, while three
# fake peers are connected and another connection sits on half a message. Each bad
# connection is closed with one log line naming the reason; the coordinator keeps its peers
# and still checkpoints them.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

start_coord
start_fakepeer fp -n 3 --image-dir "$T"
wait_for_line "$T/fp.out" '^ready$'
wait_peers 3

# A connection that stays open with half a header through everything below: it must not
# block the loop.
exec 5<>"/dev/tcp/127.0.0.1/$COORD_PORT" || harness_fail "cannot connect"
printf 'DMTP\x01\x00' >&5

python3 - "$COORD_PORT" >"$T/fuzz.out" 2>&1 <<'PY' || { cat "$T/fuzz.out"; harness_fail "fuzzer failed"; }
import random, socket, struct, sys, time
port = int(sys.argv[1])
rng = random.Random(20261124)
MAGIC = b"DMTP"

def hdr(typ, length, ver=1, magic=MAGIC, resv=0):
    return magic + struct.pack("<HHII", ver, typ, length, resv)

def field(tag, kind, val):
    return struct.pack("<HHI", tag, kind, len(val)) + val

def msg(typ, payload, **kw):
    return hdr(typ, len(payload), **kw) + payload

client_hello = msg(1, field(1, 2, b"client"))
cases = [
    lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400))),   # random bytes
    lambda: b"GET / HTTP/1.0\r\n\r\n",                                      # a stray protocol
    lambda: hdr(1, 0, magic=b"XXXX"),                                       # bad magic
    lambda: msg(1, field(1, 2, b"peer"), ver=rng.choice([0, 2, 7, 0xffff])), # wrong version
    lambda: hdr(1, rng.choice([(1 << 20) + 1, 0x7fffffff, 0xffffffff])),   # oversized
    lambda: hdr(1, 100) + b"\x01\x00\x02\x00",                              # half a message
    lambda: client_hello[:rng.randint(1, len(client_hello) - 1)],           # truncated
    lambda: hdr(rng.choice([0, 14, 999]), 0),                               # unknown type
    lambda: hdr(1, 0, resv=1),                                              # reserved word
    lambda: msg(8, field(17, 2, b"s")),                                     # first not HELLO
    lambda: msg(1, field(1, 2, b"spy")),                                    # unknown role
    lambda: msg(1, field(1, 1, b"\0" * 8)),                                 # wrong kind
    lambda: msg(1, field(1, 2, b"pe\0er")),                                 # NUL in string
    lambda: msg(1, field(1, 2, b"client") + field(1, 2, b"client")),        # duplicate
    lambda: msg(1, field(3, 1, b"\0" * 4)),                                 # wrong size
    lambda: msg(1, field(1, 2, b"peer") + field(2, 2, b"x")),               # peer w/o fields
    lambda: client_hello + msg(6, field(12, 2, b"suspend")),                # peer msg on client
    lambda: client_hello + client_hello,                                    # second HELLO
]
n = 0
for i in range(240):
    data = cases[i % len(cases)]()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as e:
        print("connect failed:", e)
        continue
    n += 1
    try:
        # Sometimes in pieces, to exercise reassembly of garbage too.
        if rng.random() < 0.3 and len(data) > 2:
            cut = rng.randint(1, len(data) - 1)
            s.sendall(data[:cut]); s.sendall(data[cut:])
        else:
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(5)
        while s.recv(4096):
            pass
    except OSError:
        pass      # the coordinator may close first: that is the point
    s.close()
print("connections", n)
PY
n=$(sed -n 's/^connections //p' "$T/fuzz.out")
[ "$n" = 240 ] || fail "fuzzer made $n of 240 connections: $(cat "$T/fuzz.out")"

# Each bad connection was closed with exactly one line giving a reason.
wait_until 20 sh -c "[ \$(grep -cE '(connection|client) fd [0-9]+ closed: ' '$T/coord.out') -ge $n ]" ||
	fail "only $(grep -cE '(connection|client) fd [0-9]+ closed: ' "$T/coord.out") of $n bad connections logged"
for why in "bad magic" "unsupported protocol version" "larger than PROTO_MAX_PAYLOAD" \
	"closed in the middle of a message" "first message is not HELLO" "unknown F_ROLE" \
	"wrong kind" "NUL byte" "given twice" "size is not 8" "without a required field" \
	"a client may only send COMMAND" "second HELLO" "unknown message type"; do
	grep -q "$why" "$T/coord.out" || fail "no connection was closed for '$why'"
done

# A client that sends commands but never reads the replies is cut off at the output bound
# (16 MiB), not left to eat the coordinator's memory.
python3 - "$COORD_PORT" >"$T/flood.out" 2>&1 <<'PY' || { cat "$T/flood.out"; harness_fail "flood failed"; }
import socket, struct, sys
port = int(sys.argv[1])
def msg(typ, payload):
    return b"DMTP" + struct.pack("<HHII", 1, typ, len(payload), 0) + payload
def field(tag, val):
    return struct.pack("<HHI", tag, 2, len(val)) + val
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.settimeout(20)
batch = msg(8, field(17, b"s")) * 1000
sent = 0
try:
    s.sendall(msg(1, field(1, b"client")))
    for _ in range(1000):         # at most 1000000 commands
        s.sendall(batch)
        sent += 1000
except OSError as e:
    print("cut off after", sent, "commands:", e)
    sys.exit(0)
print("never cut off after", sent, "commands")
PY
grep -q "^cut off after" "$T/flood.out" || fail "flooding client was not cut off: $(cat "$T/flood.out")"
wait_for_line "$T/coord.out" 'closed: not reading its messages \(output queue full\)'

# The peers are untouched and still checkpoint, with the half-open connection still there.
[ "$(status_field NUM_PEERS)" = 3 ] || fail "peers lost: $(status_field NUM_PEERS)"
[ "$(status_field RUNNING)" = yes ] || fail "not running"
"$BIN/dmtcp_command" -bc >/dev/null || fail "checkpoint after the flood failed"
for i in 0 1 2; do
	grep -q "^done $i resume 1 0$" "$T/fp.out" || fail "peer $i did not complete the checkpoint"
done
exec 5>&-
coord_alive || fail "coordinator gone"
echo PASS
