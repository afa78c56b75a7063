#!/usr/bin/python3
"""Payload ESP through hadp for every algorithm it accepts, against scapy's SecurityAssociation
(RFC 4303 tunnel mode, RFC 4877 payload protection, TS 24.303 5.1.3.2 tunnelling).

One UE per algorithm, each with its own payload SA pair: AES-GCM-128 from an IPv4 care-of
address (ESP straight over IPv4), AES-GCM-256 with 64-bit extended sequence numbers,
AES-CBC-128 with HMAC-SHA1-96, AES-CBC-256 with HMAC-SHA256-128, and NULL encryption with
HMAC-SHA256-128 (RFC 4303 3.2 allows it; integrity only). For each UE, an IPv6 and an IPv4 user
packet each way:
  - downlink: hadp encrypts what the PDN sends to the UE's home addresses; scapy decrypts it
    under the UE's inbound SA and finds the user packet, hop limit / TTL spent;
  - uplink: scapy encrypts what the UE sends; hadp decrypts, checks it against the binding and
    forwards the user packet to the core side.
A 1,481-octet IPv4 packet without DF to each UE does not fit its ESP tunnel on the 1500-octet
access link: hadp cuts it (RFC 791) and encrypts each fragment; scapy decrypts both and puts the
packet back together.
Every packet is accounted for (esp-encrypted, esp-decrypted, no drop), and no mbuf is left in
use. (scapy 2.5 leaves the ESN high bits out of HMAC ICVs, so ESN is tried with AES-GCM only;
tests/esp/scapy_esp.py covers ESN with HMAC against the engine itself.)

usage: esp_algos_test.py HADP WORKDIR
"""
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import (HA4, HA6, MAC_ACCESS_NH, MAC_CORE_NH,  # noqa: E402
                       pcap_config, run_hadp)
from checks import Checks  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, UDP, Ether, IPv6, Raw, defragment, raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402

CN6, CN4 = "2001:db8:9::1", "198.51.100.1"

# name, encryption, integrity, key octets, auth key octets, esn, care-of, home prefix, IPv4 HoA
UES = [
    ("gcm128-v4coa", "aes-gcm-128", "none", 20, 0, False, "203.0.113.71", "2001:db8:100:71::", "10.45.0.71"),
    ("gcm256-esn", "aes-gcm-256", "none", 36, 0, True, "2001:db8:aaaa::72", "2001:db8:100:72::", "10.45.0.72"),
    ("cbc128-sha1", "aes-cbc-128", "hmac-sha1-96", 16, 20, False, "2001:db8:aaaa::73", "2001:db8:100:73::", "10.45.0.73"),
    ("cbc256-sha256", "aes-cbc-256", "hmac-sha256-128", 32, 32, False, "2001:db8:aaaa::74", "2001:db8:100:74::", "10.45.0.74"),
    ("null-sha256", "null", "hmac-sha256-128", 0, 32, False, "2001:db8:aaaa::75", "2001:db8:100:75::", "10.45.0.75"),
]
SCAPY = {"aes-gcm-128": "AES-GCM", "aes-gcm-256": "AES-GCM", "aes-cbc-128": "AES-CBC",
         "aes-cbc-256": "AES-CBC", "null": "NULL", "none": None, "hmac-sha1-96": "HMAC-SHA1-96",
         "hmac-sha256-128": "SHA2-256-128"}
check = Checks()


def spis(i):
    return 0x7100 + i, 0x7200 + i  # in (UE -> HA), out (HA -> UE)


def keys(spi, n):
    return bytes((spi * 13 + 5 * k) & 0xFF for k in range(n))


def marker(name):
    return ("<" + name + ">").encode()


def scapy_sa(ue, spi, toward_ue):
    _, enc, integ, klen, aklen, esn, coa, _, _ = ue
    v6 = ":" in coa
    ha = HA6 if v6 else HA4
    src, dst = (ha, coa) if toward_ue else (coa, ha)
    kw = dict(spi=spi, crypt_algo=SCAPY[enc], crypt_key=keys(spi, klen) if klen else None,
              tunnel_header=IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst))
    if SCAPY[integ]:
        kw.update(auth_algo=SCAPY[integ], auth_key=keys(spi + 1, aklen))
    if esn:
        kw.update(esn_en=True, esn=0)
    return SecurityAssociation(ESP, **kw)


def config(work):
    sas, binds = [], []
    for i, (name, enc, integ, klen, aklen, esn, coa, prefix, hoa4) in enumerate(UES):
        sin, sout = spis(i)
        local = HA6 if ":" in coa else HA4
        for spi, d in ((sin, "in"), (sout, "out")):
            ak = f", auth_key: \"{keys(spi + 1, aklen).hex()}\"" if aklen else ""
            k = f", key: \"{keys(spi, klen).hex()}\"" if klen else ""
            sas.append(f"  - {{ spi: {spi}, direction: {d}, mode: tunnel, local: \"{local}\", "
                       f"peer: \"{coa}\", encryption: {enc}, integrity: {integ}"
                       f"{k}{ak}, esn: {str(esn).lower()} }}\n")
        binds.append(f"  - {{ pdn: internet, home_prefix: \"{prefix}/64\", ipv4_home_address: {hoa4}, "
                     f"care_of: \"{coa}\", sa_in: {sin}, sa_out: {sout} }}\n")
    return pcap_config(work, "hadp-espalg", rest="static_sas:\n" + "".join(sas) +
                       "static_bindings:\n" + "".join(binds))


