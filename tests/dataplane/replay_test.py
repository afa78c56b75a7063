#!/usr/bin/python3
"""Packet-level tests of hadp: scapy builds every case, hadp forwards them between two net_pcap
ports, scapy reads what came out, and the drop and punt counters must account for every packet.

Each case is a scenario of the specification: the packet, the port it arrives on, and what must
happen (forwarded on the other port and how it must look, dropped with which counter, or punted
with which reason). Every packet carries a unique marker in its payload so the output can be
matched to its case. After the run no mbuf may be in use (leak check).

usage: replay_test.py HADP WORKDIR
"""
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import MAC_ACCESS_NH, MAC_CORE_NH, PDNS, pcap_config, run_hadp  # noqa: E402
from checks import Checks  # noqa: E402
from esp import natt_fix, scapy_gcm_sa  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, ICMP, ICMPv6EchoReply, ICMPv6EchoRequest,  # noqa: E402
                       ICMPv6DestUnreach, ICMPv6PacketTooBig,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, IP, UDP,
                       Ether, IPOption_NOP, IPv6, Raw, defragment,
                       rdpcap, wrpcap, raw)
from scapy.layers.inet6 import IPv6ExtHdrDestOpt, HAO, MIP6MH_BU  # noqa: E402
from scapy.layers.ipsec import ESP  # noqa: E402

HA6, HA4 = "2001:db8:ffff::1", "192.0.2.1"
CN6, CN4 = "2001:db8:9::1", "198.51.100.1"
MAC_ROUTE6 = "02:00:00:00:0c:09"  # dataplane.routes: 2001:db8:9::/48 (CN6) goes there

# Bindings (TS 24.303 5.1.3.2: one per UE per PDN), one per tunnel type.
BINDINGS = [
    # prefix, IPv4 HoA, care-of, UDP port
    ("2001:db8:100:1::/64", "10.45.0.2", "2001:db8:aaaa::2", None),   # IPv6 CoA
    ("2001:db8:100:2::/64", "10.45.0.3", "203.0.113.20", None),       # IPv4 CoA, no NAT
    ("2001:db8:100:3::/64", "10.45.0.4", "203.0.113.30", 40001),      # IPv4 CoA behind NAT
    ("2001:db8:200:7::/64", None, "2001:db8:aaaa::7", None),          # second PDN, no IPv4
]
UE = {i: (b[0].replace("::/64", "::55"), b[1], b[2], b[3]) for i, b in enumerate(BINDINGS)}

# A binding whose payload is protected by ESP tunnel mode (AES-GCM-128), and the transport
# mode SA its Binding Updates arrive under (RFC 4877).
ESP_UE = ("2001:db8:100:8::55", "2001:db8:aaaa::8")
SA_OUT, SA_IN, SA_BU = 0x2008, 0x1008, 0x3008
KEY_OUT = bytes(range(0x20, 0x34))   # 16-octet key + 4-octet salt
KEY_IN = bytes(range(0x40, 0x54))
KEY_BU = bytes(range(0x60, 0x74))

# A UE behind a NAT (RFC 5555 binding over UDP 4191 from port 40009) whose payload SA IKE set up
# across that NAT: its ESP travels in UDP (RFC 3948) between the NAT's port 40500 and 4500.
NAT_UE = ("2001:db8:100:9::55", "203.0.113.40", 40009, 40500)
SA_OUT_N, SA_IN_N = 0x2009, 0x1009
KEY_OUT_N = bytes(range(0x80, 0x94))
KEY_IN_N = bytes(range(0xa0, 0xb4))


def sa(spi, key, src, dst, tunnel=True):
    return scapy_gcm_sa(spi, key, IPv6(src=src, dst=dst) if tunnel else None)


def sa_natt(spi, key, src, dst, sport, dport):
    return scapy_gcm_sa(spi, key, IP(src=src, dst=dst), UDP(sport=sport, dport=dport))


def esp_up_natt(name, src=NAT_UE[1], sport=NAT_UE[3], spi=SA_IN_N, key=KEY_IN_N, seq=1,
                udp=True):
    """The UE behind the NAT: ESP tunnel mode in UDP 4500 (RFC 3948), as the NAT shows it."""
    inner = IPv6(src=NAT_UE[0], dst=CN6, hlim=64) / UDP(sport=9, dport=7) / Raw(marker(name))
    s = sa_natt(spi, key, src, HA4, sport, 4500) if udp else \
        scapy_gcm_sa(spi, key, IP(src=src, dst=HA4))
    s.seq_num = seq
    return eth(natt_fix(s.encrypt(inner)))


def esp_up(name, src=None, inner_src=None, spi=SA_IN, key=KEY_IN, seq=1):
    """What the UE sends: its user packet in ESP tunnel mode from its care-of address."""
    inner = IPv6(src=inner_src or ESP_UE[0], dst=CN6, hlim=64) / UDP(sport=9, dport=7) / \
        Raw(marker(name))
    s = sa(spi, key, src or ESP_UE[1], HA6)
    s.seq_num = seq
    return eth(s.encrypt(inner))

CASES = []


def case(name, port, pkt, expect):
    CASES.append((name, port, pkt, expect))


def marker(name):
    return ("<" + name + ">").encode()


def eth(payload):
    return Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / payload


