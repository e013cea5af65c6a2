"""The coordinator protocol for test scripts: message and field numbers read from
common/proto.h (so they follow the C code), the wire format, and the authentication handshake
of common/coordauth.h. Used by tests/integration/t_coord_fuzz.sh and t_coord_auth.sh."""
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


def hdr(typ, length, ver=None, magic=MAGIC, resv=0):
    return magic + struct.pack("<HHII", VERSION if ver is None else ver, typ, length, resv)


def field(tag, kind, val):
    return struct.pack("<HHI", tag, kind, len(val)) + val


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