def eth(p):
    return Ether(src="02:00:00:00:ee:01", dst="02:00:00:00:ee:02") / p


def main():
    hadp, work = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    down, up = [], []
    for i, ue in enumerate(UES):
        name, prefix, hoa4 = ue[0], ue[7], ue[8]
        hoa6 = prefix + "1"
        down.append(eth(IPv6(src=CN6, dst=hoa6, hlim=64) / UDP(sport=7, dport=9) / Raw(marker(name + "-down6"))))
        down.append(eth(IP(src=CN4, dst=hoa4, ttl=64) / UDP(sport=7, dport=9) / Raw(marker(name + "-down4"))))
        # a 1,481-octet IPv4 packet without DF: too big for an ESP tunnel on a 1500 link, so
        # cut first (RFC 791), each fragment encrypted
        down.append(eth(IP(src=CN4, dst=hoa4, ttl=64, id=0x5100 + i, flags=0) / UDP(sport=7, dport=9) /
                        Raw(marker(name + "-frag").ljust(1481 - 28, b"."))))
        s = scapy_sa(ue, spis(i)[0], False)
        for seq, inner in ((1, IPv6(src=hoa6, dst=CN6, hlim=64) / UDP(sport=9, dport=7) / Raw(marker(name + "-up6"))),
                           (2, IP(src=hoa4, dst=CN4, ttl=64) / UDP(sport=9, dport=7) / Raw(marker(name + "-up4")))):
            s.seq_num = seq
            up.append(eth(s.encrypt(inner)))
    wrpcap(f"{work}/core_in.pcap", down)
    wrpcap(f"{work}/access_in.pcap", up)
    rc, err, stats = run_hadp(hadp, work, config(work))
    if rc != 0:
        print(f"FAIL: hadp exited {rc}: {err[-800:]}")
        return 1

    access_out = rdpcap(f"{work}/access_out.pcap")
    core_out = rdpcap(f"{work}/core_out.pcap")
    for i, ue in enumerate(UES):
        name, coa = ue[0], ue[6]
        sout = spis(i)[1]
        mine = [p for p in access_out if ESP in p and p[ESP].spi == sout]
        check(len(mine) == 4, f"{name}: {len(mine)} downlink ESP packets under SPI {sout:#x}, "
              "want 4 (two packets, two fragments)")
        got, frags = {}, []
        for p in mine:
            outer = p[IPv6] if ":" in coa else p[IP]
            check(outer.src == (HA6 if ":" in coa else HA4) and outer.dst == coa,
                  f"{name}: downlink from the HA to the care-of address {coa}: {outer.src} -> {outer.dst}")
            check(p[Ether].dst == MAC_ACCESS_NH, f"{name}: downlink to the access router's MAC")
            try:
                d = scapy_sa(ue, sout, True).decrypt(outer.copy())
            except Exception as e:  # noqa: BLE001 - scapy raises on a bad ICV or padding
                check(False, f"{name}: scapy decrypts hadp's ESP ({ue[1]}/{ue[2]}): {e}")
                continue
            for v in ("6", "4"):
                if marker(f"{name}-down{v}") in raw(d):
                    got[v] = d
            check(len(outer) <= 1500, f"{name}: {len(outer)} octets on the 1500 access link")
            if IP in d and d[IP].id == 0x5100 + i:
                frags.append(d[IP])
        check(set(got) == {"6", "4"}, f"{name}: downlink user packets scapy found: {sorted(got)}")
        whole = defragment(frags)
        check(len(frags) == 2 and len(whole) == 1 and len(whole[0]) == 1481 and
              marker(name + "-frag") in raw(whole[0]) and whole[0].ttl == 63,
              f"{name}: the 1,481-octet packet in {len(frags)} encrypted fragments, put back whole")
        if "6" in got:
            check(got["6"][IPv6].dst == ue[7] + "1" and got["6"][IPv6].hlim == 63,
                  f"{name}: the IPv6 user packet to its home address, hop limit 63")
        if "4" in got:
            check(got["4"][IP].dst == ue[8] and got["4"][IP].ttl == 63,
                  f"{name}: the IPv4 user packet to its home address, TTL 63")
        for v in ("6", "4"):
            out = [p for p in core_out if marker(f"{name}-up{v}") in raw(p)]
            check(len(out) == 1, f"{name}: uplink IPv{v} packet forwarded once ({len(out)})")
            if len(out) == 1:
                p = out[0]
                ok = p[Ether].dst == MAC_CORE_NH and (
                    IPv6 in p and p[IPv6].src == ue[7] + "1" and p[IPv6].hlim == 63 and ESP not in p
                    if v == "6" else
                    IP in p and p[IP].src == ue[8] and p[IP].ttl == 63 and ESP not in p)
                check(ok, f"{name}: uplink IPv{v} user packet alone, hop limit spent: {p.summary()}")

    c = stats["counters"]
    n = 2 * len(UES)
    for k, v in (("esp-encrypted", 2 * n), ("esp-decrypted", n), ("downlink-encapsulated", 2 * n),
                 ("uplink-decapsulated", n), ("ipv4-fragmented", len(UES))):
        check(c.get(k) == v, f"counter {k}: {c.get(k)}, want {v}")
    drops = {k: v for k, v in c.items() if k.startswith("drop-") and v}
    check(not drops, f"no drop: {drops} {stats['esp_errors']}")
    check(stats["mbufs_in_use"] == 0, f"{stats['mbufs_in_use']} mbufs in use after shutdown")
    return check.summary("ESP algorithms through hadp")


if __name__ == "__main__":
    sys.exit(main())
