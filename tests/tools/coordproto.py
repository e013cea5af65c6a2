"""The coordinator protocol for test scripts: message and field numbers read from
common/proto.h and each field's kind from common/proto.c (so they follow the C code), the wire
format, the authentication handshake of common/coordauth.h from either side, and what a reader
makes of a byte stream (the codec's rules, and what a tracer does with its coordinator's
messages: docs/protocol.md). Used by tests/integration/t_coord_fuzz.sh, t_coord_auth.sh and
t_peer_fuzz.sh (tests/tools/peerfuzz.py)."""
import hashlib
import hmac
import os
import re
import socket
import struct

MAGIC = b"DMTP"
U64, STR = 1, 2


def _enum(text, name):
    body = re.search(r"enum " + name + r" \{(.*?)\};", text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    vals, nxt = {}, 0
    for item in body.split(","):
        m = re.match(r"\s*(\w+)(?:\s*=\s*(\w+))?\s*$", item)
        if not m:
            continue
        if m.group(2):
            nxt = int(m.group(2), 0)
        vals[m.group(1)] = nxt
        nxt += 1
    return vals


def load(top):
    """Read the numbers from TOP/common/proto.h into this module's globals."""
    text = open(os.path.join(top, "common", "proto.h")).read()
    g = globals()
    g.update(_enum(text, "proto_msg_type"))
    g.update(_enum(text, "proto_tag"))
    g["VERSION"] = int(re.search(r"#define PROTO_VERSION\s+(\d+)", text).group(1))
    for name in ("PROTO_MAX_PAYLOAD", "PROTO_MAX_STR"):
        m = re.search(r"#define " + name + r"\s+\((\d+)u << (\d+)\)", text)
        g[name[6:]] = int(m.group(1)) << int(m.group(2))
    g["MAX_FIELDS"] = int(re.search(r"#define PROTO_MAX_FIELDS\s+(\d+)", text).group(1))
    # { tag: (kind, repeatable) } from the codec's table
    src = open(os.path.join(top, "common", "proto.c")).read()
    g["TAGS"] = {g[t]: (U64 if k == "U64" else STR, r == "1") for t, k, r in
                 re.findall(r"\[(F_\w+)\] = \{ \"\w+\", PROTO_(U64|STR), ([01]) \}", src)}
    assert len(TAGS) == g["F_TAG__COUNT"] - 1, "cannot read the field table of proto.c"


def hdr(typ, length, ver=None, magic=MAGIC, resv=0):
    return magic + struct.pack("<HHII", VERSION if ver is None else ver, typ, length, resv)


def field(tag, kind, val):
    return struct.pack("<HHI", tag, kind, len(val)) + val


def u64(v):
    return struct.pack("<Q", v & 0xffffffffffffffff)


def ufield(tag, v):
    return field(tag, U64, u64(v))


def sfield(tag, s):
    return field(tag, STR, s if isinstance(s, bytes) else s.encode())


def msg(typ, payload, **kw):
    return hdr(typ, len(payload), **kw) + payload


def _recvall(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("connection closed")
        b += chunk
    return b


def recv_msg(s):
    """(type, {tag: bytes}) of the next message."""
    h = _recvall(s, 16)
    _, _, typ, length, _ = struct.unpack("<4sHHII", h)
    p = _recvall(s, length)
    fields, off = {}, 0
    while off < len(p):
        tag, _, ln = struct.unpack_from("<HHI", p, off)
        fields[tag] = p[off + 8:off + 8 + ln]
        off += 8 + ln
    return typ, fields


def read_key(path):
    magic, hexkey = open(path).read().split()
    assert magic == "DMTCP-COORD-KEY-1"
    return bytes.fromhex(hexkey)


def proof(key, coord_side, sn, cn):
    label = b"dmtcp coord\0" if coord_side else b"dmtcp client\0"
    return hmac.new(key, label + bytes.fromhex(sn) + bytes.fromhex(cn),
                    hashlib.sha256).hexdigest().encode()


def handshake(s, key, hello_fields=None, role=b"client"):
    """HELLO, CHALLENGE (the coordinator's proof checked), AUTH: an authenticated
    connection. Raises on a wrong coordinator proof."""
    cn = os.urandom(32).hex()
    payload = sfield(F_ROLE, role) + sfield(F_NONCE, cn) + (hello_fields or b"")
    s.sendall(msg(MSG_HELLO, payload))
    typ, f = recv_msg(s)
    if typ != MSG_CHALLENGE:
        raise RuntimeError("expected CHALLENGE, got type %d" % typ)
    sn = f[F_NONCE].decode()
    if not hmac.compare_digest(f[F_AUTH], proof(key, True, sn, cn)):
        raise RuntimeError("the coordinator's proof is wrong")
    s.sendall(msg(MSG_AUTH, sfield(F_AUTH, proof(key, False, sn, cn))))


def connect(port, timeout=5):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def get_u64(fields, tag):
    """The value of an integer field of recv_msg()'s dict, or None."""
    v = fields.get(tag)
    return struct.unpack("<Q", v)[0] if v is not None and len(v) == 8 else None


# ---- the coordinator's side of the handshake (a fake coordinator) -----------------------------

def accept_hello(ls, timeout=10):
    """Accept a connection on the listening socket ls and read its HELLO (within timeout
    seconds, the socket's timeout from then on): (socket, fields)."""
    c, _ = ls.accept()
    c.settimeout(timeout)
    typ, f = recv_msg(c)
    if typ != MSG_HELLO:
        raise RuntimeError("expected HELLO, got type %d" % typ)
    return c, f


def challenge_msg(key, cn, sn=None):
    """The CHALLENGE proving key for the client nonce cn (hex); sn: our nonce (hex)."""
    sn = sn or os.urandom(32).hex()
    return sn, msg(MSG_CHALLENGE, sfield(F_NONCE, sn) + sfield(F_AUTH, proof(key, True, sn, cn)))


def expect_auth(c, key, sn, cn):
    """Read the client's AUTH and check its proof; raises if it is not the right one."""
    typ, f = recv_msg(c)
    if typ != MSG_AUTH:
        raise RuntimeError("expected AUTH, got type %d" % typ)
    if not hmac.compare_digest(f.get(F_AUTH, b""), proof(key, False, sn, cn)):
        raise RuntimeError("the client's proof is wrong")


def welcome_msg(peer_id, compid, ckptdir, interval=0):
    return msg(MSG_WELCOME, ufield(F_PEER_ID, peer_id) + sfield(F_COMPID, compid) +
               sfield(F_CKPTDIR, ckptdir) + ufield(F_INTERVAL, interval))


def barrier_msg(name, gen, extra=b""):
    return msg(MSG_BARRIER, sfield(F_BARRIER, name) + ufield(F_GENERATION, gen) + extra)


# ---- what a reader makes of bytes (common/proto.c) ------------------------------------------

class Invalid(Exception):
    """An invalid stream: the reader closes the connection, logging this reason."""


def check_header(h):
    """(type, payload length) of a 16-byte header, or Invalid, as proto_check_header()."""
    magic, ver, typ, length, resv = struct.unpack("<4sHHII", h)
    if magic != MAGIC:
        raise Invalid("bad magic (not a DMTP message)")
    if ver != VERSION:
        raise Invalid("unsupported protocol version")
    if typ == 0 or typ >= MSG__COUNT or resv != 0:
        raise Invalid("nonzero reserved header word" if resv else "unknown message type")
    if length > MAX_PAYLOAD:
        raise Invalid("message larger than PROTO_MAX_PAYLOAD")
    return typ, length


def parse_payload(p):
    """The known fields of a payload, [(tag, kind, value)], or Invalid, as proto_parse()."""
    out, seen, off = [], set(), 0
    while off < len(p):
        if len(p) - off < 8:
            raise Invalid("truncated field header")
        tag, kind, ln = struct.unpack_from("<HHI", p, off)
        off += 8
        if ln > len(p) - off:
            raise Invalid("field value runs past the end of the message")
        if kind not in (U64, STR):
            raise Invalid("unknown field kind")
        if kind == U64 and ln != 8:
            raise Invalid("integer field whose size is not 8")
        if kind == STR and ln > MAX_STR:
            raise Invalid("string field longer than PROTO_MAX_STR")
        val = p[off:off + ln]
        off += ln
        if tag not in TAGS:
            continue
        if kind != TAGS[tag][0]:
            raise Invalid("field of the wrong kind for its tag")
        if kind == STR and b"\0" in val:
            raise Invalid("NUL byte inside a string field")
        if not TAGS[tag][1]:
            if tag in seen:
                raise Invalid("non-repeatable field given twice")
            seen.add(tag)
        if len(out) == MAX_FIELDS:
            raise Invalid("too many fields")
        out.append((tag, kind, val))
    return out


def decode_stream(buf):
    """What a reader makes of the bytes buf: (messages, why, need). messages: [(type,
    fields)] decoded in order; why: the reason the stream is invalid after them (None: valid
    so far); need: how many more bytes complete the message under way (0: none is)."""
    msgs, off = [], 0
    while True:
        if len(buf) - off < 16:
            return msgs, None, (16 - (len(buf) - off)) % 16
        try:
            typ, length = check_header(buf[off:off + 16])
        except Invalid as e:
            return msgs, str(e), 0
        if len(buf) - off - 16 < length:
            return msgs, None, length - (len(buf) - off - 16)
        try:
            msgs.append((typ, parse_payload(buf[off + 16:off + 16 + length])))
        except Invalid as e:
            return msgs, str(e), 0
        off += 16 + length


# ---- what a tracer does with its coordinator's messages (docs/protocol.md) ----------------

def compid_ok(s):
    """common/ids.c check_id_syntax(): "<hex>-<decimal>-<hex>", under 64 bytes."""
    return len(s) < 64 and re.fullmatch(rb"[0-9a-fA-F]+-[0-9]+-[0-9a-fA-F]+", s) is not None


def barrier_name_ok(s):
    """A barrier name: a word of 1 to 31 printable characters."""
    return 0 < len(s) < 32 and all(0x20 < b < 0x7f for b in s)


def peer_verdict(state, typ, fields):
    """What a tracer does with a decoded message (fields as parse_payload() gives them) on a
    connection in state "hello" (its HELLO sent, no CHALLENGE yet), "authed" (its AUTH sent,
    not welcomed yet) or "welcomed":
      "challenge"  a CHALLENGE to check (the caller knows whether its proof is right);
      "welcome"    welcomed;
      "refused"    closed, not tried again;
      "answer"     answered (BARRIER: a BARRIER_DONE, WHERE: a WHERE_REPLY);
      "ignore"     nothing done, the connection kept;
      "kill"       the process killed;
      "close"      closed as invalid, the connection made again later."""
    f = {}
    for tag, _, val in fields:
        f.setdefault(tag, val)
    num = lambda tag: struct.unpack("<Q", f[tag])[0] if tag in f else None
    if state == "hello":
        return "challenge" if typ == MSG_CHALLENGE and F_NONCE in f and F_AUTH in f else "close"
    if state == "authed":
        if typ == MSG_REFUSE:
            return "refused"
        if typ != MSG_WELCOME:
            return "close"
        ok = (num(F_PEER_ID) or 0) > 0 and compid_ok(f.get(F_COMPID, b"")) and \
            f.get(F_CKPTDIR, b"").startswith(b"/") and len(f[F_CKPTDIR]) < 4096
        return "welcome" if ok else "close"
    if typ == MSG_BARRIER:
        ok = barrier_name_ok(f.get(F_BARRIER, b"")) and (num(F_GENERATION) or 0) > 0
        return "answer" if ok else "close"
    if typ == MSG_WHERE:
        return "answer" if F_WHERE_ID in f else "close"
    if typ == MSG_KILL:
        return "kill"
    if typ == MSG_KV_REPLY:
        return "ignore"
    return "close"