def down6(ue, name, hlim=64):
    return eth(IPv6(src=CN6, dst=UE[ue][0], hlim=hlim) / UDP(sport=7, dport=9) / Raw(marker(name)))


def down4(ue, name, ttl=64):
    return eth(IP(src=CN4, dst=UE[ue][1], ttl=ttl) / UDP(sport=7, dport=9) / Raw(marker(name)))


def big6(ue, name, length):
    """A downlink IPv6 packet of exactly length octets to the UE's home address."""
    return eth(IPv6(src=CN6, dst=UE[ue][0], hlim=64) / UDP(sport=7, dport=9) /
               Raw(marker(name).ljust(length - 48, b".")))


def big4(ue, name, length, df=True, ident=1):
    return eth(IP(src=CN4, dst=UE[ue][1], ttl=64, id=ident, flags="DF" if df else 0) /
               UDP(sport=7, dport=9) / Raw(marker(name).ljust(length - 28, b".")))


def user6(ue, name):
    return IPv6(src=UE[ue][0], dst=CN6, hlim=64) / UDP(sport=9, dport=7) / Raw(marker(name))


def user4(ue, name):
    return IP(src=UE[ue][1], dst=CN4, ttl=64) / UDP(sport=9, dport=7) / Raw(marker(name))


# ---- checks on forwarded packets ----------------------------------------------------------

def tunnelled_to(ue, inner_ver, outer):
    """Downlink: the user packet inside the binding's tunnel, hop limit / TTL decremented."""
    def check(p):
        coa, port = UE[ue][2], UE[ue][3]
        errs = []
        if p[Ether].dst != MAC_ACCESS_NH:
            errs.append(f"dst MAC {p[Ether].dst}")
        if outer == 6:
            o = p[IPv6]
            if (o.src, o.dst, o.nh) != (HA6, coa, 41 if inner_ver == 6 else 4):
                errs.append(f"outer {o.src}->{o.dst} nh {o.nh}")
            inner = o.payload
        else:
            o = p[IP]
            want_proto = 17 if port else (41 if inner_ver == 6 else 4)
            if (o.src, o.dst, o.proto) != (HA4, coa, want_proto):
                errs.append(f"outer {o.src}->{o.dst} proto {o.proto}")
            if IP(raw(o)).chksum != IP(raw(o)).__class__(raw(o)).chksum:
                errs.append("checksum")
            check_ip = IP(raw(o))
            del check_ip.chksum
            if IP(raw(check_ip)).chksum != o.chksum:
                errs.append("outer IPv4 checksum")
            if o.flags != "DF":
                errs.append(f"flags {o.flags}")
            inner = o.payload
            if port:
                if (inner.sport, inner.dport, inner.len) != (4191, port, len(inner)):
                    errs.append(f"UDP {inner.sport}->{inner.dport} len {inner.len}")
                inner = IPv6(raw(inner.payload)) if inner_ver == 6 else IP(raw(inner.payload))
        if inner_ver == 6:
            inner = IPv6(raw(inner))
            if inner.hlim != 63:
                errs.append(f"inner hop limit {inner.hlim}")
        else:
            inner = IP(raw(inner))
            fixed = IP(raw(inner))
            del fixed.chksum
            if inner.ttl != 63 or IP(raw(fixed)).chksum != inner.chksum:
                errs.append(f"inner TTL {inner.ttl} / checksum")
        return errs
    return check


def decapsulated(ue, inner_ver):
    """Uplink: the user packet alone on the core side, hop limit / TTL decremented."""
    def check(p):
        errs = []
        if p[Ether].dst != (MAC_ROUTE6 if inner_ver == 6 else MAC_CORE_NH):
            errs.append(f"dst MAC {p[Ether].dst} (routes)")
        if inner_ver == 6:
            if p[Ether].type != 0x86DD or p[IPv6].src != UE[ue][0] or p[IPv6].hlim != 63 \
                    or IPv6 in p[IPv6].payload:
                errs.append(f"not the inner IPv6 packet: {p.summary()}")
        else:
            ip = p[IP]
            fixed = IP(raw(ip))
            del fixed.chksum
            if p[Ether].type != 0x0800 or ip.src != UE[ue][1] or ip.ttl != 63 or \
                    IP(raw(fixed)).chksum != ip.chksum:
                errs.append(f"not the inner IPv4 packet: {p.summary()}")
        return errs
    return check


def esp_decapsulated(ue=ESP_UE):
    def check(p):
        if p[Ether].dst != MAC_ROUTE6 or p[IPv6].src != ue[0] or p[IPv6].hlim != 63 or \
                IPv6 in p[IPv6].payload:
            return [f"not the decrypted user packet: {p.summary()}"]
        return []
    return check


def coa4a_of():
    return UE[1][2]


