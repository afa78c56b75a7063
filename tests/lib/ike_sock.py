"""A fake charon plugin on hacpd's IKE socket (shared/ha_ike_msg.h): the messages packed and
read with struct, so a test drives hacpd's IKE and S6b side without charon: HELLO, PREFIX_REQ
(with the AAA's Session-Id and authorisation), SA_ADD of a UE's signalling SA pair, IKE_DOWN,
AAA_ORDER, AAA_EVENT, and the notices hacpd sends (IKE_DELETE, PEER_MOVE, AAA_END).

The type numbers are read from the header's X-macro list, in its order, so they cannot drift;
the layouts are written here by hand (an independent reading of the header: hacpd drops the
connection on a message of the wrong size, which the test then sees)."""
import os
import re
import socket
import struct
import time

HDR = struct.Struct("<HHIII")  # version, type, len, seq, ike_sa
VERSION = 4
SID_MAX = 128

AUTH_F_PREFIX, AUTH_F_IP4, AUTH_F_NO_IP4, AUTH_F_REALLOC = 0x01, 0x02, 0x04, 0x08
ORDER_ABORT, ORDER_REALLOCATE, ORDER_KNOWN = 1, 2, 3
END_LOGOUT, END_ADMINISTRATIVE, END_AUTH_EXPIRED, END_SESSION_TIMEOUT = 1, 4, 6, 8


def _types():
    here = os.path.dirname(os.path.abspath(__file__))
    text = open(os.path.join(here, "..", "..", "shared", "ha_ike_msg.h")).read()
    block = text[text.index("#define HA_IKE_TYPES(X)"):]
    block = block[:block.index("\n\n")]
    names = re.findall(r'X\((HA_IKE_\w+),', block)
    return {n[len("HA_IKE_"):]: i + 1 for i, n in enumerate(names)}


def _events():
    here = os.path.dirname(os.path.abspath(__file__))
    text = open(os.path.join(here, "..", "..", "shared", "ha_ike_msg.h")).read()
    block = text[text.index("#define HA_IKE_AAA_EVENTS(X)"):]
    block = block[:block.index("\nenum")]
    return {name: i + 1 for i, name in enumerate(re.findall(r'X\(\w+,\s*"([^"]+)"\)', block))}


T = _types()
EVENTS = _events()  # counter name ("s6b-auth-success") -> event number
SIZES = {"HELLO": 32, "RESULT": 24, "PREFIX_REQ": 552, "PREFIX_REP": 48, "SA_ADD": 176,
         "IKE_DOWN": 16, "IKE_DELETE": 16, "PEER_MOVE": 52, "AAA_ORDER": 168, "AAA_EVENT": 24,
         "AAA_END": 152, "PACKET": 16 + 48 + 2048, "SA_COUNTERS": 40}


def _addr6(a):
    return socket.inet_pton(socket.AF_INET6, a) if a else bytes(16)


def sa_spec(spi, inbound, key, local6, peer6, replay_window=0):
    """struct ha_sa_spec (128 octets): a transport-mode AES-GCM-128 SA (RFC 4106)."""
    return struct.pack("<IBBBBBBBBHH16s16s36s32s4xQ", spi, 0 if inbound else 1, 0,
                       socket.AF_INET6, 0, 0, len(key), 0, 0, replay_window, 0,
                       _addr6(local6), _addr6(peer6), key, b"", 0)


class Msg:
    """A message hacpd sent: its type name, the header's fields and the body."""

    def __init__(self, data):
        self.version, t, self.len, self.seq, self.ike_sa = HDR.unpack_from(data)
        self.type = next((k for k, v in T.items() if v == t), t)
        self.body = data[HDR.size:]

    @property
    def result(self):  # RESULT and PREFIX_REP
        return struct.unpack_from("<i", self.body)[0]

    def prefix(self):
        """PREFIX_REP: (prefix text, length, lifetime, IPv4 address or None)."""
        _, life, p, plen, has4, _, v4 = struct.unpack_from("<iI16sBB2s4s", self.body)
        return (socket.inet_ntop(socket.AF_INET6, p), plen, life,
                socket.inet_ntop(socket.AF_INET, v4) if has4 else None)

    def aaa_end(self):
        """AAA_END: (cause, Session-Id)."""
        cause, _, sid = struct.unpack_from("<II128s", self.body)
        return cause, sid.split(b"\0", 1)[0].decode()

    def __repr__(self):
        return f"<{self.type} seq {self.seq} ike_sa {self.ike_sa} {self.body[:16].hex()}>"


