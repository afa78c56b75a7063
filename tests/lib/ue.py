"""A test UE played by scapy and python3-cryptography: its signalling SA pair (AES-GCM-128, ESP
transport mode, RFC 4877), Binding Updates from an IPv6 care-of address (HAO) or an IPv4 one
(RFC 5555 4.1: IPv4/UDP 4191/IPv6 from the home address/ESP/BU, optionally through a NAT with
its own address and port), the HA's messages decrypted and read field by field (tests/lib/mh.py),
BRAs, and user data both ways through the binding's tunnel. A Correspondent on the core side
sends the downlink and receives the uplink.

    ue = UE(1)                         # home address 2001:db8:100:1::55 (PDN internet)
    with Appliance(build, work, ues=[ue]) as app:
        ue.attach(app).at6("2001:db8:aaaa::1")
        ba = ue.register(ipv4_hoa="0.0.0.0")       # BU, then its BA (a Msg) or None
        cn = Correspondent(app)
        cn.send(ue.hoa, b"down-1"); t = ue.wait_down(b"down-1")  # Tunnelled or None
"""
import hashlib
import ipaddress
import struct

from scapy.all import IP, UDP, Ether, IPv6, Raw, raw
from scapy.layers.inet6 import HAO, IPv6ExtHdrDestOpt

import esp
import mh
from appliance import HA4, HA6

CN6, CN4 = "2001:db8:9::1", "198.51.100.9"
UDP_PORT = 4191  # RFC 5555 4.1


def _v6(b):
    return str(ipaddress.IPv6Address(bytes(b)))


def _v4(b):
    return str(ipaddress.IPv4Address(bytes(b)))


class Where:
    """Where a frame from the HA came from and went, and how (filled by UE.read)."""

    def __init__(self):
        self.outer = None        # "ipv6" or "ipv4"
        self.outer_src = self.outer_dst = None
        self.udp = None          # (source port, destination port) of RFC 5555 UDP
        self.ip6_src = self.ip6_dst = None  # the IPv6 header that carries the MH
        self.rh2 = None          # the type 2 routing header: (segments left, [addresses])
        self.hao = None          # the Home Address option's address
        self.esp = None          # (spi, seq) when under ESP
        self.hlim = None