def build_cases():
    # Downlink, TS 24.303 5.1.3.2: "tunnel all packets destined to the IPv6 home address and
    # the IPv4 home address to the UE's care-of address"; RFC 5555 4.1 table of tunnels.
    case("down-6in6", "core", down6(0, "down-6in6"), ("fwd", "access", tunnelled_to(0, 6, 6)))
    case("down-4in6", "core", down4(0, "down-4in6"), ("fwd", "access", tunnelled_to(0, 4, 6)))
    case("down-6in4", "core", down6(1, "down-6in4"), ("fwd", "access", tunnelled_to(1, 6, 4)))
    case("down-4in4", "core", down4(1, "down-4in4"), ("fwd", "access", tunnelled_to(1, 4, 4)))
    case("down-6-udp", "core", down6(2, "down-6-udp"), ("fwd", "access", tunnelled_to(2, 6, 4)))
    case("down-4-udp", "core", down4(2, "down-4-udp"), ("fwd", "access", tunnelled_to(2, 4, 4)))
    case("down-pdn2", "core", down6(3, "down-pdn2"), ("fwd", "access", tunnelled_to(3, 6, 6)))
    case("down-miss", "core",
         eth(IPv6(src=CN6, dst="2001:db8:100:99::1") / UDP() / Raw(marker("down-miss"))),
         ("drop", "drop-no-binding"))
    case("down-miss4", "core",
         eth(IP(src=CN4, dst="10.45.9.9") / UDP() / Raw(marker("down-miss4"))),
         ("drop", "drop-no-binding"))
    case("down-hlim", "core", down6(0, "down-hlim", hlim=1), ("drop", "drop-hop-limit-exceeded"))
    case("down-ttl", "core", down4(0, "down-ttl", ttl=1), ("drop", "drop-hop-limit-exceeded"))

    # Uplink: decapsulation of each tunnel, RFC 5555 4.1 / TS 24.303 5.1.3.2.
    coa6, coa4a, coa4b = UE[0][2], UE[1][2], UE[2][2]
    case("up-6in6", "access", eth(IPv6(src=coa6, dst=HA6) / user6(0, "up-6in6")),
         ("fwd", "core", decapsulated(0, 6)))
    case("up-4in6", "access", eth(IPv6(src=coa6, dst=HA6) / user4(0, "up-4in6")),
         ("fwd", "core", decapsulated(0, 4)))
    case("up-6in4", "access", eth(IP(src=coa4a, dst=HA4) / user6(1, "up-6in4")),
         ("fwd", "core", decapsulated(1, 6)))
    case("up-4in4", "access", eth(IP(src=coa4a, dst=HA4) / user4(1, "up-4in4")),
         ("fwd", "core", decapsulated(1, 4)))
    case("up-6-udp", "access",
         eth(IP(src=coa4b, dst=HA4) / UDP(sport=40001, dport=4191) / user6(2, "up-6-udp")),
         ("fwd", "core", decapsulated(2, 6)))
    case("up-4-udp", "access",
         eth(IP(src=coa4b, dst=HA4) / UDP(sport=40001, dport=4191) / user4(2, "up-4-udp")),
         ("fwd", "core", decapsulated(2, 4)))
    # ... also with a UDP checksum, which only the full classifier verifies
    p = eth(IP(src=coa4b, dst=HA4) / UDP(sport=40001, dport=4191) / user6(2, "up-udp-csum"))
    case("up-udp-csum", "access", p, ("fwd", "core", decapsulated(2, 6)))

    # Anti-spoofing (issue 3; RFC 5555 4.1, TS 33.402 rationale): everything else is dropped
    # and counted by reason.
    case("spoof-outer6", "access",
         eth(IPv6(src="2001:db8:aaaa::66", dst=HA6) / user6(0, "spoof-outer6")),
         ("drop", "drop-outer-source-not-care-of"))
    case("spoof-outer4", "access", eth(IP(src="203.0.113.99", dst=HA4) / user4(1, "spoof-outer4")),
         ("drop", "drop-outer-source-not-care-of"))
    case("spoof-port", "access",
         eth(IP(src=coa4b, dst=HA4) / UDP(sport=40002, dport=4191) / user6(2, "spoof-port")),
         ("drop", "drop-udp-port-not-binding"))
    case("spoof-tunnel", "access",
         eth(IP(src=coa4b, dst=HA4) / user6(2, "spoof-tunnel")),
         ("drop", "drop-tunnel-type-not-binding"))
    case("spoof-inner", "access",
         eth(IPv6(src=coa6, dst=HA6) / IPv6(src="2001:db8:100:77::5", dst=CN6) / UDP() /
             Raw(marker("spoof-inner"))),
         ("drop", "drop-inner-source-not-home"))
    case("spoof-other-ue", "access",
         eth(IPv6(src=coa6, dst=HA6) / user6(3, "spoof-other-ue")),
         ("drop", "drop-outer-source-not-care-of"))
    # the same rules for IPv4 user packets (the IPv4 home address is the key, RFC 5555 4.1)
    case("spoof-inner4", "access",
         eth(IP(src=coa4a, dst=HA4) / IP(src="10.45.0.99", dst=CN4) / UDP() /
             Raw(marker("spoof-inner4"))),
         ("drop", "drop-inner-source-not-home"))
    case("spoof-other-ue4", "access", eth(IP(src=coa4a, dst=HA4) / user4(0, "spoof-other-ue4")),
         ("drop", "drop-tunnel-type-not-binding"))
    case("spoof-other-ue4-udp", "access",
         eth(IP(src=coa4a, dst=HA4) / UDP(sport=40001, dport=4191) / user4(2, "spoof-other-ue4-udp")),
         ("drop", "drop-outer-source-not-care-of"))
    case("spoof-tunnel-udp", "access",
         eth(IP(src=coa4a, dst=HA4) / UDP(sport=40001, dport=4191) / user4(1, "spoof-tunnel-udp")),
         ("drop", "drop-tunnel-type-not-binding"))
    case("not-tunnelled", "access", eth(user6(0, "not-tunnelled")),
         ("drop", "drop-access-not-tunnelled"))
    # dataplane.routes has no IPv6 route but 2001:db8:9::/48
    case("no-route", "access",
         eth(IPv6(src=coa6, dst=HA6) / IPv6(src=UE[0][0], dst="2001:db8:77::1") / UDP() /
             Raw(marker("no-route"))), ("drop", "drop-no-route"))

    # Signalling and what the HA answers itself go to the control plane, with metadata.
    bu = IPv6(src=coa6, dst=HA6) / IPv6ExtHdrDestOpt(options=[HAO(hoa=UE[0][0])]) / \
        MIP6MH_BU(seq=1, flags=0b1101000, mhtime=10)
    case("punt-bu", "access", eth(bu), ("punt", "mobility-header"))
    case("punt-bu-udp", "access",
         eth(IP(src=coa4b, dst=HA4) / UDP(sport=40001, dport=4191) /
             IPv6(src=UE[2][0], dst=HA6) / MIP6MH_BU(seq=1, mhtime=10)),
         ("punt", "mobility-header-udp"))
    case("punt-ike", "access", eth(IP(src=coa4a, dst=HA4) / UDP(sport=500, dport=500) /
                                   Raw(b"\x00" * 28 + marker("punt-ike"))), ("punt", "ike"))
    case("punt-ike-natt", "access", eth(IP(src=coa4b, dst=HA4) / UDP(sport=4500, dport=4500) /
                                        Raw(b"\x00" * 32 + marker("punt-ike-natt"))),
         ("punt", "ike"))
    case("punt-ns", "core", Ether(src="02:00:00:00:0c:01") /
         IPv6(src="fe80::1", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=HA6),
         ("punt", "neighbour-discovery"))
    # RFC 826 / RFC 4861 7.2.4: the dataplane answers these itself (checked below)
    case("punt-arp", "core", Ether(src="02:00:00:00:0c:01", dst="ff:ff:ff:ff:ff:ff") /
         ARP(hwsrc="02:00:00:00:0c:01", psrc="198.51.100.254", pdst=HA4), ("punt", "arp"))
    case("arp-other", "core", Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="192.0.2.99"),
         ("punt", "arp"))
    # RFC 4443 4.2, RFC 1122 3.2.2.6: echo requests to the HA's addresses, answered by the
    # dataplane (checked below); one with a bad checksum is not answered (RFC 4443 2.4)
    case("echo6-core", "core", Ether(src=MAC_CORE_NH, dst="02:00:00:00:ee:02") /
         IPv6(src=CN6, dst=HA6) / ICMPv6EchoRequest(id=7, seq=1, data=marker("echo6-core")),
         ("punt", "echo"))
    case("echo4-access", "access", Ether(src=MAC_ACCESS_NH, dst="02:00:00:00:ee:02") /
         IP(src=coa4a, dst=HA4) / ICMP(type=8, id=9, seq=2) / Raw(marker("echo4-access")),
         ("punt", "echo"))
    case("echo6-bad-checksum", "access", eth(IPv6(src=coa6, dst=HA6) /
         ICMPv6EchoRequest(id=1, seq=1, cksum=0x1234, data=marker("echo6-bad-checksum"))),
         ("punt", "echo"))

    # The access link's MTU (ports.access.mtu, 1500 here): a downlink packet whose tunnel
    # would exceed it is not sent; the source is told what fits (RFC 2473 7.1, RFC 4443 3.2,
    # RFC 1191 4), checked below. IPv4 without DF is dropped, not fragmented.
    case("mtu-fits6", "core", big6(0, "mtu-fits6", 1460), ("fwd", "access", tunnelled_to(0, 6, 6)))
    case("too-big6", "core", big6(0, "too-big6", 1461), ("punt", "too-big"))
    case("too-big6-udp", "core", big6(2, "too-big6-udp", 1473), ("punt", "too-big"))
    case("mtu-fits4", "core", big4(1, "mtu-fits4", 1480), ("fwd", "access", tunnelled_to(1, 4, 4)))
    case("too-big4-df", "core", big4(1, "too-big4-df", 1481), ("punt", "too-big"))
    # RFC 791 2.3 / 3.2: without DF the packet is cut to fit the tunnel, each fragment tunnelled
    case("frag4", "core", big4(1, "frag4", 1481, df=False, ident=0x4242),
         ("frag", "access", 1, 0x4242, 2))
    case("frag4-udp", "core", big4(2, "frag4-udp", 1500, df=False, ident=0x4343),
         ("frag", "access", 2, 0x4343, 2))
    bad_opt = eth(IP(src=CN4, dst=UE[1][1], ttl=64, flags=0, options=[IPOption_NOP()] * 4) /
                  UDP(sport=7, dport=9) / Raw(marker("too-big4-options").ljust(1481 - 32, b".")))
    case("too-big4-options", "core", bad_opt, ("drop", "drop-too-big"))
    # RFC 4443 2.4(e): no error about an error
    case("too-big6-about-an-error", "core",
         eth(IPv6(src=CN6, dst=UE[0][0], hlim=64) / ICMPv6DestUnreach() /
             Raw(marker("too-big6-about-an-error").ljust(1461 - 48, b"."))), ("drop", "drop-too-big"))
    # ESP (AES-GCM, 4-octet alignment): 40 + 8 + 8 + (1426 + 2) + 16 = 1500 just fits
    case("mtu-fits6-esp", "core",
         eth(IPv6(src=CN6, dst=ESP_UE[0], hlim=64) / UDP(sport=7, dport=9) /
             Raw(marker("mtu-fits6-esp").ljust(1426 - 48, b"."))),
         ("fwd-esp", "access", SA_OUT, KEY_OUT))
    case("too-big6-esp", "core",
         eth(IPv6(src=CN6, dst=ESP_UE[0], hlim=64) / UDP(sport=7, dport=9) /
             Raw(marker("too-big6-esp").ljust(1427 - 48, b"."))), ("punt", "too-big"))

    # Payload ESP (issue 3; RFC 4303 tunnel mode, RFC 4106 AES-GCM): scapy is the UE.
    case("down-esp", "core",
         eth(IPv6(src=CN6, dst=ESP_UE[0], hlim=64) / UDP(sport=7, dport=9) /
             Raw(marker("down-esp"))), ("fwd-esp", "access", SA_OUT, KEY_OUT))
    case("up-esp", "access", esp_up("up-esp", seq=1), ("fwd", "core", esp_decapsulated()))
    case("up-esp-replay", "access", esp_up("up-esp", seq=1),
         ("drop", "drop-esp", None, "esp-replay-duplicate"))
    case("up-esp-wrong-coa", "access", esp_up("up-esp-wrong-coa", src="2001:db8:aaaa::66", seq=2),
         ("drop", "drop-outer-source-not-care-of"))
    case("up-esp-unknown-spi", "access", esp_up("up-esp-unknown-spi", spi=0x9999, seq=3),
         ("drop", "drop-esp-unknown-spi"))
    case("up-esp-other-ue", "access", esp_up("up-esp-other-ue", inner_src=UE[0][0], seq=4),
         ("drop", "drop-sa-not-binding"))
    tampered = esp_up("up-esp-tampered", seq=5)
    raw_t = bytearray(raw(tampered))
    raw_t[-20] ^= 0x01
    case("up-esp-tampered", "access", Ether(bytes(raw_t)),
         ("drop", "drop-esp", None, "esp-icv-mismatch"))
    case("up-clear-for-esp", "access",
         eth(IPv6(src=ESP_UE[1], dst=HA6) / IPv6(src=ESP_UE[0], dst=CN6) / UDP() /
             Raw(marker("up-clear-for-esp"))), ("drop", "drop-cleartext-for-esp-binding"))
    # RFC 3948 across the NAT (issue 5: IKE found a NAT, so its payload SA is ESP-in-UDP):
    # downlink in UDP 4500 to the NAT's port for the SA, uplink taken only in UDP from that port
    case("down-esp-natt", "core",
         eth(IPv6(src=CN6, dst=NAT_UE[0], hlim=64) / UDP(sport=7, dport=9) /
             Raw(marker("down-esp-natt"))), ("fwd-esp", "access", SA_OUT_N, KEY_OUT_N, NAT_UE))
    case("up-esp-natt", "access", esp_up_natt("up-esp-natt", seq=1),
         ("fwd", "core", esp_decapsulated(NAT_UE)))
    case("up-esp-natt-wrong-port", "access",
         esp_up_natt("up-esp-natt-wrong-port", sport=40501, seq=2), ("drop", "drop-esp-encapsulation-not-sa"))
    case("up-esp-natt-not-udp", "access", esp_up_natt("up-esp-natt-not-udp", udp=False, seq=3),
         ("drop", "drop-esp-encapsulation-not-sa"))
    case("up-esp-natt-wrong-address", "access",
         esp_up_natt("up-esp-natt-wrong-address", src="203.0.113.41", seq=4),
         ("drop", "drop-outer-source-not-care-of"))
    s = sa_natt(SA_IN, KEY_IN, "203.0.113.40", HA4, NAT_UE[3], 4500)  # a plain SA's SPI in UDP
    s.seq_num = 9
    case("up-esp-udp-plain-sa", "access",
         eth(natt_fix(s.encrypt(IPv6(src=ESP_UE[0], dst=CN6) / UDP() /
                                Raw(marker("up-esp-udp-plain-sa"))))),
         ("drop", "drop-esp-encapsulation-not-sa"))
    # RFC 4877: a BU in ESP transport mode is verified, then punted with the SPI
    bu_sa = sa(SA_BU, KEY_BU, None, None, tunnel=False)
    case("punt-bu-esp", "access",
         eth(bu_sa.encrypt(IPv6(src=ESP_UE[1], dst=HA6) / MIP6MH_BU(seq=9, mhtime=10))),
         ("punt", "mobility-header-esp"))

    # Malformed input: counted by its decode error, never forwarded.
    bad = eth(IP(src=coa4a, dst=HA4) / user4(1, "bad-ipv4-csum"))
    bad[IP].chksum = 0x1234
    case("bad-ipv4-csum", "access", bad, ("drop", "drop-malformed", "pkt-bad-ipv4-checksum"))
    trunc = raw(eth(IPv6(src=coa6, dst=HA6) / user6(0, "bad-trunc")))
    case("bad-trunc", "access", Ether(trunc[:70]), ("drop", "drop-malformed", "pkt-truncated"))
    case("bad-version", "core", Ether(type=0x86DD) / Raw(b"\x50" + b"\x00" * 60),
         ("drop", "drop-malformed", "pkt-bad-ip-version"))
    case("bad-udp-len", "access",
         eth(IP(src=coa4b, dst=HA4) / UDP(sport=40001, dport=4191, len=500) /
             user6(2, "bad-udp-len")), ("drop", "drop-malformed", "pkt-bad-udp-length"))


