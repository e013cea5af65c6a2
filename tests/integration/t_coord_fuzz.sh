#!/bin/bash
# Bad input: a bounded, seeded flood of connections sending random bytes, half messages,
# wrong versions, oversized headers, invalid fields, handshakes gone wrong (no nonce, a
# message before AUTH, a wrong proof) and, once authenticated (tests/tools/coordproto.py),
# messages out of place, while three fake peers are connected and another connection sits
# on half a message. Each bad connection is closed with one log line naming the reason; the
# coordinator keeps its peers and still checkpoints them.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/tools/coordlib.sh"

start_coord
start_fakepeer fp -n 3 --image-dir "$T"
wait_for_line "$T/fp.out" '^ready$'
wait_peers 3

# A connection that stays open with half a header through everything below: it must not
# block the loop.
exec 5<>"/dev/tcp/127.0.0.1/$COORD_PORT" || harness_fail "cannot connect"
printf 'DMTP\x02\x00' >&5

python3 - "$COORD_PORT" "$TOP" "$T/coord.key" >"$T/fuzz.out" 2>&1 <<'PY' || { cat "$T/fuzz.out"; harness_fail "fuzzer failed"; }
import random, socket, sys
sys.path.insert(0, sys.argv[2] + "/tests/tools")
import coordproto as P
from coordproto import msg, hdr, field, sfield
port = int(sys.argv[1])
P.load(sys.argv[2])
key = P.read_key(sys.argv[3])
rng = random.Random(20261124)

nonce = lambda: sfield(P.F_NONCE, bytes(rng.getrandbits(8) for _ in range(32)).hex())
client_hello = msg(P.MSG_HELLO, sfield(P.F_ROLE, b"client") + nonce())
# Before the key is proved: anything out of place closes the connection.
pre_auth = [
    lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400))),   # random bytes
    lambda: b"GET / HTTP/1.0\r\n\r\n",                                      # a stray protocol
    lambda: hdr(1, 0, magic=b"XXXX"),                                       # bad magic
    lambda: msg(1, sfield(P.F_ROLE, b"peer"), ver=rng.choice([0, 1, 7, 0xffff])), # version
    lambda: hdr(1, rng.choice([(1 << 20) + 1, 0x7fffffff, 0xffffffff])),   # oversized
    lambda: hdr(1, 100) + b"\x01\x00\x02\x00",                              # half a message
    lambda: client_hello[:rng.randint(1, len(client_hello) - 1)],           # truncated
    lambda: hdr(rng.choice([0, 999]), 0),                                   # unknown type
    lambda: hdr(1, 0, resv=1),                                              # reserved word
    lambda: msg(P.MSG_COMMAND, sfield(P.F_CMD, b"k")),                      # first not HELLO
    lambda: msg(1, sfield(P.F_ROLE, b"spy") + nonce()),                     # unknown role
    lambda: msg(1, field(P.F_ROLE, P.U64, b"\0" * 8)),                      # wrong kind
    lambda: msg(1, sfield(P.F_ROLE, b"pe\0er")),                            # NUL in string
    lambda: msg(1, sfield(P.F_ROLE, b"client") * 2),                        # duplicate
    lambda: msg(1, field(P.F_PID, P.U64, b"\0" * 4)),                       # wrong size
    lambda: msg(1, sfield(P.F_ROLE, b"client")),                            # no nonce
    lambda: msg(1, sfield(P.F_ROLE, b"client") + sfield(P.F_NONCE, b"zz" * 32)), # bad nonce
    lambda: client_hello + msg(P.MSG_COMMAND, sfield(P.F_CMD, b"k")),      # command, no AUTH
    lambda: client_hello + msg(P.MSG_AUTH, sfield(P.F_AUTH, b"0" * 64)),   # a wrong proof
]
# After the key is proved (what a member of the computation could send).
post_auth = [
    lambda: (b"client", b"", msg(P.MSG_BARRIER_DONE, sfield(P.F_BARRIER, b"suspend"))),
    lambda: (b"client", b"", client_hello),                                 # second HELLO
    lambda: (b"peer", sfield(P.F_PROG, b"x"), b""),                         # peer w/o fields
    lambda: (b"client", b"", bytes(rng.getrandbits(8) for _ in range(rng.randint(16, 200)))),
]
n = 0
for i in range(240):
    kind = i % (len(pre_auth) + len(post_auth))
    try:
        s = P.connect(port)
    except OSError as e:
        print("connect failed:", e)
        continue
    n += 1
    try:
        if kind < len(pre_auth):
            data = pre_auth[kind]()
        else:
            role, extra, data = post_auth[kind - len(pre_auth)]()
            P.handshake(s, key, extra, role)
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

# Each bad connection was closed with exactly one line giving a reason (a wrong proof is
# refused with a warning first, then closed).
closed='^dmtcp_coordinator\[[0-9]+\]: (connection from|client) [0-9.:]+ (closed|refused): '
wait_until 20 sh -c "[ \$(grep -cE '$closed' '$T/coord.out') -ge $n ]" ||
	fail "only $(grep -cE "$closed" "$T/coord.out") of $n bad connections logged"
for why in "bad magic" "unsupported protocol version" "larger than PROTO_MAX_PAYLOAD" \
	"closed in the middle of a message" "first message is not HELLO" "without a known F_ROLE" \
	"wrong kind" "NUL byte" "given twice" "size is not 8" "without F_NONCE" \
	"malformed F_NONCE" "message before AUTH" "does not know the coordinator's key" \
	"without a required field" "a client may only send COMMAND" "second HELLO" \
	"unknown message type"; do
	grep -q "$why" "$T/coord.out" || fail "no connection was closed for '$why'"
done

# A client that sends commands but never reads the replies is cut off at the output bound
# (16 MiB), not left to eat the coordinator's memory.
python3 - "$COORD_PORT" "$TOP" "$T/coord.key" >"$T/flood.out" 2>&1 <<'PY' || { cat "$T/flood.out"; harness_fail "flood failed"; }
import socket, sys
sys.path.insert(0, sys.argv[2] + "/tests/tools")
import coordproto as P
port = int(sys.argv[1])
P.load(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.settimeout(20)
P.handshake(s, P.read_key(sys.argv[3]))
batch = P.msg(P.MSG_COMMAND, P.sfield(P.F_CMD, b"s")) * 1000
sent = 0
try:
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
