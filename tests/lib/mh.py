"""Mobility Header messages as the test UE sees them (RFC 6275 6.1, RFC 5555 3, RFC 5142,
RFC 5846), built and read with scapy and byte offsets only (never the project's codec).
Offsets are from the first octet of the Mobility Header (docs/protocol.md sections 1-3)."""
import ipaddress
import struct

from scapy.all import IPv6, raw
from scapy.layers.inet6 import MIP6MH_Generic, in6_chksum

# MH types (RFC 6275 6.1.2, RFC 5142, RFC 5846)
BRR, HOTI, BU, BA, BE, HAS, BR = 0, 1, 5, 6, 7, 12, 16
TYPE_NAMES = {BRR: "BRR", HOTI: "HoTI", BU: "BU", BA: "BA", BE: "BE", HAS: "HAS", BR: "BR"}

# BU flags (16-bit word at offset 8) and BA flags (octet at offset 7)
BU_FLAGS = {"A": 0x8000, "H": 0x4000, "L": 0x2000, "K": 0x1000, "M": 0x0800, "R": 0x0400,
            "P": 0x0200, "F": 0x0100, "T": 0x0080}
BA_K, BA_R = 0x80, 0x40

# mobility options
OPT_PAD1, OPT_PADN, OPT_BRA, OPT_ALTCOA = 0, 1, 2, 3
OPT_IPV4_HOA, OPT_IPV4_ACK, OPT_NATD, OPT_IPV4_COA = 29, 30, 31, 32
# alignment xn+y of the Type octet (RFC 6275 6.2, RFC 5555 3.1/3.2)
ALIGN = {OPT_BRA: (2, 0), OPT_ALTCOA: (8, 6), OPT_IPV4_HOA: (4, 0), OPT_IPV4_ACK: (4, 0),
         OPT_NATD: (4, 0), OPT_IPV4_COA: (4, 0)}
# data lengths (docs/protocol.md section 3)
OPT_LEN = {OPT_BRA: 2, OPT_ALTCOA: 16, OPT_IPV4_HOA: 6, OPT_IPV4_ACK: 6, OPT_NATD: 6,
           OPT_IPV4_COA: 6}


def flags_word(flags):
    """"AHKR" -> 0xD400 (an int passes through)."""
    if isinstance(flags, int):
        return flags
    w = 0
    for f in flags:
        w |= BU_FLAGS[f]
    return w


def _pad(n):
    """Pad1 or PadN filling n octets."""
    if n == 0:
        return b""
    if n == 1:
        return b"\0"
    return bytes([OPT_PADN, n - 2]) + bytes(n - 2)


def options(opts, start):
    """The option area for [(type, data)], each aligned as ALIGN says, the Type octets starting
    at MH offset start, padded to a multiple of 8 (RFC 6275 6.2: Pad1 / PadN before an option
    as its alignment needs, and at the end)."""
    out = b""
    for t, data in opts:
        x, y = ALIGN.get(t, (1, 0))
        off = start + len(out)
        out += _pad((y - off) % x) + bytes([t, len(data)]) + data
    return out + _pad((-(start + len(out))) % 8)


def opt_ipv4_hoa(addr="0.0.0.0", plen=32, p=False):
    """RFC 5555 3.1.1: Prefix-len(6) | P(1) | Reserved(9) | IPv4 home address."""
    return (OPT_IPV4_HOA, struct.pack("!BB", (plen << 2) | (2 if p else 0), 0) +
            ipaddress.IPv4Address(addr).packed)


def opt_ipv4_coa(addr):
    """RFC 5555 3.1.3: Reserved(16) | IPv4 care-of address."""
    return (OPT_IPV4_COA, bytes(2) + ipaddress.IPv4Address(addr).packed)


def opt_altcoa(addr):
    """RFC 6275 6.2.5: the Alternate Care-of Address."""
    return (OPT_ALTCOA, ipaddress.IPv6Address(addr).packed)


