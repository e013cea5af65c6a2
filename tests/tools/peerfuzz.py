"""A hostile coordinator for one traced process (tests/integration/t_peer_fuzz.sh).

    peerfuzz.py TOP PORT KEYFILE PID PROGOUT SEED BYSTANDER

Listens on PORT, where the tracer of process PID looks for its coordinator, knows the key in
KEYFILE and plays the coordinator's side of the handshake properly, then sends hostile input
(seeded: the same SEED gives the same cases). Every case is judged against what
docs/protocol.md says a tracer does (coordproto.peer_verdict(), on the messages the codec's
rules, coordproto.decode_stream(), make of the bytes):

  * kept: the tracer ignores the case or answers it (BARRIER_DONE, WHERE_REPLY), and the
    connection stays: a WHERE sent after the case (the probe) is answered, after exactly the
    answers the case asked for. Several kept cases share a connection.
  * closed: the tracer closes the connection within CLOSE_S (PRE_CLOSE_S before the WELCOME:
    well inside its 10 s wait for one, so that a message ignored is not mistaken for one
    refused), and comes back on a new connection (its retry) within ACCEPT_S. One such case
    ends each connection.

After every case: the process lives, is not left stopped ('t'/'T' in /proc after a bounded
wait), has the same tracer, and between connections it counts on (PROGOUT). Cases before the
WELCOME (a message before the CHALLENGE, a wrong proof, a bad WELCOME...) each take a
connection of their own, followed by a welcomed one: the tracer's wait before it tries again
doubles after a connection that was never welcomed (peer.c, RETRY_*), and a WELCOME resets it.

BYSTANDER is another traced process, under a tracer of its own, that ends during the cases:
it is sent checkpoint steps and a barrier no one serves while it runs, and its connection
must be closed as soon as it ends (such barriers must not hold its peer as if in a
checkpoint).

Prints one line per connection, then "cases N kept K closed C connections X seconds S",
"invalid N" (how many closes the tracer must log as an invalid message), one line "reason R"
for every reason of the codec a closing case gave, and "bystander closed ...". Exit status
0, or 1 after a line "FAIL: ..." naming the case (its bytes in hex, shortened).
"""
import os
import queue
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coordproto as P  # noqa: E402

# Bounds, generous for a loaded machine (a case may write an image first); they only cost
# time when the tracer fails.
CLOSE_S = 8.0     # the tracer closes a connection it must close within this
PRE_CLOSE_S = 5.0  # the same before the WELCOME (the tracer gives up waiting for one at 10 s)
ACCEPT_S = 15.0   # and is back on a new one within this (its retry waits 0.5 s, then 1, 2...)
REPLY_S = 20.0    # a probe (WHERE, the threads stopped at most 2 s) is answered within this
STOP_S = 5.0      # the process is running again within this after a case
COUNT_S = 10.0    # the process counts on within this
NRANDOM = 6       # closing cases of bit flips and random bytes, after the hand-made ones

top, port, keyfile, pid, progout, seed, bystander_pid = sys.argv[1:8]
port, pid, seed, bystander_pid = int(port), int(pid), int(seed), int(bystander_pid)
P.load(top)
key = P.read_key(keyfile)
rng = random.Random(seed)
t0 = time.monotonic()
stats = {"cases": 0, "kept": 0, "closed": 0, "conns": 0, "invalid": 0}
reasons = set()
COMPID = b"1234abcd-4242-17f0e3c2a"
probe_id = 1000


class Fail(Exception):
    pass


def say(what):
    print("connection %d at %.1f s: %s (count %d)" % (stats["conns"], time.monotonic() - t0, what,
                                                     last_count()), flush=True)


def show(b):
    h = b.hex()
    return h if len(h) <= 160 else "%s...(%d bytes)" % (h[:160], len(b))


# ---- the process and its tracer -------------------------------------------------------------

