#!/usr/bin/python3
"""Our parser against packets built by scapy (an independent builder with its own checksum,
padding and HAO/RH2 rules): scapy writes the pcap, ha-decode reads it, and every field scapy put
in must come out of ha-decode's JSON; malformed packets must come out as the right error and
the Home Agent action of RFC 6275 9.2.

usage: scapy_check.py HA_DECODE WORKDIR
"""
import json
import logging
import os
import subprocess
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, UDP, IPv6, wrpcap, raw  # noqa: E402
from scapy.layers.inet6 import (HAO, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,  # noqa: E402
                                MIP6MH_BA, MIP6MH_BE, MIP6MH_BRR, MIP6MH_BU,
                                MIP6MH_Generic, MIP6MH_HoTI, MIP6OptAltCoA,
                                MIP6OptBindingAuthData, MIP6OptBRAdvice, MIP6OptMNID,
                                MIP6OptMobNetPrefix, MIP6OptNonceIndices, PadN)

HA6, HOA6, COA6 = "2001:db8:1::1", "2001:db8:1::200", "2001:db8:ff::100"
HA4, NAT4 = "192.0.2.1", "203.0.113.9"


def ipv4_opts(*opts):
    """RFC 5555 options (scapy has none): raw TLVs, each 4n aligned by the caller."""
    return b"".join(opts)


def opt_ipv4_hoa(prefix_len, p, addr):
    return bytes([29, 6, prefix_len << 2 | (2 if p else 0), 0]) + bytes(map(int, addr.split(".")))


def opt_ipv4_coa(addr):
    return bytes([32, 6, 0, 0]) + bytes(map(int, addr.split(".")))


def bu_with_raw_options(seq, flags_word, lifetime, opts):
    """A BU whose options scapy does not know: scapy still builds the header and checksum."""
    body = MIP6MH_BU(seq=seq, flags=0, mhtime=lifetime)
    b = bytearray(raw(body)[:12])  # header + seq/flags/lifetime, before scapy's own padding
    b[8] = flags_word >> 8
    b[9] = flags_word & 0xFF
    b += opts
    while len(b) % 8:
        b += b"\0"
    b[1] = len(b) // 8 - 1
    mh = MIP6MH_Generic(bytes(b))
    mh.cksum = None  # scapy computes it over the IPv6 header it is placed under
    return mh


CASES = []


def case(name, pkt, expect=None, error=None):
    CASES.append((name, pkt, expect or {}, error))