def finish(src, dst, body):
    """Sets the Header Len of body (a whole MH, a multiple of 8 octets) and has scapy compute
    the checksum over the pseudo-header src -> dst (RFC 6275 6.1.1: src the home address,
    dst the final destination)."""
    assert len(body) % 8 == 0, len(body)
    body = body[:1] + bytes([len(body) // 8 - 1]) + body[2:4] + b"\0\0" + body[6:]
    mh = MIP6MH_Generic(body)
    mh.cksum = None
    return raw(IPv6(src=src, dst=dst) / mh)[40:]


def bu(hoa, ha, seq, lifetime, flags="AHKR", opts=()):
    """A Binding Update (RFC 6275 6.1.7): sequence, flags, lifetime in units of 4 s, options
    [(type, data)] aligned and padded; checksum by scapy over the home address."""
    body = struct.pack("!BBBBHHHH", 59, 0, BU, 0, 0, seq & 0xFFFF, flags_word(flags), lifetime)
    return finish(hoa, ha, body + options(list(opts), 12))


def bra(hoa, ha, seq, status=0, flags=0):
    """A Binding Revocation Acknowledgement (RFC 5846 6.2): B.R. Type 2, status, sequence."""
    body = struct.pack("!BBBBHBBHH", 59, 0, BR, 0, 0, 2, status, seq, flags)
    return finish(hoa, ha, body + _pad((-len(body)) % 8))


def generic(src, dst, mh_type, data=b"\0\0"):
    """Any MH type with data as its message data, padded to 8n, checksum over src -> dst."""
    body = bytes([59, 0, mh_type, 0, 0, 0]) + data
    return finish(src, dst, body + bytes((-len(body)) % 8))


def checksum_ok(mh, src, dst):
    """RFC 6275 6.1.1 checksum of mh over the pseudo-header src -> dst, recomputed by scapy."""
    zeroed = mh[:4] + b"\0\0" + mh[6:]
    want = in6_chksum(135, IPv6(src=src, dst=dst, nh=135), zeroed)
    return struct.unpack("!H", mh[4:6])[0] == want


class Msg:
    """A Mobility Header read field by field. Attributes: type, hlen, proto, cksum, data (the
    whole MH); per type: BA status, flags, seq, lifetime; BE status, home_address; HAS
    addresses; BR br_type, trigger (status), seq, flags; options [(type, offset, data)];
    errors: what breaks RFC 6275 6.1 / 6.2 (length, payload proto, option lengths, alignment,
    padding). Where it came from (outer addresses, UDP ports, RH2, HAO, ESP) is set by the UE."""

    def __init__(self, mh):
        self.data = mh
        self.errors = []
        self.options = []
        if len(mh) < 6:
            self.type = None
            self.errors.append(f"MH of {len(mh)} octets")
            return
        self.proto, self.hlen, self.type = mh[0], mh[1], mh[2]
        self.cksum = struct.unpack("!H", mh[4:6])[0]
        if self.proto != 59:
            self.errors.append(f"Payload Proto {self.proto}, not 59")
        if (self.hlen + 1) * 8 != len(mh):
            self.errors.append(f"Header Len {self.hlen} for {len(mh)} octets")
        if mh[3] != 0:
            self.errors.append(f"reserved octet {mh[3]}")
        start = None
        if self.type == BA and len(mh) >= 12:
            self.status, self.flags, self.seq, self.lifetime = struct.unpack("!BBHH", mh[6:12])
            start = 12
        elif self.type == BE and len(mh) >= 24:
            self.status = mh[6]
            self.home_address = str(ipaddress.IPv6Address(mh[8:24]))
            start = 24
        elif self.type == HAS and len(mh) >= 8:
            n = mh[6]
            self.addresses = [str(ipaddress.IPv6Address(mh[8 + 16 * i:24 + 16 * i]))
                              for i in range(n)]
            start = 8 + 16 * n
        elif self.type == BR and len(mh) >= 12:
            self.br_type, self.status, self.seq, self.flags = struct.unpack("!BBHH", mh[6:12])
            self.trigger = self.status
            start = 12
        if start is not None:
            self._options(mh, start)

    def _options(self, mh, off):
        while off < len(mh):
            t = mh[off]
            if t == OPT_PAD1:
                off += 1
                continue
            if off + 2 > len(mh) or off + 2 + mh[off + 1] > len(mh):
                self.errors.append(f"option {t} at {off} runs past the MH")
                return
            n = mh[off + 1]
            data = mh[off + 2:off + 2 + n]
            if t == OPT_PADN:
                if any(data):
                    self.errors.append(f"PadN at {off} not zero")
            else:
                if t in OPT_LEN and n != OPT_LEN[t]:
                    self.errors.append(f"option {t} at {off}: length {n}, not {OPT_LEN[t]}")
                if t in ALIGN and off % ALIGN[t][0] != ALIGN[t][1]:
                    self.errors.append(f"option {t} at offset {off}: not {ALIGN[t][0]}n+"
                                       f"{ALIGN[t][1]}")
                self.options.append((t, off, data))
            off += 2 + n

    def opt(self, t):
        """The data of the option of type t, None when absent (a duplicate is an error)."""
        found = [d for (ty, _, d) in self.options if ty == t]
        if len(found) > 1:
            self.errors.append(f"option {t} {len(found)} times")
        return found[0] if found else None

    def ipv4_ack(self):
        """RFC 5555 3.2.1 IPv4 Address Acknowledgement: (status, prefix length, address) or
        None."""
        d = self.opt(OPT_IPV4_ACK)
        if d is None:
            return None
        return d[0], d[1] >> 2, str(ipaddress.IPv4Address(d[2:6]))

    def natd(self):
        """RFC 5555 3.2.2 NAT Detection: (F, reserved bits, refresh time) or None."""
        d = self.opt(OPT_NATD)
        if d is None:
            return None
        w, refresh = struct.unpack("!HI", d)
        return bool(w & 0x8000), w & 0x7FFF, refresh

    def refresh_advice(self):
        """RFC 6275 6.2.4 Binding Refresh Advice, in units of 4 s, or None."""
        d = self.opt(OPT_BRA)
        return None if d is None else struct.unpack("!H", d)[0]

    def __repr__(self):
        f = {k: v for k, v in self.__dict__.items() if k not in ("data", "frame")}
        return f"Msg({TYPE_NAMES.get(self.type, self.type)} {f} {self.data.hex()})"
