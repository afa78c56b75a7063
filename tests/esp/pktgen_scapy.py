#!/usr/bin/python3
"""ha-pktgen's ESP (pktgen/pg_esp.c) against scapy's SecurityAssociation.

ha-pktgen seals the uplink of bindings with payload SAs as the UE would (RFC 4303 tunnel mode,
AES-GCM as RFC 4106 says, RFC 4877 payload protection; in UDP 4500 when the SA names the NAT's
port, RFC 3948) and opens, in its sink, what the HA sends under the outbound SA. So that the
benchmark's uplink ESP and the lab's sink are not checked only against hadp, which shares
IPsec-MB with them:
  - scapy decrypts every uplink packet ha-pktgen wrote (AES-GCM-128 and -256, ESN on and off,
    IPv6 and IPv4 care-of addresses, ESP in UDP) and finds the UE's user packet from its home
    address, with sequence numbers 1, 2, ... per SA;
  - ha-pktgen's sink accepts downlink ESP that scapy encrypted under each outbound SA, and
    refuses it with one ICV bit flipped, under an unknown SPI, or to another care-of address;
  - a binding whose SA ha-pktgen cannot seal (AES-CBC) is left out, and said so.

usage: pktgen_scapy.py HA_PKTGEN WORKDIR
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from appliance import HA4, HA6, pcap_config  # noqa: E402
from checks import Checks  # noqa: E402
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.utils import rdpcap, wrpcap

CN6, CN4 = "2001:db8:9::1", "198.51.100.1"  # ha-pktgen's correspondent

# spi_in, spi_out, algorithm, key octets, esn, care-of, NAT port, home prefix, IPv4 HoA
UES = [
    (0x1101, 0x2101, "aes-gcm-128", 20, False, "2001:db8:aaaa::11", 0, "2001:db8:100:11::", "10.45.0.11"),
    (0x1102, 0x2102, "aes-gcm-256", 36, True, "2001:db8:aaaa::12", 0, "2001:db8:100:12::", "10.45.0.12"),
    (0x1103, 0x2103, "aes-gcm-128", 20, True, "198.51.100.13", 0, "2001:db8:100:13::", "10.45.0.13"),
    (0x1104, 0x2104, "aes-gcm-256", 36, False, "198.51.100.14", 40500, "2001:db8:100:14::", "10.45.0.14"),
]
CBC_UE = (0x1105, 0x2105, "2001:db8:aaaa::15", "2001:db8:100:15::")

ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")  # explicit: no ND on the host
check = Checks()


def key_for(spi, n):
    return bytes((spi * 7 + i) & 0xFF for i in range(n))


def config(path):
    sas, binds = [], []
    for spi_in, spi_out, algo, klen, esn, coa, natp, prefix, hoa4 in UES:
        for spi, d in ((spi_in, "in"), (spi_out, "out")):
            extra = f", udp_encap_port: {natp}" if natp else ""
            sas.append(f"  - {{ spi: {spi}, direction: {d}, mode: tunnel, local: \"{HA4 if ':' not in coa else HA6}\", "
                       f"peer: \"{coa}\", encryption: {algo}, integrity: none, esn: {str(esn).lower()}, "
                       f"key: \"{key_for(spi, klen).hex()}\"{extra} }}\n")
        udp = ", udp_port: 40500" if natp else ""
        binds.append(f"  - {{ pdn: internet, home_prefix: \"{prefix}/64\", ipv4_home_address: {hoa4}, "
                     f"care_of: \"{coa}\", sa_in: {spi_in}, sa_out: {spi_out}{udp} }}\n")
    spi_in, spi_out, coa, prefix = CBC_UE
    for spi, d in ((spi_in, "in"), (spi_out, "out")):
        sas.append(f"  - {{ spi: {spi}, direction: {d}, mode: tunnel, local: \"{HA6}\", peer: \"{coa}\", "
                   f"encryption: aes-cbc-128, integrity: hmac-sha256-128, key: \"{key_for(spi, 16).hex()}\", "
                   f"auth_key: \"{key_for(spi + 1, 32).hex()}\" }}\n")
    binds.append(f"  - {{ pdn: internet, home_prefix: \"{prefix}/64\", care_of: \"{coa}\", "
                 f"sa_in: {spi_in}, sa_out: {spi_out} }}\n")
    with open(path, "w") as f:  # the ports are never opened: ha-pktgen reads the bindings
        f.write(pcap_config(os.path.dirname(path), "pg-esp", rest="static_sas:\n" + "".join(sas) +
                            "static_bindings:\n" + "".join(binds)))


def scapy_sa(spi, algo, klen, esn, coa, natp, outbound):
    """scapy's SA for one direction: outbound = the HA's (scapy plays the HA)."""
    v6 = ":" in coa
    src, dst = (HA6 if v6 else HA4, coa) if outbound else (coa, HA6 if v6 else HA4)
    kw = dict(spi=spi, crypt_algo="AES-GCM", crypt_key=key_for(spi, klen),
              tunnel_header=IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst))
    if natp:
        kw["nat_t_header"] = UDP(sport=4500, dport=natp) if outbound else UDP(sport=natp, dport=4500)
    if esn:
        kw.update(esn_en=True, esn=0)
    return SecurityAssociation(ESP, **kw)


def uplink(pktgen, cfg, work, family):
    """family 6: IPv6 user packets from the home addresses; 4: IPv4 ones (next header 4)."""
    out = f"{work}/up{family}.pcap"
    r = subprocess.run([pktgen, "pcap", "-c", cfg, "-o", out, "--direction", "up", "--size", "64",
                        "--packets", "40", "--order", "seq", "--first", "0",
                        "--family", str(family)], capture_output=True, text=True)
    check(r.returncode == 0, f"ha-pktgen pcap: {r.returncode} {r.stderr}")
    check("cannot seal" in r.stderr and "aes-cbc-128" in r.stderr,
          f"the AES-CBC binding is left out and said so: {r.stderr!r}")
    seqs = {}
    for i, f in enumerate(rdpcap(out)):
        esp = f[ESP] if ESP in f else None
        check(esp is not None, f"packet {i} is ESP: {f.summary()}")
        if esp is None:
            continue
        ue = [u for u in UES if u[0] == esp.spi]
        check(len(ue) == 1, f"packet {i}: SPI {esp.spi:#x} is an inbound SA of a GCM binding")
        if not ue:
            continue
        spi_in, _, algo, klen, esn, coa, natp, prefix, hoa4 = ue[0]
        outer = f[IPv6] if ":" in coa else f[IP]
        check(outer.src == coa and outer.dst == (HA6 if ":" in coa else HA4),
              f"packet {i}: from the care-of address {coa} to the HA")
        carried = outer.payload
        if natp:
            check(isinstance(carried, UDP) and carried.sport == natp and carried.dport == 4500,
                  f"packet {i}: ESP in UDP from the NAT's port {natp} to 4500 (RFC 3948)")
        else:
            check(isinstance(carried, ESP), f"packet {i}: ESP right after the outer header")
        ip = f[IP] if ":" not in coa else f[IPv6]
        try:
            inner = scapy_sa(spi_in, algo, klen, esn, coa, natp, False).decrypt(ip)
        except Exception as e:  # scapy raises on a bad ICV
            check(False, f"packet {i}: scapy decrypts SPI {spi_in:#x} ({algo}, esn {esn}): {e}")
            continue
        L3, hoa, cn = (IPv6, prefix + "1", CN6) if family == 6 else (IP, hoa4, CN4)
        check(L3 in inner and inner[L3].src == hoa and inner[L3].dst == cn,
              f"packet {i}: the user packet from {hoa} to {cn}: {inner.summary()}")
        if L3 in inner and UDP in inner:
            u = inner[UDP]
            chk = u.chksum
            u.chksum = None
            check(L3(bytes(inner[L3]))[UDP].chksum == chk, f"packet {i}: the user packet's UDP checksum")
        seqs.setdefault(spi_in, []).append(esp.seq)
    for u in UES:
        s = seqs.get(u[0], [])
        check(s and s == list(range(1, len(s) + 1)), f"SA {u[0]:#x}: sequence numbers 1, 2, ... ({s[:5]})")


def natt_len(p):
    """scapy 2.5 leaves the NAT-T UDP header's length at 8: computed again from the packet."""
    if UDP in p:
        p[UDP].len = None
    return p