def main():
    decode, work = sys.argv[1:3]
    os.makedirs(work, exist_ok=True)

    # RFC 6275 6.1.7 + 6.3: BU from a foreign link, HAO, scapy-padded options
    case("bu-hao-altcoa-bra-nonce",
         IPv6(src=COA6, dst=HA6) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA6)]) /
         # scapy's BU flags are 7 bits: A H L K M R P
         MIP6MH_BU(seq=77, flags=0b1101000, mhtime=450,
                   options=[MIP6OptAltCoA(acoa=COA6), MIP6OptBRAdvice(rinter=30),
                            # scapy defaults the Nonce Indices length to 16
                            MIP6OptNonceIndices(olen=4, hni=1, coni=2)]),
         {"outer.home_address_option": HOA6, "mh.name": "binding-update", "mh.sequence": 77,
          "mh.lifetime": 450, "mh.flags": ["A", "H", "K"],
          "opt.alternate-care-of-address.address": COA6,
          "opt.binding-refresh-advice.refresh_interval": 30,
          "opt.nonce-indices.care_of_nonce_index": 2})
    # RFC 3963 MNP, RFC 4283 NAI, RFC 6275 6.2.7 authorization data last
    case("bu-mnp-nai-auth",
         IPv6(src=COA6, dst=HA6) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA6)]) /
         MIP6MH_BU(seq=78, mhtime=10,
                   options=[MIP6OptMobNetPrefix(plen=48, prefix="2001:db8:700::"),
                            MIP6OptMNID(id="ue1@nai.epc.test"),
                            MIP6OptBindingAuthData(olen=12, authenticator=int.from_bytes(b"0123456789ab", "big"))]),
         {"opt.mobile-network-prefix.prefix": "2001:db8:700::",
          "opt.mobile-network-prefix.prefix_length": 48,
          "opt.mobile-node-identifier.identifier": "ue1@nai.epc.test",
          "opt.binding-authorization-data.authenticator": b"0123456789ab".hex()})
    # RFC 6275 6.4: BA to the care-of address with a type 2 routing header
    case("ba-rh2",
         IPv6(src=HA6, dst=COA6) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA6]) /
         MIP6MH_BA(status=0, flags=0b100, seq=77, mhtime=450),  # scapy: 3 bits K R P
         {"outer.routing_header_type2.home_address": HOA6, "mh.status": 0, "mh.sequence": 77,
          "mh.flags": ["K"], "mh.lifetime_s": 1800})
    # RFC 5555 4.1: BU in UDP 4191 over IPv4 with the IPv4 HoA and CoA options (4n aligned)
    case("bu-udp4191",
         IP(src=NAT4, dst=HA4) / UDP(sport=40001, dport=4191) / IPv6(src=HOA6, dst=HA6) /
         bu_with_raw_options(5, 0xD000, 900,
                             ipv4_opts(opt_ipv4_hoa(32, False, "0.0.0.0"),
                                       opt_ipv4_coa("10.1.2.3"))),
         {"udp.rfc5555_encapsulation": True, "udp.sport": 40001, "outer.src": NAT4,
          "inner.src": HOA6, "mh.flags": ["A", "H", "K"],
          "opt.ipv4-home-address.prefix_length": 32,
          "opt.ipv4-home-address.address": "0.0.0.0",
          "opt.ipv4-care-of-address.address": "10.1.2.3"})
    case("brr", IPv6(src=HA6, dst=COA6) /
         IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA6]) / MIP6MH_BRR(),
         {"mh.name": "binding-refresh-request"})
    case("be", IPv6(src=HA6, dst=COA6) / MIP6MH_BE(status=1, ha=HOA6),
         {"mh.status": 1, "mh.home_address": HOA6})
    case("hoti", IPv6(src=HOA6, dst="2001:db8:9::9") / MIP6MH_HoTI(cookie=b"\x11" * 8),
         {"mh.name": "home-test-init", "mh.cookie": "11" * 8})

    # RFC 6275 9.2 errors and the HA's action
    bad = IPv6(src=COA6, dst=HA6) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA6)]) / \
        MIP6MH_BU(seq=1, mhtime=1, cksum=0x1234)
    case("bad-checksum", bad, error=("mh-bad-checksum", "drop"))
    case("unknown-type", IPv6(src=COA6, dst=HA6) / MIP6MH_Generic(mhtype=99, msg=b"\0" * 2),
         error=("mh-unknown-type", "binding-error", 2))
    case("payload-proto-not-59", IPv6(src=COA6, dst=HA6) / MIP6MH_BU(nh=6, seq=1),
         error=("mh-payload-proto-not-59", "icmp-parameter-problem"))
    case("ipv4-coa-over-ipv6",
         IPv6(src=HOA6, dst=HA6) /
         bu_with_raw_options(5, 0xC000, 900, ipv4_opts(opt_ipv4_coa("10.1.2.3"))),
         error=("pkt-ipv4-coa-not-in-udp", "binding-ack", 174))
    case("hao-wrong-length",
         IPv6(src=COA6, dst=HA6) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0"),
                                                            HAO(hoa=HOA6, optlen=14)]) /
         MIP6MH_BU(seq=1), error=("pkt-bad-hao", "drop"))

    pcap = os.path.join(work, "scapy.pcap")
    wrpcap(pcap, [p for _, p, _, _ in CASES], linktype=101)  # raw IP: IPv4 and IPv6 frames
    out = subprocess.run([decode, pcap], capture_output=True, text=True)
    objs = [json.loads(line) for line in out.stdout.splitlines()]
    passed = failed = 0
    if len(objs) != len(CASES):
        print(f"FAIL: ha-decode printed {len(objs)} objects for {len(CASES)} packets: {out.stderr}")
        return 1
    for (name, _, expect, error), o in zip(CASES, objs):
        ok = True
        opts = {x["name"]: x for x in o.get("mh", {}).get("options", [])}
        for path, want in expect.items():
            top, _, rest = path.partition(".")
            if top == "opt":
                oname, _, field = rest.partition(".")
                got = opts.get(oname, {}).get(field)
            else:
                got = o.get(top)
                for k in rest.split("."):
                    got = got.get(k) if isinstance(got, dict) else None
            if got != want:
                ok = False
                print(f"FAIL {name}: {path}: ha-decode says {got!r}, scapy built {want!r}")
        if error:
            e = o.get("error", {})
            if e.get("name") != error[0] or e.get("action") != error[1] or \
                    (len(error) > 2 and e.get("status") != error[2]):
                ok = False
                print(f"FAIL {name}: error {e}, want {error}")
        elif "error" in o:
            ok = False
            print(f"FAIL {name}: unexpected error {o['error']}")
        passed += ok
        failed += not ok
    if out.returncode != (1 if any(c[3] for c in CASES) else 0):
        failed += 1
        print(f"FAIL: ha-decode exit status {out.returncode}")
    print(f"scapy cross-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