def proc_state(pid=pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def tracer_of():
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


TRACER = tracer_of()
if not TRACER:
    print("FAIL: process %d is not traced" % pid)
    sys.exit(1)


def check_process(after):
    """The process lives under its tracer and is not left stopped."""
    deadline = time.monotonic() + STOP_S
    while True:
        st = proc_state()
        if st is None or st in "ZX":
            raise Fail("the process died after %s" % after)
        if st not in "tT":
            break
        if time.monotonic() > deadline:
            raise Fail("the process is left stopped (state %s) after %s" % (st, after))
        time.sleep(0.01)
    if tracer_of() != TRACER:
        raise Fail("the tracer %d is gone after %s (TracerPid %s)" % (TRACER, after, tracer_of()))


def last_count():
    with open(progout, "rb") as f:
        f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
        lines = [l for l in f.read().split(b"\n") if l.startswith(b"count ")]
    return int(lines[-1].split()[1]) if lines else 0


def check_counting(since):
    deadline = time.monotonic() + COUNT_S
    while last_count() <= since:
        if time.monotonic() > deadline:
            raise Fail("the process stopped counting at %d" % since)
        time.sleep(0.02)
    return last_count()


# ---- connections ----------------------------------------------------------------------------

ls = socket.socket(socket.AF_INET6)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("::", port))
ls.listen(8)
mainq = queue.Queue()
stopping = threading.Event()
bystander_said = []


def acceptor():
    """Every connection on the port: the fuzzed process's go to accept(), the bystander's to
    bystander() (in a thread of its own), anyone else's is a failure."""
    ls.settimeout(0.2)
    while not stopping.is_set():
        try:
            c, hello = P.accept_hello(ls)
        except socket.timeout:
            continue
        except (OSError, EOFError, RuntimeError) as e:
            mainq.put(e)
            return
        who = P.get_u64(hello, P.F_PID)
        if hello.get(P.F_ROLE) == b"peer" and who == pid:
            mainq.put((c, hello))
        elif hello.get(P.F_ROLE) == b"peer" and who == bystander_pid:
            threading.Thread(target=bystander, args=(c, hello), daemon=True).start()
        else:
            mainq.put(Fail("a HELLO from someone else: %r" % hello))
            return


def accept(after):
    """The tracer's next connection (its retry) and the client nonce of its HELLO."""
    try:
        got = mainq.get(timeout=ACCEPT_S)
    except queue.Empty:
        raise Fail("the tracer did not come back within %.0f s after %s" % (ACCEPT_S, after))
    if isinstance(got, Exception):
        raise Fail("accepting connections: %r" % got)
    c, hello = got
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stats["conns"] += 1
    return c, hello[P.F_NONCE].decode()


def bystander(c, hello):
    """The bystander, another traced process (one that ends soon): welcomed, sent checkpoint
    steps and a barrier of a name no one serves while it runs (each answered with -EINVAL),
    and no resume. When it ends, its tracer must still close the connection at once (and
    go): such barriers do not make the process part of a checkpoint."""
    try:
        cn = hello[P.F_NONCE].decode()
        handshake(c, cn)
        c.sendall(P.welcome_msg(99, COMPID, b"/tmp"))
        names = [b"drain", b"checkpoint", b"commit", b"refill", b"no-one-serves-this"]
        c.sendall(b"".join(P.barrier_msg(n, 3) for n in names))
        c.settimeout(REPLY_S)
        for n in names:
            typ, f = P.recv_msg(c)
            if typ != P.MSG_BARRIER_DONE or f.get(P.F_BARRIER) != n or \
                    P.get_u64(f, P.F_STATUS) != (1 << 64) - 22:
                raise Fail("bystander: %s answered with %d %r" % (n.decode(), typ, f))
        ended = None
        c.settimeout(0.2)
        while True:
            try:
                P.recv_msg(c)         # its PEER_UPDATE EXITED
            except socket.timeout:
                pass
            except (EOFError, ConnectionResetError):
                break
            st = proc_state(bystander_pid)
            if ended is None and (st is None or st in "ZX"):
                ended = time.monotonic()
            if ended is not None and time.monotonic() > ended + CLOSE_S:
                raise Fail("bystander: its connection is kept %.0f s after its program ended"
                           % CLOSE_S)
        bystander_said.append("closed %.2f s after its program ended" %
                              (time.monotonic() - ended) if ended else
                              "closed before its program was seen to end")
    except Exception as e:
        bystander_said.append("FAIL: %s" % e)
    finally:
        c.close()