def walk_ipv6(b, w):
    """Reads an IPv6 header and its extension headers (hop-by-hop, routing, destination
    options) by byte offsets into w; @return (next header, the octets after them)."""
    w.ip6_src, w.ip6_dst, w.hlim = _v6(b[8:24]), _v6(b[24:40]), b[7]
    nh, off = b[6], 40
    while nh in (0, 43, 60):
        n = (b[off + 1] + 1) * 8
        hdr = b[off:off + n]
        if nh == 43:
            addrs = [_v6(hdr[8 + 16 * i:24 + 16 * i]) for i in range((n - 8) // 16)]
            w.rh2 = (hdr[2], hdr[3], addrs)  # (routing type, segments left, addresses)
        elif nh == 60:
            i = 2
            while i < n:
                if hdr[i] == 0:
                    i += 1
                    continue
                if hdr[i] == 201 and hdr[i + 1] == 16:
                    w.hao = _v6(hdr[i + 2:i + 18])
                i += 2 + hdr[i + 1]
        nh, off = hdr[0], off + n
    return nh, b[off:]


class UE:
    """One UE session: a home address in one PDN with its signalling SA pair. n numbers the
    UE (SPIs 0x5000+n for its BUs, 0x6000+n for the HA's messages, keys derived from n);
    a second PDN of the same UE is a second UE object with that PDN's prefix and the same
    mac (TS 24.303 4.3: each PDN connection its own session)."""

    def __init__(self, n, prefix="2001:db8:100", hoa=None, mac=None, flags="AHKR"):
        self.n = n
        self.hoa = hoa or f"{prefix}:{n:x}::55"
        self.spi_bu, self.spi_ba = 0x5000 + n, 0x6000 + n
        self.key_bu = hashlib.sha256(b"bu %d %s" % (n, self.hoa.encode())).digest()[:20]
        self.key_ba = hashlib.sha256(b"ba %d %s" % (n, self.hoa.encode())).digest()[:20]
        self.mac = mac or f"02:00:00:ee:{(n >> 8) & 255:02x}:{n & 255:02x}"
        self.flags = flags
        self.esp_seq = 0
        self.seq = 0
        self.app = None
        self.coa6 = self.coa4 = self.nat = None
        self.port = UDP_PORT
        self.udp = False         # the binding's tunnel is UDP (NAT, or F granted)
        self.hoa4 = None

    def static_sas(self, ha6):
        """The appliance's static_sas entries for this UE: the inbound SA of its BUs (peer =
        its home address, RFC 4877) and the outbound one of the HA's messages."""
        return [
            {"spi": self.spi_bu, "direction": "in", "mode": "transport", "local": ha6,
             "peer": self.hoa, "encryption": "aes-gcm-128", "integrity": "none",
             "key": self.key_bu.hex(), "replay_window": 64},
            {"spi": self.spi_ba, "direction": "out", "mode": "transport", "local": ha6,
             "peer": self.hoa, "encryption": "aes-gcm-128", "integrity": "none",
             "key": self.key_ba.hex()},
        ]

    def attach(self, app):
        self.app = app
        return self

    # ---- where the UE is ----
    def at6(self, coa6):
        """On a foreign IPv6 link with care-of address coa6."""
        self.coa6, self.coa4, self.nat = coa6, None, None
        return self

    def at4(self, coa4, nat=None, port=UDP_PORT):
        """On an IPv4-only link with care-of address coa4 (the IPv4 Care-of Address option);
        nat=(public address, public port): a NAT rewrites the outer source of what the UE
        sends (the HA must answer there); port: the UE's own UDP source port."""
        self.coa6, self.coa4, self.nat, self.port = None, coa4, nat, port
        return self

    def outer4(self):
        """The outer IPv4 source and UDP port the HA sees."""
        return self.nat if self.nat else (self.coa4, self.port)

    # ---- signalling ----
    def eth(self):
        """The Ethernet header towards hadp (a replay, without an appliance: a fixed MAC)."""
        dst = self.app.access.mac_peer if self.app else "02:00:00:00:ee:02"
        return Ether(src=self.mac, dst=dst)

    def frame(self, mh_bytes, esp_on=True, sa=None, hao=None):
        """The frame carrying mh_bytes from where the UE is: ESP transport mode under sa (a
        UE whose SA to use, default this one) unless esp_on is False; from an IPv6 care-of
        address with a Home Address option (hao, default the home address), or in IPv4/UDP
        4191 from the IPv4 care-of address (or the NAT's mapping)."""
        sa = sa or self
        if esp_on:
            sa.esp_seq += 1
            payload, nh = esp.gcm_seal(sa.spi_bu, sa.esp_seq, sa.key_bu, mh_bytes, 135), 50
        else:
            payload, nh = mh_bytes, 135
        if self.coa4 is None:
            pkt = IPv6(src=self.coa6, dst=HA6, nh=60) / \
                IPv6ExtHdrDestOpt(nh=nh, options=[HAO(hoa=hao or self.hoa)]) / Raw(payload)
        else:
            src, sport = self.outer4()
            pkt = IP(src=src, dst=HA4) / UDP(sport=sport, dport=UDP_PORT) / \
                IPv6(src=self.hoa, dst=HA6, nh=nh) / Raw(payload)
        return self.eth() / pkt

    def bu_bytes(self, seq=None, lifetime=450, flags=None, ipv4_hoa=None, ipv4_hoa_plen=32,
                 ipv4_coa="auto", alt_coa=None, extra=()):
        """A BU's octets (mh.bu): seq (default the next), lifetime (units of 4 s), flags
        (default the UE's), ipv4_hoa (an address: the IPv4 Home Address option, RFC 5555
        3.1.1), ipv4_coa ("auto": the IPv4 Care-of Address option on an IPv4 link, RFC 5555
        3.1.3; None: none; an address: that one), alt_coa (RFC 6275 6.2.5), extra options."""
        if seq is None:
            self.seq = (self.seq + 1) & 0xFFFF
            seq = self.seq
        opts = []
        if ipv4_hoa is not None:
            opts.append(mh.opt_ipv4_hoa(ipv4_hoa, ipv4_hoa_plen))
        if ipv4_coa == "auto":
            ipv4_coa = self.coa4
        if ipv4_coa:
            opts.append(mh.opt_ipv4_coa(ipv4_coa))
        if alt_coa:
            opts.append(mh.opt_altcoa(alt_coa))
        opts += list(extra)
        return mh.bu(self.hoa, HA6, seq, lifetime, flags or self.flags, opts)

    def send_bu(self, esp_on=True, sa=None, **kw):
        """Sends a BU (bu_bytes(**kw)); @return its sequence number."""
        b = self.bu_bytes(**kw)
        self.app.access.send(self.frame(b, esp_on, sa))
        return struct.unpack("!H", b[6:8])[0]

    def send_mh(self, mh_bytes, esp_on=True, hao=None):
        self.app.access.send(self.frame(mh_bytes, esp_on, hao=hao))

    def send_bra(self, seq, status=0):
        """A BRA (RFC 5846 6.2) under the UE's SA, from where it is, with its HAO."""
        self.send_mh(mh.bra(self.hoa, HA6, seq, status))

    def read(self, e, to=None):
        """A frame from the HA to this UE (to: the destination address to accept, default
        the UE's care-of address or NAT mapping) read as signalling: a mh.Msg with .where
        (Where) and .checksum_ok, or None (not signalling, not for this UE)."""
        w = Where()
        b = raw(e)[14:]
        if e.type == 0x86DD:
            w.outer, w.outer_src, w.outer_dst = "ipv6", _v6(b[8:24]), _v6(b[24:40])
            want = to or self.coa6
            if w.outer_dst != want:
                return None
            nh, rest = walk_ipv6(b, w)
        elif e.type == 0x0800:
            ihl = (b[0] & 15) * 4
            w.outer, w.outer_src, w.outer_dst = "ipv4", _v4(b[12:16]), _v4(b[16:20])
            want = to or self.outer4()[0]
            if w.outer_dst != want or b[9] != 17:
                return None
            u = b[ihl:]
            w.udp = struct.unpack("!HH", u[:4])
            if w.udp[0] != UDP_PORT or u[8] >> 4 != 6:
                return None
            nh, rest = walk_ipv6(u[8:], w)
        else:
            return None
        if nh == 50:
            spi = struct.unpack("!I", rest[:4])[0]
            if spi != self.spi_ba:
                m = mh.Msg(b"")
                m.errors.append(f"ESP under SPI {spi:#x}, not the UE's {self.spi_ba:#x}")
                m.where, m.frame = w, e
                return m
            spi, seq, rest, nh = esp.gcm_open(rest, self.key_ba)
            w.esp = (spi, seq)
        if nh != 135:
            return None
        m = mh.Msg(bytes(rest))
        m.where, m.frame = w, e
        # RFC 6275 6.1.1: the pseudo-header's source is the HAO's address when there is one,
        # its destination the final one (the RH2's last address)
        final = w.rh2[2][-1] if w.rh2 and w.rh2[2] else w.ip6_dst
        m.checksum_ok = mh.checksum_ok(m.data, w.hao or w.ip6_src, final)
        return m

    def mark(self):
        return self.app.access.mark()

    def wait_msg(self, mh_type, since=0, timeout=20, count=1, to=None, match=None):
        """The first count messages of mh_type the HA sent to this UE from frame index since;
        match(msg) narrows them (e.g. on the sequence number)."""
        def m(e):
            r = self.read(e, to)
            if r is None or r.type != mh_type or (match and not match(r)):
                return None
            return r
        return self.app.access.wait(m, since, timeout, count)

    def wait_ba(self, seq, since=0, timeout=20):
        """The BA for sequence number seq (or, for status 135, any BA), or None."""
        r = self.wait_msg(mh.BA, since, timeout,
                          match=lambda m: m.seq == seq or m.status == 135)
        return r[0] if r else None

    def register(self, since=None, timeout=20, **kw):
        """Sends a BU (send_bu(**kw)) and waits for its BA; @return the BA or None. An
        accepted BA sets what the UE knows: its IPv4 home address, whether its tunnel is
        UDP (the NAT Detection option, RFC 5555 4.1)."""
        since = self.mark() if since is None else since
        seq = self.send_bu(**kw)
        ba = self.wait_ba(seq, since, timeout)
        if ba is not None and ba.status < 128 and getattr(ba, "lifetime", 0):
            ack = ba.ipv4_ack()
            if ack and ack[0] < 128:
                self.hoa4 = ack[2]
            self.udp = self.coa4 is not None and ba.natd() is not None
        return ba

    # ---- user data ----
    def inner(self, marker, v4=False, dst=None):
        if v4:
            return IP(src=self.hoa4, dst=dst or CN4) / UDP(sport=1111, dport=2222) / Raw(marker)
        return IPv6(src=self.hoa, dst=dst or CN6) / UDP(sport=1111, dport=2222) / Raw(marker)

    def send_up(self, marker, v4=False, dst=None):
        """User data from the home address (v4: the IPv4 home address) through the binding's
        tunnel: IPv6 or IPv4 in IPv6 from an IPv6 care-of address (RFC 6275, RFC 5555 4.2),
        in IPv4 from an IPv4 one (RFC 5555 4.3), in IPv4/UDP 4191 behind a NAT or with F."""
        self.app.access.send(self.tunnel(self.inner(marker, v4, dst)))

    def tunnel(self, inner):
        """The frame carrying inner (a scapy packet or an IP packet's octets from the home
        address) through the binding's tunnel from where the UE is."""
        inner = Raw(inner) if isinstance(inner, bytes) else inner
        proto = 4 if raw(inner)[0] >> 4 == 4 else 41
        if self.coa4 is None:
            pkt = IPv6(src=self.coa6, dst=HA6, nh=proto) / inner
        elif self.udp:
            src, sport = self.outer4()
            pkt = IP(src=src, dst=HA4) / UDP(sport=sport, dport=UDP_PORT) / inner
        else:
            pkt = IP(src=self.coa4, dst=HA4, proto=proto) / inner
        return self.eth() / pkt

    def wait_down(self, marker, since=0, timeout=20):
        """The frame carrying marker on the access side, read as a tunnel (Tunnelled), or
        None when it did not come."""
        r = self.app.access.wait(lambda e: Tunnelled(e) if marker in raw(e) else None,
                                 since, timeout)
        return r[0] if r else None


class Tunnelled:
    """A downlink frame read by byte offsets: outer family, source, destination, protocol
    (41, 4 or 17), UDP ports, and the inner packet's family, source, destination, hop limit."""

    def __init__(self, e):
        b = raw(e)[14:]
        self.frame = e
        self.udp = None
        if e.type == 0x86DD:
            self.outer, self.src, self.dst, self.proto = "ipv6", _v6(b[8:24]), _v6(b[24:40]), b[6]
            inner = b[40:]
        else:
            ihl = (b[0] & 15) * 4
            self.outer, self.src, self.dst, self.proto = "ipv4", _v4(b[12:16]), _v4(b[16:20]), b[9]
            inner = b[ihl:]
            if self.proto == 17:
                self.udp = struct.unpack("!HH", inner[:4])
                self.udp_cksum = struct.unpack("!H", inner[6:8])[0]
                inner = inner[8:]
        self.payload = bytes(inner)  # the inner packet's octets
        if inner[0] >> 4 == 6:
            self.inner, self.inner_src, self.inner_dst = "ipv6", _v6(inner[8:24]), _v6(inner[24:40])
            self.inner_hlim = inner[7]
        else:
            self.inner, self.inner_src, self.inner_dst = "ipv4", _v4(inner[12:16]), _v4(inner[16:20])
            self.inner_hlim = inner[8]

    def __repr__(self):
        return f"Tunnelled({self.__dict__})"


class Correspondent:
    """A host in the PDN, on the core side: sends downlink to a home address, receives the
    uplink (decapsulated) there."""

    def __init__(self, app, addr6=CN6, addr4=CN4, mac="02:00:00:00:c0:01"):
        self.app, self.addr6, self.addr4, self.mac = app, addr6, addr4, mac

    def send(self, dst, marker, hlim=64):
        """A UDP packet from the correspondent to dst (an IPv6 or IPv4 home address)."""
        if ":" in dst:
            ip = IPv6(src=self.addr6, dst=dst, hlim=hlim)
        else:
            ip = IP(src=self.addr4, dst=dst, ttl=hlim)
        self.app.core.send(Ether(src=self.mac, dst=self.app.core.mac_peer) / ip /
                           UDP(sport=2222, dport=1111) / Raw(marker))

    def mark(self):
        return self.app.core.mark()

    def wait_up(self, marker, since=0, timeout=20):
        """The frame carrying marker that hadp sent on the core side (scapy Ether), or None."""
        r = self.app.core.wait(lambda e: e if marker in raw(e) else None, since, timeout)
        return r[0] if r else None