def config(work):
    b = []
    for prefix, hoa4, coa, port in BINDINGS:
        pdn = "ims" if prefix.startswith("2001:db8:200") else "internet"
        b.append(f"  - pdn: {pdn}\n    home_prefix: {prefix}\n    care_of: {coa}\n" +
                 (f"    ipv4_home_address: {hoa4}\n" if hoa4 else "") +
                 (f"    udp_port: {port}\n" if port else ""))
    return pcap_config(
        work, "hadp-replay", tables="{ max_bindings: 1024, max_sas: 64, max_routes: 16 }",
        dataplane_extra=f"""  routes:
    - {{ prefix: "2001:db8:9::/48", next_hop_mac: "{MAC_ROUTE6}" }}
    - {{ prefix: "0.0.0.0/0", next_hop_mac: "{MAC_CORE_NH}" }}
""", pdns=PDNS, rest=f"""static_sas:
  - {{ spi: {SA_OUT}, direction: out, mode: tunnel, local: {HA6}, peer: "{ESP_UE[1]}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_OUT.hex()}" }}
  - {{ spi: {SA_IN}, direction: in, mode: tunnel, local: {HA6}, peer: "{ESP_UE[1]}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_IN.hex()}", replay_window: 64 }}
  - {{ spi: {SA_OUT_N}, direction: out, mode: tunnel, local: {HA4}, peer: "{NAT_UE[1]}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_OUT_N.hex()}",
      udp_encap_port: {NAT_UE[3]} }}
  - {{ spi: {SA_IN_N}, direction: in, mode: tunnel, local: {HA4}, peer: "{NAT_UE[1]}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_IN_N.hex()}", replay_window: 64,
      udp_encap_port: {NAT_UE[3]} }}
  - {{ spi: {SA_BU}, direction: in, mode: transport, local: {HA6}, peer: "{ESP_UE[1]}",
      encryption: aes-gcm-128, integrity: none, key: "{KEY_BU.hex()}" }}
static_bindings:
  - pdn: internet
    home_prefix: 2001:db8:100:8::/64
    care_of: "{ESP_UE[1]}"
    sa_in: {SA_IN}
    sa_out: {SA_OUT}
  - pdn: internet
    home_prefix: 2001:db8:100:9::/64
    care_of: "{NAT_UE[1]}"
    udp_port: {NAT_UE[2]}
    sa_in: {SA_IN_N}
    sa_out: {SA_OUT_N}
""" + "".join(b))