def handshake(c, cn):
    sn, ch = P.challenge_msg(key, cn)
    c.sendall(ch)
    c.settimeout(REPLY_S)
    P.expect_auth(c, key, sn, cn)
    return sn


def send(c, data, pieces=False):
    """False when the tracer had closed the connection already."""
    try:
        if pieces:
            for i in range(0, len(data), 3):
                c.sendall(data[i:i + 3])
        else:
            c.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def expect_close(c, label, data):
    """The tracer closes the connection within CLOSE_S; its answers until then are read."""
    deadline = time.monotonic() + CLOSE_S
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            c.settimeout(left)
            P.recv_msg(c)
    except (EOFError, ConnectionResetError):
        pass
    except socket.timeout:
        raise Fail("%s: the connection was kept (not closed within %.0f s); bytes %s"
                   % (label, CLOSE_S, show(data)))
    finally:
        c.close()


def expect_answers(c, label, data, nbar, nwhere, last_where):
    """Exactly nbar BARRIER_DONE and nwhere WHERE_REPLY come, the last for last_where."""
    got_bar = got_where = 0
    c.settimeout(REPLY_S)
    try:
        while True:
            typ, f = P.recv_msg(c)
            if typ == P.MSG_BARRIER_DONE:
                got_bar += 1
            elif typ == P.MSG_WHERE_REPLY:
                got_where += 1
                if P.get_u64(f, P.F_WHERE_ID) == last_where:
                    break
            elif typ not in (P.MSG_PEER_UPDATE, P.MSG_CKPT_PROGRESS):
                raise Fail("%s: the tracer sent a message of type %d" % (label, typ))
    except (EOFError, ConnectionResetError):
        raise Fail("%s: the connection was closed; the case should be %s; bytes %s"
                   % (label, "answered" if nbar + nwhere > 1 else "ignored", show(data)))
    except socket.timeout:
        raise Fail("%s: no answer to the probe within %.0f s (the tracer hangs?); bytes %s"
                   % (label, REPLY_S, show(data)))
    if (got_bar, got_where) != (nbar, nwhere):
        raise Fail("%s: %d BARRIER_DONE and %d WHERE_REPLY, expected %d and %d; bytes %s"
                   % (label, got_bar, got_where, nbar, nwhere, show(data)))


# ---- the cases after the WELCOME ------------------------------------------------------------

def rbytes(n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def word(lo=1, hi=31):
    return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789-_.:") for _ in
                 range(rng.randint(lo, hi)))


def absurd():
    return rng.choice([1, 2, 0x7fffffff, 0xffffffff, 1 << 32, (1 << 63) - 1, 1 << 63,
                       (1 << 64) - 1, rng.getrandbits(64) | 1])


def where(wid, timeout=2000):
    return P.msg(P.MSG_WHERE, P.ufield(P.F_WHERE_ID, wid) + P.ufield(P.F_TIMEOUT_MS, timeout))


KNOWN = {b"suspend", b"drain", b"checkpoint", b"commit", b"refill", b"resume", b"abort",
         b"restart"}


def unknown_name():
    while True:
        n = word()
        if n not in KNOWN:
            return n


def unknown_tags():
    out = b""
    for _ in range(rng.randint(1, 6)):
        tag = rng.randint(P.F_TAG__COUNT, 0xffff)
        if rng.random() < 0.5:
            out += P.field(tag, P.U64, rbytes(8))
        else:
            out += P.field(tag, P.STR, rbytes(rng.choice([0, 1, 17, 300])))  # NULs allowed
    return out