def downlink(pktgen, cfg, work):
    good, bad = [], []
    for spi_in, spi_out, algo, klen, esn, coa, natp, prefix, hoa4 in UES:
        v6 = ":" in coa
        sa = scapy_sa(spi_out, algo, klen, esn, coa, natp, True)
        for k, user in enumerate((IPv6(src=CN6, dst=prefix + "1") / UDP(sport=9, dport=1024) / (b"d" * 30),
                                  IP(src=CN4, dst=hoa4) / UDP(sport=9, dport=1024) / (b"e" * 60))):
            sa.seq_num = k + 1
            good.append(ETH / natt_len(sa.encrypt(user)))  # scapy puts the tunnel header on
        raw = bytearray(bytes(good[-1]))
        raw[-1] ^= 0x01  # one ICV bit
        bad.append(("a flipped ICV bit", Ether(bytes(raw))))
        other = scapy_sa(spi_out, algo, klen, esn, "2001:db8:aaaa::99" if v6 else "198.51.100.99", natp, True)
        o = other.encrypt(IPv6(src=CN6, dst=prefix + "1") / UDP() / b"x")
        bad.append(("another care-of address", ETH / natt_len(o)))
    unknown = scapy_sa(0x7777, "aes-gcm-128", 20, False, "2001:db8:aaaa::11", 0, True)
    bad.append(("an unknown SPI", ETH / unknown.encrypt(IPv6(src=CN6, dst="2001:db8:100:11::1") / UDP())))
    wrpcap(f"{work}/down-good.pcap", good)
    r = subprocess.run([pktgen, "verify", "-c", cfg, "--direction", "down", f"{work}/down-good.pcap"],
                       capture_output=True, text=True)
    check(r.returncode == 0 and f"{len(good)} passed, 0 failed" in r.stdout,
          f"the sink opens scapy's ESP: {r.stdout} {r.stderr}")
    for what, pkt in bad:
        wrpcap(f"{work}/down-bad.pcap", [pkt])
        r = subprocess.run([pktgen, "verify", "-c", cfg, "--direction", "down", f"{work}/down-bad.pcap"],
                           capture_output=True, text=True)
        check(r.returncode == 1 and "0 passed, 1 failed" in r.stdout, f"the sink refuses {what}: {r.stdout}")


def main():
    pktgen, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    cfg = f"{work}/esp.yaml"
    config(cfg)
    uplink(pktgen, cfg, work, 6)
    uplink(pktgen, cfg, work, 4)
    downlink(pktgen, cfg, work)
    return check.summary("pktgen ESP against scapy")


if __name__ == "__main__":
    sys.exit(main())