def main():
    hadp, work = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    build_cases()
    for port in ("access", "core"):
        wrpcap(f"{work}/{port}_in.pcap", [c[2] for c in CASES if c[1] == port])
    rc, err, stats = run_hadp(hadp, work, config(work), exit_idle_ms=500, max_seconds=60)
    if rc != 0:
        print(f"FAIL: hadp exited {rc}: {err}")
        return 1
    out = {port: rdpcap(f"{work}/{port}_out.pcap") for port in ("access", "core")}

    check = Checks()
    want_counters, want_errors, want_punt, want_esp = {}, {}, {}, {}
    for name, port, pkt, expect in CASES:
        errs = []
        found = [(p_port, p) for p_port, pkts in out.items() for p in pkts
                 if marker(name) in raw(p)]
        if expect[0] == "fwd-esp":
            want_counters["downlink-encapsulated"] = want_counters.get("downlink-encapsulated", 0) + 1
            natt = len(expect) > 4
            ue = expect[4] if natt else ESP_UE
            enc = [p for p in out["access"] if ESP in p and p[ESP].spi == expect[2]]
            got = None
            for p in enc:
                try:  # scapy's decrypt rewrites the packet it is given: hand it a copy
                    if natt:
                        d = sa_natt(expect[2], expect[3], HA4, ue[1], 4500, ue[3]).decrypt(
                            p[IP].copy())
                    else:
                        d = sa(expect[2], expect[3], HA6, ESP_UE[1]).decrypt(p[IPv6].copy())
                except Exception:  # noqa: BLE001 - not this packet
                    continue
                if marker(name) in raw(d):
                    got = (p, d)
            if not got:
                errs.append(f"no ESP packet under SPI {expect[2]:#x} that scapy decrypts to it")
            elif natt:
                p, d = got
                o = IP(raw(p[IP]))
                fixed = IP(raw(o))
                del fixed.chksum
                if (o.src, o.dst, o.proto) != (HA4, ue[1], 17) or \
                        IP(raw(fixed)).chksum != o.chksum:
                    errs.append(f"outer {o.src} -> {o.dst} proto {o.proto} checksum {o.chksum}")
                u = o[UDP]
                if (u.sport, u.dport, u.len, u.chksum) != (4500, ue[3], len(o) - 20, 0):
                    errs.append(f"UDP {u.sport} -> {u.dport} len {u.len} checksum {u.chksum} "
                                "(RFC 3948: 4500 to the NAT's port, checksum zero)")
                if d[IPv6].hlim != 63 or d[IPv6].dst != ue[0]:
                    errs.append(f"inner {d.summary()} hop limit {d[IPv6].hlim}")
            else:
                p, d = got
                if p[IPv6].src != HA6 or p[IPv6].dst != ESP_UE[1] or p[IPv6].nh != 50:
                    errs.append(f"outer {p[IPv6].src} -> {p[IPv6].dst} nh {p[IPv6].nh}")
                if d[IPv6].hlim != 63 or d[IPv6].dst != ESP_UE[0]:
                    errs.append(f"inner {d.summary()} hop limit {d[IPv6].hlim}")
            check(not errs, f"{name}: " + "; ".join(errs))
            continue
        if expect[0] == "frag":
            # the fragments, each in the binding's tunnel, put back together by scapy
            _, oport, ue, ident, nfrags = expect
            want_counters["downlink-encapsulated"] = want_counters.get("downlink-encapsulated", 0) + nfrags
            want_counters["ipv4-fragmented"] = want_counters.get("ipv4-fragmented", 0) + 1
            frags = []
            for p in out[oport]:
                if IP not in p or p[IP].dst != UE[ue][2]:
                    continue
                inner = p[IP].payload
                if UE[ue][3]:
                    inner = inner.payload  # after UDP 4191
                inner = IP(raw(inner))
                if inner.id == ident and inner.src == CN4:
                    frags.append((p, inner))
            if len(frags) != nfrags:
                errs.append(f"{len(frags)} fragments, want {nfrags}")
            else:
                for p, f in frags:
                    if len(p[IP]) > 1500 or f.ttl != 63:
                        errs.append(f"fragment of {len(p[IP])} octets in its tunnel, TTL {f.ttl}")
                    chk = IP(raw(f))
                    del chk.chksum
                    if IP(raw(chk)).chksum != f.chksum:
                        errs.append("fragment header checksum")
                whole = defragment([f for _, f in frags])
                orig = pkt[IP].copy()
                orig.ttl = 63
                del orig.chksum
                if len(whole) != 1 or raw(whole[0][IP].payload) != raw(IP(raw(orig)).payload):
                    errs.append("reassembled, the fragments are not the packet")
            check(not errs, f"{name}: " + "; ".join(errs))
            continue
        if expect[0] == "fwd":
            want_counters[{"access": "downlink-encapsulated", "core": "uplink-decapsulated"}[expect[1]]] = \
                want_counters.get({"access": "downlink-encapsulated", "core": "uplink-decapsulated"}[expect[1]], 0) + 1
            if len(found) != 1 or found[0][0] != expect[1]:
                errs.append(f"expected once on {expect[1]}, found {[f[0] for f in found]}")
            else:
                errs += expect[2](found[0][1])
        else:
            if found:
                errs.append(f"{expect[0]} case came out on {[f[0] for f in found]}")
            if expect[0] == "drop":
                want_counters[expect[1]] = want_counters.get(expect[1], 0) + 1
                if len(expect) > 2 and expect[2]:
                    want_errors[expect[2]] = want_errors.get(expect[2], 0) + 1
                if len(expect) > 3:
                    want_esp[expect[3]] = want_esp.get(expect[3], 0) + 1
            else:
                want_punt[expect[1]] = want_punt.get(expect[1], 0) + 1
        check(not errs, f"{name}: " + "; ".join(errs))

    # the dataplane's own answers, on the control thread's queue of the core port
    answers = rdpcap(f"{work}/core_ctl.pcap")
    arp = [p for p in answers if ARP in p]
    na = [p for p in answers if ICMPv6ND_NA in p]
    ok = len(arp) == 1 and arp[0][ARP].op == 2 and arp[0][ARP].psrc == HA4 and \
        arp[0][ARP].pdst == "198.51.100.254" and arp[0][ARP].hwdst == "02:00:00:00:0c:01" and \
        arp[0][Ether].dst == "02:00:00:00:0c:01"
    if len(na) == 1:
        n = na[0]
        chk = IPv6(raw(n[IPv6]))
        del chk[ICMPv6ND_NA].cksum
        ok = ok and n[ICMPv6ND_NA].tgt == HA6 and n[ICMPv6ND_NA].S == 1 and \
            n[IPv6].dst == "fe80::1" and n[IPv6].src == HA6 and n[IPv6].hlim == 255 and \
            ICMPv6NDOptDstLLAddr in n and \
            IPv6(raw(chk))[ICMPv6ND_NA].cksum == n[ICMPv6ND_NA].cksum
    else:
        ok = False
    check(ok, f"ARP/NA answers: {[p.summary() for p in answers]}")

    # echo replies: from the address asked, to the sender's link-layer address, data back
    ok = True
    r6 = [p for p in answers if ICMPv6EchoReply in p]
    if len(r6) == 1:
        r = r6[0]
        chk = IPv6(raw(r[IPv6]))
        del chk[ICMPv6EchoReply].cksum
        ok = r[IPv6].src == HA6 and r[IPv6].dst == CN6 and r[Ether].dst == MAC_CORE_NH and \
            (r[ICMPv6EchoReply].id, r[ICMPv6EchoReply].seq) == (7, 1) and \
            r[ICMPv6EchoReply].data == marker("echo6-core") and \
            IPv6(raw(chk))[ICMPv6EchoReply].cksum == r[ICMPv6EchoReply].cksum
    else:
        ok = False
    r4 = [p for p in rdpcap(f"{work}/access_ctl.pcap") if ICMP in p and p[ICMP].type == 0]
    if len(r4) == 1:
        r = r4[0]
        chk = IP(raw(r[IP]))
        del chk.chksum
        del chk[ICMP].chksum
        chk = IP(raw(chk))
        ok = ok and r[IP].src == HA4 and r[IP].dst == coa4a_of() and \
            r[Ether].dst == MAC_ACCESS_NH and (r[ICMP].id, r[ICMP].seq) == (9, 2) and \
            marker("echo4-access") in raw(r[ICMP].payload) and \
            chk.chksum == r[IP].chksum and chk[ICMP].chksum == r[ICMP].chksum
    else:
        ok = False
    check(ok, f"echo replies: {[p.summary() for p in r6 + r4]}")

    # Packet Too Big / Fragmentation Needed: from the HA to the source, the MTU left inside
    # the tunnel, as much of the packet as fits 1280 / 576 octets, routed to the source (the
    # IPv6 route to 2001:db8:9::/48, the IPv4 default route)
    want6 = {"too-big6": 1460, "too-big6-udp": 1472, "too-big6-esp": 1426}
    for name, mtu in want6.items():
        p = next((q for q in answers if ICMPv6PacketTooBig in q and
                  marker(name) in raw(q[ICMPv6PacketTooBig].payload)), None)
        errs = []
        if p is None:
            errs.append("no Packet Too Big")
        else:
            chk = IPv6(raw(p[IPv6]))
            del chk[ICMPv6PacketTooBig].cksum
            if (p[IPv6].src, p[IPv6].dst, p[Ether].dst) != (HA6, CN6, MAC_ROUTE6):
                errs.append(f"{p[IPv6].src} -> {p[IPv6].dst} to {p[Ether].dst}")
            if p[ICMPv6PacketTooBig].mtu != mtu:
                errs.append(f"MTU {p[ICMPv6PacketTooBig].mtu}, want {mtu}")
            if len(p[IPv6]) != 1280:
                errs.append(f"{len(p[IPv6])} octets, want 1280 (as much as fits)")
            if IPv6(raw(chk))[ICMPv6PacketTooBig].cksum != p[ICMPv6PacketTooBig].cksum:
                errs.append("checksum")
        check(not errs, f"{name}: " + "; ".join(errs))
    fn = [q for q in answers if ICMP in q and q[ICMP].type == 3]
    errs = []
    if len(fn) != 1:
        errs.append(f"{len(fn)} Fragmentation Needed, want 1")
    else:
        p = fn[0]
        chk = IP(raw(p[IP]))
        del chk.chksum
        del chk[ICMP].chksum
        chk = IP(raw(chk))
        if (p[IP].src, p[IP].dst, p[ICMP].code, p[ICMP].nexthopmtu, p[Ether].dst) != \
                (HA4, CN4, 4, 1480, MAC_CORE_NH):
            errs.append(f"{p[IP].src} -> {p[IP].dst} code {p[ICMP].code} MTU {p[ICMP].nexthopmtu}"
                        f" to {p[Ether].dst}")
        if len(p[IP]) != 576 or marker("too-big4-df") not in raw(p[ICMP].payload):
            errs.append(f"{len(p[IP])} octets, want 576 with the packet's start")
        if chk.chksum != p[IP].chksum or chk[ICMP].chksum != p[ICMP].chksum:
            errs.append("checksums")
    check(not errs, "too-big4-df: " + "; ".join(errs))

    # every packet is accounted for by exactly the expected counters
    c = stats["counters"]
    checks = [("rx-access", sum(1 for x in CASES if x[1] == "access")),
              ("rx-core", sum(1 for x in CASES if x[1] == "core")),
              ("punted", sum(want_punt.values()))]
    # the ARP request for another address, the echo request with a bad checksum
    want_counters["drop-not-for-home-agent"] = 2
    checks += [("arp-replies", 1), ("neighbour-advertisements", 1), ("echo-replies", 2),
               ("icmp-too-big-sent", 4),
               # the other UE's was decrypted, and so was the one from a wrong care-of address:
               # the outer source is checked against the binding the inner source names
               # ... and across the NAT: the right one and the one from the wrong address
               ("esp-decrypted", 6), ("esp-encrypted", 3)]
    checks += [(k, v) for k, v in want_counters.items()]
    checks += [(k, 0) for k in c if k.startswith("drop-") and k not in want_counters]
    for k, v in checks:
        check(c.get(k) == v, f"counter {k}: {c.get(k)}, expected {v}")
    check(stats["decode_errors"] == want_errors,
          f"decode errors {stats['decode_errors']}, expected {want_errors}")
    check(stats["esp_errors"] == want_esp, f"ESP errors {stats['esp_errors']}, expected {want_esp}")
    check({k: v for k, v in stats["punt"].items() if v} == want_punt,
          f"punt reasons {stats['punt']}, expected {want_punt}")
    check(stats["mbufs_in_use"] == 0,
          f"mbuf leak: {stats['mbufs_in_use']} mbufs still in use after shutdown")
    check(not any(f.startswith(f"hadp-replay-{os.getpid()}map_") for f in os.listdir("/dev/hugepages")),
          "hugepage files left behind")
    return check.summary("hadp replay")


if __name__ == "__main__":
    sys.exit(main())