def misplaced_fields():
    """Known fields a coordinator never puts in this message: ignored."""
    return (P.sfield(P.F_PROG, word()) + P.ufield(P.F_PID, absurd()) +
            P.sfield(P.F_PEER, b"1\tx\t2") + P.sfield(P.F_PEER, b"") +
            P.sfield(P.F_STATE, b"EXITED") + P.ufield(P.F_EXIT_STATUS, absurd()))


def kv_reply():
    f = P.sfield(P.F_KEY, word(0, 200)) + P.ufield(P.F_STATUS, absurd())
    if rng.random() < 0.5:
        f += P.sfield(P.F_VALUE, rbytes(rng.randint(0, 2000)).replace(b"\0", b"x"))
    return P.msg(P.MSG_KV_REPLY, f)


def kept_unknown_barrier():
    return P.barrier_msg(unknown_name(), absurd())


def kept_extra_fields():
    extra = unknown_tags() + (misplaced_fields() if rng.random() < 0.5 else b"")
    return rng.choice([P.barrier_msg(unknown_name(), absurd(), extra),
                       P.msg(P.MSG_KV_REPLY, P.sfield(P.F_KEY, b"k") + extra)])


def kept_where():
    return where(rng.getrandbits(64), rng.choice([0, 1, 50, (1 << 64) - 1]))


def kept_suspend_resume():
    g = absurd()
    out = P.barrier_msg(b"suspend", g)
    if rng.random() < 0.5:
        out += P.barrier_msg(b"suspend", absurd())   # again: already there
    if rng.random() < 0.5:
        out += where(rng.getrandbits(64))               # held: answered as such
    return out + P.barrier_msg(rng.choice([b"resume", b"abort"]), absurd())


def kept_steps_running():
    """Steps of a checkpoint for a process that is not suspended: answered with an error."""
    names = [b"drain", b"checkpoint", b"commit", b"refill", b"resume", b"abort"]
    rng.shuffle(names)
    return b"".join(P.barrier_msg(n, absurd(), P.ufield(P.F_CKPT_ID, absurd()) +
                                  P.ufield(P.F_NUM_PEERS, absurd()))
                    for n in names[:rng.randint(1, len(names))])


def kept_checkpoint():
    """A whole checkpoint with absurd numbers, or one abandoned after its image."""
    g = absurd()
    out = b"".join(P.barrier_msg(n, g) for n in (b"suspend", b"drain"))
    out += P.barrier_msg(b"checkpoint", g, P.ufield(P.F_CKPT_ID, absurd()))
    if rng.random() < 0.5:
        return out + P.barrier_msg(b"abort", g)
    out += P.barrier_msg(b"commit", g, P.ufield(P.F_CKPT_ID, absurd()) +
                         P.ufield(P.F_NUM_PEERS, absurd()))
    return out + P.barrier_msg(b"refill", g) + P.barrier_msg(b"resume", g)


def kept_limits():
    """Right at the codec's limits: still valid."""
    return rng.choice([
        lambda: P.msg(P.MSG_KV_REPLY, P.sfield(P.F_VALUE, b"v" * P.MAX_STR)),
        lambda: P.msg(P.MSG_KV_REPLY, P.field(0xfff0, P.STR, b"\0" * (P.MAX_PAYLOAD - 8))),
        lambda: P.msg(P.MSG_KV_REPLY, P.sfield(P.F_PEER, b"p") * P.MAX_FIELDS),
        lambda: P.barrier_msg(b"x" * 31, (1 << 64) - 1),
        lambda: P.msg(P.MSG_KV_REPLY, b""),
    ])()


def kept_many():
    return b"".join(rng.choice([kv_reply, kept_unknown_barrier])() for _ in range(50))


KEEPERS = [kv_reply, kept_unknown_barrier, kept_extra_fields, kept_where, kept_suspend_resume,
           kept_steps_running, kept_limits, kept_many, kept_checkpoint]


def valid_msg():
    """A valid message the tracer keeps the connection for (the base of a bit flip)."""
    return rng.choice([kv_reply, kept_unknown_barrier, kept_where,
                       lambda: P.barrier_msg(b"resume", absurd())])()