class PluginSocket:
    """One connection to hacpd's ike.socket, as charon's plugin holds it. Requests wait for
    their answer (by seq); notices that arrive meanwhile are kept in self.notices."""

    def __init__(self, path, timeout=10):
        self.path, self.timeout = path, timeout
        self.seq = 0
        self.notices = []
        self.s = None
        self.buf = b""

    def connect(self, instance=1, wait=10):
        deadline = time.time() + wait
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(self.path)
                break
            except OSError:
                self.s.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.s.settimeout(self.timeout)
        return self.request("HELLO", 0, struct.pack("<IIQ", os.getpid(), 0, instance))

    def close(self):
        if self.s:
            self.s.close()
        self.s, self.buf = None, b""

    def _send(self, tname, ike_sa, body, seq):
        size = HDR.size + len(body)
        assert size == SIZES[tname], f"{tname}: {size} octets, the header says {SIZES[tname]}"
        self.s.sendall(HDR.pack(VERSION, T[tname], size, seq, ike_sa) + body)

    def read(self, timeout=None):
        """The next message from hacpd, or None when none came within timeout."""
        self.s.settimeout(timeout or self.timeout)
        try:
            while len(self.buf) < HDR.size or len(self.buf) < HDR.unpack_from(self.buf)[2]:
                d = self.s.recv(65536)
                if not d:
                    raise ConnectionError("hacpd closed the IKE socket")
                self.buf += d
        except socket.timeout:
            return None
        n = HDR.unpack_from(self.buf)[2]
        m, self.buf = Msg(self.buf[:n]), self.buf[n:]
        return m

    def request(self, tname, ike_sa, body):
        self.seq += 1
        self._send(tname, ike_sa, body, self.seq)
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            m = self.read(max(0.1, deadline - time.time()))
            if m is None:
                break
            if m.seq == self.seq and m.type in ("RESULT", "PREFIX_REP", "SA_COUNTERS"):
                return m
            self.notices.append(m)
        raise TimeoutError(f"no answer from hacpd to {tname} seq {self.seq}")

    def wait_notice(self, tname, timeout=10, match=None):
        """The first notice of type tname (kept ones first), taken off, or None."""
        deadline = time.time() + timeout
        while True:
            for i, m in enumerate(self.notices):
                if m.type == tname and (match is None or match(m)):
                    return self.notices.pop(i)
            left = deadline - time.time()
            if left <= 0:
                return None
            m = self.read(left)
            if m is not None:
                self.notices.append(m)

    # ---- the requests ----
    def prefix_req(self, ike_sa, nai, apn="", want_ip4=False, aaa_session="", auth_flags=0,
                   static_prefix=None, static_ip4=None, realloc_ha=None):
        body = struct.pack("<256s104sBBB5s128s16s4s4s16s", nai.encode(), apn.encode(),
                           int(want_ip4), auth_flags, 128 if static_prefix else 0, b"",
                           aaa_session.encode(), _addr6(static_prefix),
                           socket.inet_aton(static_ip4) if static_ip4 else bytes(4), b"",
                           _addr6(realloc_ha))
        return self.request("PREFIX_REQ", ike_sa, body)

    def sa_add(self, ike_sa, spec, reqid, ts_remote, ts_len=128, ts_proto=135):
        body = spec + struct.pack("<I16sBBB5s4x", reqid, _addr6(ts_remote), ts_len, ts_proto,
                                  0, b"")
        return self.request("SA_ADD", ike_sa, body)

    def signalling_sas(self, ike_sa, ue, ha6, reqid=1):
        """The UE's BU/BA child SA (RFC 4877 4.1: transport, its home address, protocol 135),
        with the test UE's SPIs and keys (tests/lib/ue.py). @return the two RESULTs."""
        return (self.sa_add(ike_sa, sa_spec(ue.spi_bu, True, ue.key_bu, ha6, ue.hoa, 64),
                            reqid, ue.hoa),
                self.sa_add(ike_sa, sa_spec(ue.spi_ba, False, ue.key_ba, ha6, ue.hoa),
                            reqid, ue.hoa))

    def ike_down(self, ike_sa):
        return self.request("IKE_DOWN", ike_sa, b"")

    def aaa_order(self, order, aaa_session, target=None):
        body = struct.pack("<B7s128s16s", order, b"", aaa_session.encode(), _addr6(target))
        return self.request("AAA_ORDER", 0, body)

    def aaa_event(self, name):
        return self.request("AAA_EVENT", 0, struct.pack("<H6s", EVENTS[name], b""))