def flipped():
    m = bytearray(valid_msg())
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(m) * 8)
        m[i // 8] ^= 1 << (i % 8)
    return bytes(m)


def random_bytes():
    return rbytes(rng.randint(1, 400))


KEEPERS += [flipped, random_bytes]


def bad_field_msg(fields, typ=None):
    return P.msg(typ or P.MSG_BARRIER, fields)


NOT_TO_PEERS = ["MSG_HELLO", "MSG_PEER_UPDATE", "MSG_BARRIER_DONE", "MSG_COMMAND",
                "MSG_COMMAND_REPLY", "MSG_KV_PUT", "MSG_KV_GET", "MSG_CKPT_REQUEST",
                "MSG_CKPT_PROGRESS", "MSG_AUTH", "MSG_WHERE_REPLY", "MSG_WHERE_PART"]


def closers(cn, sn):
    """The cases that close a welcomed connection, by name: (bytes, shut) where shut says the
    fake coordinator then ends its side (the bytes are a message cut short)."""
    good = P.barrier_msg(b"resume", 7)
    gen = P.ufield(P.F_GENERATION, 3)
    name = P.sfield(P.F_BARRIER, b"fuzz")
    c = {
        "header cut short, then EOF": (good[:rng.randint(1, 15)], True),
        "payload cut short, then EOF": (good[:rng.randint(17, len(good) - 1)], True),
        "suspended, then EOF": (P.barrier_msg(b"suspend", 5), True),
        "length over the maximum": (P.hdr(P.MSG_BARRIER, rng.choice(
            [P.MAX_PAYLOAD + 1, 0x7fffffff, 0xffffffff])), False),
        "length zero (no fields)": (P.hdr(P.MSG_BARRIER, 0), False),
        "length less than a field header": (P.msg(P.MSG_BARRIER, good[16:16 + rng.randint(1, 7)]),
                                            False),
        "field past the end": (P.msg(P.MSG_BARRIER, struct.pack("<HHI", P.F_BARRIER, P.STR, 100)
                                     + b"suspend"), False),
        "unknown field kind": (P.msg(P.MSG_BARRIER, name + struct.pack(
            "<HHI", P.F_GENERATION, rng.choice([0, 3, 0xffff]), 8) + bytes(8)), False),
        "integer of 4 bytes": (bad_field_msg(name + P.field(P.F_GENERATION, P.U64, b"\1\0\0\0")),
                               False),
        "string over the maximum": (bad_field_msg(P.sfield(P.F_BARRIER, b"s" * (P.MAX_STR + 1))
                                                  + gen), False),
        "string where an integer goes": (bad_field_msg(name + P.sfield(P.F_GENERATION, b"3")),
                                         False),
        "integer where a string goes": (bad_field_msg(P.ufield(P.F_BARRIER, 1) + gen), False),
        "NUL inside a string": (bad_field_msg(P.sfield(P.F_BARRIER, b"sus\0pend") + gen), False),
        "field given twice": (bad_field_msg(name + gen + rng.choice([name, gen])), False),
        "too many fields": (P.msg(P.MSG_KV_REPLY, P.sfield(P.F_PEER, b"p") * (P.MAX_FIELDS + 1)),
                            False),
        "bad magic": (P.msg(P.MSG_BARRIER, name + gen, magic=b"DMTQ"), False),
        "another version": (P.msg(P.MSG_BARRIER, name + gen, ver=rng.choice([0, 1, 3, 0xffff])),
                            False),
        "unknown type": (P.msg(rng.choice([0, P.MSG__COUNT, 999, 0xffff]), name + gen), False),
        "reserved header word": (P.msg(P.MSG_BARRIER, name + gen, resv=rng.choice([1, 1 << 31])),
                                 False),
        "BARRIER without a name": (bad_field_msg(gen), False),
        "BARRIER without a generation": (bad_field_msg(name), False),
        "BARRIER of generation 0": (P.barrier_msg(b"suspend", 0), False),
        "BARRIER with an empty name": (P.barrier_msg(b"", 4), False),
        "BARRIER with an over-long name": (P.barrier_msg(b"n" * rng.choice(
            [32, 33, 1000, P.MAX_STR]), 4), False),
        "BARRIER with a name that is not a word": (P.barrier_msg(rng.choice(
            [b"resume\n" + word(1, 8), b"re sume", b"r\xc3\xa9sum\xc3\xa9", b"\x7f", b"\t"]), 4),
            False),
        "WHERE without an id": (P.msg(P.MSG_WHERE, P.ufield(P.F_TIMEOUT_MS, 10)), False),
        "a second CHALLENGE": (P.challenge_msg(key, cn, sn)[1], False),
        "a second WELCOME": (P.welcome_msg(2, COMPID, b"/tmp"), False),
        "REFUSE after WELCOME": (P.msg(P.MSG_REFUSE, P.sfield(P.F_REASON, b"go away")), False),
        "suspended, then garbage": (P.barrier_msg(b"suspend", 9) + b"\xff" * 16, False),
        "checkpoint written, then garbage": (b"".join(P.barrier_msg(n, 11) for n in (
            b"suspend", b"drain", b"checkpoint")) + P.hdr(P.MSG_BARRIER, 3) + b"abc", False),
        "answered, then garbage": (kept_where() + kept_unknown_barrier() + rbytes(40), False),
    }
    c["a type a coordinator never sends to a process"] = (P.msg(getattr(
        P, rng.choice(NOT_TO_PEERS)), name + gen + P.sfield(P.F_CMD, b"k")), False)
    return c


# ---- the cases before the WELCOME (a connection each) --------------------------------------

def pre_cases():
    """name: (before the CHALLENGE, the CHALLENGE: "good" / bytes, after the AUTH)"""
    w = P.welcome_msg
    return {
        "BARRIER or WHERE before the CHALLENGE": (rng.choice([P.barrier_msg(b"suspend", 1),
                                                              where(1)]), None, b""),
        "KILL before the CHALLENGE": (P.msg(P.MSG_KILL, b""), None, b""),
        "WELCOME before the CHALLENGE": (w(1, COMPID, b"/tmp"), None, b""),
        "REFUSE before the CHALLENGE": (P.msg(P.MSG_REFUSE, P.sfield(P.F_REASON, b"no")), None,
                                        b""),
        "garbage before the CHALLENGE": (b"\xff" + rbytes(rng.randint(15, 300)), None, b""),
        "a CHALLENGE with a wrong proof": (b"", "wrong", b""),
        "a CHALLENGE without a proof": (b"", "noproof", b""),
        "a CHALLENGE with a malformed nonce": (b"", "badnonce", b""),
        "BARRIER before the WELCOME": (b"", "good", P.barrier_msg(b"suspend", 1)),
        "KILL before the WELCOME": (b"", "good", P.msg(P.MSG_KILL, b"")),
        "a second CHALLENGE before the WELCOME": (b"", "good", None),
        "garbage before the WELCOME": (b"", "good", P.hdr(P.MSG_WELCOME, 5) + b"\0" * 5),
        "WELCOME without a peer id": (b"", "good", rng.choice([w(0, COMPID, b"/tmp"), P.msg(
            P.MSG_WELCOME, P.sfield(P.F_COMPID, COMPID) + P.sfield(P.F_CKPTDIR, b"/tmp"))])),
        "WELCOME with a malformed computation id": (b"", "good", w(1, rng.choice(
            [b"", b"x", b"1-2", b"12-ab-34", b"1-2-3" + b"4" * 60]), b"/tmp")),
        "WELCOME without an absolute checkpoint directory": (b"", "good", rng.choice([
            w(1, COMPID, rng.choice([b"", b"tmp", b"../../etc", b"/" * 4096])),
            P.msg(P.MSG_WELCOME, P.ufield(P.F_PEER_ID, 1) + P.sfield(P.F_COMPID, COMPID))])),
    }


def pre_case(name, pres):
    first, chal, after = pres[name]
    c, cn = accept("the previous connection")
    stats["cases"] += 1
    label = "case %d (before the WELCOME: %s)" % (stats["cases"], name)
    if first:
        msgs, why, _ = P.decode_stream(first)
        assert why or P.peer_verdict("hello", *msgs[0]) == "close", label
        data = first
    elif chal == "good":
        handshake(c, cn)
        data = after if after is not None else P.challenge_msg(key, cn)[1]
        msgs, why, _ = P.decode_stream(data)
        assert why or P.peer_verdict("authed", *msgs[0]) == "close", label
    else:
        sn = os.urandom(32).hex()
        proof = P.proof(os.urandom(32) if chal == "wrong" else key, True, sn, cn)
        if chal == "badnonce":
            sn = "zz" * 32
        data = P.msg(P.MSG_CHALLENGE, P.sfield(P.F_NONCE, sn) +
                     (b"" if chal == "noproof" else P.sfield(P.F_AUTH, proof)))
    if chal != "wrong" and chal != "badnonce":
        stats["invalid"] += 1      # logged as an invalid message; a failed proof is not
    send(c, data)
    # Closed at once (not after the tracer's 10 s wait for a WELCOME), without an AUTH after a
    # CHALLENGE that did not prove the key.
    deadline = time.monotonic() + PRE_CLOSE_S
    try:
        while True:
            c.settimeout(max(0.01, deadline - time.monotonic()))
            typ, _ = P.recv_msg(c)
            if typ == P.MSG_AUTH:
                raise Fail("%s: the tracer answered with AUTH" % label)
    except (EOFError, ConnectionResetError):
        pass
    except socket.timeout:
        raise Fail("%s: the connection was kept (not closed within %.0f s); bytes %s"
                   % (label, PRE_CLOSE_S, show(data)))
    c.close()
    check_process(label)
    stats["closed"] += 1
    say("%s: closed" % label)


NAMES = {}


def model(stream, suspended):
    """What the tracer does with stream on a welcomed connection: (end, answers to BARRIER,
    answers to WHERE, suspended after). end: None (kept), "kill", "incomplete" (it waits for
    the rest of a message), "invalid: <reason>" (a reason of the codec) or "policy: <type>" (a
    well-formed message the tracer must not take)."""
    msgs, why, need = P.decode_stream(stream)
    nbar = nwhere = 0
    for typ, fields in msgs:
        v = P.peer_verdict("welcomed", typ, fields)
        if v == "kill":
            return "kill", 0, 0, suspended
        if v == "close":
            return "policy: " + NAMES[typ], nbar, nwhere, suspended
        f = dict((t, val) for t, _, val in fields)
        if v == "answer" and typ == P.MSG_BARRIER:
            nbar += 1
            if f[P.F_BARRIER] == b"suspend":
                suspended = True
            elif f[P.F_BARRIER] in (b"resume", b"abort"):
                suspended = False
        elif v == "answer":
            nwhere += 1
    if why:
        return "invalid: " + why, nbar, nwhere, suspended
    return ("incomplete" if need else None), nbar, nwhere, suspended


def predict(data, suspended, shut=False):
    """The bytes to send for a case (a message it leaves incomplete is completed with zeros,
    unless the case then ends the connection) and model()'s answer for them."""
    if not shut:
        need = P.decode_stream(data)[2]
        if need:
            data += bytes(need)
    return (data,) + model(data, suspended)


def run_case(c, label, data, suspended, shut=False, pieces=False):
    """One case on a welcomed connection, predicted by predict(). Returns whether the
    connection was closed."""
    global probe_id
    stream, end, nbar, nwhere, susp = predict(data, suspended, shut)
    assert end != "kill", label
    stats["cases"] += 1
    label = "case %d (%s)" % (stats["cases"], label)
    if end is None and not shut:
        if susp:
            stream += P.barrier_msg(b"resume", 1)
            nbar += 1
        probe_id += 1
        stream += where(probe_id)
        if not send(c, stream, pieces and len(stream) < 4000):
            raise Fail("%s: the connection was closed; bytes %s" % (label, show(data)))
        expect_answers(c, label, data, nbar, nwhere + 1, probe_id)
        check_process(label)
        stats["kept"] += 1
        return False
    if not shut:
        # logged by the tracer as an invalid message (an end of the stream is not)
        stats["invalid"] += 1
        if end.startswith("invalid: "):
            reasons.add(end[9:])
    if send(c, stream, pieces and len(stream) < 4000) and shut:
        c.shutdown(socket.SHUT_WR)
    expect_close(c, label, data)
    check_process(label)
    stats["closed"] += 1
    return True


def welcomed_connection(after, nkeep, closer):
    """Handshake, WELCOME, nkeep kept cases, then the closer (a function of the nonces giving
    (name, (bytes, shut))) or, when None, this side closes."""
    c, cn = accept(after)
    sn = handshake(c, cn)
    c.sendall(P.welcome_msg(stats["conns"], COMPID, b"/tmp"))
    for _ in range(nkeep):
        while True:
            gen = rng.choice(KEEPERS)
            data = gen()
            # flipped messages and random bytes only when the tracer keeps the connection
            if predict(data, False)[1] is None:
                break
        run_case(c, gen.__name__, data, False, pieces=rng.random() < 0.1)
    if closer is None:
        c.close()
        say("%d kept, then closed by this side" % nkeep)
        return
    cname, (data, shut) = closer(cn, sn)
    if not run_case(c, cname, data, False, shut=shut):
        raise Fail("the driver's closer '%s' does not close: %s" % (cname, show(data)))
    say("%d kept, then %s: closed" % (nkeep, cname))


def main():
    NAMES.update({v: k[4:] for k, v in vars(P).items() if k.startswith("MSG_") and
                  isinstance(v, int)})
    threading.Thread(target=acceptor, daemon=True).start()
    count = last_count()
    # The hand-made closers, each once, in a seeded order, then bit flips and random bytes
    # that close (the model says which do); the cases before the WELCOME go in between.
    names = sorted(closers("00" * 32, "00" * 32))
    rng.shuffle(names)
    pres = pre_cases()
    pre = sorted(pres)
    rng.shuffle(pre)

    def named(n):
        return lambda cn, sn: (n, closers(cn, sn)[n])

    def random_closer(cn, sn):
        while True:
            gen = rng.choice([flipped, random_bytes])
            data = gen()
            end = predict(data, False)[1]
            if end not in (None, "kill"):
                return "%s closing" % gen.__name__, (data, False)

    plan = [named(n) for n in names] + [random_closer] * NRANDOM
    after = "the start"
    for i, closer in enumerate(plan):
        welcomed_connection(after, rng.randint(4, 7), closer)
        after = "connection %d" % stats["conns"]
        count = check_counting(count)
        if i % 3 == 1 and pre:
            pre_case(pre.pop(0), pres)
            after = "connection %d" % stats["conns"]
    while pre:
        welcomed_connection(after, 2, None)
        pre_case(pre.pop(0), pres)
        after = "connection %d" % stats["conns"]
    # Last, a good connection that this side closes: the tracer looks for a coordinator again.
    welcomed_connection(after, 3, None)
    check_counting(count)
    deadline = time.monotonic() + 60
    while not bystander_said and time.monotonic() < deadline:
        time.sleep(0.1)
    stopping.set()
    if not bystander_said:
        raise Fail("bystander: its program did not end, or never came (%s)" %
                   proc_state(bystander_pid))
    if bystander_said[0].startswith("FAIL: "):
        raise Fail(bystander_said[0][6:])
    print("bystander", bystander_said[0])
    print("cases %d kept %d closed %d connections %d seconds %.1f" % (
        stats["cases"], stats["kept"], stats["closed"], stats["conns"], time.monotonic() - t0))
    print("invalid", stats["invalid"])
    for r in sorted(reasons):
        print("reason", r)


try:
    main()
except Fail as e:
    print("FAIL:", e)
    sys.exit(1)
